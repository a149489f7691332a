-- The booking lifecycle (sql/lifecycle.sql, issue #9): what the booking app's own plain
-- UPDATEs do. One small floor in 2031, uuids 11fe0000-...
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set SHOW_CONTEXT never

INSERT INTO autoassign.restaurants (id, name) VALUES ('11fe0000-0000-0000-0000-000000000001', 'Lifecycle Inn');
INSERT INTO autoassign.zones (id, restaurant_id, name)
VALUES ('11fe0000-0000-0000-0000-0000000000a1', '11fe0000-0000-0000-0000-000000000001', 'Main');
INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity, combinable) VALUES
    ('11fe0000-0000-0000-0000-0000000000c2', '11fe0000-0000-0000-0000-000000000001', '11fe0000-0000-0000-0000-0000000000a1', 'T2', 2, false),
    ('11fe0000-0000-0000-0000-0000000000c6', '11fe0000-0000-0000-0000-000000000001', '11fe0000-0000-0000-0000-0000000000a1', 'T6', 6, false),
    ('11fe0000-0000-0000-0000-0000000000c7', '11fe0000-0000-0000-0000-000000000001', '11fe0000-0000-0000-0000-0000000000a1', 'T6b', 6, false);
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at) VALUES
    ('11fe0000-0000-0000-0000-0000000000b1', '11fe0000-0000-0000-0000-000000000001', 2, '2031-05-01 19:00+00'),
    ('11fe0000-0000-0000-0000-0000000000b2', '11fe0000-0000-0000-0000-000000000001', 6, '2031-05-01 19:00+00'),
    ('11fe0000-0000-0000-0000-0000000000b3', '11fe0000-0000-0000-0000-000000000001', 2, '2031-05-01 21:30+00'),
    ('11fe0000-0000-0000-0000-0000000000b4', '11fe0000-0000-0000-0000-000000000001', 6, '2031-05-01 19:30+00'),
    ('11fe0000-0000-0000-0000-0000000000b5', '11fe0000-0000-0000-0000-000000000001', 6, '2031-05-01 19:30+00');

CREATE VIEW lc AS
SELECT right(b.id::text, 2) AS booking, b.status, b.party_size AS party, b.auto_assign_outcome AS outcome,
       (SELECT string_agg(t.name, ',' ORDER BY t.name) FROM autoassign.allocations a
          JOIN autoassign.tables t ON t.id = a.table_id WHERE a.booking_id = b.id) AS tables,
       (SELECT count(*) FROM autoassign.retry_queue q WHERE q.booking_id = b.id) AS queued
  FROM autoassign.bookings b WHERE b.restaurant_id = '11fe0000-0000-0000-0000-000000000001'
 ORDER BY b.id;

-- the state machine, as documented and enforced
SELECT * FROM autoassign.booking_transitions ORDER BY 1, 2;

-- g. inserting queues nothing
SELECT count(*) AS queued FROM autoassign.retry_queue WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001';

SELECT ok, reason FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b1');
SELECT ok, reason FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b2');
SELECT ok, reason FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b4');
-- b5 finds no free 6-top: it waits in the queue (the only kind of row the queue holds)
SELECT ok, reason FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b5');
SELECT * FROM lc;

-- a. cancel by plain UPDATE: the tables are released at once, and autoassign_cancel agrees
UPDATE autoassign.bookings SET status = 'cancelled' WHERE id = '11fe0000-0000-0000-0000-0000000000b1';
SELECT ok, reason, status, tables_freed FROM autoassign.autoassign_cancel('11fe0000-0000-0000-0000-0000000000b1');

-- b. no-show by plain UPDATE: T6 is free again, which wakes b5, and the sweep seats it
UPDATE autoassign.bookings SET status = 'no_show' WHERE id = '11fe0000-0000-0000-0000-0000000000b2';
SELECT right(booking_id::text, 2) AS booking, wake FROM autoassign.retry_queue
 WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001';
SELECT * FROM autoassign.autoassign_sweep(restaurant_id => '11fe0000-0000-0000-0000-000000000001');
SELECT * FROM lc;

-- illegal transitions are refused
UPDATE autoassign.bookings SET status = 'pending' WHERE id = '11fe0000-0000-0000-0000-0000000000b1';
UPDATE autoassign.bookings SET status = 'completed' WHERE id = '11fe0000-0000-0000-0000-0000000000b4';
-- a settled outcome never changes, and only gave_up/cutoff may be set directly
UPDATE autoassign.bookings SET auto_assign_outcome = 'gave_up' WHERE id = '11fe0000-0000-0000-0000-0000000000b4';
SELECT auto_assign_outcome FROM autoassign.bookings WHERE id = '11fe0000-0000-0000-0000-0000000000b4';
UPDATE autoassign.bookings SET auto_assign_outcome = 'confirmed' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';

