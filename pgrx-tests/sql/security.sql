-- Security (sql/security.sql, issue #10): a hostile neighbour plants shadows, tenants try
-- each other's rows, ordinary roles try the clock and the caps. Two small restaurants in
-- 2032, uuids 5ec00000-...
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
\set SHOW_CONTEXT never
\set VERBOSITY default

INSERT INTO autoassign.restaurants (id, name) VALUES
    ('5ec00000-0000-0000-0000-00000000000a', 'Alpha'),
    ('5ec00000-0000-0000-0000-00000000000b', 'Bravo');
INSERT INTO autoassign.zones (id, restaurant_id, name) VALUES
    ('5ec00000-0000-0000-0000-0000000000a1', '5ec00000-0000-0000-0000-00000000000a', 'Main'),
    ('5ec00000-0000-0000-0000-0000000000b1', '5ec00000-0000-0000-0000-00000000000b', 'Main');
INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity) VALUES
    ('5ec00000-0000-0000-0000-0000000000c1', '5ec00000-0000-0000-0000-00000000000a', '5ec00000-0000-0000-0000-0000000000a1', 'A1', 4),
    ('5ec00000-0000-0000-0000-0000000000c2', '5ec00000-0000-0000-0000-00000000000a', '5ec00000-0000-0000-0000-0000000000a1', 'A2', 4),
    ('5ec00000-0000-0000-0000-0000000000d1', '5ec00000-0000-0000-0000-00000000000b', '5ec00000-0000-0000-0000-0000000000b1', 'B1', 4);
INSERT INTO autoassign.table_adjacency (restaurant_id, table_a, table_b) VALUES
    ('5ec00000-0000-0000-0000-00000000000a', '5ec00000-0000-0000-0000-0000000000c1', '5ec00000-0000-0000-0000-0000000000c2');
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at) VALUES
    ('5ec00000-0000-0000-0000-0000000000e1', '5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-01 19:00+00'),
    ('5ec00000-0000-0000-0000-0000000000e2', '5ec00000-0000-0000-0000-00000000000a', 6, '2032-03-01 19:00+00'),
    ('5ec00000-0000-0000-0000-0000000000e3', '5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-01 21:00+00'),
    ('5ec00000-0000-0000-0000-0000000000f1', '5ec00000-0000-0000-0000-00000000000b', 2, '2032-03-01 19:00+00'),
    ('5ec00000-0000-0000-0000-0000000000f2', '5ec00000-0000-0000-0000-00000000000b', 2, '2032-03-01 21:00+00');

-------------------------------------------------------------------------------------------
-- 1. Every function the extension creates pins search_path, except the three inlinable
--    SQL helpers, whose bodies qualify every name instead.
SELECT p.proname
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autoassign') AND d.deptype = 'e'
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1;
-- the functions in Rust also pin plan_cache_mode = auto (issue 11): a session's
-- force_custom_plan must not re-plan their prepared statements. All but clock_now,
-- which runs no query.
SELECT p.proname AS c_function_without_plan_cache_mode
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_language l ON l.oid = p.prolang
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autoassign') AND d.deptype = 'e'
   AND l.lanname = 'c' AND NOT coalesce('plan_cache_mode=auto' = ANY (p.proconfig), false)
 ORDER BY 1;
SELECT count(*) > 15 AS c_functions_pinned
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autoassign') AND d.deptype = 'e'
   AND 'plan_cache_mode=auto' = ANY (p.proconfig);
-- PUBLIC may execute none of them
SELECT count(*) AS public_may_execute
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_autoassign') AND d.deptype = 'e'
   AND has_function_privilege('public', p.oid, 'EXECUTE');

-------------------------------------------------------------------------------------------
-- 2. A hostile neighbour: an ordinary role with CREATE on public plants exact-type copies
--    of what our code calls, operators included, and tables under our tables' names.
--    Each shadow records that it ran. A superuser then calls every public function with
--    public first in its search_path.
CREATE ROLE pgaa_hostile NOLOGIN;
GRANT CREATE, USAGE ON SCHEMA public TO pgaa_hostile;
SET ROLE pgaa_hostile;
CREATE TABLE public.shadow_log (shadow text);
GRANT INSERT, SELECT ON public.shadow_log TO PUBLIC;
CREATE FUNCTION public.caught(what text) RETURNS void LANGUAGE sql AS
    $$ INSERT INTO public.shadow_log VALUES (what) $$;
