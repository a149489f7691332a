//! The reference lookahead: the straightforward implementation the optimised
//! [`crate::lookahead`] must agree with exactly (same costs). One existence search per
//! zone and pending booking up front, and one per (candidate, pending booking) whose
//! single tables are all taken and whose only witness is hit. Used by the property
//! test and the latency example (`testkit::lookahead_costs_reference`), never by the
//! planner.
//!
//! For each overlapping pending booking (the 32 starting nearest the request's start) that can be seated now:
//! +100 if the candidate's tables leave it with no valid plan at all, +10 if they
//! take its best single table and no other single table is left (it would need a
//! multi-table plan). Costs are summed and capped by `lookahead_cap`.

use crate::capacity::busy_mask;
use crate::enumerate::{Bounds, Finish, SearchStats, TableSet, Visit, ZoneSearch};
use crate::floor::Floor;
use crate::outcome::Plan;
use crate::request::{Busy, Pending, Request};
use crate::rules::single_fits;
use crate::ticker::Ticker;

use crate::lookahead::{COST_LOSES_SINGLE, COST_NO_PLAN, MAX_PENDING};

struct PendingInfo {
    party: i32,
    /// Free for this booking's window.
    free: Vec<bool>,
    /// Tables that seat it alone.
    singles: Vec<u32>,
    single_mask: Vec<bool>,
    best_single: Option<u32>,
    /// First multi-table plan found per zone, if any.
    witness: Vec<Option<TableSet>>,
}

pub(crate) struct Lookahead {
    infos: Vec<PendingInfo>,
    bounds: Bounds,
}

fn multi_bounds(req: &Request, party: i32) -> Bounds {
    Bounds {
        party: i64::from(party),
        limit: i64::from(party) + i64::from(req.knobs.max_overage),
        max_tables: usize::from(req.knobs.max_tables),
        adjacency: req.knobs.require_adjacency,
        prune: true,
    }
}

fn first_plan(
    floor: &Floor,
    members: &[u32],
    b: Bounds,
    ticker: &mut Ticker<'_>,
    stats: &mut SearchStats,
) -> Result<Option<TableSet>, ()> {
    let zs = ZoneSearch::new(floor, members, b);
    if zs.len() < 2 || zs.capacity_bound() < b.party {
        return Ok(None);
    }
    let mut found = None;
    let fin = zs.run(ticker, stats, None, &mut |s, _| {
        found = Some(s.clone());
        Visit::Stop
    });
    if fin == Finish::TimedOut {
        return Err(());
    }
    Ok(found)
}

impl Lookahead {
    /// Prepares the pending bookings; `Err` on timeout.
    pub(crate) fn prepare(
        floor: &Floor,
        busy: &[Busy],
        req: &Request,
        pending: &[Pending],
        ticker: &mut Ticker<'_>,
        stats: &mut SearchStats,
    ) -> Result<Lookahead, ()> {
        let mut rel: Vec<&Pending> = pending
            .iter()
            .filter(|p| p.party > 0 && p.end > p.start && p.start < req.end && req.start < p.end)
            .collect();
        rel.sort_by_key(|p| {
            (
                (p.start - req.start).abs(),
                p.start,
                p.end,
                p.party,
                p.requested_zone,
            )
        });
        rel.truncate(MAX_PENDING);
        let mut infos = Vec::with_capacity(rel.len());
        for p in rel {
            if !ticker.check_now() {
                return Err(());
            }
            let bm = busy_mask(floor, busy, p.start, p.end);
            let free: Vec<bool> = floor
                .tables()
                .iter()
                .zip(bm.iter())
                .map(|(t, &b)| t.active && !b)
                .collect();
            let mut singles = Vec::new();
            let mut single_mask = vec![false; free.len()];
            let mut best: Option<(i64, u32)> = None;
            let w = &req.knobs.weights;
            for (i, t) in floor.tables().iter().enumerate() {
                if free.get(i).copied().unwrap_or(false) && single_fits(t, p.party) {
                    singles.push(i as u32);
                    if let Some(m) = single_mask.get_mut(i) {
                        *m = true;
                    }
                    let key = w
                        .waste
                        .saturating_mul(i64::from(t.capacity) - i64::from(p.party))
                        .saturating_sub(w.priority.saturating_mul(i64::from(t.priority)));
                    if best.is_none_or(|(k, _)| key < k) {
                        best = Some((key, i as u32));
                    }
                }
            }
            let b = multi_bounds(req, p.party);
            let mut witness = Vec::with_capacity(floor.zone_count() as usize);
            for z in 0..floor.zone_count() {
                let members = multi_members(floor, &free, &single_mask, z, b.limit, &[]);
                witness.push(first_plan(floor, &members, b, ticker, stats)?);
            }
            infos.push(PendingInfo {
                party: p.party,
                free,
                singles,
                single_mask,
                best_single: best.map(|x| x.1),
                witness,
            });
        }
        Ok(Lookahead {
            infos,
            bounds: multi_bounds(req, 1),
        })
    }

