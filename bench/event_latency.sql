-- Queue-to-row latency of planner events (issue 12). A statement-level AFTER INSERT
-- trigger on autoassign.events notes, for each 'bench_lat' row the event writer inserts,
-- the event's own time (events.at: when the backend queued it) and clock_timestamp() at
-- the end of the writer's INSERT; the writer commits right after (synchronous_commit off).
-- Bench-only: the trigger is dropped by event_latency_report.sql.
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.bench_event_latency;
CREATE TABLE public.bench_event_latency (at timestamptz, written_at timestamptz);
CREATE OR REPLACE FUNCTION public.bench_event_latency_note() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.bench_event_latency
    SELECT n.at, clock_timestamp() FROM new_rows n WHERE n.source = 'bench_lat';
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS bench_event_latency ON autoassign.events;
CREATE TRIGGER bench_event_latency AFTER INSERT ON autoassign.events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION public.bench_event_latency_note();
