-- pg_autoassign asynchronous telemetry (issue 12): the event queue's counters for the
-- current database. Loaded after telemetry.sql and the Rust functions it wraps.

CREATE VIEW autoassign.event_queue AS SELECT * FROM autoassign.autoassign_event_queue_stats();

COMMENT ON VIEW autoassign.event_queue IS
'The current database''s planner-event queue (needs shared_preload_libraries): queued and in_flight '
'now; enqueued, written, dropped (queue full), lost (writer died mid-batch), standby (not writable '
'on a hot standby), written_sync since start; rate-limited planner log lines (log_lines, '
'log_suppressed); writer_pid; queue_capacity/queue_free (all databases); planner-statistics keys of '
'this database, of all databases, stats_max and stats_evictions.';

COMMENT ON FUNCTION autoassign.autoassign_flush_events(int) IS
'Writes the current database''s queued planner events now and waits (at most timeout_ms) until '
'everything queued before the call is committed; returns the rows written meanwhile. 0 without '
'shared_preload_libraries or on a hot standby.';
