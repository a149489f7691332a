//! Background workers that move queued events (`event_queue`) into autoassign.events.
//!
//! - The *launcher* (registered from `_PG_init`, connected to no database, restarted by
//!   the postmaster 1 s after it dies) looks at the queue every 100 ms, or when a push wakes
//!   it, and starts a *writer* for each database whose records wait with no writer.
//! - A *writer* connects to its database as the bootstrap superuser and inserts its
//!   lane's records in batches: whatever waits every `autoassign.event_flush_ms`, or at
//!   once when `autoassign.event_batch_size` records wait. One transaction per batch,
//!   synchronous_commit off. It leaves after 2 s without records, so it never holds a
//!   database connection (and blocks DROP DATABASE) for long.
//!
//! SIGTERM (pg_terminate_backend) ends either at the next interrupt check; a batch in
//! flight then rolls back and is counted as lost, the rest stays queued for the next
//! writer.

use super::event_queue::{self, Record, KIND_QUOTE};
use super::stats::{self, EventFate};
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::{pg_sys, Uuid};
use std::time::{Duration, Instant};

const LAUNCHER_TICK_MS: i64 = 100;
const WRITER_IDLE_EXIT: Duration = Duration::from_secs(2);
/// A started writer that has not claimed its lane after this long is presumed failed.
const START_GRACE_MS: i64 = 5_000;

pub const LAUNCHER_TYPE: &str = "pg_autoassign event launcher";
pub const WRITER_TYPE: &str = "pg_autoassign event writer";

/// Registers the launcher; call from `_PG_init` while preloading.
pub fn register_launcher() {
    BackgroundWorkerBuilder::new(LAUNCHER_TYPE)
        .set_type(LAUNCHER_TYPE)
        .set_library("pg_autoassign")
        .set_function("autoassign_event_launcher_main")
        // connected to no database (like the logical replication launcher), so it shows
        // in pg_stat_activity and pg_terminate_backend reaches it
        .enable_spi_access()
        // events can only be written once recovery is over (not on a standby)
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        .set_restart_time(Some(Duration::from_secs(1)))
        .load();
}

// PostgreSQL's own handlers, linked directly (pgrx's wrappers are not signal handlers).
extern "C-unwind" {
    #[link_name = "die"]
    fn pg_die(signal: i32);
    #[link_name = "SignalHandlerForConfigReload"]
    fn pg_config_reload(signal: i32);
}

fn install_signal_handlers() {
    // SAFETY: standard PostgreSQL handlers: SIGTERM sets ProcDiePending (acted on at the
    // next CHECK_FOR_INTERRUPTS: FATAL, exit code 1), SIGHUP requests a config reload.
    unsafe {
        pg_sys::pqsignal(pg_sys::SIGTERM as i32, Some(pg_die));
        pg_sys::pqsignal(pg_sys::SIGHUP as i32, Some(pg_config_reload));
        pg_sys::BackgroundWorkerUnblockSignals();
    }
}

/// Sleeps on the process latch; exits with the postmaster; acts on SIGTERM and SIGHUP.
fn sleep_ms(ms: i64) {
    // SAFETY: the usual latch wait of a background worker.
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            ms,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
        pg_sys::check_for_interrupts!();
        if pg_sys::ConfigReloadPending != 0 {
            pg_sys::ConfigReloadPending = 0;
            pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP);
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

unsafe extern "C-unwind" fn launcher_exit(_code: i32, _arg: pg_sys::Datum) {
    event_queue::set_launcher(false);
}

/// Entry point of the launcher (bgw_function_name).
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn autoassign_event_launcher_main(_arg: pg_sys::Datum) {
    install_signal_handlers();
    BackgroundWorker::connect_worker_to_spi(None, None);
    event_queue::set_launcher(true);
    // SAFETY: registers a plain callback with no captured state.
    unsafe { pg_sys::before_shmem_exit(Some(launcher_exit), pg_sys::Datum::from(0)) };
    loop {
        for db in event_queue::databases_needing_writer(now_ms(), START_GRACE_MS) {
            start_writer(db);
        }
        sleep_ms(LAUNCHER_TICK_MS);
    }
}

fn start_writer(db: u32) {
    let name = format!("{WRITER_TYPE} for database {db}");
    let started = BackgroundWorkerBuilder::new(&name)
        .set_type(WRITER_TYPE)
        .set_library("pg_autoassign")
        .set_function("autoassign_event_writer_main")
        .enable_spi_access()
        .set_restart_time(None)
        .set_argument(Some(pg_sys::Datum::from(db as usize)))
        .load_dynamic();
    if started.is_err() {
        event_queue::writer_not_registered(db);
        super::log_limit::log("writer_start", || {
            format!(
                "pg_autoassign: could not start an event writer for database {db} \
                 (max_worker_processes reached?); its events stay queued"
            )
        });
    }
}

unsafe extern "C-unwind" fn writer_exit(_code: i32, arg: pg_sys::Datum) {
    event_queue::release_writer(arg.value() as u32, true);
}

/// Entry point of a writer (bgw_function_name); the argument is the database oid.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn autoassign_event_writer_main(arg: pg_sys::Datum) {
    let db = arg.value() as u32;
    install_signal_handlers();
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(pg_sys::Oid::from(db)), None);
    if !event_queue::claim_writer(db) {
        return;
    }
    // SAFETY: registers a plain callback; the argument is the database oid by value.
    unsafe { pg_sys::before_shmem_exit(Some(writer_exit), arg) };
    BackgroundWorker::transaction(|| {
        Spi::run("SET synchronous_commit = off; SET search_path = pg_catalog, pg_temp")
    })
    .unwrap_or_else(|e| pgrx::error!("pg_autoassign event writer: {e}"));
    let batch = crate::postgres::telemetry_settings::EVENT_BATCH_SIZE
        .get()
        .max(1) as usize;
    let mut recs: Vec<Record> = Vec::with_capacity(batch);
    let mut idle_since = Instant::now();
    loop {
        let n = event_queue::take(db, batch, &mut recs);
        if n > 0 {
            let keys: Vec<stats::Key> = recs.iter().map(|r| r.stats_key(db)).collect();
            // an ERROR here ends the process (FATAL): the batch counts as lost
            BackgroundWorker::transaction(|| insert_batch(&recs))
                .unwrap_or_else(|e| pgrx::error!("pg_autoassign event writer: {e}"));
            event_queue::batch_done(db, n, true);
            stats::count_events(&keys, EventFate::Written);
            idle_since = Instant::now();
            if n == batch {
                continue;
            }
        } else if idle_since.elapsed() >= WRITER_IDLE_EXIT && event_queue::release_writer(db, false)
        {
            return;
        }
        let flush_ms = crate::postgres::telemetry_settings::EVENT_FLUSH_MS.get();
        sleep_ms(i64::from(flush_ms));
    }
}

