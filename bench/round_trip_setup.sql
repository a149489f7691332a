-- Issue 11: the client round trip of a quote against a bare indexed scan of the same
-- window's allocations, on the 120-table evening (bench/hall_120*.sql). public.rt_bookings
-- numbers its pending bookings with their stay window; both pgbench scripts look one up
-- the same way (bench/rt_quote.pgbench, bench/rt_scan.pgbench).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\set hall 'Round Trip Hall'
\ir hall_120.sql
\ir hall_120_evening.sql
ANALYZE autoassign.bookings;
ANALYZE autoassign.allocations;
DROP TABLE IF EXISTS public.rt_bookings;
CREATE TABLE public.rt_bookings AS
SELECT row_number() OVER (ORDER BY b.id)::int AS n, b.id, b.restaurant_id,
       tstzrange(b.start_at, autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes,
                                                 r.buffer_after_minutes)) AS win
  FROM autoassign.bookings b JOIN autoassign.restaurants r ON r.id = b.restaurant_id
 WHERE r.name = :'hall' AND b.status = 'pending';
CREATE UNIQUE INDEX ON public.rt_bookings (n);
ANALYZE public.rt_bookings;
GRANT SELECT ON public.rt_bookings TO PUBLIC;
SELECT count(*) AS pending_bookings FROM public.rt_bookings;
