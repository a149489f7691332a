//! One planner run for one booking, and the confirm/quote/cancel flows built on it.
//! Every path here writes its telemetry; the `api` functions only adapt types.

mod cancel;
mod confirm;
pub mod lifecycle;
pub mod placement;
mod quote;
pub mod reassign;
pub mod seating;
mod sweep;

pub use cancel::cancel;
pub use confirm::confirm;
pub use quote::{quote, QuoteResult};
pub use sweep::sweep;

use crate::error::{AutoassignError, Result};
use crate::gucs;
use crate::postgres::booking::BookingCtx;
use crate::postgres::events::{self, Event};
use crate::postgres::floor_cache::{floor_for, CachedFloor};
use crate::postgres::{busy, stats};
use crate::reason::Reason;
use crate::strategy::Strategy;
use autoassign_planner::{self as planner, Knobs, Outcome, Plan, Request};
use pgrx::PgTryBuilder;
use pgrx::Uuid;
use serde_json::{json, Value};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one planner run saw and decided.
pub struct PlanRun {
    pub floor: Rc<CachedFloor>,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub cache_hit: bool,
    pub busy_intervals: usize,
    pub pending_bookings: usize,
    pub duration_us: i64,
    /// Time from the call's start to the planner's start: booking, floor, busy, pending.
    pub load_us: i64,
    /// The planner core's own time.
    pub plan_us: i64,
    /// Quote only: time from the planner's end to the event write: the hold, the moves
    /// a confirm would make (also `reassign_us` in the diagnostics) and the result row.
    pub write_us: Option<i64>,
    pub strategy: Value,
}

impl PlanRun {
    pub fn best(&self) -> Option<&Plan> {
        self.outcome.plans.first()
    }

    pub fn plan_json(&self, plan: &Plan) -> Value {
        json!({
            "table_ids": self.floor.table_uuids(&plan.tables).iter().map(|u| u.to_string()).collect::<Vec<_>>(),
            "tables": plan.tables.iter().map(|&t| self.floor.table_names[t as usize].clone()).collect::<Vec<_>>(),
            "zone_id": self.floor.zone_ids[plan.zone as usize].to_string(),
            "zone": self.floor.zone_names[plan.zone as usize],
            "seats": plan.seats,
            "score": plan.score,
        })
    }

    /// Planner counters plus what the glue measured: the event payload.
    pub fn payload(&self) -> Value {
        let mut payload =
            serde_json::to_value(&self.outcome.counters).unwrap_or_else(|_| json!({}));
        if let Some(obj) = payload.as_object_mut() {
            obj.insert("cache_hit".into(), json!(self.cache_hit));
            obj.insert("busy_intervals".into(), json!(self.busy_intervals));
            obj.insert("pending_bookings".into(), json!(self.pending_bookings));
            obj.insert("free_seats".into(), json!(self.outcome.free_seats));
            obj.insert("plans".into(), json!(self.outcome.plans.len()));
            obj.insert("load_us".into(), json!(self.load_us));
            obj.insert("plan_us".into(), json!(self.plan_us));
            if let Some(write_us) = self.write_us {
                obj.insert("write_us".into(), json!(write_us));
            }
        }
        payload
    }
}

pub fn micros_since(start: Instant) -> i64 {
    start.elapsed().as_micros().min(i64::MAX as u128) as i64
}

/// The planner's time limit: the strategy's deadline_ms, clamped to
/// autoassign.max_planner_ms, which also applies when the strategy sets none.
pub fn planner_deadline(deadline_ms: Option<u32>) -> Duration {
    let cap = u64::try_from(gucs::MAX_PLANNER_MS.get())
        .unwrap_or(1)
        .max(1);
    Duration::from_millis(deadline_ms.map_or(cap, |ms| u64::from(ms).min(cap)))
}

