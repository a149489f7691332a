\echo Use "ALTER EXTENSION pg_autoassign UPDATE TO '0.3.0'" to load this file. \quit

-- pg_autoassign 0.2.0 -> 0.3.0. Runs inside ALTER EXTENSION ... UPDATE (one transaction,
-- search_path = autoassign) and leaves exactly what a fresh 0.3.0 install creates,
-- keeping every row. scripts/upgrade_test.sh upgrades a database with data and compares
-- its catalog with a fresh 0.3.0 install. Definitions are copied verbatim from the 0.3.0
-- install script (tasks/security-20261130-0900/upgrade-builder).
--
-- What changes:
--   * security (issue 10): roles, restaurant_access and row-level security, grants,
--     SECURITY DEFINER write paths, pinned search_path on every function, ownership by
--     the extension owner, finite stays, time zone check (sql/security.sql, last below);
--   * telemetry off the caller's transaction (issue 12): autoassign_stats() gains
--     per-database keys and event counters; autoassign_event_queue_stats(),
--     autoassign_flush_events() and the view event_queue;
--   * seat everyone (issue 13): bookings.pinned, restaurants.freeze_minutes, the
--     allocation guard, quote/confirm with moves and alternatives, autoassign_alternatives,
--     autoassign_optimize;
--   * the operator's tool (issue 14): views service_timeline and service_quotes,
--     ops_stress_create / ops_stress_drop;
--   * stay_end and stay_range qualify every name (they stay inlinable); clock_now is a
--     library function (a placeholder value of the superuser-only clock is never read).

-- Nothing planted in the schemas of required extensions (btree_gist's public) may bind
-- into what this script writes (see sql/schema.sql); LOCAL: restored when it ends.
SET LOCAL search_path = autoassign, pg_catalog, pg_temp;

-------------------------------------------------------------------------------------------
-- 1. The inlinable helpers, now hijack-proof; clock_now moves into the library.

@@stay_helpers@@

@@stay_range@@

@@clock_now@@

-------------------------------------------------------------------------------------------
-- 2. Telemetry off the caller's transaction (issue 12): the statistics gain per-database
--    keys and event counters (new result columns: the view and function are re-created),
--    the event queue's view and flush function.

DROP VIEW stats;
DROP FUNCTION autoassign_stats();

@@stats_fn@@

@@stats_view@@

@@event_queue_stats@@

@@flush_events@@

@@telemetry_async@@

-------------------------------------------------------------------------------------------
-- 3. Seat everyone (issue 13): pinned bookings, the freeze window and the allocation
--    guard (sql/seating.sql, as a fresh install runs it: the columns are added with their
--    defaults in both, so existing rows read the same missing value); quote and confirm
--    gain the moves and alternatives columns; alternatives and optimize.

@@seating@@

DROP FUNCTION autoassign_quote(uuid, jsonb, text, int);
DROP FUNCTION autoassign_confirm(uuid, jsonb, text);

@@quote@@

@@confirm@@

@@alternatives@@

@@optimize@@

-------------------------------------------------------------------------------------------
-- 4. The operator's tool pgaa (issue 14): its views and the stress run's scratch
--    restaurant (sql/ops.sql, as a fresh install runs it).

@@ops@@

-------------------------------------------------------------------------------------------
-- 5. Security, as a fresh install runs it: last, so it covers every function above.

@@security@@
