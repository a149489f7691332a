use crate::postgres::event_queue;
use crate::postgres::stats::{self, quantile};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode, Uuid};
use std::time::{Duration, Instant};

/// Rows of the `autoassign.stats` view: rollback-proof planner counters of the current
/// database, per restaurant, source and reason. `events_queued` counts the key's
/// planner events accepted by the shared-memory queue, `events_written` those inserted
/// (by the event writer, or synchronously), `events_dropped` those lost to a full queue
/// or not writable on a hot standby. Durations in microseconds; percentiles are the
/// upper bound of a power-of-two histogram bucket.
// pgrx needs the row type spelled out inline, hence the long signature.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn autoassign_stats() -> TableIterator<
    'static,
    (
        name!(restaurant_id, Option<Uuid>),
        name!(source, String),
        name!(reason, String),
        name!(calls, i64),
        name!(total_us, i64),
        name!(mean_us, f64),
        name!(max_us, i64),
        name!(p50_us, Option<i64>),
        name!(p95_us, Option<i64>),
        name!(p99_us, Option<i64>),
        name!(events_queued, i64),
        name!(events_written, i64),
        name!(events_dropped, i64),
    ),
> {
    if !stats::enabled() {
        pgrx::notice!(
            "pg_autoassign is not in shared_preload_libraries, so autoassign.stats is empty; \
             add it there and restart to collect planner statistics"
        );
    }
    let mut rows: Vec<_> = stats::snapshot()
        .into_iter()
        .map(|e| {
            let restaurant = (e.restaurant != [0; 16]).then(|| Uuid::from_bytes(e.restaurant));
            (
                restaurant,
                stats::text(&e.source),
                stats::text(&e.reason),
                e.calls as i64,
                e.total_us as i64,
                if e.calls == 0 {
                    0.0
                } else {
                    e.total_us as f64 / e.calls as f64
                },
                e.max_us as i64,
                quantile(&e.hist, e.calls, 0.50),
                quantile(&e.hist, e.calls, 0.95),
                quantile(&e.hist, e.calls, 0.99),
                e.events_queued as i64,
                e.events_written as i64,
                e.events_dropped as i64,
            )
        })
        .collect();
    // a role sees the statistics of the restaurants it acts for (README "Security")
    if !super::or_raise(crate::postgres::security::sees_all()) {
        let mut allowed = std::collections::HashMap::new();
        rows.retain(|r| match r.0 {
            Some(restaurant) => *allowed.entry(restaurant).or_insert_with(|| {
                super::or_raise(crate::postgres::security::may_act_for(restaurant))
            }),
            None => false,
        });
    }
    rows.sort_by(|a, b| (a.0.map(|u| *u), &a.1, &a.2).cmp(&(b.0.map(|u| *u), &b.1, &b.2)));
    TableIterator::new(rows)
}

/// Clears the current database's shared-memory planner statistics; returns whether
/// statistics are collected (the library is preloaded). Other databases' keys stay.
/// Errors: 42501 unless the caller is a superuser or a member of autoassign_admin.
#[pg_extern(volatile)]
fn autoassign_stats_reset() -> bool {
    if !may_reset() {
        ErrorReport::new(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to reset pg_autoassign statistics",
            "autoassign_stats_reset",
        )
        .set_hint("Only superusers and members of the role autoassign_admin may reset them.")
        .report(PgLogLevel::ERROR);
    }
    stats::reset();
    stats::enabled()
}

/// The caller (the outer user: SET ROLE counts, a SECURITY DEFINER owner does not) is a
/// superuser or a member of autoassign_admin (as `pg_has_role(.., 'MEMBER')`).
fn may_reset() -> bool {
    use crate::postgres::security;
    if security::acting_superuser() {
        return true;
    }
    // SAFETY: catalog lookups of existing roles; a missing role is InvalidOid.
    unsafe {
        let admin = pg_sys::get_role_oid(c"autoassign_admin".as_ptr(), true);
        admin != pg_sys::InvalidOid && pg_sys::is_member_of_role(security::acting_role(), admin)
    }
}