pub(crate) fn knobs(strategy: &Strategy, floor: &CachedFloor) -> Result<Knobs> {
    let zone_restrict = match strategy.zone_id {
        Some(z) => Some(floor.zone_index(z).ok_or_else(|| {
            AutoassignError::InvalidStrategy(format!(
                "zone_id {z} is not a zone of this restaurant"
            ))
        })?),
        None => None,
    };
    let avoid = strategy
        .avoid_tables
        .iter()
        .map(|t| {
            floor.table_index(*t).ok_or_else(|| {
                AutoassignError::InvalidStrategy(format!(
                    "avoid_tables: {t} is not a table of this restaurant"
                ))
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    Ok(Knobs {
        max_tables: strategy.max_tables,
        require_adjacency: strategy.require_adjacency,
        max_overage: strategy.max_overage,
        zone_restrict,
        avoid,
        deadline: Some(planner_deadline(strategy.deadline_ms)),
        exhaustive: strategy.exhaustive,
        weights: strategy.weights,
        ..Knobs::default()
    })
}

/// Loads the floor (cached), the pending bookings and busy intervals around the stay,
/// and runs the planner. Writes the quote event, and a timeout event if the deadline hit.
pub fn plan_booking(
    ctx: &BookingCtx,
    strategy: &Strategy,
    source: &str,
    started: Instant,
) -> Result<PlanRun> {
    let run = plan_only(ctx, strategy, source, started)?;
    write_plan_events(ctx, &run, source)?;
    Ok(run)
}

/// [`plan_booking`] without its events: the caller writes them with
/// [`write_plan_events`] once the call's work is done (quote does, so the event's
/// `duration_us` covers the hold, the moves search and the result row).
pub fn plan_only(
    ctx: &BookingCtx,
    strategy: &Strategy,
    source: &str,
    started: Instant,
) -> Result<PlanRun> {
    let (floor, cache_hit) = floor_for(ctx.restaurant_id, ctx.floor_version, strategy.exhaustive)?;
    let mut knobs = knobs(strategy, &floor)?;
    knobs.keep_open = placement::keep_open(ctx.restaurant_id, &floor, strategy)?;
    let lookahead_us = i64::from(gucs::LOOKAHEAD_MINUTES.get()) * 60_000_000;
    let pending = if strategy.lookahead && lookahead_us > 0 {
        busy::pending(&floor, ctx, lookahead_us.min(ctx.longest_stay_us))?
    } else {
        Vec::new()
    };
    let span_start = pending.iter().map(|p| p.start).fold(ctx.start_us, i64::min);
    let span_end = pending.iter().map(|p| p.end).fold(ctx.end_us, i64::max);
    let busy = busy::busy(
        &floor,
        ctx.restaurant_id,
        Some(ctx.booking_id),
        span_start,
        span_end,
    )?;
    let request = Request {
        party: ctx.party,
        start: ctx.start_us,
        end: ctx.end_us,
        requested_zone: ctx.zone_id.and_then(|z| floor.zone_index(z)),
        knobs,
    };
    let load_us = micros_since(started);
    let planner_started = Instant::now();
    let outcome = cancel_guard(ctx, source, started, strategy, || {
        planner::plan(&floor.floor, &busy, &request, &pending, &mut || {
            INTERRUPT_CHECKS.fetch_add(1, Ordering::Relaxed);
            pgrx::check_for_interrupts!();
        })
    });
    let plan_us = micros_since(planner_started);
    let reason = outcome.reason.map(Reason::from);
    Ok(PlanRun {
        cache_hit,
        busy_intervals: busy.len(),
        pending_bookings: pending.len(),
        duration_us: micros_since(started),
        load_us,
        plan_us,
        write_us: None,
        strategy: strategy.to_json(),
        reason,
        outcome,
        floor,
    })
}

/// The run's statistics and its `auto_assign.quote` event (plus `auto_assign.timeout`
/// when the deadline cut it), with the run's `duration_us`.
pub fn write_plan_events(ctx: &BookingCtx, run: &PlanRun, source: &str) -> Result<()> {
    let success = run.best().is_some() && run.reason.is_none();
    stats::record(
        Some(ctx.restaurant_id),
        source,
        run.reason.map_or("ok", Reason::code),
        run.duration_us,
    );
    events::write(Event {
        event_type: events::QUOTE,
        restaurant_id: Some(ctx.restaurant_id),
        booking_id: Some(ctx.booking_id),
        source,
        success: Some(success),
        reason: run.reason.map(Reason::code),
        duration_us: Some(run.duration_us),
        strategy: Some(run.strategy.clone()),
        payload: Some(run.payload()),
        ..Event::default()
    })?;
    if run.outcome.counters.deadline_hit {
        events::write(Event {
            event_type: events::TIMEOUT,
            restaurant_id: Some(ctx.restaurant_id),
            booking_id: Some(ctx.booking_id),
            source,
            success: Some(run.best().is_some()),
            reason: Some("timeout"),
            duration_us: Some(run.duration_us),
            strategy: Some(run.strategy.clone()),
            stats_reason: Some(run.reason.map_or("ok", Reason::code)),
            payload: Some(json!({
                "cut_by": "deadline_ms",
                "combinations_tried": run.outcome.counters.combinations_tried,
                "plans_found": run.outcome.counters.plans_found,
                "stages_completed": run.outcome.stages.iter().map(|s| s.name).collect::<Vec<_>>(),
            })),
            ..Event::default()
        })?;
    }
    Ok(())
}

/// How often the current planner run checked for interrupts (about every 1024 steps).
static INTERRUPT_CHECKS: AtomicU64 = AtomicU64::new(0);

/// Runs `work` (the planner, or quote's work after it) so that a cancel or
/// statement_timeout unwinding out of it is recorded: the transaction rolls back, so the
/// run is counted in the shared-memory stats (reason `cancelled`), its
/// `auto_assign.timeout` event goes through the queue (kept despite the rollback), and a
/// rate-limited log line says how far it got; then the error goes on.
pub(crate) fn cancel_guard<T>(
    ctx: &BookingCtx,
    source: &str,
    started: Instant,
    strategy: &Strategy,
    work: impl FnOnce() -> T,
) -> T {
    INTERRUPT_CHECKS.store(0, Ordering::Relaxed);
    let run = AssertUnwindSafe(work);
    PgTryBuilder::new(run)
        .catch_others(|err| {
            let duration_us = micros_since(started);
            stats::record(Some(ctx.restaurant_id), source, "cancelled", duration_us);
            let steps = INTERRUPT_CHECKS.load(Ordering::Relaxed) * 1024;
            let cut_by = match &err {
                pgrx::pg_sys::panic::CaughtError::PostgresError(e)
                    if e.message().contains("statement timeout") =>
                {
                    "statement_timeout"
                }
                pgrx::pg_sys::panic::CaughtError::PostgresError(e)
                    if e.sql_error_code() == pgrx::PgSqlErrorCode::ERRCODE_QUERY_CANCELED =>
                {
                    "cancel"
                }
                _ => "error",
            };
            let queued = events::cancelled_run(
                ctx.restaurant_id,
                ctx.booking_id,
                source,
                duration_us,
                strategy.to_json(),
                cut_by,
                steps,
            );
            crate::postgres::log_limit::log("planner_cancelled", || {
                format!(
                    "pg_autoassign: auto_assign.timeout: planning booking {} (source {}) was \
                     stopped ({cut_by}) after {duration_us} us and about {steps} search steps; \
                     nothing it planned was written{}",
                    ctx.booking_id,
                    source,
                    if queued {
                        "; its timeout event was queued"
                    } else {
                        ""
                    }
                )
            });
            err.rethrow()
        })
        .execute()
}

/// A hard reason found before planning (unknown or non-pending booking, cutoff):
/// still one quote event, so every call leaves a row.
pub(crate) fn hard_stop(
    ctx: Option<&BookingCtx>,
    booking_id: Uuid,
    source: &str,
    reason: Reason,
    started: Instant,
    strategy: &Strategy,
) -> Result<i64> {
    let duration_us = micros_since(started);
    stats::record(
        ctx.map(|c| c.restaurant_id),
        source,
        reason.code(),
        duration_us,
    );
    events::write(Event {
        event_type: events::QUOTE,
        restaurant_id: ctx.map(|c| c.restaurant_id),
        booking_id: Some(booking_id),
        source,
        success: Some(false),
        reason: Some(reason.code()),
        duration_us: Some(duration_us),
        strategy: Some(strategy.to_json()),
        ..Event::default()
    })?;
    Ok(duration_us)
}

/// A stay longer than autoassign.max_stay_minutes (an infinite end included) is refused.
fn stay_too_long(c: &BookingCtx) -> bool {
    let max_us = i64::from(gucs::MAX_STAY_MINUTES.get()) * 60_000_000;
    let stay_us = c
        .end_us
        .saturating_sub(c.start_us)
        .saturating_sub(c.buffer_us);
    stay_us > max_us
}

pub(crate) fn precheck(ctx: Option<&BookingCtx>) -> Option<Reason> {
    match ctx {
        None => Some(Reason::BookingNotFound),
        Some(c) if c.status != "pending" => Some(Reason::BookingNotPending),
        Some(c) if c.past_cutoff => Some(Reason::PastCutoff),
        Some(c) if stay_too_long(c) => Some(Reason::InvalidRequest),
        Some(_) => None,
    }
}
