-- The retry sweep (sql/sweep.sql, SPEC §8) as a DBA sees it, on a simulated clock:
-- one 4-top, an evening in 2030, uuids 5eee0000-...
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET autoassign.simulated_now = '2030-01-01 12:00+00';

-- the policy a fresh install starts with
SELECT class, max_attempts, base_delay, max_delay, jitter, relax_after_timeout,
       max_waiting, waiting_per_seated
  FROM autoassign.retry_policy ORDER BY class;

-- earlier cases leave pending bookings of their own: start from an empty queue
DELETE FROM autoassign.retry_queue;

INSERT INTO autoassign.restaurants (id, name) VALUES ('5eee0000-0000-0000-0000-000000000001', 'Sweep Bistro');
INSERT INTO autoassign.zones (id, restaurant_id, name)
VALUES ('5eee0000-0000-0000-0000-0000000000a1', '5eee0000-0000-0000-0000-000000000001', 'Main');
INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity)
VALUES ('5eee0000-0000-0000-0000-0000000000c1', '5eee0000-0000-0000-0000-000000000001',
        '5eee0000-0000-0000-0000-0000000000a1', 'T1', 4);
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at) VALUES
    ('5eee0000-0000-0000-0000-0000000000b1', '5eee0000-0000-0000-0000-000000000001', 4, '2030-01-01 19:00+00'),
    ('5eee0000-0000-0000-0000-0000000000b2', '5eee0000-0000-0000-0000-000000000001', 2, '2030-01-01 19:30+00'),
    ('5eee0000-0000-0000-0000-0000000000b3', '5eee0000-0000-0000-0000-000000000001', 2, '2030-01-01 20:00+00'),
    ('5eee0000-0000-0000-0000-0000000000b4', '5eee0000-0000-0000-0000-000000000001', 9, '2030-01-01 19:00+00');

-- inserting queues nothing: the queue holds only bookings that need a retry
SELECT count(*) AS queued_on_insert FROM autoassign.retry_queue;

-- inline confirms: b1 takes the 4-top; b2 waits for it; b3 finds the waiting list of its
-- stay full (1 place per 25 seated, at least 1) and gives up now; b4 can never fit
SELECT ok, reason FROM autoassign.autoassign_confirm('5eee0000-0000-0000-0000-0000000000b1', source => 'inline');
SELECT ok, reason FROM autoassign.autoassign_confirm('5eee0000-0000-0000-0000-0000000000b2', source => 'inline');
SELECT ok, reason FROM autoassign.autoassign_confirm('5eee0000-0000-0000-0000-0000000000b3', source => 'inline');
SELECT ok, reason FROM autoassign.autoassign_confirm('5eee0000-0000-0000-0000-0000000000b4', source => 'inline');

SELECT booking_id, last_class, last_reason, attempts_capacity, wake
  FROM autoassign.retry_queue ORDER BY booking_id;
SELECT booking_id, source, reason AS outcome, payload->>'final_reason' AS final_reason,
       payload->'waiting_list' AS waiting_list
  FROM autoassign.events
 WHERE event_type = 'auto_assign.summary' AND restaurant_id = '5eee0000-0000-0000-0000-000000000001'
 ORDER BY booking_id;

-- nothing changed: the sweep leaves b2 alone (no planner run, inline honoured)
SELECT * FROM autoassign.autoassign_sweep(restaurant_id => '5eee0000-0000-0000-0000-000000000001', now => '2030-01-01 12:01+00');

-- b1 cancels: the freed window wakes b2, and the next sweep seats it (source job)
SELECT ok FROM autoassign.autoassign_cancel('5eee0000-0000-0000-0000-0000000000b1');
SELECT booking_id, wake FROM autoassign.retry_queue ORDER BY booking_id;
SELECT * FROM autoassign.autoassign_sweep(restaurant_id => '5eee0000-0000-0000-0000-000000000001', now => '2030-01-01 12:02+00');
-- the outcome lives on the booking row (b3 and b4 settled at once, b2 by the sweep)
SELECT id, status, auto_assign_outcome FROM autoassign.bookings
 WHERE restaurant_id = '5eee0000-0000-0000-0000-000000000001' ORDER BY id;
-- the restaurant hears once of each booking auto-assign gave up on
SELECT booking_id, kind FROM autoassign.outbox
 WHERE restaurant_id = '5eee0000-0000-0000-0000-000000000001' ORDER BY booking_id, kind;
SELECT booking_id, source, reason AS outcome
  FROM autoassign.events
 WHERE event_type = 'auto_assign.summary' AND restaurant_id = '5eee0000-0000-0000-0000-000000000001'
 ORDER BY booking_id;
SELECT count(*) AS queue_rows_left FROM autoassign.retry_queue;

RESET autoassign.simulated_now;

-- b4 (party 9) was given up on; a 10-top is added and a host confirms it after all: the
-- booking is confirmed (a new outcome, a new summary), and the guest, told of the give-up,
-- now gets the confirmation too
INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity)
VALUES ('5eee0000-0000-0000-0000-0000000000c2', '5eee0000-0000-0000-0000-000000000001',
        '5eee0000-0000-0000-0000-0000000000a1', 'T10', 10);
SELECT ok, reason FROM autoassign.autoassign_confirm('5eee0000-0000-0000-0000-0000000000b4', source => 'manual');
SELECT status, auto_assign_outcome FROM autoassign.bookings WHERE id = '5eee0000-0000-0000-0000-0000000000b4';
SELECT kind FROM autoassign.outbox WHERE booking_id = '5eee0000-0000-0000-0000-0000000000b4' ORDER BY id;
SELECT source, reason FROM autoassign.events
 WHERE booking_id = '5eee0000-0000-0000-0000-0000000000b4' AND event_type = 'auto_assign.summary' ORDER BY id;

-- pg_cron lives in another database (cron.database_name): the hint gives the exact
-- statement to run there
\set SHOW_CONTEXT never
SELECT current_setting('cron.database_name') <> current_database() AS cron_elsewhere;
SELECT autoassign.autoassign_schedule_sweep('*/2 * * * *');