CREATE FUNCTION public.lower(tstzrange) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT public.caught('lower'); SELECT pg_catalog.lower($1) $$;
CREATE FUNCTION public.upper(tstzrange) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT public.caught('upper'); SELECT pg_catalog.upper($1) $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT public.caught('now'); SELECT pg_catalog.now() $$;
CREATE FUNCTION public.unnest(uuid[]) RETURNS SETOF uuid LANGUAGE sql AS
    $$ SELECT public.caught('unnest'); SELECT pg_catalog.unnest($1) $$;
CREATE FUNCTION public.tstzrange(timestamptz, timestamptz) RETURNS tstzrange LANGUAGE sql AS
    $$ SELECT public.caught('tstzrange'); SELECT pg_catalog.tstzrange($1, $2) $$;
CREATE FUNCTION public.make_interval(mins int) RETURNS interval LANGUAGE sql AS
    $$ SELECT public.caught('make_interval'); SELECT pg_catalog.make_interval(mins => $1) $$;
CREATE FUNCTION public.hashtext(text) RETURNS int LANGUAGE sql AS
    $$ SELECT public.caught('hashtext'); SELECT pg_catalog.hashtext($1) $$;
CREATE FUNCTION public.current_setting(text, bool) RETURNS text LANGUAGE sql AS
    $$ SELECT public.caught('current_setting'); SELECT pg_catalog.current_setting($1, $2) $$;
CREATE FUNCTION public.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE sql AS
    $$ SELECT public.caught('jsonb_build_object'); SELECT pg_catalog.jsonb_build_object($1, $2) $$;
CREATE FUNCTION public.shadow_overlaps(tstzrange, tstzrange) RETURNS bool LANGUAGE sql AS
    $$ SELECT public.caught('&&'); SELECT pg_catalog.range_overlaps($1, $2) $$;
CREATE OPERATOR public.&& (LEFTARG = tstzrange, RIGHTARG = tstzrange, FUNCTION = public.shadow_overlaps);
CREATE FUNCTION public.shadow_plus(timestamptz, interval) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT public.caught('+'); SELECT pg_catalog.timestamptz_pl_interval($1, $2) $$;
CREATE OPERATOR public.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = public.shadow_plus);
CREATE FUNCTION public.shadow_uuid_eq(uuid, uuid) RETURNS bool LANGUAGE sql AS
    $$ SELECT public.caught('='); SELECT pg_catalog.uuid_eq($1, $2) $$;
CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.shadow_uuid_eq);
CREATE FUNCTION public.shadow_text_ne(text, text) RETURNS bool LANGUAGE sql AS
    $$ SELECT public.caught('<>'); SELECT pg_catalog.textne($1, $2) $$;
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_text_ne);
CREATE TABLE public.bookings (id uuid, restaurant_id uuid, status text);
CREATE TABLE public.allocations (id bigint, booking_id uuid, table_id uuid);
CREATE TABLE public.restaurants (id uuid);
CREATE TABLE public.tables (id uuid);
RESET ROLE;

SET search_path = public, pg_catalog;
-- the shadows work: an unpinned call finds them
SELECT lower(tstzrange('2032-01-01', '2032-01-02')) IS NOT NULL AS control_ran;
SELECT array_agg(DISTINCT shadow ORDER BY shadow) AS caught FROM public.shadow_log;
TRUNCATE public.shadow_log;