-- c. party change: 2 -> 6 moves b3 from T2 to a free 6-top; 2 -> 7 fits nowhere: refused
SELECT ok FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b3');
UPDATE autoassign.bookings SET party_size = 6 WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
UPDATE autoassign.bookings SET party_size = 7 WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
SELECT * FROM lc;
SELECT right(booking_id::text, 2) AS booking, kind FROM autoassign.outbox
 WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001' ORDER BY booking_id, id;

-- a stay change moves the tables with it, or is refused with 23P01 when they are taken
UPDATE autoassign.bookings SET start_at = '2031-05-01 22:00+00' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
SELECT right(a.booking_id::text, 2) AS booking, lower(a.during) AS from_at, upper(a.during) AS to_at
  FROM autoassign.allocations a WHERE a.booking_id = '11fe0000-0000-0000-0000-0000000000b3';
UPDATE autoassign.bookings SET start_at = '2031-05-01 19:30+00' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';

-- d. floor edits under future bookings are refused, naming them
UPDATE autoassign.tables SET active = false WHERE id = '11fe0000-0000-0000-0000-0000000000c6';
UPDATE autoassign.tables SET capacity = 1 WHERE id = '11fe0000-0000-0000-0000-0000000000c6';
-- ... unless they still fit (b3, now a party of 6 on a 6-top, still fits max_party 6)
UPDATE autoassign.tables SET priority = 5, max_party = 6 WHERE id = '11fe0000-0000-0000-0000-0000000000c6';
-- retiring T6 re-plans the bookings on it: onto T6b if free, else back to pending
SELECT right(booking_id::text, 2) AS booking, action, cardinality(table_ids) AS tables
  FROM autoassign.autoassign_retire_table('11fe0000-0000-0000-0000-0000000000c6', '2031-01-01');
SELECT * FROM lc;
UPDATE autoassign.tables SET active = false WHERE id = '11fe0000-0000-0000-0000-0000000000c6';

-- f. the outcome is on the booking row: with every event of this restaurant deleted,
-- pending -> confirmed without tables is refused, pending -> cancelled settles b5 and
-- writes its one summary (from the row, no events read), a repeat writes none, and a
-- confirmed booking's cancel is no second outcome
SELECT autoassign.autoassign_flush_events() \g /dev/null
DELETE FROM autoassign.events WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001';
UPDATE autoassign.bookings SET status = 'confirmed' WHERE id = '11fe0000-0000-0000-0000-0000000000b5';
UPDATE autoassign.bookings SET status = 'cancelled' WHERE id = '11fe0000-0000-0000-0000-0000000000b5';
SELECT ok, reason, tables_freed FROM autoassign.autoassign_cancel('11fe0000-0000-0000-0000-0000000000b5');
UPDATE autoassign.bookings SET status = 'cancelled' WHERE id = '11fe0000-0000-0000-0000-0000000000b4';
SELECT right(booking_id::text, 2) AS booking, reason AS outcome, count(*) AS summaries
  FROM autoassign.events
 WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001' AND event_type = 'auto_assign.summary'
 GROUP BY 1, 2 ORDER BY 1;
SELECT * FROM lc;

-- the remaining transitions from plain SQL
-- confirmed -> pending un-assigns (tables released, queued again, a new round), and a
-- confirm settles it again without a second booking_confirmed message
UPDATE autoassign.bookings SET status = 'pending' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
SELECT * FROM lc;
SELECT ok, reason FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b3');
SELECT count(*) AS confirmation_messages FROM autoassign.outbox
 WHERE booking_id = '11fe0000-0000-0000-0000-0000000000b3' AND kind = 'booking_confirmed';
