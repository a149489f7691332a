-- Issue 11 item 5: is the duration_us autoassign_quote returns the whole call as the
-- server spent it? About 1,900 quotes, each its own top-level statement (literal ids: one
-- pg_stat_statements entry); the mean duration_us they returned against
-- pg_stat_statements' mean execution time of that statement. Target: within 10%.
-- Needs bench/setup.sql and pg_stat_statements (scripts/bench.sh sets both up).
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.bench_duration;
CREATE TABLE public.bench_duration (us bigint);
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT format('INSERT INTO public.bench_duration SELECT duration_us FROM autoassign.autoassign_quote(%L, source => %L)',
              b.id, 'durcheck')
  FROM public.bench_bookings b, generate_series(1, 8) ORDER BY random() \gexec
SELECT count(*) AS quotes,
       round(avg(d.us)) AS mean_duration_us,
       round(s.mean_exec_time::numeric * 1000) AS pg_stat_statements_mean_us,
       round(100 * (1 - avg(d.us) / (s.mean_exec_time::numeric * 1000)), 1) AS duration_us_short_by_pct
  FROM public.bench_duration d,
       (SELECT mean_exec_time FROM pg_stat_statements
         WHERE query LIKE 'INSERT INTO public.bench_duration%') s
 GROUP BY s.mean_exec_time;
DROP TABLE public.bench_duration;
SELECT autoassign.autoassign_flush_events() >= 0 AS flushed;
DELETE FROM autoassign.events WHERE source = 'durcheck';