-- every public function, and the triggers behind a plain UPDATE, as a superuser
SELECT ok, reason FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e1', hold_seconds => 60);
SELECT ok, reason FROM autoassign.autoassign_confirm('5ec00000-0000-0000-0000-0000000000e1');
SELECT ok, reason FROM autoassign.autoassign_confirm('5ec00000-0000-0000-0000-0000000000e2');
SELECT count(*) > 0 AS explained FROM autoassign.autoassign_explain('5ec00000-0000-0000-0000-0000000000e3');
SELECT count(*) > 0 AS zones FROM autoassign.autoassign_free_capacity('5ec00000-0000-0000-0000-00000000000a', '2032-03-01 18:00+00', '2032-03-01 23:00+00');
SELECT count(*) > 0 AS history FROM autoassign.autoassign_booking_history('5ec00000-0000-0000-0000-0000000000e1');
-- (the test's own statements spell their operators out: only our code is on trial)
UPDATE autoassign.bookings SET start_at = '2032-03-01 19:15+00' WHERE id OPERATOR(pg_catalog.=) '5ec00000-0000-0000-0000-0000000000e1';
UPDATE autoassign.bookings SET party_size = 3 WHERE id OPERATOR(pg_catalog.=) '5ec00000-0000-0000-0000-0000000000e1';
SELECT ok, reason FROM autoassign.autoassign_cancel('5ec00000-0000-0000-0000-0000000000e2');
SELECT processed FROM autoassign.autoassign_sweep(restaurant_id => '5ec00000-0000-0000-0000-00000000000a', now => '2032-03-01 12:00+00');
SELECT count(*) AS retired FROM autoassign.autoassign_retire_table('5ec00000-0000-0000-0000-0000000000c2', '2032-06-01');
UPDATE autoassign.tables SET capacity = 5 WHERE id OPERATOR(pg_catalog.=) '5ec00000-0000-0000-0000-0000000000c1';
SELECT count(*) > 0 AS stats FROM autoassign.stats;
SELECT count(*) >= 0 AS latency FROM autoassign.quote_latency;
SELECT count(*) >= 0 AS outcomes FROM autoassign.booking_outcomes;
SELECT count(*) >= 0 AS reasons FROM autoassign.reason_breakdown;
SELECT autoassign.autoassign_grant_restaurant('5ec00000-0000-0000-0000-00000000000b', 'pgaa_hostile');
SELECT autoassign.autoassign_revoke_restaurant('5ec00000-0000-0000-0000-00000000000b', 'pgaa_hostile');
-- no shadow ran
SELECT count(*) AS shadows_run, array_agg(DISTINCT shadow) FROM public.shadow_log;
RESET search_path;
DROP OWNED BY pgaa_hostile;
DROP ROLE pgaa_hostile;

-------------------------------------------------------------------------------------------
-- 3. Tenants. Login roles for two booking apps (Alpha's and Bravo's), an admin and a
--    reader of Alpha's.
CREATE ROLE pgaa_app_a;
CREATE ROLE pgaa_app_b;
CREATE ROLE pgaa_admin_a;
CREATE ROLE pgaa_reader_a;
GRANT autoassign_api TO pgaa_app_a, pgaa_app_b;
GRANT autoassign_admin TO pgaa_admin_a;
GRANT autoassign_reader TO pgaa_reader_a;
SELECT autoassign.autoassign_grant_restaurant('5ec00000-0000-0000-0000-00000000000a', r)
  FROM unnest(ARRAY['pgaa_app_a', 'pgaa_admin_a', 'pgaa_reader_a']::name[]) r;
SELECT autoassign.autoassign_grant_restaurant('5ec00000-0000-0000-0000-00000000000b', 'pgaa_app_b');

SET ROLE pgaa_app_a;
-- reads: Alpha's rows only, whichever table
SELECT (SELECT count(*) FROM autoassign.restaurants) AS restaurants,
       (SELECT count(DISTINCT restaurant_id) FROM autoassign.bookings) AS booking_tenants,
       (SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = '5ec00000-0000-0000-0000-00000000000b') AS bravo_bookings,
       (SELECT count(*) FROM autoassign.tables WHERE restaurant_id = '5ec00000-0000-0000-0000-00000000000b') AS bravo_tables;
-- the forgeries of the issue, each refused
INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind)
VALUES ('5ec00000-0000-0000-0000-00000000000b', '5ec00000-0000-0000-0000-0000000000f1', 'booking_confirmed');
INSERT INTO autoassign.events (event_type, restaurant_id, booking_id, source)
VALUES ('auto_assign.summary', '5ec00000-0000-0000-0000-00000000000b', '5ec00000-0000-0000-0000-0000000000f1', 'api');
UPDATE autoassign.bookings SET status = 'confirmed' WHERE id = '5ec00000-0000-0000-0000-0000000000f1';
UPDATE autoassign.bookings SET auto_assign_outcome = 'confirmed' WHERE id = '5ec00000-0000-0000-0000-0000000000e3';
SELECT * FROM autoassign.autoassign_cancel('5ec00000-0000-0000-0000-0000000000f1');
SELECT ok, reason FROM autoassign.autoassign_confirm('5ec00000-0000-0000-0000-0000000000f1');
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000f1');
SELECT * FROM autoassign.autoassign_free_capacity('5ec00000-0000-0000-0000-00000000000b', '2032-03-01 18:00+00', '2032-03-01 23:00+00');
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
VALUES ('5ec00000-0000-0000-0000-00000000000b', 2, '2032-03-01 20:00+00');
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, status)
VALUES ('5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-01 20:00+00', 'confirmed');
DELETE FROM autoassign.allocations;
DELETE FROM autoassign.retry_queue;
SELECT * FROM autoassign.autoassign_sweep();
SELECT * FROM autoassign.autoassign_explain('5ec00000-0000-0000-0000-0000000000e3');
SELECT autoassign.autoassign_grant_restaurant('5ec00000-0000-0000-0000-00000000000b', 'pgaa_app_a');
SET autoassign.simulated_now = '2000-01-01';
SET autoassign.max_planner_ms = 100000;
-- Bravo's rows are untouched
RESET ROLE;
SELECT right(id::text, 2) AS booking, status, auto_assign_outcome AS outcome,
       (SELECT count(*) FROM autoassign.outbox o WHERE o.booking_id = b.id) AS outbox
  FROM autoassign.bookings b WHERE restaurant_id = '5ec00000-0000-0000-0000-00000000000b' ORDER BY id;

