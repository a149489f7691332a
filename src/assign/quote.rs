//! `autoassign_quote`: plan without committing, optionally holding the best plan.

use super::reassign::{self, ReassignRun};
use super::{
    cancel_guard, hard_stop, micros_since, plan_only, precheck, write_plan_events, PlanRun,
};
use crate::error::{AutoassignError, Result};
use crate::postgres::booking::BookingCtx;
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
    /// The planned booking, when it was planned: its events are still to be written
    /// ([`QuoteResult::finish`]).
    ctx: Option<BookingCtx>,
}

impl QuoteResult {
    /// Sets the run's `write_us` so far (the diagnostics built next show it; `finish`
    /// sets the final value for the event).
    pub fn note_write(&mut self, started: Instant) {
        if let Some(run) = self.run.as_mut() {
            time_write(run, started);
        }
    }

    /// Writes the run's statistics and events, timed to now: the call's whole work up
    /// to here (the hold, the moves search and the result row included), with the
    /// payload's `load_us` / `plan_us` / `write_us` breakdown. A hard stop wrote its
    /// event already.
    pub fn finish(&mut self, source: &str, started: Instant) -> Result<()> {
        let (Some(ctx), Some(run)) = (self.ctx.as_ref(), self.run.as_mut()) else {
            return Ok(());
        };
        time_write(run, started);
        write_plan_events(ctx, run, source)
    }
}

/// The run's `duration_us` up to now, and its `write_us`: what came after loading and
/// planning.
fn time_write(run: &mut PlanRun, started: Instant) {
    run.duration_us = micros_since(started);
    run.write_us = Some((run.duration_us - run.load_us - run.plan_us).max(0));
}

/// `started` is when the SQL call began: every duration is measured from it.
pub fn quote(
    booking_id: Uuid,
    strategy: &Strategy,
    source: &str,
    hold_seconds: i32,
    started: Instant,
) -> Result<QuoteResult> {
    let max_hold = crate::gucs::MAX_HOLD_SECONDS.get();
    if !(0..=max_hold).contains(&hold_seconds) {
        return Err(AutoassignError::InvalidArgument(format!(
            "hold_seconds = {hold_seconds} must be between 0 and {max_hold} \
             (autoassign.max_hold_seconds)"
        )));
    }
    if hold_seconds > 0 {
        crate::postgres::standby::refuse_writes("autoassign_quote with hold_seconds > 0");
    }
    let ctx = booking::load(booking_id, hold_seconds > 0)?;
    if let Some(reason) = precheck(ctx.as_ref()) {
        hard_stop(ctx.as_ref(), booking_id, source, reason, started, strategy)?;
        return Ok(QuoteResult {
            run: None,
            reason: Some(reason),
            held: false,
            reassign: None,
            ctx: None,
        });
    }
    let Some(ctx) = ctx else {
        unreachable!("precheck returns BookingNotFound for None")
    };
    let mut run = plan_only(&ctx, strategy, source, started)?;
    if run.reason == Some(Reason::Timeout) {
        // a run cut by its deadline may hold plans it never finished comparing: a quote
        // that says timeout offers none (and holds none)
        run.outcome.plans.clear();
    }
    // the quote event is written last (QuoteResult::finish): a cancel before that still
    // leaves its timeout event through the queue
    let (held, rr) = cancel_guard(&ctx, source, started, strategy, || {
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
        Ok::<_, AutoassignError>((held, rr))
    })?;
    Ok(QuoteResult {
        reason: run.reason,
        run: Some(run),
        held,
        reassign: rr,
        ctx: Some(ctx),
    })
}
