//! One planner run for one booking, and the confirm/quote/cancel flows built on it.
//! Every path here writes its telemetry; the `api` functions only adapt types.

use crate::error::{AutoassignError, Result};
use crate::gucs;
use crate::postgres::booking::{self, BookingCtx};
use crate::postgres::events::{self, Event};
use crate::postgres::floor_cache::{floor_for, CachedFloor};
use crate::postgres::{busy, stats, subxact, writes};
use crate::reason::Reason;
use crate::strategy::Strategy;
use autoassign_planner::{self as planner, Knobs, Outcome, Plan, Request};
use pgrx::PgTryBuilder;
use pgrx::{PgSqlErrorCode, Uuid};
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
        }
        payload
    }
}

pub fn micros_since(start: Instant) -> i64 {
    start.elapsed().as_micros().min(i64::MAX as u128) as i64
}

fn knobs(strategy: &Strategy, floor: &CachedFloor) -> Result<Knobs> {
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
        deadline: strategy
            .deadline_ms
            .map(|ms| Duration::from_millis(ms.into())),
        exhaustive: strategy.exhaustive,
        weights: strategy.planner_weights(),
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
    let (floor, cache_hit) = floor_for(ctx.restaurant_id, ctx.floor_version, strategy.exhaustive)?;
    let knobs = knobs(strategy, &floor)?;
    let lookahead_us = i64::from(gucs::LOOKAHEAD_MINUTES.get()) * 60_000_000;
    let pending = if strategy.lookahead && lookahead_us > 0 {
        busy::pending(&floor, ctx, lookahead_us)?
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
    let outcome = run_planner(ctx, &floor, &busy, &request, &pending, source, started);
    let reason = outcome.reason.map(Reason::from);
    let run = PlanRun {
        cache_hit,
        busy_intervals: busy.len(),
        pending_bookings: pending.len(),
        duration_us: micros_since(started),
        strategy: strategy.to_json(),
        reason,
        outcome,
        floor,
    };
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
            payload: Some(json!({
                "cut_by": "deadline_ms",
                "combinations_tried": run.outcome.counters.combinations_tried,
                "plans_found": run.outcome.counters.plans_found,
                "stages_completed": run.outcome.stages.iter().map(|s| s.name).collect::<Vec<_>>(),
            })),
            ..Event::default()
        })?;
    }
    Ok(run)
}

/// How often the current planner run checked for interrupts (about every 1024 steps).
static INTERRUPT_CHECKS: AtomicU64 = AtomicU64::new(0);

/// Runs the planner with PostgreSQL's interrupt check in its loops. A cancel or
/// statement_timeout unwinds out of it: event rows would roll back with the
/// transaction, so the run is counted in the shared-memory stats (reason `cancelled`)
/// and logged with how far it got, then the error goes on.
fn run_planner(
    ctx: &BookingCtx,
    floor: &CachedFloor,
    busy: &[planner::Busy],
    request: &Request,
    pending: &[planner::Pending],
    source: &str,
    started: Instant,
) -> Outcome {
    INTERRUPT_CHECKS.store(0, Ordering::Relaxed);
    let run = AssertUnwindSafe(|| {
        planner::plan(&floor.floor, busy, request, pending, &mut || {
            INTERRUPT_CHECKS.fetch_add(1, Ordering::Relaxed);
            pgrx::check_for_interrupts!();
        })
    });
    PgTryBuilder::new(run)
        .catch_others(|err| {
            let duration_us = micros_since(started);
            stats::record(Some(ctx.restaurant_id), source, "cancelled", duration_us);
            pgrx::log!(
                "pg_autoassign: auto_assign.timeout: planning booking {} (source {}) was cancelled \
                 after {} us and about {} search steps; nothing it planned was written",
                ctx.booking_id,
                source,
                duration_us,
                INTERRUPT_CHECKS.load(Ordering::Relaxed) * 1024
            );
            err.rethrow()
        })
        .execute()
}

