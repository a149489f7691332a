-- Telemetry views and functions (sql/telemetry.sql, SPEC §6) on rows of its own:
-- restaurant/booking uuids 7e1e0000-..., events dated January 2000.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;

INSERT INTO autoassign.restaurants (id, name) VALUES
    ('7e1e0000-0000-0000-0000-000000000001', 'Telemetry One'),
    ('7e1e0000-0000-0000-0000-000000000002', 'Telemetry Two');
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at, status,
                                 auto_assign_last_result, created_at, updated_at) VALUES
    ('7e1e0000-0000-0000-0000-0000000000b1', '7e1e0000-0000-0000-0000-000000000001', 4,
     '2000-01-01 20:00+00', 'pending',
     '{"v": 1, "source": "job", "success": false, "reason": "no_capacity", "attempt": 2,
       "duration_us": 1500, "at": "2000-01-01T10:05:00+00:00"}',
     '2000-01-01 09:00+00', '2000-01-01 10:05+00'),
    ('7e1e0000-0000-0000-0000-0000000000b2', '7e1e0000-0000-0000-0000-000000000001', 2,
     '2000-01-01 21:00+00', 'cancelled', NULL,
     '2000-01-01 09:00+00', '2000-01-01 11:00+00');

-- Known distribution: 100 api quotes of 1..100 us in one restaurant and hour.
INSERT INTO autoassign.events (at, event_type, restaurant_id, booking_id, source, success, reason, duration_us)
SELECT '2000-01-01 10:00+00'::timestamptz + i * interval '1 second', 'auto_assign.quote',
       '7e1e0000-0000-0000-0000-000000000001', NULL, 'api', true, NULL, i
  FROM generate_series(1, 100) i;
-- Two job quotes in the next hour, one without a duration (counted, not in percentiles).
INSERT INTO autoassign.events (at, event_type, restaurant_id, source, success, duration_us) VALUES
    ('2000-01-01 11:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001', 'job', true, 10),
    ('2000-01-01 11:59:59+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001', 'job', true, NULL);

SELECT source, hour, calls, p50_us, p95_us, p99_us, max_us
  FROM autoassign.quote_latency
 WHERE restaurant_id = '7e1e0000-0000-0000-0000-000000000001'
 ORDER BY hour, source;

-- Three quotes on 2000-01-02, one each of ok / no_capacity / cutoff: the rounding
-- remainder goes to the first reason (by calls desc, then name) so shares sum to 1.
INSERT INTO autoassign.events (at, event_type, restaurant_id, source, success, reason, duration_us) VALUES
    ('2000-01-02 08:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001', 'api', true, NULL, 5),
    ('2000-01-02 09:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001', 'api', false, 'no_capacity', 5),
    ('2000-01-02 23:59:59+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001', 'inline', false, 'cutoff', 5),
    ('2000-01-02 12:00+00', 'auto_assign.attempt', '7e1e0000-0000-0000-0000-000000000001', 'api', false, 'conflict', 5);

SELECT day, reason, calls, share
  FROM autoassign.reason_breakdown
 WHERE restaurant_id = '7e1e0000-0000-0000-0000-000000000001'
 ORDER BY day, share DESC, reason;
SELECT day, sum(share) AS total
  FROM autoassign.reason_breakdown
 WHERE restaurant_id = '7e1e0000-0000-0000-0000-000000000001'
 GROUP BY day ORDER BY day;

