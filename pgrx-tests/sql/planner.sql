-- What a DBA sees from quote, confirm, explain and free capacity on the demo floor.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT autoassign.autoassign_demo_load('2030-06-01', 42) AS rid \gset
CREATE TEMP VIEW names AS
SELECT t.id, t.name, z.name AS zone FROM autoassign.tables t JOIN autoassign.zones z ON z.id = t.zone_id;

-- free capacity per zone before anything is assigned
SELECT zone, free_tables, free_seats, largest_free_table
  FROM autoassign.autoassign_free_capacity(:'rid', '2030-06-01 18:00+00', '2030-06-01 20:00+00')
 ORDER BY zone;

-- quotes change nothing
SELECT b.party_size, q.ok, q.reason, q.seats,
       (SELECT string_agg(name, ' + ' ORDER BY name) FROM names WHERE id = ANY (q.table_ids)) AS tables,
       jsonb_array_length(q.alternates) AS alternates
  FROM (SELECT * FROM autoassign.bookings ORDER BY start_at, party_size, id LIMIT 8) b,
       LATERAL autoassign.autoassign_quote(b.id, detail => true) q
 ORDER BY b.start_at, b.party_size, b.id;
SELECT count(*) AS allocations_after_quotes FROM autoassign.allocations;

-- confirm the whole service in start order
CREATE TEMP TABLE results AS SELECT NULL::uuid AS id, NULL::bool AS ok, NULL::text AS reason WHERE false;
DO $$
DECLARE b record;
BEGIN
    FOR b IN SELECT id FROM autoassign.bookings ORDER BY start_at, party_size DESC, id LOOP
        INSERT INTO results SELECT b.id, c.ok, c.reason FROM autoassign.autoassign_confirm(b.id, source => 'manual') c;
    END LOOP;
END $$;
SELECT coalesce(reason, 'confirmed') AS result, count(*) FROM results GROUP BY 1 ORDER BY 1;
SELECT status, count(*) FROM autoassign.bookings GROUP BY 1 ORDER BY 1;
-- one message per booking: confirmed, or auto-assign gave up (the restaurant is told once)
SELECT kind, count(*) AS outbox_rows, count(DISTINCT booking_id) AS bookings FROM autoassign.outbox GROUP BY 1 ORDER BY 1;
-- no two allocations of a table overlap
SELECT count(*) AS overlaps FROM autoassign.allocations a JOIN autoassign.allocations b
    ON a.table_id = b.table_id AND a.id < b.id AND a.during && b.during;
-- every plan is one zone
SELECT count(*) AS multi_zone_plans FROM (
    SELECT booking_id FROM autoassign.allocations a JOIN autoassign.tables t ON t.id = a.table_id
     GROUP BY booking_id HAVING count(DISTINCT t.zone_id) > 1) x;

-- confirming twice changes nothing
SELECT c.ok, c.reason, c.reason_class
  FROM (SELECT id FROM results WHERE ok ORDER BY id LIMIT 1) r, autoassign.autoassign_confirm(r.id) c;
SELECT count(*) AS outbox_rows FROM autoassign.outbox WHERE kind = 'booking_confirmed';

-- explain a booking that got no table
SELECT step, stage
  FROM autoassign.autoassign_explain((SELECT b.id FROM autoassign.bookings b WHERE b.status = 'pending'
                                      ORDER BY b.party_size DESC, b.start_at, b.id LIMIT 1));
SELECT e.detail LIKE 'no_%' AS explains_reason
  FROM autoassign.autoassign_explain((SELECT b.id FROM autoassign.bookings b WHERE b.status = 'pending'
                                      ORDER BY b.party_size DESC, b.start_at, b.id LIMIT 1)) e
 WHERE e.stage = 'result';

-- telemetry: one quote event per planner run; one summary per booking that reached an
-- outcome (51 confirmed; 7 gave up at once behind a full waiting list, 2 wait); the
-- confirms settled their bookings, so no separate booking.lifecycle events
-- (quote events go through the shared-memory queue: write it first; earlier cases'
-- events, kept even when their transactions rolled back, belong to other restaurants)
SELECT autoassign.autoassign_flush_events() \g /dev/null
SELECT event_type, source, count(*) FROM autoassign.events WHERE restaurant_id = :'rid'
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT reason AS outcome, payload->>'final_reason' AS final_reason, count(*)
  FROM autoassign.events WHERE event_type = 'auto_assign.summary' AND restaurant_id = :'rid'
 GROUP BY 1, 2 ORDER BY 1, 2;
