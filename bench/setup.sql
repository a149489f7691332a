-- Benchmark fixture: a fresh extension and 8 copies of the White Horse demo (8 tenants)
-- far in the future, each with its first bookings confirmed (25 allocations) so quotes
-- plan against a busy evening, and a numbered list of each one's pending bookings.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_autoassign CASCADE;
CREATE EXTENSION pg_autoassign CASCADE;
DROP TABLE IF EXISTS public.bench_restaurants;
CREATE TABLE public.bench_restaurants AS
SELECT g - 1 AS r, autoassign.autoassign_demo_load('2030-06-01', 42) AS rid FROM generate_series(1, 8) g;
DO $$
DECLARE
    b record;
BEGIN
    FOR b IN SELECT bk.id, bk.restaurant_id FROM autoassign.bookings bk ORDER BY bk.restaurant_id, bk.start_at, bk.id LOOP
        IF (SELECT count(*) FROM autoassign.allocations a WHERE a.restaurant_id = b.restaurant_id) < 25 THEN
            PERFORM autoassign.autoassign_confirm(b.id, source => 'manual');
        END IF;
    END LOOP;
END $$;
DROP TABLE IF EXISTS public.bench_bookings;
CREATE TABLE public.bench_bookings AS
SELECT br.r, row_number() OVER (PARTITION BY br.r ORDER BY bk.start_at, bk.id) AS n, bk.id
  FROM autoassign.bookings bk JOIN public.bench_restaurants br ON br.rid = bk.restaurant_id
 WHERE bk.status = 'pending';
CREATE UNIQUE INDEX ON public.bench_bookings (r, n);
SELECT r, count(*) AS pending_bookings FROM public.bench_bookings GROUP BY r ORDER BY r;

-- Quotes every pending booking of tenant 0 `rounds` times (one planner run each).
CREATE OR REPLACE FUNCTION public.bench_quotes(strategy jsonb, src text, rounds int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    bk record;
    total bigint := 0;
BEGIN
    FOR i IN 1..rounds LOOP
        FOR bk IN SELECT bb.id FROM public.bench_bookings bb WHERE bb.r = 0 ORDER BY bb.n LOOP
            PERFORM * FROM autoassign.autoassign_quote(bk.id, strategy, src);
            total := total + 1;
        END LOOP;
    END LOOP;
    RETURN total;
END $$;