-- its own restaurant works through the same paths
SET ROLE pgaa_app_a;
-- (booking ids come from gen_random_uuid(): the API may not choose one, which could
-- shadow another restaurant's booking id)
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at)
VALUES ('5ec00000-0000-0000-0000-0000000000f1', '5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-01 22:00+00');
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
VALUES ('5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-01 22:00+00') RETURNING id AS e4 \gset
SELECT ok, reason FROM autoassign.autoassign_confirm(:'e4');
UPDATE autoassign.bookings SET start_at = '2032-03-01 22:15+00' WHERE id = :'e4';
SELECT ok, reason FROM autoassign.autoassign_cancel(:'e4');
-- a stay at the end of time would overflow every later computation
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
VALUES ('5ec00000-0000-0000-0000-00000000000a', 2, '294276-12-31 23:59:59+00');
RESET ROLE;

-- the admin edits its own floor, sweeps its own restaurant, creates a restaurant and sees it
SET ROLE pgaa_admin_a;
UPDATE autoassign.tables SET name = 'A1-window' WHERE id = '5ec00000-0000-0000-0000-0000000000c1';
UPDATE autoassign.tables SET name = 'stolen' WHERE id = '5ec00000-0000-0000-0000-0000000000d1';
SELECT processed >= 0 AS swept FROM autoassign.autoassign_sweep(restaurant_id => '5ec00000-0000-0000-0000-00000000000a');
SELECT * FROM autoassign.autoassign_sweep(restaurant_id => '5ec00000-0000-0000-0000-00000000000b');
SELECT * FROM autoassign.autoassign_sweep(restaurant_id => '5ec00000-0000-0000-0000-00000000000a', now => '2032-03-01 12:00+00');
SELECT * FROM autoassign.autoassign_retire_table('5ec00000-0000-0000-0000-0000000000d1', '2032-06-01');
INSERT INTO autoassign.restaurants (id, name) VALUES ('5ec00000-0000-0000-0000-00000000000c', 'Charlie') RETURNING name;
SELECT name FROM autoassign.restaurants ORDER BY name;
-- an existing id is no way in: not with ON CONFLICT DO NOTHING, nor DO UPDATE
INSERT INTO autoassign.restaurants (id, name) VALUES ('5ec00000-0000-0000-0000-00000000000b', 'x') ON CONFLICT DO NOTHING;
INSERT INTO autoassign.restaurants (id, name) VALUES ('5ec00000-0000-0000-0000-00000000000b', 'x')
    ON CONFLICT (id) DO UPDATE SET name = 'pwned';
