//! Alternatives instead of a bare refusal, and `autoassign_optimize`'s re-packing
//! (issue 13). Both plan with the planner; optimize writes its moves like a confirm's
//! re-assignment does (src/postgres/seating.rs).

use super::reassign::ReassignRun;
use super::{knobs, placement};
use crate::error::{AutoassignError, Result};
use crate::postgres::booking::BookingCtx;
use crate::postgres::floor_cache::{floor_for, CachedFloor};
use crate::postgres::seating::{self, MoveRow};
use crate::postgres::{busy, subxact};
use crate::strategy::Strategy;
use autoassign_planner::alternatives::{alternatives as plan_alternatives, AltOptions};
use autoassign_planner::placement::{repack, RepackOptions};
use autoassign_planner::{Busy, Request};
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::Duration;

/// Offsets tried at most on each side (keeps a call bounded whatever within/step say).
pub const MAX_STEPS_EACH_SIDE: i64 = 96;

/// One alternative: the stay (start, end without turnover), its offset from the
/// requested start and how much shorter it is, in minutes, and the plan.
pub struct AltRow {
    pub start_us: i64,
    pub end_us: i64,
    pub offset_minutes: i32,
    pub shorter_by_minutes: i32,
    pub table_ids: Vec<Uuid>,
    pub zone_id: Uuid,
    pub seats: i32,
    pub score: i64,
}

impl AltRow {
    pub fn json(&self) -> Value {
        json!({
            "start_at": iso(self.start_us),
            "end_at": iso(self.end_us),
            "offset_minutes": self.offset_minutes,
            "shorter_by_minutes": self.shorter_by_minutes,
            "table_ids": self.table_ids.iter().map(Uuid::to_string).collect::<Vec<_>>(),
            "seats": self.seats,
        })
    }
}

/// "YYYY-MM-DDTHH:MM:00Z" for a timestamptz in microseconds.
fn iso(us: i64) -> String {
    let s = crate::api::explain::utc(us);
    // "YYYY-MM-DD HH:MM UTC"
    format!("{}T{}:00Z", &s[..10], &s[11..16])
}

/// The nearest start times within ±`within_us` on a `step_us` grid that have a plan now,
/// then the longest shorter stay (down to half the stay) at the requested start.
/// Starts before now + the restaurant's cutoff are not offered. The booking's own
/// tables never block it.
pub fn alternatives(
    ctx: &BookingCtx,
    strategy: &Strategy,
    within_us: i64,
    step_us: i64,
) -> Result<Vec<AltRow>> {
    alternatives_on(ctx, strategy, within_us, step_us, None)
}

/// [`alternatives`] on the state a refused re-assignment search already loaded (the same
/// rows `busy::busy` would read: allocations and live holds of other bookings, retired
/// tables), when its window covers ±`within_us`; else it loads as [`alternatives`] does.
/// Call it in the same confirm or quote, before anything else writes allocations.
pub fn alternatives_after(
    ctx: &BookingCtx,
    strategy: &Strategy,
    floor: &Rc<CachedFloor>,
    rr: &ReassignRun,
    within_us: i64,
    step_us: i64,
) -> Result<Vec<AltRow>> {
    alternatives_on(ctx, strategy, within_us, step_us, Some((floor, rr)))
}

fn alternatives_on(
    ctx: &BookingCtx,
    strategy: &Strategy,
    within_us: i64,
    step_us: i64,
    loaded: Option<(&Rc<CachedFloor>, &ReassignRun)>,
) -> Result<Vec<AltRow>> {
    if step_us <= 0 || within_us < 0 {
        return Err(AutoassignError::InvalidArgument(format!(
            "step must be positive and within not negative (got step {step_us} us, within {within_us} us)"
        )));
    }
    let within_us = within_us.min(step_us.saturating_mul(MAX_STEPS_EACH_SIDE));
    let (lo, hi) = (ctx.start_us - within_us, ctx.end_us + within_us);
    let reuse = loaded
        .filter(|(f, rr)| f.version == ctx.floor_version && rr.window.0 <= lo && rr.window.1 >= hi);
    let floor = match reuse {
        Some((f, _)) => Rc::clone(f),
        None => floor_for(ctx.restaurant_id, ctx.floor_version, strategy.exhaustive)?.0,
    };
    let mut k = knobs(strategy, &floor)?;
    k.keep_open = placement::keep_open(ctx.restaurant_id, &floor, strategy)?;
    let loaded_busy;
    let busy: &[Busy] = match reuse {
        Some((_, rr)) => &rr.busy,
        None => {
            loaded_busy = busy::busy(&floor, ctx.restaurant_id, Some(ctx.booking_id), lo, hi)?;
            &loaded_busy
        }
    };
    let cutoff_us = ctx.start_us - ctx.cutoff_at_us;
    let earliest = seating::now_us()? + cutoff_us;
    let stay = ctx.end_us - ctx.start_us - ctx.buffer_us;
    let req = Request {
        party: ctx.party,
        start: ctx.start_us,
        end: ctx.end_us,
        requested_zone: ctx.zone_id.and_then(|z| floor.zone_index(z)),
        knobs: k,
    };
    let opts = AltOptions {
        within: within_us,
        step: step_us,
        earliest_start: earliest,
        min_stay: ctx.buffer_us + stay / 2,
    };
    let alts = plan_alternatives(&floor.floor, busy, &req, opts, &mut || {
        pgrx::check_for_interrupts!();
    });
    Ok(alts
        .into_iter()
        .map(|a| AltRow {
            start_us: a.start,
            end_us: a.end - ctx.buffer_us,
            offset_minutes: (a.offset / 60_000_000) as i32,
            shorter_by_minutes: (a.shorter_by / 60_000_000) as i32,
            table_ids: floor.table_uuids(&a.plan.tables),
            zone_id: floor.zone_ids[a.plan.zone as usize],
            seats: a.plan.seats,
            score: a.plan.score.total,
        })
        .collect())
}

