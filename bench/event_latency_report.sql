-- Report for bench/event_latency.sql: rows, rate over the run, queue-to-row p50/p99/max.
SELECT autoassign.autoassign_flush_events() \g /dev/null
SELECT 'queue-to-row: events ' || count(*)
       || ', rate ' || round(count(*) / greatest(extract(epoch FROM max(at) - min(at)), 0.001)) || '/s'
       || ', p50 ' || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM written_at - at)) * 1000)::numeric, 1) || ' ms'
       || ', p99 ' || round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM written_at - at)) * 1000)::numeric, 1) || ' ms'
       || ', max ' || round((max(extract(epoch FROM written_at - at)) * 1000)::numeric, 1) || ' ms'
  FROM public.bench_event_latency;
SELECT 'queue since the server started: enqueued ' || enqueued || ', written ' || written
       || ', dropped ' || dropped || ', lost ' || lost
  FROM autoassign.event_queue;
DROP TRIGGER bench_event_latency ON autoassign.events;
DROP FUNCTION public.bench_event_latency_note();
DELETE FROM autoassign.events WHERE source = 'bench_lat';
