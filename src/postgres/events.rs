//! Writes rows to autoassign.events (SPEC §6). Rows live in the caller's transaction
//! and roll back with it; the shared-memory stats are the rollback-proof record.

use crate::error::Result;
use crate::gucs::{TelemetryMode, TELEMETRY, TELEMETRY_SAMPLE_RATE};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::{JsonB, PgMemoryContexts, Uuid};
use serde_json::Value;
use std::cell::{Cell, RefCell};

pub const QUOTE: &str = "auto_assign.quote";
pub const ATTEMPT: &str = "auto_assign.attempt";
pub const TIMEOUT: &str = "auto_assign.timeout";

#[derive(Debug, Default)]
pub struct Event<'a> {
    pub event_type: &'a str,
    pub restaurant_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub source: &'a str,
    pub success: Option<bool>,
    pub reason: Option<&'a str>,
    pub duration_us: Option<i64>,
    pub attempt: Option<i32>,
    pub strategy: Option<Value>,
    pub payload: Option<Value>,
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0) };
    /// The jsonb of the last effective strategy, kept in TopMemoryContext. Nearly every
    /// call uses the same knobs, and rebuilding this jsonb was a quarter of the cost of
    /// a quote event.
    static STRATEGY_JSONB: RefCell<Option<(Value, pg_sys::Datum)>> = const { RefCell::new(None) };
}

fn strategy_arg<'a>(strategy: Option<Value>) -> DatumWithOid<'a> {
    let Some(strategy) = strategy else {
        return DatumWithOid::null::<JsonB>();
    };
    let datum = STRATEGY_JSONB.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((key, datum)) = &*cache {
            if *key == strategy {
                return Some(*datum);
            }
        }
        // SAFETY: switch_to restores the previous context, also on error.
        let built = unsafe {
            PgMemoryContexts::TopMemoryContext.switch_to(|_| JsonB(strategy.clone()).into_datum())
        }?;
        if let Some((_, old)) = cache.replace((strategy, built)) {
            // SAFETY: allocated here in TopMemoryContext and no longer referenced:
            // arguments of earlier calls are gone.
            unsafe { pg_sys::pfree(old.cast_mut_ptr()) };
        }
        Some(built)
    });
    let Some(datum) = datum else {
        return DatumWithOid::null::<JsonB>();
    };
    // SAFETY: a jsonb varlena that lives in TopMemoryContext until replaced above.
    unsafe { DatumWithOid::new(datum, pg_sys::JSONBOID) }
}

/// xorshift64*: sampling needs speed, not cryptographic quality.
pub(crate) fn next_unit() -> f64 {
    RNG.with(|r| {
        let mut x = r.get();
        if x == 0 {
            let pid = unsafe { pgrx::pg_sys::MyProcPid } as u64;
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1);
            x = (pid << 32) ^ t ^ 0x9E37_79B9_7F4A_7C15;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Quote and attempt events follow autoassign.telemetry; timeouts are always written
/// (summaries too, through `summary`, which does not ask).
pub fn telemetry_wanted(event_type: &str) -> bool {
    if event_type == TIMEOUT {
        return true;
    }
    match TELEMETRY.get() {
        TelemetryMode::On => true,
        TelemetryMode::Off => false,
        TelemetryMode::Sample => next_unit() < TELEMETRY_SAMPLE_RATE.get(),
    }
}

/// Inserts a quote, attempt or timeout event if telemetry wants it; returns whether a
/// row was written. Summaries go through `summary` (exactly once per booking).
pub fn write(ev: Event<'_>) -> Result<bool> {
    if !telemetry_wanted(ev.event_type) {
        return Ok(false);
    }
    let query = "INSERT INTO autoassign.events
            (event_type, restaurant_id, booking_id, source, success, reason, duration_us,
             attempt, strategy, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    let args = [
        ev.event_type.into(),
        super::opt_arg(ev.restaurant_id),
        super::opt_arg(ev.booking_id),
        ev.source.into(),
        super::opt_arg(ev.success),
        super::opt_arg(ev.reason),
        super::opt_arg(ev.duration_us),
        super::opt_arg(ev.attempt),
        strategy_arg(ev.strategy),
        super::opt_arg(ev.payload.map(JsonB)),
    ];
    Spi::connect_mut(|client| Ok(super::stmt::update(client, query, None, &args)?.len() == 1))
}