/// Alternatives as the JSON array confirm and quote return with a capacity refusal
/// (default ±90 minutes on a 15-minute grid).
pub fn alternatives_json(ctx: &BookingCtx, strategy: &Strategy) -> Result<Value> {
    let alts = alternatives(ctx, strategy, 90 * 60_000_000, 15 * 60_000_000)?;
    Ok(json!(alts.iter().map(AltRow::json).collect::<Vec<_>>()))
}

/// [`alternatives_json`] on a refused re-assignment search's state
/// ([`alternatives_after`]).
pub fn alternatives_json_after(
    ctx: &BookingCtx,
    strategy: &Strategy,
    floor: &Rc<CachedFloor>,
    rr: &ReassignRun,
) -> Result<Value> {
    let alts = alternatives_after(ctx, strategy, floor, rr, 90 * 60_000_000, 15 * 60_000_000)?;
    Ok(json!(alts.iter().map(AltRow::json).collect::<Vec<_>>()))
}

/// [`alternatives_json`] for a booking by id (None when it is gone).
pub fn alternatives_for(booking_id: Uuid, strategy: &Strategy) -> Result<Option<Value>> {
    match crate::postgres::booking::load(booking_id, false)? {
        Some(ctx) => alternatives_json(&ctx, strategy).map(Some),
        None => Ok(None),
    }
}

/// What `autoassign_optimize` did.
pub struct Optimized {
    pub moves: Vec<MoveRow>,
    pub before: i64,
    pub after: i64,
}

/// Re-packs the movable bookings (confirmed, not seated, not pinned, outside the
/// freeze window) that start in [from_us, to_us) of `restaurant`, so the largest free
/// table or combination in each 15-minute slot of the window is as large as it can be
/// made by single re-plans; commits the moves in the caller's transaction (tables_changed
/// outbox message and event per moved booking). A race with another writer (23P01)
/// rolls back the moves and returns none.
pub fn optimize(
    restaurant: Uuid,
    from_us: i64,
    to_us: i64,
    strategy: &Strategy,
    source: &str,
) -> Result<Optimized> {
    if to_us <= from_us {
        return Err(AutoassignError::InvalidArgument(
            "\"to\" must be after \"from\"".into(),
        ));
    }
    let row = Spi::connect(|client| {
        let rows = crate::postgres::stmt::select(
            client,
            "SELECT floor_version, default_duration_minutes + buffer_after_minutes,
                    greatest(longest_stay_minutes, default_duration_minutes) + buffer_after_minutes
               FROM autoassign.restaurants WHERE id = $1",
            Some(1),
            &[restaurant.into()],
        )?;
        let mut out = None;
        for r in rows {
            out = Some((
                r.get::<i64>(1)?.unwrap_or(0),
                r.get::<i32>(2)?.unwrap_or(95),
                r.get::<i32>(3)?.unwrap_or(95),
            ));
        }
        Ok::<_, AutoassignError>(out)
    })?;
    let Some((version, slot_min, longest_min)) = row else {
        return Err(AutoassignError::RestaurantNotFound(restaurant.to_string()));
    };
    let (floor, _) = floor_for(restaurant, version, false)?;
    let mut k = knobs(strategy, &floor)?;
    k.keep_open = placement::keep_open(restaurant, &floor, strategy)?;
    k.deadline = Some(Duration::from_millis(
        strategy.deadline_ms.map_or(2_000, u64::from),
    ));
    let longest = i64::from(longest_min) * 60_000_000;
    let seating::State {
        fixed,
        movable: rows,
        ..
    } = seating::state(
        &floor,
        restaurant,
        crate::postgres::nil_uuid(),
        from_us - longest,
        to_us + longest,
        longest,
    )?;
    let movable: Vec<_> = rows.iter().map(|r| r.movable.clone()).collect();
    let may_move: Vec<bool> = movable
        .iter()
        .map(|m| m.start >= from_us && m.start < to_us)
        .collect();
    let step = 15 * 60_000_000;
    let opts = RepackOptions {
        slot_starts: (0..)
            .map(|i| from_us + i * step)
            .take_while(|&s| s < to_us)
            .collect(),
        slot_len: i64::from(slot_min) * 60_000_000,
        max_steps: 4 * movable.len().max(1),
    };
    let r = repack(
        &floor.floor,
        &fixed,
        &movable,
        &may_move,
        &k,
        &opts,
        &mut || {
            pgrx::check_for_interrupts!();
        },
    );
    let moves: Vec<MoveRow> = r
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
    let applied = subxact::try_in_subxact(&[PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION], || {
        seating::apply_moves(
            restaurant,
            &moves,
            &[],
            crate::postgres::nil_uuid(),
            "optimized",
            source,
        )
    });
    match applied {
        Ok(done) => {
            let v = done?;
            if v != 0 && v != version {
                return Err(AutoassignError::InvalidArgument(
                    "the floor changed while optimizing; run it again".into(),
                ));
            }
            Ok(Optimized {
                moves,
                before: r.before,
                after: r.after,
            })
        }
        Err(_) => Ok(Optimized {
            moves: Vec::new(),
            before: r.before,
            after: r.before,
        }),
    }
}
