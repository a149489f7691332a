//! Writes rows to autoassign.events (SPEC §6, contract v2).
//!
//! - `auto_assign.quote` and `auto_assign.timeout` describe planner work and are recorded
//!   even when the caller rolls back or is cancelled: with the library preloaded they go
//!   through the shared-memory queue (`event_queue`, written by `event_writer`); a full
//!   queue drops and counts, never blocks. On a hot standby they are counted, not written.
//!   Without preloading they are inserted in the caller's transaction, and the backend's
//!   first one raises a NOTICE saying how to turn the fast path on.
//! - `auto_assign.attempt` (and the summary, last_result and outbox written elsewhere) are
//!   facts about the booking: always in the caller's transaction.

use super::jsonb_out::JsonbOut;
use crate::error::Result;
use crate::gucs::{TelemetryMode, TELEMETRY, TELEMETRY_SAMPLE_RATE};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::Value;
use std::cell::{Cell, RefCell};

pub const QUOTE: &str = "auto_assign.quote";
pub const ATTEMPT: &str = "auto_assign.attempt";
pub const TIMEOUT: &str = "auto_assign.timeout";

use super::event_queue::{self, Pushed, Record, JSON_LEN, KIND_QUOTE, KIND_TIMEOUT};
use super::stats::{self, EventFate, Key};

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
    /// The reason of the planner-statistics key the event is counted on; None means the
    /// event's reason, or "ok".
    pub stats_reason: Option<&'a str>,
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0) };
    /// The jsonb of the last effective strategy, kept in TopMemoryContext. Nearly every
    /// call uses the same knobs, and rebuilding this jsonb was a quarter of the cost of
    /// a quote event.
    static STRATEGY_JSONB: RefCell<Option<(Value, pg_sys::Datum)>> = const { RefCell::new(None) };
    static NOTICE_GIVEN: Cell<bool> = const { Cell::new(false) };
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
        // built here (its working memory goes with this context), then only the finished
        // jsonb is copied to TopMemoryContext
        let here = JsonbOut::new(&strategy).into_datum()?;
        // SAFETY: `here` is a plain (untoasted) jsonb varlena: VARSIZE bytes are copied
        // into a TopMemoryContext allocation of that size.
        let built = unsafe {
            let src = here.cast_mut_ptr::<u8>();
            let len = pgrx::varlena::varsize_any(src as *const pg_sys::varlena);
            let dst = pg_sys::MemoryContextAlloc(pg_sys::TopMemoryContext, len).cast::<u8>();
            std::ptr::copy_nonoverlapping(src, dst, len);
            pg_sys::Datum::from(dst)
        };
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
    let planner_event = ev.event_type == QUOTE || ev.event_type == TIMEOUT;
    let key = Key::new(
        stats::current_db(),
        ev.restaurant_id,
        ev.source,
        ev.stats_reason.or(ev.reason).unwrap_or("ok"),
    );
    if planner_event && event_queue::enabled() {
        if super::standby::in_recovery() {
            event_queue::count(|l| l.standby += 1);
            stats::count_events(&[key], EventFate::Dropped);
            return Ok(false);
        }
        match event_queue::push(&record(&ev)) {
            Pushed::Queued => {
                stats::count_events(&[key], EventFate::Queued);
                return Ok(true);
            }
            Pushed::Full => {
                stats::count_events(&[key], EventFate::Dropped);
                return Ok(false);
            }
            // more databases than lanes: this one writes synchronously
            Pushed::NoLane => {}
        }
    } else if planner_event {
        notice_once();
    }
    if super::standby::in_recovery() {
        // nothing can be written on a standby; only planner events get here
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
        super::opt_arg(ev.payload.as_ref().map(JsonbOut::new)),
    ];
    let written = Spi::connect_mut(|client| -> Result<bool> {
        Ok(super::stmt::update(client, query, None, &args)?.len() == 1)
    })?;
    if written && event_queue::enabled() {
        event_queue::count(|l| l.written_sync += 1);
        stats::count_events(&[key], EventFate::Written);
    }
    Ok(written)
}

fn notice_once() {
    if !NOTICE_GIVEN.with(|g| g.replace(true)) {
        pgrx::notice!(
            "pg_autoassign writes quote events in the caller's transaction because it is not \
             preloaded; add pg_autoassign to shared_preload_libraries and restart for the fast \
             path (events written by a background worker, kept even when the caller rolls back)"
        );
    }
}

