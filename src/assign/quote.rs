//! `autoassign_quote`: plan without committing, optionally holding the best plan.

use super::reassign::{self, ReassignRun};
use super::{hard_stop, plan_booking, precheck, PlanRun};
use crate::error::{AutoassignError, Result};
use crate::postgres::{booking, writes};
use crate::reason::Reason;
use crate::strategy::Strategy;
use pgrx::Uuid;
use std::time::Instant;

pub struct QuoteResult {
    pub run: Option<PlanRun>,
    pub reason: Option<Reason>,
    pub held: bool,
    /// When no plan is free: the re-assignment a confirm would make now (not written).
    pub reassign: Option<ReassignRun>,
}

/// `started` is when the SQL call began: every duration is measured from it.
pub fn quote(
    booking_id: Uuid,
    strategy: &Strategy,
    source: &str,
    hold_seconds: i32,
    started: Instant,
) -> Result<QuoteResult> {
    if hold_seconds < 0 {
        return Err(AutoassignError::InvalidArgument(format!(
            "hold_seconds = {hold_seconds} must be >= 0"
        )));
    }
    let ctx = booking::load(booking_id, hold_seconds > 0)?;
    if let Some(reason) = precheck(ctx.as_ref()) {
        hard_stop(ctx.as_ref(), booking_id, source, reason, started, strategy)?;
        return Ok(QuoteResult {
            run: None,
            reason: Some(reason),
            held: false,
            reassign: None,
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
    // no free plan: report the moves confirm would make (nothing is held for them)
    let rr = if reassign::applies(&run, strategy) {
        Some(reassign::search(&ctx, &run, strategy, started)?)
    } else {
        None
    };
    Ok(QuoteResult {
        reason: run.reason,
        run: Some(run),
        held,
        reassign: rr,
    })
}
