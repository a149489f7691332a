//! Settings of the asynchronous telemetry path and of the shared planner statistics,
//! defined from `_PG_init` (after `crate::gucs::init`). The sizes are postmaster settings:
//! shared memory is sized once, when the library is preloaded.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Planner-statistics keys (database x restaurant x source x reason) kept in shared memory.
pub static STATS_MAX: GucSetting<i32> = GucSetting::<i32>::new(5000);
/// Event records the shared-memory queue holds (about 1.3 KiB each).
pub static EVENT_QUEUE_SIZE: GucSetting<i32> = GucSetting::<i32>::new(8192);
/// A database's writer is woken as soon as this many of its records wait.
pub static EVENT_BATCH_SIZE: GucSetting<i32> = GucSetting::<i32>::new(500);
/// The writer writes whatever waits at least this often (milliseconds).
pub static EVENT_FLUSH_MS: GucSetting<i32> = GucSetting::<i32>::new(200);

pub fn init() {
    GucRegistry::define_int_guc(
        c"autoassign.event_flush_ms",
        c"How often the event writer writes whatever is queued, in milliseconds.",
        c"",
        &EVENT_FLUSH_MS,
        10,
        60_000,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    // SAFETY: a plain global read during library load.
    if !unsafe { pgrx::pg_sys::process_shared_preload_libraries_in_progress } {
        // postmaster settings can only be defined while preloading (as pg_stat_statements.max)
        return;
    }
    GucRegistry::define_int_guc(
        c"autoassign.stats_max",
        c"How many planner-statistics keys (database, restaurant, source, reason) shared memory holds.",
        c"When all are taken the least-used 5% are evicted (counted in autoassign.event_queue \
          stats_evictions). About 400 bytes each. Needs a restart.",
        &STATS_MAX,
        100,
        1_000_000,
        GucContext::Postmaster,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"autoassign.event_queue_size",
        c"How many planner events (quote, timeout) the shared-memory queue holds before dropping.",
        c"About 1.3 KiB each. A full queue drops new events and counts them \
          (autoassign.event_queue dropped); it never blocks the caller. Needs a restart.",
        &EVENT_QUEUE_SIZE,
        64,
        1_000_000,
        GucContext::Postmaster,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"autoassign.event_batch_size",
        c"Queued events per INSERT of the event writer; reaching it wakes the writer at once.",
        c"Needs a restart.",
        &EVENT_BATCH_SIZE,
        1,
        100_000,
        GucContext::Postmaster,
        GucFlags::default(),
    );
    super::stats::init_shared_memory(STATS_MAX.get() as usize);
    super::event_queue::init_shared_memory(
        EVENT_QUEUE_SIZE.get() as usize,
        EVENT_BATCH_SIZE.get() as u32,
    );
    super::event_writer::register_launcher();
}