/// Builds the fixed-size queue record: `at` is now; the strategy's and the payload's JSON
/// texts, shortened (avoid_tables dropped, then both replaced by `{"truncated": true}`)
/// when together longer than `JSON_LEN` bytes.
fn record(ev: &Event<'_>) -> Record {
    let mut rec = Record {
        // SAFETY: reads the clock.
        at: unsafe { pg_sys::GetCurrentTimestamp() },
        duration_us: ev.duration_us.unwrap_or(0),
        restaurant: ev.restaurant_id.map(|u| *u).unwrap_or([0; 16]),
        booking: ev.booking_id.map(|u| *u).unwrap_or([0; 16]),
        present: u8::from(ev.restaurant_id.is_some())
            | u8::from(ev.booking_id.is_some()) << 1
            | u8::from(ev.duration_us.is_some()) << 2,
        success: match ev.success {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        },
        kind: if ev.event_type == QUOTE {
            KIND_QUOTE
        } else {
            KIND_TIMEOUT
        },
        source: stats::fixed(ev.source),
        reason: stats::fixed(ev.reason.unwrap_or("")),
        stats_reason: stats::fixed(ev.stats_reason.or(ev.reason).unwrap_or("ok")),
        ..Record::default()
    };
    let (strategy, payload) = json_texts(ev.strategy.as_ref(), ev.payload.as_ref());
    let (s, p) = (strategy.len(), payload.len());
    rec.json[..s].copy_from_slice(strategy.as_bytes());
    rec.json[s..s + p].copy_from_slice(payload.as_bytes());
    rec.strategy_len = s as u16;
    rec.payload_len = p as u16;
    rec
}

/// The two JSON texts ("" for NULL), together at most `JSON_LEN` bytes.
fn json_texts(strategy: Option<&Value>, payload: Option<&Value>) -> (String, String) {
    let text = |v: Option<&Value>| v.map(|v| v.to_string()).unwrap_or_default();
    let (s, p) = (text(strategy), text(payload));
    if s.len() + p.len() <= JSON_LEN {
        return (s, p);
    }
    let mut short = strategy.cloned().unwrap_or(Value::Null);
    if let Some(obj) = short.as_object_mut() {
        if let Some(Value::Array(avoid)) = obj.remove("avoid_tables") {
            obj.insert("avoid_tables_count".into(), avoid.len().into());
        }
    }
    let s = short.to_string();
    if s.len() + p.len() <= JSON_LEN {
        return (s, p);
    }
    let truncated = r#"{"truncated":true}"#.to_string();
    (truncated.clone(), truncated)
}

/// A planner run cut by a cancel, statement_timeout or another error: its transaction
/// is about to roll back, so only the queue can keep its `auto_assign.timeout` event
/// (reason timeout, success false, payload {cut_by, search_steps}). Called from the
/// catch handler, so no SPI. Returns whether the event was queued; without preloading
/// or on a standby nothing can keep it.
pub fn cancelled_run(
    restaurant_id: Uuid,
    booking_id: Uuid,
    source: &str,
    duration_us: i64,
    strategy: Value,
    cut_by: &str,
    search_steps: u64,
) -> bool {
    if !event_queue::enabled() || super::standby::in_recovery() {
        return false;
    }
    let ev = Event {
        event_type: TIMEOUT,
        restaurant_id: Some(restaurant_id),
        booking_id: Some(booking_id),
        source,
        success: Some(false),
        reason: Some("timeout"),
        duration_us: Some(duration_us),
        strategy: Some(strategy),
        payload: Some(serde_json::json!({"cut_by": cut_by, "search_steps": search_steps})),
        stats_reason: Some("cancelled"),
        ..Event::default()
    };
    let key = Key::new(
        stats::current_db(),
        Some(restaurant_id),
        source,
        "cancelled",
    );
    let queued = event_queue::push(&record(&ev)) == Pushed::Queued;
    stats::count_events(
        &[key],
        if queued {
            EventFate::Queued
        } else {
            EventFate::Dropped
        },
    );
    queued
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_texts_fit_the_record() {
        let p = json!({"combinations_tried": 12});
        let pair = |s: &str, p: &str| (s.to_string(), p.to_string());
        assert_eq!(
            json_texts(Some(&json!({"max_tables": 3})), Some(&p)),
            pair(r#"{"max_tables":3}"#, r#"{"combinations_tried":12}"#)
        );
        assert_eq!(json_texts(None, None), pair("", ""));
        let avoid: Vec<String> = (0..100).map(|i| format!("{i:036}")).collect();
        let long = json!({"max_tables": 3, "avoid_tables": avoid});
        let (s, p2) = json_texts(Some(&long), Some(&p));
        assert!(s.len() + p2.len() <= JSON_LEN);
        assert!(s.contains(r#""avoid_tables_count":100"#), "{s}");
        let huge = json!({"x": "y".repeat(2 * JSON_LEN)});
        assert_eq!(
            json_texts(Some(&json!({})), Some(&huge)),
            pair(r#"{"truncated":true}"#, r#"{"truncated":true}"#)
        );
    }

    #[test]
    fn record_round_trips_its_json() {
        let mut rec = Record::default();
        let (s, p) = (r#"{"a":1}"#, r#"{"b":[2]}"#);
        rec.json[..s.len()].copy_from_slice(s.as_bytes());
        rec.json[s.len()..s.len() + p.len()].copy_from_slice(p.as_bytes());
        rec.strategy_len = s.len() as u16;
        rec.payload_len = p.len() as u16;
        assert_eq!(rec.json_texts(), (Some(s), Some(p)));
        assert_eq!(Record::default().json_texts(), (None, None));
    }
}