/// The current database's event queue and statistics counters, one row (all zero
/// without shared_preload_libraries):
/// - queued: events waiting in the queue now; in_flight: taken by the writer, not yet
///   committed; enqueued/written/dropped/lost: since the server started (dropped: queue
///   full; lost: the writer died mid-batch or could not start); standby: events not
///   written because this server is a hot standby; written_sync: events written in the
///   caller's transaction (no lane free);
/// - log_lines / log_suppressed: planner-path server-log lines written / rate-limited;
/// - writer_pid: this database's event writer (NULL when idle); launcher_pid: the
///   launcher that starts writers (NULL on a standby);
/// - queue_capacity / queue_free: slots in the whole queue (all databases);
/// - stats_keys (this database), stats_keys_total, stats_max, stats_evictions (keys
///   evicted from the full table, all databases).
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn autoassign_event_queue_stats() -> TableIterator<
    'static,
    (
        name!(queued, i64),
        name!(in_flight, i64),
        name!(enqueued, i64),
        name!(written, i64),
        name!(dropped, i64),
        name!(lost, i64),
        name!(standby, i64),
        name!(written_sync, i64),
        name!(log_lines, i64),
        name!(log_suppressed, i64),
        name!(writer_pid, Option<i32>),
        name!(launcher_pid, Option<i32>),
        name!(queue_capacity, i64),
        name!(queue_free, i64),
        name!(stats_keys, i64),
        name!(stats_keys_total, i64),
        name!(stats_max, i64),
        name!(stats_evictions, i64),
    ),
> {
    let l = event_queue::lane_snapshot(stats::current_db());
    let (capacity, free, _) = event_queue::totals();
    let (keys, keys_total, max, evictions) = stats::usage();
    TableIterator::once((
        i64::from(l.len),
        i64::from(l.in_flight),
        l.enqueued as i64,
        l.written as i64,
        l.dropped as i64,
        l.lost as i64,
        l.standby as i64,
        l.written_sync as i64,
        l.log_lines as i64,
        l.log_suppressed as i64,
        (l.writer_pid != 0).then_some(l.writer_pid),
        event_queue::launcher_pid(),
        capacity,
        free,
        keys,
        keys_total,
        max,
        evictions,
    ))
}

/// Writes the current database's queued events now: wakes its writer and waits until
/// every event queued before the call is committed (or counted lost), at most
/// `timeout_ms` (a WARNING then). Returns the rows the writer committed meanwhile.
/// Returns 0 at once without shared_preload_libraries (events are then written in the
/// caller's transaction) and on a hot standby (nothing is queued there).
#[pg_extern(volatile)]
fn autoassign_flush_events(timeout_ms: default!(i32, 30000)) -> i64 {
    if !event_queue::enabled() || crate::postgres::standby::in_recovery() {
        return 0;
    }
    let db = stats::current_db();
    let start = event_queue::lane_snapshot(db);
    let target = start.enqueued;
    let deadline = Instant::now() + Duration::from_millis(timeout_ms.max(0) as u64);
    loop {
        let now = event_queue::lane_snapshot(db);
        if now.written + now.lost >= target {
            return (now.written - start.written) as i64;
        }
        if Instant::now() >= deadline {
            pgrx::warning!(
                "autoassign_flush_events: {} events still queued after {timeout_ms} ms",
                target - now.written - now.lost
            );
            return (now.written - start.written) as i64;
        }
        event_queue::wake(db);
        // SAFETY: a plain latch wait of this backend; interrupts are honoured after it.
        unsafe {
            pg_sys::WaitLatch(
                pg_sys::MyLatch,
                (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
                5,
                pg_sys::PG_WAIT_EXTENSION,
            );
            pg_sys::ResetLatch(pg_sys::MyLatch);
        }
        pgrx::check_for_interrupts!();
    }
}

/// This backend's floor cache (per backend, not shared): floors cached, capacity
/// (`autoassign.floor_cache_size`), and hits and misses since the backend started. A
/// hit rate well below 1 on a pooled connection means the setting is smaller than the
/// number of restaurants it serves.
#[pg_extern(volatile)]
fn autoassign_floor_cache_stats() -> TableIterator<
    'static,
    (
        name!(floors, i64),
        name!(capacity, i64),
        name!(hits, i64),
        name!(misses, i64),
    ),
> {
    TableIterator::once(crate::postgres::floor_cache::stats())
}
