//! `autoassign_confirm`: plan and commit in the caller's transaction.

use super::{
    hard_stop, lifecycle, micros_since, plan_booking, precheck, reassign, seating, PlanRun,
};
use crate::error::Result;
use crate::gucs;
use crate::postgres::booking::{self, BookingCtx};
use crate::postgres::events::{self, Event};
use crate::postgres::{queue, subxact, writes};
use crate::reason::Reason;
use crate::strategy::Strategy;
use autoassign_planner::retry::Settle;
use pgrx::{PgSqlErrorCode, Uuid};
use serde_json::{json, Value};
use std::time::Instant;

pub struct ConfirmResult {
    pub ok: bool,
    pub reason: Option<Reason>,
    pub table_ids: Vec<Uuid>,
    pub attempt: i32,
    /// The outcome this failed confirm settled the booking with (gave_up, cutoff), if any.
    pub settled: Option<Settle>,
    /// Other bookings moved to seat this one (issue 13): [{booking_id,
    /// from_table_ids, table_ids}], empty when none moved.
    pub moves: Value,
    /// The alternatives of a no_capacity or no_fit refusal after a re-assignment search,
    /// computed on the state that search loaded; None when no search ran (the caller
    /// computes them then, `seating::alternatives_for`).
    pub alternatives: Option<Value>,
}

pub(crate) fn next_attempt(ctx: &BookingCtx) -> i32 {
    ctx.last_result
        .as_ref()
        .and_then(|r| r.get("attempt"))
        .and_then(Value::as_i64)
        .map_or(1, |a| a as i32 + 1)
}

/// Plans and commits in the caller's transaction: allocations, then status confirmed
/// with its last result (the lifecycle trigger settles the outcome, writes the summary
/// and the one booking_confirmed message). A lost race (exclusion violation) rolls back
/// a subtransaction and tries the next plan, a bounded number of times.
///
/// The whole confirm runs in its own subtransaction: a deadlock (40P01) or lock timeout
/// (55P03) rolls back only this confirm and comes back as reason `conflict` or
/// `lock_timeout`, so the caller's transaction and its other confirms survive. The
/// booking row is not written after such a failure (the other transaction may hold it);
/// a retry queue row it already had stays due.
pub fn confirm(booking_id: Uuid, strategy: &Strategy, source: &str) -> Result<ConfirmResult> {
    crate::postgres::standby::refuse_writes("autoassign_confirm");
    let started = Instant::now();
    let guarded = subxact::try_in_subxact(
        &[
            PgSqlErrorCode::ERRCODE_T_R_DEADLOCK_DETECTED,
            PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
        ],
        || confirm_in_subxact(booking_id, strategy, source, started),
    );
    match guarded {
        Ok(result) => result,
        Err(code) => {
            let reason = if code == PgSqlErrorCode::ERRCODE_T_R_DEADLOCK_DETECTED {
                Reason::Conflict
            } else {
                Reason::LockTimeout
            };
            hard_stop(None, booking_id, source, reason, started, strategy)?;
            Ok(ConfirmResult {
                ok: false,
                reason: Some(reason),
                table_ids: vec![],
                attempt: 0,
                settled: None,
                moves: json!([]),
                alternatives: None,
            })
        }
    }
}

fn confirm_in_subxact(
    booking_id: Uuid,
    strategy: &Strategy,
    source: &str,
    started: Instant,
) -> Result<ConfirmResult> {
    let ctx = booking::load(booking_id, true)?;
    if let Some(reason) = precheck(ctx.as_ref()) {
        let duration_us = hard_stop(ctx.as_ref(), booking_id, source, reason, started, strategy)?;
        let attempt = ctx.as_ref().map_or(0, next_attempt);
        let mut settled = None;
        if let (Some(ctx), Reason::PastCutoff | Reason::InvalidRequest) = (ctx.as_ref(), reason) {
            // still pending: record the attempt, which settles the booking (cutoff, or
            // gave_up for a stay longer than autoassign.max_stay_minutes: hard)
            settled = record_failure(
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
            settled,
            moves: json!([]),
            alternatives: None,
        });
    }
    let Some(mut ctx) = ctx else {
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
        let attempt_insert =
            subxact::try_in_subxact(&[PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION], || {
                let seen = writes::insert_allocations(booking_id, tables.clone())?;
                lifecycle::revalidate(&ctx, &tables, strategy.require_adjacency, &seen)
            });
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
                // The booking is reloaded for the floor version a floor edit moved on.
                if let Some(fresh) = booking::load(booking_id, false)? {
                    ctx = fresh;
                }
                run = plan_booking(&ctx, strategy, source, started)?;
                candidates = candidates_of(&run, Vec::new());
            }
        }
    }
    // No free plan: move other confirmed bookings (fewest moves) to seat this one.
    let mut moves = json!([]);
    let mut searched = None;
    if won.is_none() && conflicts == 0 && reassign::applies(&run, strategy) {
        let rr = searched.insert(reassign::search(&ctx, &run, strategy, started)?);
        if rr.found() {
            let committed =
                subxact::try_in_subxact(&[PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION], || {
                    reassign::commit(&ctx, rr, source)
                });
            match committed {
                Ok(done) => {
                    done?;
                    moves = rr.moves_json();
                    won = Some(rr.tables.clone());
                }
                Err(_) => conflicts += 1,
            }
        }
    }
    let duration_us = micros_since(started);
    match won {
        Some(tables) => {
            let table_strings: Vec<String> = tables.iter().map(|u| u.to_string()).collect();
            let enqueued = !writes::confirmation_sent(ctx.restaurant_id, booking_id)?;
            let mut last = last_result(
                source,
                true,
                None,
                &run.strategy,
                duration_us,
                attempt,
                &table_strings,
                enqueued,
            );
            if let (Some(obj), true) = (
                last.as_object_mut(),
                moves.as_array().is_some_and(|m| !m.is_empty()),
            ) {
                obj.insert("moves".into(), moves.clone());
            }
            writes::mark_confirmed(ctx.restaurant_id, booking_id, last, source)?;
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
            Ok(ConfirmResult {
                ok: true,
                reason: None,
                table_ids: tables,
                attempt,
                settled: None,
                moves,
                alternatives: None,
            })
        }
        None => {
            let reason = if conflicts > 0 {
                Reason::Conflict
            } else {
                run.reason.unwrap_or(Reason::NoFit)
            };
            let settled = record_failure(
                &ctx,
                source,
                reason,
                attempt,
                duration_us,
                &run.strategy,
                conflicts,
            )?;
            // the search's state serves the alternatives (nothing wrote allocations since)
            let alternatives = match (&searched, reason) {
                (Some(rr), Reason::NoCapacity | Reason::NoFit) if !rr.found() => Some(
                    seating::alternatives_json_after(&ctx, strategy, &run.floor, rr)?,
                ),
                _ => None,
            };
            Ok(ConfirmResult {
                ok: false,
                reason: Some(reason),
                table_ids: vec![],
                attempt,
                settled,
                moves: json!([]),
                alternatives,
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
        stats_reason: None,
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
) -> Result<Option<Settle>> {
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
    writes::set_last_result(ctx.restaurant_id, ctx.booking_id, last)?;
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
    queue::note_failure(ctx, reason.code(), source)
}
