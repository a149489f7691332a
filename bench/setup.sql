-- Benchmark fixture: a fresh extension, the White Horse demo far in the future, and a
-- numbered list of its bookings for pgbench's random picks.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_autoassign CASCADE;
CREATE EXTENSION pg_autoassign CASCADE;
SELECT autoassign.autoassign_demo_load('2030-06-01', 42);
-- confirm half of the service so quotes plan against a busy evening
DO $$
DECLARE b record;
BEGIN
    FOR b IN SELECT id FROM autoassign.bookings ORDER BY start_at, id LOOP
        IF (SELECT count(*) FROM autoassign.allocations) < 25 THEN
            PERFORM autoassign.autoassign_confirm(b.id, source => 'manual');
        END IF;
    END LOOP;
END $$;
DROP TABLE IF EXISTS public.bench_bookings;
CREATE TABLE public.bench_bookings AS
SELECT row_number() OVER (ORDER BY start_at, id) AS n, id
  FROM autoassign.bookings WHERE status = 'pending';
SELECT count(*) AS pending_bookings FROM public.bench_bookings;
-- Quotes every pending bench booking `rounds` times (one planner run each).
CREATE OR REPLACE FUNCTION public.bench_quotes(strategy jsonb, src text, rounds int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    b record;
    n bigint := 0;
BEGIN
    FOR i IN 1..rounds LOOP
        FOR b IN SELECT id FROM public.bench_bookings ORDER BY n LOOP
            PERFORM * FROM autoassign.autoassign_quote(b.id, strategy, src);
            n := n + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END $$;