/// A hard reason found before planning (unknown or non-pending booking, cutoff):
/// still one quote event, so every call leaves a row.
fn hard_stop(
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

fn precheck(ctx: Option<&BookingCtx>) -> Option<Reason> {
    match ctx {
        None => Some(Reason::BookingNotFound),
        Some(c) if c.status != "pending" => Some(Reason::BookingNotPending),
        Some(c) if c.past_cutoff => Some(Reason::PastCutoff),
        Some(_) => None,
    }
}

pub struct QuoteResult {
    pub run: Option<PlanRun>,
    pub reason: Option<Reason>,
    pub duration_us: i64,
    pub held: bool,
}

pub fn quote(
    booking_id: Uuid,
    strategy: &Strategy,
    source: &str,
    hold_seconds: i32,
) -> Result<QuoteResult> {
    let started = Instant::now();
    if hold_seconds < 0 {
        return Err(AutoassignError::InvalidArgument(format!(
            "hold_seconds = {hold_seconds} must be >= 0"
        )));
    }
    let ctx = booking::load(booking_id, hold_seconds > 0)?;
    if let Some(reason) = precheck(ctx.as_ref()) {
        let duration_us = hard_stop(ctx.as_ref(), booking_id, source, reason, started, strategy)?;
        return Ok(QuoteResult {
            run: None,
            reason: Some(reason),
            duration_us,
            held: false,
        });
    }
    let Some(ctx) = ctx else {
        unreachable!("precheck returns BookingNotFound for None")
    };
    let run = plan_booking(&ctx, strategy, source, started)?;
    let mut held = false;
    if hold_seconds > 0 {
        if let Some(best) = run.best() {
            writes::place_hold(
                booking_id,
                run.floor.table_uuids(&best.tables),
                hold_seconds,
            )?;
            held = true;
        }
    }
    Ok(QuoteResult {
        reason: run.reason,
        duration_us: micros_since(started),
        run: Some(run),
        held,
    })
}

pub struct ConfirmResult {
    pub ok: bool,
    pub reason: Option<Reason>,
    pub table_ids: Vec<Uuid>,
    pub attempt: i32,
    pub duration_us: i64,
}

fn next_attempt(ctx: &BookingCtx) -> i32 {
    ctx.last_result
        .as_ref()
        .and_then(|r| r.get("attempt"))
        .and_then(Value::as_i64)
        .map_or(1, |a| a as i32 + 1)
}

/// Plans and commits in the caller's transaction: allocations, status, last_result,
/// one outbox message, events. A lost race (exclusion violation) rolls back a
/// subtransaction and tries the next plan, a bounded number of times.
pub fn confirm(booking_id: Uuid, strategy: &Strategy, source: &str) -> Result<ConfirmResult> {
    let started = Instant::now();
    let locked = subxact::try_in_subxact(&[PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE], || {
        booking::load(booking_id, true)
    });
    let ctx = match locked {
        Ok(loaded) => loaded?,
        Err(_) => {
            let duration_us = hard_stop(
                None,
                booking_id,
                source,
                Reason::LockTimeout,
                started,
                strategy,
            )?;
            return Ok(ConfirmResult {
                ok: false,
                reason: Some(Reason::LockTimeout),
                table_ids: vec![],
                attempt: 0,
                duration_us,
            });
        }
    };
    if let Some(reason) = precheck(ctx.as_ref()) {
        let duration_us = hard_stop(ctx.as_ref(), booking_id, source, reason, started, strategy)?;
        let attempt = ctx.as_ref().map_or(0, next_attempt);
        if let (Some(ctx), Reason::PastCutoff) = (ctx.as_ref(), reason) {
            // still pending: record the attempt so the story is complete
            record_failure(
                ctx,
                source,
                reason,
                attempt,
                duration_us,
                &strategy.to_json(),
                0,
            )?;
        }
        return Ok(ConfirmResult {
            ok: false,
            reason: Some(reason),
            table_ids: vec![],
            attempt,
            duration_us,
        });
    }
    let Some(ctx) = ctx else {
        unreachable!("precheck returns BookingNotFound for None")
    };
    let attempt = next_attempt(&ctx);
    let mut run = plan_booking(&ctx, strategy, source, started)?;
    // The booking's own live hold goes first when it is still free.
    let mut candidates = candidates_of(&run, writes::live_hold(booking_id)?);
    let max_tries = gucs::CONFIRM_MAX_CONFLICTS.get().max(1) as u32;
    let mut conflicts = 0u32;
    let mut won: Option<Vec<Uuid>> = None;
    while let Some(tables) = candidates.first().cloned() {
        let attempt_insert = subxact::try_in_subxact(
            &[
                PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION,
                // two long transactions (e.g. concurrent sweeps) waiting on each other
                PgSqlErrorCode::ERRCODE_T_R_DEADLOCK_DETECTED,
            ],
            || writes::insert_allocations(booking_id, tables.clone()),
        );
        match attempt_insert {
            Ok(inserted) => {
                inserted?;
                won = Some(tables);
                break;
            }
            Err(_) => {
                conflicts += 1;
                if conflicts >= max_tries {
                    break;
                }
                // We waited on the winner's table lock, so it has committed: a fresh
                // plan sees its tables, where the stale alternates would likely lose.
                run = plan_booking(&ctx, strategy, source, started)?;
                candidates = candidates_of(&run, Vec::new());
            }
        }
    }
    let duration_us = micros_since(started);
    match won {
        Some(tables) => {
            let table_strings: Vec<String> = tables.iter().map(|u| u.to_string()).collect();
            let enqueued = writes::enqueue_confirmation(
                ctx.restaurant_id,
                booking_id,
                json!({"booking_id": booking_id.to_string(), "table_ids": table_strings, "party_size": ctx.party}),
            )?;
            let last = last_result(
                source,
                true,
                None,
                &run.strategy,
                duration_us,
                attempt,
                &table_strings,
                enqueued,
            );
            writes::mark_confirmed(booking_id, last)?;
            write_attempt(
                &ctx,
                source,
                true,
                None,
                attempt,
                duration_us,
                &run.strategy,
                conflicts,
                &table_strings,
            )?;
            events::summary(
                ctx.restaurant_id,
                booking_id,
                source,
                "confirmed",
                None,
                attempt,
                json!({"table_ids": table_strings}),
            )?;
            Ok(ConfirmResult {
                ok: true,
                reason: None,
                table_ids: tables,
                attempt,
                duration_us,
            })
        }
        None => {
            let reason = if conflicts > 0 {
                Reason::Conflict
            } else {
                run.reason.unwrap_or(Reason::NoFit)
            };
            record_failure(
                &ctx,
                source,
                reason,
                attempt,
                duration_us,
                &run.strategy,
                conflicts,
            )?;
            Ok(ConfirmResult {
                ok: false,
                reason: Some(reason),
                table_ids: vec![],
                attempt,
                duration_us,
            })
        }
    }
}

/// The tables to try, best first: the booking's live hold (if any), then the plans.
fn candidates_of(run: &PlanRun, hold: Vec<Uuid>) -> Vec<Vec<Uuid>> {
    let mut candidates: Vec<Vec<Uuid>> = Vec::new();
    if !hold.is_empty() {
        candidates.push(hold);
    }
    for plan in &run.outcome.plans {
        let ids = run.floor.table_uuids(&plan.tables);
        if !candidates.iter().any(|c| sorted(c) == sorted(&ids)) {
            candidates.push(ids);
        }
    }
    candidates
}

fn sorted(ids: &[Uuid]) -> Vec<Uuid> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

#[allow(clippy::too_many_arguments)]
fn last_result(
    source: &str,
    success: bool,
    reason: Option<Reason>,
    strategy: &Value,
    duration_us: i64,
    attempt: i32,
    table_ids: &[String],
    enqueued: bool,
) -> Value {
    json!({
        "v": 1,
        "source": source,
        "success": success,
        "reason": reason.map(Reason::code),
        "reason_class": reason.map(Reason::class),
        "strategy": strategy,
        "duration_us": duration_us,
        "attempt": attempt,
        "table_ids": table_ids,
        "confirmation_enqueued": enqueued,
    })
}

#[allow(clippy::too_many_arguments)]
fn write_attempt(
    ctx: &BookingCtx,
    source: &str,
    success: bool,
    reason: Option<Reason>,
    attempt: i32,
    duration_us: i64,
    strategy: &Value,
    conflicts: u32,
    table_ids: &[String],
) -> Result<bool> {
    events::write(Event {
        event_type: events::ATTEMPT,
        restaurant_id: Some(ctx.restaurant_id),
        booking_id: Some(ctx.booking_id),
        source,
        success: Some(success),
        reason: reason.map(Reason::code),
        duration_us: Some(duration_us),
        attempt: Some(attempt),
        strategy: Some(strategy.clone()),
        payload: Some(json!({
            "outcome": if success { "confirmed" } else { reason.map_or("failed", Reason::code) },
            "reason_class": reason.map(Reason::class),
            "conflicts": conflicts,
            "table_ids": table_ids,
        })),
    })
}

fn record_failure(
    ctx: &BookingCtx,
    source: &str,
    reason: Reason,
    attempt: i32,
    duration_us: i64,
    strategy: &Value,
    conflicts: u32,
) -> Result<()> {
    let last = last_result(
        source,
        false,
        Some(reason),
        strategy,
        duration_us,
        attempt,
        &[],
        false,
    );
    writes::set_last_result(ctx.booking_id, last)?;
    write_attempt(
        ctx,
        source,
        false,
        Some(reason),
        attempt,
        duration_us,
        strategy,
        conflicts,
        &[],
    )?;
    writes::note_failure(ctx.booking_id, reason.code(), reason.class())
}

pub struct CancelResult {
    pub ok: bool,
    pub reason: Option<Reason>,
    pub status: Option<String>,
    pub tables_freed: i64,
}

/// Frees the tables and marks the booking cancelled. Idempotent: cancelling a
/// cancelled booking changes nothing and reports success.
pub fn cancel(booking_id: Uuid, source: &str) -> Result<CancelResult> {
    let Some(ctx) = booking::load(booking_id, true)? else {
        return Ok(CancelResult {
            ok: false,
            reason: Some(Reason::BookingNotFound),
            status: None,
            tables_freed: 0,
        });
    };
    match ctx.status.as_str() {
        "cancelled" => {
            return Ok(CancelResult {
                ok: true,
                reason: None,
                status: Some(ctx.status),
                tables_freed: 0,
            })
        }
        "pending" | "confirmed" => {}
        _ => {
            return Ok(CancelResult {
                ok: false,
                reason: Some(Reason::BookingNotPending),
                status: Some(ctx.status),
                tables_freed: 0,
            })
        }
    }
    let tables_freed = writes::cancel(booking_id)?;
    // A booking that never reached an outcome gets its one summary now.
    events::summary(
        ctx.restaurant_id,
        booking_id,
        source,
        "cancelled",
        ctx.last_result
            .as_ref()
            .and_then(|r| r.get("reason"))
            .and_then(Value::as_str),
        next_attempt(&ctx) - 1,
        json!({"tables_freed": tables_freed, "previous_status": ctx.status}),
    )?;
    Ok(CancelResult {
        ok: true,
        reason: None,
        status: Some("cancelled".into()),
        tables_freed,
    })
}
