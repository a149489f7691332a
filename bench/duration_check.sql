-- Issue 11 item 5: is the duration_us autoassign_quote returns the whole call as the
-- server spent it? About 2,400 quotes of the 8 White Horse tenants, each its own
-- top-level statement `SELECT duration_us FROM autoassign_quote(<literal id>, ...)` (one
-- pg_stat_statements entry); the mean duration_us they returned against
-- pg_stat_statements' mean execution time of that statement. Target: within 10%.
-- The returned values go to a client-side file (psql \o) and come back with \copy, so
-- the measured statement is the bare quote and nothing else.
-- Needs bench/setup.sql and pg_stat_statements (scripts/bench.sh sets both up).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.bench_duration;
CREATE TABLE public.bench_duration (us bigint);
-- warm-up: floor cache, prepared statements
\o /dev/null
SELECT format('SELECT duration_us FROM autoassign.autoassign_quote(%L, source => %L)', b.id, 'durcheck')
  FROM public.bench_bookings b, generate_series(1, 8) ORDER BY random() LIMIT 50 \gexec
\o
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
\pset tuples_only on
\pset format unaligned
\o /tmp/pgaa_duration_check.txt
SELECT format('SELECT duration_us FROM autoassign.autoassign_quote(%L, source => %L)', b.id, 'durcheck')
  FROM public.bench_bookings b, generate_series(1, 8) ORDER BY random() \gexec
\o
\pset tuples_only off
\pset format aligned
\copy public.bench_duration (us) FROM '/tmp/pgaa_duration_check.txt'
\! rm -f /tmp/pgaa_duration_check.txt
SELECT count(*) AS quotes,
       round(avg(d.us)) AS mean_duration_us,
       round(s.mean_exec_time::numeric * 1000) AS pg_stat_statements_mean_us,
       round(100 * (1 - avg(d.us) / (s.mean_exec_time::numeric * 1000)), 1) AS duration_us_short_by_pct,
       CASE WHEN abs(1 - avg(d.us) / (s.mean_exec_time::numeric * 1000)) <= 0.10
            THEN 'met' ELSE 'MISSED' END AS target_within_10_pct
  FROM public.bench_duration d,
       (SELECT mean_exec_time FROM pg_stat_statements
         WHERE query LIKE 'SELECT duration_us FROM autoassign.autoassign_quote(%') s
 GROUP BY s.mean_exec_time;
DROP TABLE public.bench_duration;
SELECT autoassign.autoassign_flush_events() >= 0 AS flushed;
DELETE FROM autoassign.events WHERE source = 'durcheck';
