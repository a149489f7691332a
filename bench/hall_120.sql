-- A 120-table floor for the issue 11 benchmarks: 6 zones of 20 tables (2-, 4- and
-- 6-tops) standing in a row, each adjacent to the next. Named by the psql variable
-- :hall; an earlier restaurant of that name is dropped first. Included with \ir.
SELECT set_config('bench.hall', :'hall', false) IS NOT NULL AS hall_named;
DELETE FROM autoassign.bookings WHERE restaurant_id IN (SELECT id FROM autoassign.restaurants WHERE name = :'hall');
DELETE FROM autoassign.restaurants WHERE name = :'hall';
DO $$
DECLARE rid uuid; z uuid; prev uuid; t uuid;
BEGIN
    INSERT INTO autoassign.restaurants (name) VALUES (current_setting('bench.hall')) RETURNING id INTO rid;
    FOR zi IN 1..6 LOOP
        INSERT INTO autoassign.zones (restaurant_id, name) VALUES (rid, 'Zone ' || zi) RETURNING id INTO z;
        prev := NULL;
        FOR ti IN 1..20 LOOP
            INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity)
            VALUES (rid, z, format('Z%s-T%s', zi, ti), 2 + 2 * (ti % 3)) RETURNING id INTO t;
            IF prev IS NOT NULL THEN
                INSERT INTO autoassign.table_adjacency VALUES (rid, prev, t);
            END IF;
            prev := t;
        END LOOP;
    END LOOP;
END $$;