-- confirmed -> seated keeps the tables; a seated party never moves: a party that no
-- longer fits its tables is refused; seated -> completed releases the tables
UPDATE autoassign.bookings SET status = 'seated' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
UPDATE autoassign.bookings SET party_size = 7 WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
SELECT * FROM lc;
UPDATE autoassign.bookings SET status = 'completed' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
-- completed is final
UPDATE autoassign.bookings SET status = 'seated' WHERE id = '11fe0000-0000-0000-0000-0000000000b3';
-- seated -> no_show releases the tables too
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at)
VALUES ('11fe0000-0000-0000-0000-0000000000b6', '11fe0000-0000-0000-0000-000000000001', 2, '2031-05-02 19:00+00');
SELECT ok FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b6');
UPDATE autoassign.bookings SET status = 'seated' WHERE id = '11fe0000-0000-0000-0000-0000000000b6';
UPDATE autoassign.bookings SET status = 'no_show' WHERE id = '11fe0000-0000-0000-0000-0000000000b6';
SELECT * FROM lc;
-- every status change left a booking.lifecycle event naming the caller, except those
-- that settled the outcome (pending -> confirmed/cancelled): their summary tells it
SELECT payload->>'from' AS from_status, payload->>'to' AS to_status, source, count(*)
  FROM autoassign.events
 WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001' AND event_type = 'booking.lifecycle'
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- a table retired from a later date still protects the bookings before it; a stay moved
-- past the retirement is refused; the restaurant's default stay re-stretches stays
-- without an end; a shorter stay frees the tail; a pending booking's hold goes with it
INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity, combinable)
VALUES ('11fe0000-0000-0000-0000-0000000000c4', '11fe0000-0000-0000-0000-000000000001',
        '11fe0000-0000-0000-0000-0000000000a1', 'T4', 4, false);
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at) VALUES
    ('11fe0000-0000-0000-0000-0000000000b9', '11fe0000-0000-0000-0000-000000000001', 4, '2031-05-04 19:00+00'),
    ('11fe0000-0000-0000-0000-0000000000ba', '11fe0000-0000-0000-0000-000000000001', 4, '2031-05-05 19:00+00');
SELECT ok FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b9');
SELECT count(*) AS moved FROM autoassign.autoassign_retire_table('11fe0000-0000-0000-0000-0000000000c4', '2031-06-01');
UPDATE autoassign.tables SET active = false WHERE id = '11fe0000-0000-0000-0000-0000000000c4';
UPDATE autoassign.bookings SET start_at = '2031-06-02 19:00+00' WHERE id = '11fe0000-0000-0000-0000-0000000000b9';
CREATE VIEW b9_stay AS
SELECT t.name, lower(a.during) AS from_at, upper(a.during) AS to_at
  FROM autoassign.allocations a JOIN autoassign.tables t ON t.id = a.table_id
 WHERE a.booking_id = '11fe0000-0000-0000-0000-0000000000b9';
SELECT * FROM b9_stay;
UPDATE autoassign.restaurants SET default_duration_minutes = 120 WHERE id = '11fe0000-0000-0000-0000-000000000001';
SELECT * FROM b9_stay;
UPDATE autoassign.bookings SET end_at = '2031-05-04 20:00+00' WHERE id = '11fe0000-0000-0000-0000-0000000000b9';
SELECT * FROM b9_stay;
DROP VIEW b9_stay;
SELECT ok, cardinality(table_ids) AS tables
  FROM autoassign.autoassign_quote('11fe0000-0000-0000-0000-0000000000ba', hold_seconds => 600);
SELECT count(*) AS holds FROM autoassign.holds WHERE booking_id = '11fe0000-0000-0000-0000-0000000000ba';
SELECT ok FROM autoassign.autoassign_cancel('11fe0000-0000-0000-0000-0000000000ba');
SELECT count(*) AS holds_after_cancel FROM autoassign.holds WHERE booking_id = '11fe0000-0000-0000-0000-0000000000ba';

DROP VIEW lc;
-- a restaurant goes with everything it has, a confirmed booking's allocation included
-- (the allocations' foreign key to tables is checked at commit, after the cascade)
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at)
VALUES ('11fe0000-0000-0000-0000-0000000000b7', '11fe0000-0000-0000-0000-000000000001', 2, '2031-05-03 19:00+00');
SELECT ok FROM autoassign.autoassign_confirm('11fe0000-0000-0000-0000-0000000000b7');
SELECT count(*) AS allocations_left FROM autoassign.allocations
 WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001';
DELETE FROM autoassign.restaurants WHERE id = '11fe0000-0000-0000-0000-000000000001';
SELECT count(*) AS tables_left FROM autoassign.tables
 WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001';
-- telemetry has no foreign keys: its story outlives the restaurant until pruned
SELECT autoassign.autoassign_flush_events() \g /dev/null
DELETE FROM autoassign.events WHERE restaurant_id = '11fe0000-0000-0000-0000-000000000001';
