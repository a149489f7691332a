-- Stale statistics (issue #9, item 7) and every plan state (issue #11): a 120-table floor
-- whose statistics were gathered before 2,000 pending bookings of one evening arrived.
-- Quote server-side time per call (clock_timestamp around each call, in the server,
-- telemetry off), p50 and p99 in each state.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\set hall 'Stale Stats Hall'
\ir hall_120.sql
ANALYZE autoassign.bookings;
ANALYZE autoassign.allocations;
ANALYZE autoassign.events;
-- keep them stale: no autovacuum analyze in the middle of the measurement (restored below)
ALTER TABLE autoassign.bookings SET (autovacuum_enabled = false);
ALTER TABLE autoassign.allocations SET (autovacuum_enabled = false);
-- the evening's bookings arrive after the statistics were taken
\ir hall_120_evening.sql

CREATE OR REPLACE FUNCTION pg_temp.quote_times(n int) RETURNS TABLE (p50_us int, p99_us int, quotes int)
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; times int[] := '{}'; b uuid;
BEGIN
    FOR b IN SELECT bk.id FROM autoassign.bookings bk JOIN autoassign.restaurants r ON r.id = bk.restaurant_id
              WHERE r.name = 'Stale Stats Hall' AND bk.status = 'pending' ORDER BY md5(bk.id::text) LIMIT n LOOP
        t0 := clock_timestamp();
        PERFORM * FROM autoassign.autoassign_quote(b, source => 'bench');
        times := times || (extract(epoch FROM clock_timestamp() - t0) * 1000000)::int;
    END LOOP;
    RETURN QUERY SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.99) WITHIN GROUP (ORDER BY x), count(*)::int
                   FROM unnest(times) x;
END $$;
SET autoassign.telemetry = off;
-- warm-up (floor cache, prepared statements, catalog caches): statistics stay as they are
SELECT quotes AS warm_up_quotes FROM pg_temp.quote_times(50);
CREATE TEMP TABLE stale_result (state text, p50_us int, p99_us int, quotes int);
-- every plan state (issue 9 item 7, issue 11 item 1): stale statistics, then the same
-- forced generic and custom, after a VACUUM (which discards cached plans), then fresh
INSERT INTO stale_result SELECT 'stale statistics', * FROM pg_temp.quote_times(500);
SET plan_cache_mode = force_generic_plan;
INSERT INTO stale_result SELECT 'stale, force_generic_plan', * FROM pg_temp.quote_times(500);
SET plan_cache_mode = force_custom_plan;
INSERT INTO stale_result SELECT 'stale, force_custom_plan', * FROM pg_temp.quote_times(500);
RESET plan_cache_mode;
VACUUM autoassign.bookings;
INSERT INTO stale_result SELECT 'after VACUUM bookings', * FROM pg_temp.quote_times(500);
ANALYZE autoassign.bookings;
ANALYZE autoassign.allocations;
ALTER TABLE autoassign.bookings RESET (autovacuum_enabled);
ALTER TABLE autoassign.allocations RESET (autovacuum_enabled);
INSERT INTO stale_result SELECT 'fresh statistics', * FROM pg_temp.quote_times(500);
SET plan_cache_mode = force_generic_plan;
INSERT INTO stale_result SELECT 'fresh, force_generic_plan', * FROM pg_temp.quote_times(500);
SET plan_cache_mode = force_custom_plan;
INSERT INTO stale_result SELECT 'fresh, force_custom_plan', * FROM pg_temp.quote_times(500);
RESET plan_cache_mode;
SELECT state, p50_us, p99_us, quotes,
       CASE WHEN p50_us <= 250 AND p99_us <= 500 THEN 'met' ELSE 'missed' END AS target_p50_250_p99_500
  FROM stale_result;
SELECT round(s.p99_us::numeric / f.p99_us, 2) AS stale_over_fresh_p99,
       CASE WHEN s.p99_us <= 2 * f.p99_us THEN 'met' ELSE 'MISSED' END AS target_within_2x
  FROM stale_result s, stale_result f
 WHERE s.state = 'stale statistics' AND f.state = 'fresh statistics';
DELETE FROM autoassign.bookings WHERE restaurant_id IN (SELECT id FROM autoassign.restaurants WHERE name = 'Stale Stats Hall');
DELETE FROM autoassign.restaurants WHERE name = 'Stale Stats Hall';