/// One row per record, in queue order. Strategies come deduplicated ($11, referenced by
/// 1-based index $9): nearly every call uses the same knobs, and each distinct text is
/// parsed into jsonb once per batch.
const INSERT: &str = "
INSERT INTO autoassign.events
    (at, event_type, restaurant_id, booking_id, source, success, reason, duration_us,
     strategy, payload)
SELECT u.at, u.kind, u.rid, u.bid, u.source, u.ok, u.reason, u.dur, s.strategy, u.payload::jsonb
  FROM unnest($1::timestamptz[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::bool[],
              $7::text[], $8::int8[], $9::int4[], $10::text[]) WITH ORDINALITY
       AS u(at, kind, rid, bid, source, ok, reason, dur, si, payload, ord)
  LEFT JOIN (SELECT x.st::jsonb AS strategy, x.i
               FROM unnest($11::text[]) WITH ORDINALITY AS x(st, i)) s ON s.i = u.si
 ORDER BY u.ord";

fn insert_batch(recs: &[Record]) -> Result<(), pgrx::spi::Error> {
    let mut at = Vec::with_capacity(recs.len());
    let mut kind = Vec::with_capacity(recs.len());
    let mut rid = Vec::with_capacity(recs.len());
    let mut bid = Vec::with_capacity(recs.len());
    let mut source = Vec::with_capacity(recs.len());
    let mut ok = Vec::with_capacity(recs.len());
    let mut reason = Vec::with_capacity(recs.len());
    let mut dur = Vec::with_capacity(recs.len());
    let mut strategy_index: Vec<Option<i32>> = Vec::with_capacity(recs.len());
    let mut strategies: Vec<String> = Vec::new();
    let mut payload = Vec::with_capacity(recs.len());
    for r in recs {
        at.push(super::micros_ts(r.at));
        kind.push(if r.kind == KIND_QUOTE {
            super::events::QUOTE
        } else {
            super::events::TIMEOUT
        });
        rid.push((r.present & 1 != 0).then(|| Uuid::from_bytes(r.restaurant)));
        bid.push((r.present & 2 != 0).then(|| Uuid::from_bytes(r.booking)));
        source.push(stats::text(&r.source));
        ok.push(match r.success {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        });
        let why = stats::text(&r.reason);
        reason.push((!why.is_empty()).then_some(why));
        dur.push((r.present & 4 != 0).then_some(r.duration_us));
        let (strategy, p) = r.json_texts();
        strategy_index.push(strategy.map(|s| {
            let at = strategies
                .iter()
                .position(|known| known == s)
                .unwrap_or_else(|| {
                    strategies.push(s.to_string());
                    strategies.len() - 1
                });
            at as i32 + 1
        }));
        payload.push(p.map(str::to_string));
    }
    let at: Vec<TimestampWithTimeZone> = at;
    Spi::connect_mut(|client| {
        client.update(
            INSERT,
            None,
            &[
                at.into(),
                kind.into(),
                rid.into(),
                bid.into(),
                source.into(),
                ok.into(),
                reason.into(),
                dur.into(),
                strategy_index.into(),
                payload.into(),
                strategies.into(),
            ],
        )?;
        Ok(())
    })
}
