-- Demo data: the White Horse pub (5 zones, 40 tables, 210 seats, 79 adjacency edges) and
-- a generated dinner service. Shipped as a function so the demo script, the SQL
-- regression cases and the tests all load exactly the same rows.
--
--   SELECT autoassign.autoassign_demo_load();            -- tomorrow, seed 42
--   SELECT autoassign.autoassign_demo_load('2026-12-01', 7);
--
-- The bookings come from a fixed linear congruential generator, so one seed always
-- gives the same service on every machine and PostgreSQL version.
CREATE FUNCTION autoassign_demo_load(
    service_date date DEFAULT current_date + 1,
    seed bigint DEFAULT 42
) RETURNS uuid
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid uuid;
    zone_row record;
    cap int;
    n int;
    state bigint := seed;
    slot int;
    party int;
    minutes int;
    start_ts timestamptz;
    tz constant text := 'Europe/London';
    -- slot weights over 17:00..21:00 in 15-minute steps (17 slots): dinner peaks
    -- around 18:30-19:15, which is where the real pub reached ~90% of its seats
    slot_weights constant int[] := ARRAY[4,4,5,6,7,8,9,9,8,6,4,3,2,2,1,1,1];
    weight_total int;
    pick int;
    i int;
BEGIN
    INSERT INTO autoassign.restaurants (name, timezone)
    VALUES ('The White Horse', tz) RETURNING id INTO rid;

    -- zone name, then the capacity of each of its tables
    FOR zone_row IN
        SELECT * FROM (VALUES
            (1, 'Main Dining',    ARRAY[2,2,4,4,4,4,6,6,8,8,10,10]),
            (2, 'Bar Area',       ARRAY[2,2,4,4,4,4,6,6]),
            (3, 'Patio',          ARRAY[2,2,4,4,6,6,8,8]),
            (4, 'Private Room',   ARRAY[4,4,6,6,10,10]),
            (5, 'Outdoor Garden', ARRAY[2,4,4,6,6,8])
        ) AS z(ord, name, caps) ORDER BY ord
    LOOP
        WITH zone AS (
            INSERT INTO autoassign.zones (restaurant_id, name)
            VALUES (rid, zone_row.name) RETURNING id
        )
        INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity, min_party)
        SELECT rid, zone.id,
               format('%s %s', zone_row.name, lpad(t.ord::text, 2, '0')),
               t.cap, greatest(1, t.cap / 2)
          FROM zone, unnest(zone_row.caps) WITH ORDINALITY AS t(cap, ord);
    END LOOP;

    -- Each zone's tables stand in a row in capacity order. Two tables are adjacent when
    -- they share a zone, their capacities differ by at most 2 and they stand at most
    -- 3 places apart: 79 edges (without the distance rule it would be 91).
    INSERT INTO autoassign.table_adjacency (restaurant_id, table_a, table_b)
    WITH placed AS (
        SELECT t.id, t.zone_id, t.capacity,
               row_number() OVER (PARTITION BY t.zone_id ORDER BY t.name) AS place
          FROM autoassign.tables t
         WHERE t.restaurant_id = rid
    )
    SELECT rid, a.id, b.id
      FROM placed a
      JOIN placed b
        ON b.zone_id = a.zone_id AND b.place > a.place AND b.place - a.place <= 3
       AND abs(a.capacity - b.capacity) <= 2;

    SELECT sum(w) INTO weight_total FROM unnest(slot_weights) w;
    FOR i IN 1..60 LOOP
        state := (state * 1103515245 + 12345) % 2147483648;
        pick := (state / 65536) % weight_total; -- high bits: an LCG's low bits cycle fast
        slot := 0;
        WHILE pick >= slot_weights[slot + 1] LOOP
            pick := pick - slot_weights[slot + 1];
            slot := slot + 1;
        END LOOP;
        state := (state * 1103515245 + 12345) % 2147483648;
        n := (state / 65536) % 100;
        party := CASE
            WHEN n < 30 THEN 2
            WHEN n < 45 THEN 3
            WHEN n < 65 THEN 4
            WHEN n < 75 THEN 5
            WHEN n < 85 THEN 6
            WHEN n < 91 THEN 7
            ELSE 8 + (state / 65536 / 100) % 7 -- a few large parties, 8..14
        END;
        minutes := CASE WHEN party <= 4 THEN 90 WHEN party <= 7 THEN 105 ELSE 120 END;
        start_ts := ((service_date + time '17:00') + make_interval(mins => 15 * slot))
                    AT TIME ZONE tz;
        INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
        VALUES (rid, party, start_ts, start_ts + make_interval(mins => minutes));
    END LOOP;
    RETURN rid;
END $$;

COMMENT ON FUNCTION autoassign_demo_load(date, bigint) IS
    'Loads the White Horse demo floor and a seeded dinner service; returns the restaurant id.';
