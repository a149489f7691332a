//! The planner pipeline: filter, single tables, zone pruning, combinations,
//! lookahead, rank.

use crate::capacity::busy_mask;
use crate::counters::{Counters, Stage};
use crate::enumerate::{Bounds, Finish, ScoreCut, SearchStats, Visit, ZoneSearch};
use crate::floor::Floor;
use crate::lookahead::{Lookahead, TOP_K};
use crate::outcome::{Outcome, Plan, Reason};
use crate::request::{validate, Busy, Pending, Request};
use crate::rules::{is_minimal, single_fits};
use crate::score::{make_plan_open, rank, total, TopPlans};
use crate::ticker::Ticker;
use smallvec::smallvec;

fn add_stats(c: &mut Counters, s: &SearchStats) {
    c.combinations_tried = c.combinations_tried.saturating_add(s.tried);
    c.cut_upper_bound = c.cut_upper_bound.saturating_add(s.cut_upper_bound);
    c.cut_overage = c.cut_overage.saturating_add(s.cut_overage);
    c.cut_valid_superset = c.cut_valid_superset.saturating_add(s.cut_valid_superset);
    c.cut_score_bound = c.cut_score_bound.saturating_add(s.cut_score_bound);
}

/// Plans `req` on `floor` given the `busy` intervals and the `pending` bookings
/// of the lookahead horizon. `interrupt` is called at least once per 1024 units
/// of work (and once per stage); it may unwind.
pub fn plan(
    floor: &Floor,
    busy: &[Busy],
    req: &Request,
    pending: &[Pending],
    interrupt: &mut dyn FnMut(),
) -> Outcome {
    let mut ticker = Ticker::new(interrupt, req.knobs.deadline);
    let mut out = Outcome::default();
    let n = floor.tables().len();
    out.stages.push(Stage::new(
        "load_floor",
        n as u64,
        0,
        format!(
            "{} tables, {} zones, {} adjacency edges",
            n,
            floor.zone_count(),
            floor.edge_count()
        ),
    ));
    if let Err(e) = validate(req, floor) {
        out.reason = Some(Reason::InvalidRequest);
        out.stages.push(Stage::new(
            "validate",
            0,
            0,
            format!("invalid request: {e}"),
        ));
        return out;
    }
    if !ticker.check_now() {
        return timed_out(out, Vec::new());
    }
    let k = &req.knobs;
    let c = &mut out.counters;

    // filter_tables
    let bm = busy_mask(floor, busy, req.start, req.end);
    let mut avoid = vec![false; n];
    for &a in &k.avoid {
        if let Some(x) = avoid.get_mut(a as usize) {
            *x = true;
        }
    }
    let mut free = vec![false; n];
    for (t, spec) in floor.tables().iter().enumerate() {
        c.tables_considered += 1;
        if !spec.active {
            c.pruned_inactive += 1;
        } else if k.zone_restrict.is_some_and(|z| z != spec.zone) {
            c.pruned_zone += 1;
        } else if avoid.get(t).copied().unwrap_or(false) {
            c.pruned_avoided += 1;
        } else if bm.get(t).copied().unwrap_or(false) {
            c.pruned_busy += 1;
        } else if let Some(f) = free.get_mut(t) {
            *f = true;
            out.free_seats += i64::from(spec.capacity);
        }
    }
    let free_count = free.iter().filter(|&&f| f).count() as u64;
    out.stages.push(Stage::new(
        "filter_tables",
        free_count,
        n as u64 - free_count,
        format!(
            "inactive {}, outside zone {}, avoided {}, busy {}; {} free seats",
            c.pruned_inactive, c.pruned_zone, c.pruned_avoided, c.pruned_busy, out.free_seats
        ),
    ));

    // Keep enough candidates for the lookahead re-rank.
    let want = k.max_alternates.saturating_add(1);
    let use_lookahead = !pending.is_empty() && k.weights.lookahead != 0 && k.lookahead_cap > 0;
    let keep = if use_lookahead { want.max(TOP_K) } else { want };
    let mut top = TopPlans::new(keep);

    // single_tables
    let mut single_ok = vec![false; n];
    for (t, spec) in floor.tables().iter().enumerate() {
        if free.get(t).copied().unwrap_or(false) && single_fits(spec, req.party) {
            if let Some(s) = single_ok.get_mut(t) {
                *s = true;
            }
            c.single_fits += 1;
            top.insert(make_plan_open(
                floor,
                &smallvec![t as u32],
                req.party,
                req.requested_zone,
                &k.weights,
                &k.keep_open,
            ));
        }
    }
    c.plans_found += u64::from(c.single_fits);
    out.stages.push(Stage::new(
        "single_tables",
        u64::from(c.single_fits),
        free_count - u64::from(c.single_fits),
        format!("{} free tables seat {} alone", c.single_fits, req.party),
    ));

    // zone_capacity + combinations
    let party = i64::from(req.party);
    let limit = party + i64::from(k.max_overage);
    let bounds = Bounds {
        party,
        limit,
        max_tables: usize::from(k.max_tables),
        adjacency: k.require_adjacency,
        prune: !k.exhaustive,
    };
    let mut stats = SearchStats::default();
    let mut multi_found = 0u64;
    let mut timed = false;
    let w = &k.weights;
    let score_bound_ok = !k.exhaustive && w.waste >= 0 && w.tables >= 0 && w.priority >= 0;
    let threshold = std::cell::Cell::new(top.threshold());
    if k.max_tables >= 2 {
        let zones: Vec<u32> = match k.zone_restrict {
            Some(z) => vec![z],
            None => (0..floor.zone_count()).collect(),
        };
        for z in zones {
            let members: Vec<u32> = floor
                .zone_tables(z)
                .iter()
                .copied()
                .filter(|&t| {
                    let tu = t as usize;
                    free.get(tu).copied().unwrap_or(false)
                        && floor.table(tu).is_some_and(|s| {
                            s.combinable
                                && (k.exhaustive
                                    || (i64::from(s.capacity) <= limit
                                        && !single_ok.get(tu).copied().unwrap_or(false)))
                        })
                })
                .collect();
            if members.len() < 2 {
                continue;
            }
            let zs = ZoneSearch::new(floor, &members, bounds);
            if !k.exhaustive && zs.capacity_bound() < party {
                c.zones_pruned_capacity += 1;
                continue;
            }
            let score_cut = score_bound_ok.then(|| ScoreCut {
                tables_w: w.tables,
                priority_w: w.priority,
                zone_term: if req.requested_zone.is_some_and(|r| r != z) {
                    w.zone
                } else {
                    0
                },
                threshold: &threshold,
            });
            if let Some(sc) = &score_cut {
                if zs.zone_score_floor(sc) > threshold.get() {
                    stats.cut_score_bound += 1;
                    continue;
                }
            }
            c.zones_considered += 1;
            let is_single = |t: u32| single_ok.get(t as usize).copied().unwrap_or(false);
            let fin = zs.run(&mut ticker, &mut stats, score_cut, &mut |set, seats| {
                if is_minimal(floor, set, seats, party, k.require_adjacency, &is_single) {
                    multi_found += 1;
                    top.insert(make_plan_open(
                        floor,
                        set,
                        req.party,
                        req.requested_zone,
                        w,
                        &k.keep_open,
                    ));
                    threshold.set(top.threshold());
                }
                Visit::Continue
            });
            if fin == Finish::TimedOut {
                timed = true;
                break;
            }
        }
    }
    add_stats(c, &stats);
    c.plans_found += multi_found;
    out.stages.push(Stage::new(
        "zone_capacity",
        u64::from(c.zones_considered),
        u64::from(c.zones_pruned_capacity),
        if k.max_tables < 2 {
            "max_tables = 1: no multi-table search".to_string()
        } else {
            format!(
                "{} zones searched, {} skipped: best {} free combinable tables seat fewer than {}",
                c.zones_considered, c.zones_pruned_capacity, k.max_tables, req.party
            )
        },
    ));
    out.stages.push(Stage::new(
        "combinations",
        multi_found,
        stats
            .cut_upper_bound
            .saturating_add(stats.cut_overage)
            .saturating_add(stats.cut_valid_superset)
            .saturating_add(stats.cut_score_bound),
        format!(
            "{} table sets visited{}; cuts: upper bound {}, overage {}, valid superset {}, score bound {}",
            stats.tried,
            if k.exhaustive { " (exhaustive)" } else { "" },
            stats.cut_upper_bound,
            stats.cut_overage,
            stats.cut_valid_superset,
            stats.cut_score_bound
        ),
    ));
    let mut plans = top.into_vec();
    if timed || !ticker.check_now() {
        plans.truncate(want);
        return timed_out(out, plans);
    }

    // lookahead
    if use_lookahead && !plans.is_empty() {
        let mut ls = SearchStats::default();
        let mut la = Lookahead::prepare(floor, busy, req, pending, &mut ticker, &mut ls);
        let mut ok = la.is_ok();
        if let Ok(la) = &mut la {
            let mut evaluated = 0u32;
            let mut total_cost = 0i64;
            for p in plans.iter_mut() {
                match la.cost(floor, p, k.lookahead_cap, &mut ticker, &mut ls) {
                    Ok(cost) => {
                        p.score.lookahead = cost;
                        p.score.total = total(&p.score, &k.weights);
                        evaluated += 1;
                        total_cost = total_cost.saturating_add(cost);
                    }
                    Err(()) => {
                        ok = false;
                        break;
                    }
                }
            }
            out.counters.lookahead_evaluated = evaluated;
            out.counters.lookahead_cost = total_cost;
            out.stages.push(Stage::new(
                "lookahead",
                u64::from(evaluated),
                0,
                format!(
                    "{} pending bookings overlap; total cost {} over {} candidates ({} sets visited)",
                    la.pending_count(),
                    total_cost,
                    evaluated,
                    ls.tried
                ),
            ));
        }
        if !ok {
            for p in plans.iter_mut() {
                p.score.lookahead = 0;
                p.score.total = total(&p.score, &k.weights);
            }
            rank(&mut plans);
            plans.truncate(want);
            return timed_out(out, plans);
        }
        rank(&mut plans);
    } else {
        out.stages.push(Stage::new(
            "lookahead",
            0,
            0,
            if pending.is_empty() {
                "no pending bookings".to_string()
            } else if !use_lookahead {
                "lookahead disabled (weight or cap is 0)".to_string()
            } else {
                "no plan to protect pending bookings from".to_string()
            },
        ));
    }

    // rank
    let found = plans.len() as u64;
    plans.truncate(want);
    out.stages.push(Stage::new(
        "rank",
        plans.len() as u64,
        found - plans.len() as u64,
        match plans.first() {
            Some(p) => format!(
                "best score {} on tables {:?}",
                p.score.total,
                p.tables.as_slice()
            ),
            None => "no plan".to_string(),
        },
    ));
    if plans.is_empty() {
        out.reason = Some(no_plan_reason(floor, req, out.free_seats));
    }
    out.plans = plans;
    out
}

fn timed_out(mut out: Outcome, plans: Vec<Plan>) -> Outcome {
    out.counters.deadline_hit = true;
    out.reason = Some(Reason::Timeout);
    out.stages.push(Stage::new(
        "rank",
        plans.len() as u64,
        0,
        "deadline reached: best plans found so far".to_string(),
    ));
    out.plans = plans;
    out
}

fn no_plan_reason(floor: &Floor, req: &Request, free_seats: i64) -> Reason {
    let eligible = |z: u32| req.knobs.zone_restrict.is_none_or(|r| r == z);
    let biggest_zone = (0..floor.zone_count())
        .filter(|&z| eligible(z))
        .map(|z| floor.zone_active_seats(z))
        .max()
        .unwrap_or(0);
    let some_single = floor
        .tables()
        .iter()
        .any(|t| t.active && eligible(t.zone) && t.max_party >= req.party);
    if i64::from(req.party) > biggest_zone && !some_single {
        Reason::PartyExceedsFloor
    } else if free_seats < i64::from(req.party) {
        Reason::NoCapacity
    } else {
        Reason::NoFit
    }
}