-- what every restaurant of the database shares stays with the owner
UPDATE autoassign.retry_policy SET max_attempts = 0;
SELECT autoassign.autoassign_unschedule_sweep();
SELECT * FROM autoassign.autoassign_prune_events('1 day');
RESET ROLE;
SELECT name, (SELECT array_agg(role_name ORDER BY role_name) FROM autoassign.restaurant_access a WHERE a.restaurant_id = r.id) AS acting
  FROM autoassign.restaurants r WHERE r.id IN ('5ec00000-0000-0000-0000-00000000000b', '5ec00000-0000-0000-0000-00000000000c')
 ORDER BY name;
SELECT max_attempts FROM autoassign.retry_policy ORDER BY class;

-- an admin whose role name needs quoting creates a restaurant and acts for it
CREATE ROLE "Pgaa_Mixed";
GRANT autoassign_admin TO "Pgaa_Mixed";
SET ROLE "Pgaa_Mixed";
INSERT INTO autoassign.restaurants (name) VALUES ('Delta') RETURNING name;
RESET ROLE;
SELECT role_name FROM autoassign.restaurant_access a JOIN autoassign.restaurants r ON r.id = a.restaurant_id
 WHERE r.name = 'Delta';
DELETE FROM autoassign.restaurants WHERE name = 'Delta';
DROP OWNED BY "Pgaa_Mixed";
DROP ROLE "Pgaa_Mixed";

-- the reader sees Alpha's diagnostics and writes nothing
SET ROLE pgaa_reader_a;
SELECT count(*) > 0 AS explained FROM autoassign.autoassign_explain('5ec00000-0000-0000-0000-0000000000e3');
SELECT count(DISTINCT restaurant_id) AS event_tenants FROM autoassign.events;
SELECT count(*) AS bravo_history FROM autoassign.autoassign_booking_history('5ec00000-0000-0000-0000-0000000000f1');
UPDATE autoassign.bookings SET status = 'cancelled' WHERE id = '5ec00000-0000-0000-0000-0000000000e3';
SELECT * FROM autoassign.autoassign_confirm('5ec00000-0000-0000-0000-0000000000e3');
RESET ROLE;

-------------------------------------------------------------------------------------------
-- 4. Hostile input: each a clear SQLSTATE, nothing half-written.
\set VERBOSITY sqlstate
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e3', '{"max_tables": 1e400}');
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e3',
    (repeat('{"a":', 200) || '1' || repeat('}', 200))::jsonb);
SELECT ok FROM autoassign.autoassign_confirm('5ec00000-0000-0000-0000-0000000000e3',
    jsonb_build_object('relaxed', repeat('x', 1000000)));
SELECT count(*) FROM autoassign.autoassign_explain('5ec00000-0000-0000-0000-0000000000e3', '{"max_tables": 1e400}');
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e3', '[1, 2]');
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e3', hold_seconds => 2147483647);
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e3', source => repeat('x', 1000000));
INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
VALUES ('5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-01 19:00+00', 'infinity');
UPDATE autoassign.restaurants SET timezone = 'Europe/Lodnon' WHERE id = '5ec00000-0000-0000-0000-00000000000a';
\set VERBOSITY default
-- the message quoting a huge value is cut
SELECT ok FROM autoassign.autoassign_quote('5ec00000-0000-0000-0000-0000000000e3', source => repeat('x', 1000000));
-- an over-long stay is a hard invalid_request, never retried
INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at, end_at)
VALUES ('5ec00000-0000-0000-0000-0000000000e5', '5ec00000-0000-0000-0000-00000000000a', 2, '2032-03-02 10:00+00', '2032-03-03 10:00+00');
SELECT ok, reason, reason_class FROM autoassign.autoassign_confirm('5ec00000-0000-0000-0000-0000000000e5');
SELECT status, auto_assign_outcome FROM autoassign.bookings WHERE id = '5ec00000-0000-0000-0000-0000000000e5';
-- (bounded work and the timeout without a plan: tests/security.rs, on a 320-table floor)

DROP OWNED BY pgaa_app_a, pgaa_app_b, pgaa_admin_a, pgaa_reader_a;
DROP ROLE pgaa_app_a, pgaa_app_b, pgaa_admin_a, pgaa_reader_a;
