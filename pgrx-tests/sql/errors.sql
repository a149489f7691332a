-- Bad input gets a clear error with a SQLSTATE and a hint; nothing is written.
SET client_min_messages = warning;
\set VERBOSITY default
SELECT autoassign.autoassign_demo_load('2030-06-01', 42) AS rid \gset
SELECT id AS bid FROM autoassign.bookings ORDER BY start_at, id LIMIT 1 \gset
\set VERBOSITY sqlstate
SELECT * FROM autoassign.autoassign_quote(NULL);
SELECT * FROM autoassign.autoassign_confirm(NULL);
SELECT * FROM autoassign.autoassign_quote(:'bid', '{"max_tables": 0}');
SELECT * FROM autoassign.autoassign_quote(:'bid', '{"max_tables": 7}');
SELECT * FROM autoassign.autoassign_quote(:'bid', '{"max_tables": "3"}');
SELECT * FROM autoassign.autoassign_quote(:'bid', '{"colour": "red"}');
SELECT * FROM autoassign.autoassign_quote(:'bid', '[]');
SELECT * FROM autoassign.autoassign_confirm(:'bid', '{"max_overage": -1}');
SELECT * FROM autoassign.autoassign_confirm(:'bid', source => 'Bad Source');
SELECT * FROM autoassign.autoassign_quote(:'bid', hold_seconds => -5);
SELECT * FROM autoassign.autoassign_free_capacity(:'rid', '2030-06-01 20:00+00', '2030-06-01 18:00+00');
SELECT * FROM autoassign.autoassign_free_capacity('00000000-0000-0000-0000-000000000000', '2030-06-01 18:00+00', '2030-06-01 20:00+00');
SET autoassign.telemetry = 'loud';
SET autoassign.telemetri = 'on';
\set VERBOSITY default
-- the hint a caller sees for a bad strategy
SELECT * FROM autoassign.autoassign_quote(:'bid', '{"max_tables": 9}');
-- a missing booking is a returned hard reason, not an error
SELECT ok, reason, reason_class FROM autoassign.autoassign_confirm('00000000-0000-0000-0000-000000000000');
-- nothing was written by any of the above
SELECT count(*) AS allocations FROM autoassign.allocations WHERE restaurant_id = :'rid';
SELECT count(*) AS outbox FROM autoassign.outbox WHERE restaurant_id = :'rid';
SELECT status, count(*) FROM autoassign.bookings WHERE restaurant_id = :'rid' GROUP BY 1;
SELECT count(*) AS holds FROM autoassign.holds WHERE restaurant_id = :'rid';