-- Booking b1: 2 quotes, 2 attempts, a timeout, gave_up with a final_reason.
-- Booking b2: one quote then cancelled. Booking b3: events only, no bookings row.
INSERT INTO autoassign.events (at, event_type, restaurant_id, booking_id, source, success, reason,
                               duration_us, attempt, strategy, payload) VALUES
    ('2000-01-01 10:00:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b1', 'api', true, NULL, 700, NULL, '{"mode": "best"}', '{"tables_considered": 3}'),
    ('2000-01-01 10:01:00+00', 'auto_assign.attempt', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b1', 'inline', false, 'conflict', 900, 1, NULL, NULL),
    ('2000-01-01 10:02:00+00', 'auto_assign.timeout', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b1', 'job', false, 'deadline', 50000, NULL, NULL, NULL),
    ('2000-01-01 10:03:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b1', 'job', false, 'no_capacity', 800, NULL, NULL, NULL),
    ('2000-01-01 10:04:00+00', 'auto_assign.attempt', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b1', 'job', false, 'no_capacity', 1500, 2, NULL, NULL),
    ('2000-01-01 10:05:00+00', 'auto_assign.summary', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b1', 'job', false, 'gave_up', NULL, 2, NULL,
     '{"outcome": "gave_up", "final_reason": "no_capacity"}'),
    ('2000-01-01 10:30:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b2', 'api', true, NULL, 300, NULL, NULL, NULL),
    ('2000-01-01 11:00:00+00', 'auto_assign.summary', '7e1e0000-0000-0000-0000-000000000001',
     '7e1e0000-0000-0000-0000-0000000000b2', 'manual', false, 'cancelled', NULL, NULL, NULL,
     '{"outcome": "cancelled", "tables_freed": 0}'),
    ('2000-01-01 12:00:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000002',
     '7e1e0000-0000-0000-0000-0000000000b3', 'ops', true, NULL, 100, NULL, NULL, NULL);

SELECT booking_id, outcome, final_reason, attempts, quotes, sources,
       first_event_at, summary_at, time_to_outcome
  FROM autoassign.booking_outcomes
 WHERE restaurant_id IN ('7e1e0000-0000-0000-0000-000000000001', '7e1e0000-0000-0000-0000-000000000002')
 ORDER BY booking_id;

SELECT seq, at, kind, source, success, reason, attempt, duration_us, detail - 'event_id' AS detail
  FROM autoassign.autoassign_booking_history('7e1e0000-0000-0000-0000-0000000000b1');
SELECT seq, at, kind, source, success, reason, attempt, duration_us, detail - 'event_id' AS detail
  FROM autoassign.autoassign_booking_history('7e1e0000-0000-0000-0000-0000000000b2');
SELECT seq, kind, source FROM autoassign.autoassign_booking_history('7e1e0000-0000-0000-0000-0000000000b3');
SELECT count(*) AS no_rows FROM autoassign.autoassign_booking_history('7e1e0000-0000-0000-0000-0000000000ff');
-- event_id follows the event order
SELECT bool_and((detail ->> 'event_id')::bigint > 0) AS ids_present,
       count(*) FILTER (WHERE detail ? 'event_id') AS with_id
  FROM autoassign.autoassign_booking_history('7e1e0000-0000-0000-0000-0000000000b1');

-- Prune. clock_now() is 2000-01-10 12:00, so older_than '1 day' cuts at 2000-01-09 12:00.
-- Kept: one young event of restaurant one, and one without a restaurant.
INSERT INTO autoassign.events (at, event_type, restaurant_id, source, success, duration_us) VALUES
    ('2000-01-10 00:00+00', 'auto_assign.quote', '7e1e0000-0000-0000-0000-000000000001', 'api', true, 1),
    ('2000-01-10 00:00+00', 'auto_assign.quote', NULL, 'api', true, 1),
    ('2000-01-01 00:00+00', 'auto_assign.quote', NULL, 'api', true, 1);
CREATE FUNCTION pg_temp.try_prune(o interval, b int, m int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    RETURN autoassign.autoassign_prune_events(o, b, m)::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || ' (hint: ' || hint || ')';
END $$;
SELECT pg_temp.try_prune(NULL, 10, NULL) AS null_older_than;
SELECT pg_temp.try_prune('-1 day', 10, NULL) AS negative_older_than;
SELECT pg_temp.try_prune('1 day', 0, NULL) AS zero_batch;
SELECT pg_temp.try_prune('1 day', NULL, NULL) AS null_batch;
SELECT pg_temp.try_prune('1 day', 10, 0) AS zero_max_batches;

SET autoassign.simulated_now = '2000-01-10 12:00+00';
SELECT count(*) AS mine_before
  FROM autoassign.events
 WHERE restaurant_id IN ('7e1e0000-0000-0000-0000-000000000001', '7e1e0000-0000-0000-0000-000000000002')
    OR (restaurant_id IS NULL AND at < '2000-02-01');
-- Two batches of 40 rows, then the rest (batches never span restaurants).
SELECT autoassign.autoassign_prune_events('1 day', 40, 2) AS first_call;
SELECT autoassign.autoassign_prune_events('1 day', 40) AS second_call;
SELECT autoassign.autoassign_prune_events('1 day') AS third_call;
SELECT restaurant_id, at
  FROM autoassign.events
 WHERE restaurant_id IN ('7e1e0000-0000-0000-0000-000000000001', '7e1e0000-0000-0000-0000-000000000002')
    OR (restaurant_id IS NULL AND at < '2000-02-01')
 ORDER BY restaurant_id, at;
RESET autoassign.simulated_now;

SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'autoassign'::regnamespace
   AND c.relname IN ('quote_latency', 'reason_breakdown', 'booking_outcomes')
 ORDER BY c.relname;
SELECT p.proname, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'autoassign'::regnamespace
   AND p.proname IN ('autoassign_booking_history', 'autoassign_prune_events')
 ORDER BY p.proname;

-- Clean up.
DELETE FROM autoassign.events
 WHERE restaurant_id IN ('7e1e0000-0000-0000-0000-000000000001', '7e1e0000-0000-0000-0000-000000000002')
    OR (restaurant_id IS NULL AND at < '2000-02-01');
DELETE FROM autoassign.restaurants
 WHERE id IN ('7e1e0000-0000-0000-0000-000000000001', '7e1e0000-0000-0000-0000-000000000002');
RESET IntervalStyle;
RESET DateStyle;
RESET TimeZone;
