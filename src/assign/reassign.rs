//! Re-assignment (issue 13): when a booking has no free plan, find the fewest moves of
//! other confirmed bookings that seat it too (planner `reassign`), and commit them in
//! the caller's transaction. Quote and explain report the same search without writing.

use super::{knobs, micros_since, PlanRun};
use crate::error::Result;
use crate::postgres::booking::BookingCtx;
use crate::postgres::seating::{self, MoveRow};
use crate::postgres::writes;
use crate::reason::Reason;
use crate::strategy::Strategy;
use autoassign_planner::reassign::{may_reassign, reassign_capped, DEFAULT_CAPS};
use autoassign_planner::{Busy, Plan, Request};
use pgrx::Uuid;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Wall-clock safety budget when the strategy sets no `deadline_ms`. The search is
/// bounded first by `reassign::DEFAULT_CAPS` (counts of plans tried and planner runs), which is deterministic; this
/// only stops a pathological floor.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(250);

/// What one re-assignment search saw and found.
pub struct ReassignRun {
    /// The booking's plan and its tables, when a re-assignment was found.
    pub plan: Option<Plan>,
    pub tables: Vec<Uuid>,
    pub moves: Vec<MoveRow>,
    pub movable: usize,
    pub fixed: usize,
    pub nodes: u64,
    pub complete: bool,
    pub timed_out: bool,
    pub search_us: i64,
    /// Of `search_us`, the time spent loading the state around the stay.
    pub load_us: i64,
    /// Planner runs of the search.
    pub planned: u32,
    pub max_moves: u8,
    /// Every busy interval the search loaded (`seating::State::busy`) and the window
    /// [start, end) it covers, microseconds: the alternatives of a refusal plan on it
    /// instead of loading again (`seating::alternatives_after`).
    pub busy: Vec<Busy>,
    pub window: (i64, i64),
}

impl ReassignRun {
    pub fn found(&self) -> bool {
        self.plan.is_some()
    }

