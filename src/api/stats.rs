use crate::postgres::stats::{self, quantile};
use pgrx::prelude::*;
use pgrx::Uuid;

/// Rows of the `autoassign.stats` view: rollback-proof planner counters.
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
            )
        })
        .collect();
    rows.sort_by(|a, b| (a.0.map(|u| *u), &a.1, &a.2).cmp(&(b.0.map(|u| *u), &b.1, &b.2)));
    TableIterator::new(rows)
}

/// Clears the shared-memory statistics.
#[pg_extern(volatile)]
fn autoassign_stats_reset() -> bool {
    stats::reset();
    stats::enabled()
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