    /// Lookahead cost of taking `plan`'s tables, capped by `cap`; `Err` on timeout.
    pub(crate) fn cost(
        &self,
        floor: &Floor,
        plan: &Plan,
        cap: i64,
        ticker: &mut Ticker<'_>,
        stats: &mut SearchStats,
    ) -> Result<i64, ()> {
        let taken = |t: u32| plan.tables.contains(&t);
        let mut cost = 0i64;
        for info in &self.infos {
            if cost >= cap {
                break;
            }
            let had_multi = info.witness.iter().any(|w| w.is_some());
            if info.singles.is_empty() && !had_multi {
                continue; // could not be seated anyway
            }
            if info.singles.iter().any(|&s| !taken(s)) {
                continue; // still has a single table
            }
            let multi_after = self.multi_after(floor, info, plan, ticker, stats)?;
            if info.best_single.is_some() {
                cost += if multi_after {
                    COST_LOSES_SINGLE
                } else {
                    COST_NO_PLAN
                };
            } else if !multi_after {
                cost += COST_NO_PLAN;
            }
        }
        Ok(cost.min(cap))
    }

    fn multi_after(
        &self,
        floor: &Floor,
        info: &PendingInfo,
        plan: &Plan,
        ticker: &mut Ticker<'_>,
        stats: &mut SearchStats,
    ) -> Result<bool, ()> {
        for (z, w) in info.witness.iter().enumerate() {
            let Some(w) = w else { continue };
            if z as u32 != plan.zone || !w.iter().any(|t| plan.tables.contains(t)) {
                return Ok(true);
            }
        }
        let Some(Some(_)) = info.witness.get(plan.zone as usize) else {
            return Ok(false);
        };
        let b = Bounds {
            party: i64::from(info.party),
            limit: i64::from(info.party) + (self.bounds.limit - self.bounds.party),
            ..self.bounds
        };
        let members = multi_members(
            floor,
            &info.free,
            &info.single_mask,
            plan.zone,
            b.limit,
            &plan.tables,
        );
        Ok(first_plan(floor, &members, b, ticker, stats)?.is_some())
    }
}

/// Free combinable tables of zone `z` that could be part of a minimal multi plan.
fn multi_members(
    floor: &Floor,
    free: &[bool],
    single_mask: &[bool],
    z: u32,
    limit: i64,
    taken: &[u32],
) -> Vec<u32> {
    floor
        .zone_tables(z)
        .iter()
        .copied()
        .filter(|&t| {
            free.get(t as usize).copied().unwrap_or(false)
                && floor
                    .table(t as usize)
                    .is_some_and(|s| s.combinable && i64::from(s.capacity) <= limit)
                && !single_mask.get(t as usize).copied().unwrap_or(false)
                && !taken.contains(&t)
        })
        .collect()
}