    /// The moves as JSON: [{booking_id, from_table_ids, table_ids}].
    pub fn moves_json(&self) -> Value {
        json!(self
            .moves
            .iter()
            .map(|m| json!({
                "booking_id": m.booking_id.to_string(),
                "from_table_ids": m.from.iter().map(Uuid::to_string).collect::<Vec<_>>(),
                "table_ids": m.to.iter().map(Uuid::to_string).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>())
    }

    /// One line for explain.
    pub fn describe(&self, run: &PlanRun) -> String {
        let names = |ids: &[Uuid]| {
            ids.iter()
                .filter_map(|id| run.floor.table_index(*id))
                .map(|t| run.floor.table_names[t as usize].clone())
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let head = format!(
            "{} movable bookings (confirmed, not seated, not pinned, outside the freeze window), {} fixed intervals; {} plans tried, {} planner runs, in {} us ({} us loading){}",
            self.movable,
            self.fixed,
            self.nodes,
            self.planned,
            self.search_us,
            self.load_us,
            if self.timed_out {
                ", deadline reached"
            } else if !self.complete {
                ", search capped (not exact)"
            } else {
                ""
            }
        );
        if !self.found() {
            return format!("{head}; no re-assignment within {} moves", self.max_moves);
        }
        let moves: Vec<String> = self
            .moves
            .iter()
            .map(|m| format!("{}: {} -> {}", m.booking_id, names(&m.from), names(&m.to)))
            .collect();
        format!(
            "{head}; plan {} with {} move(s): {}",
            names(&self.tables),
            self.moves.len(),
            moves.join("; ")
        )
    }
}

/// Whether a run's refusal is one re-assignment can answer.
pub fn applies(run: &PlanRun, strategy: &Strategy) -> bool {
    strategy.reassign
        && strategy.max_moves > 0
        && run.outcome.plans.is_empty()
        && matches!(run.reason, Some(Reason::NoFit) | Some(Reason::NoCapacity))
}

/// Searches for the fewest moves seating `ctx` (at most `strategy.max_moves`), within
/// what is left of `deadline_ms` since `started`, else [`DEFAULT_BUDGET`].
pub fn search(
    ctx: &BookingCtx,
    run: &PlanRun,
    strategy: &Strategy,
    started: Instant,
) -> Result<ReassignRun> {
    let t0 = Instant::now();
    let budget = match strategy.deadline_ms {
        Some(ms) => Duration::from_millis(ms.into()).saturating_sub(started.elapsed()),
        None => DEFAULT_BUDGET,
    };
    let floor = &run.floor;
    let mut k = knobs(strategy, floor)?;
    k.keep_open = super::placement::keep_open(ctx.restaurant_id, floor, strategy)?;
    k.deadline = Some(budget.max(Duration::from_micros(1)));
    let request = Request {
        party: ctx.party,
        start: ctx.start_us,
        end: ctx.end_us,
        requested_zone: ctx.zone_id.and_then(|z| floor.zone_index(z)),
        knobs: k,
    };
    // One load of the span a chain of moves can reach; first only the stay itself
    // is checked: when no plan of the booking displaces few enough movable bookings,
    // no re-assignment exists (exact) and the search is skipped.
    let (lo, hi) = seating::span(ctx, strategy.max_moves);
    let seating::State {
        fixed,
        movable: rows,
        busy,
        ..
    } = seating::state(
        floor,
        ctx.restaurant_id,
        ctx.booking_id,
        lo,
        hi,
        ctx.longest_stay_us,
    )?;
    let load_us = micros_since(t0);
    let (start, end) = (ctx.start_us, ctx.end_us);
    let fixed_w: Vec<_> = fixed
        .iter()
        .copied()
        .filter(|b| b.overlaps(start, end))
        .collect();
    let movable_w: Vec<_> = rows
        .iter()
        .filter(|r| r.movable.start < end && start < r.movable.end)
        .map(|r| r.movable.clone())
        .collect();
    if !may_reassign(
        &floor.floor,
        &fixed_w,
        &movable_w,
        &request,
        usize::from(strategy.max_moves),
        &mut || {
            pgrx::check_for_interrupts!();
        },
    ) {
        return Ok(ReassignRun {
            plan: None,
            tables: Vec::new(),
            moves: Vec::new(),
            movable: rows.len(),
            fixed: fixed.len(),
            nodes: 0,
            complete: true,
            timed_out: false,
            search_us: micros_since(t0),
            load_us,
            planned: 1,
            max_moves: strategy.max_moves,
            busy,
            window: (lo, hi),
        });
    }
    let movable: Vec<_> = rows.iter().map(|r| r.movable.clone()).collect();
    let out = reassign_capped(
        &floor.floor,
        &fixed,
        &movable,
        &request,
        usize::from(strategy.max_moves),
        DEFAULT_CAPS,
        &mut || {
            pgrx::check_for_interrupts!();
        },
    );
    let (plan, tables, moves) = match out.found {
        Some(r) => {
            let moves = r
                .moves
                .iter()
                .filter_map(|m| {
                    rows.get(m.booking).map(|row| MoveRow {
                        booking_id: row.booking_id,
                        from: floor.table_uuids(&m.from),
                        to: floor.table_uuids(&m.to),
                    })
                })
                .collect();
            let tables = floor.table_uuids(&r.plan.tables);
            (Some(r.plan), tables, moves)
        }
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(ReassignRun {
        plan,
        tables,
        moves,
        movable: rows.len(),
        fixed: fixed.len(),
        nodes: out.nodes,
        complete: out.complete,
        timed_out: out.timed_out,
        search_us: micros_since(t0),
        load_us,
        planned: out.bookings_planned,
        max_moves: strategy.max_moves,
        busy,
        window: (lo, hi),
    })
}

/// Commits a found re-assignment for `ctx` (call inside a subtransaction that catches
/// 23P01): the moves, then the booking's own allocations, all under the tables'
/// advisory locks taken in one call. Raises 23P01 when anything changed meanwhile:
/// a moved booking, a table taken, or the floor (its version moved since planning).
pub fn commit(ctx: &BookingCtx, rr: &ReassignRun, source: &str) -> Result<()> {
    let version = seating::apply_moves(
        ctx.restaurant_id,
        &rr.moves,
        &rr.tables,
        ctx.booking_id,
        "reassigned",
        source,
    )?;
    let seen = writes::insert_allocations(ctx.booking_id, rr.tables.clone())?;
    if seen.retired
        || seen.floor_version != ctx.floor_version
        || (version != 0 && version != ctx.floor_version)
    {
        seating::lost_race(format!(
            "re-assignment for booking {}: the floor changed while planning",
            ctx.booking_id
        ));
    }
    Ok(())
}
