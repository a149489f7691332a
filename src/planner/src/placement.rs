//! Keep combinations open: a per-table cost that makes a party prefer tables whose
//! use breaks no combination a larger party will need.
//!
//! Driven by the floor's structure and the restaurant's party-size mix, not by
//! weights tuned per floor:
//!
//! * for every party size `p` of the mix (share `w_p`, summing to 1), the
//!   *combinations* of `p` are the connected sets of 2..=`min(max_tables, 3)` combinable
//!   tables of one zone that seat `p..=p + max_overage` and contain no table that
//!   seats `p` alone (on an empty floor);
//! * a table's raw cost is `sum_p w_p * (combinations of p containing it) /
//!   (combinations of p)`: the share of the demand for combined tables that needs it;
//! * costs are scaled so the most needed table costs [`KEEP_OPEN_MAX`] and a table in
//!   no combination (isolated, not combinable, or too big to combine) costs 0.
//!
//! So on a chain of equal tables an end (in fewer sets) costs less than a middle,
//! and an isolated table costs nothing. [`KEEP_OPEN_MAX`] (150) is below the score of
//! one extra table (300) and of one wasted seat (1000): the cost only decides between
//! plans that waste the same seats with the same number of tables.
//!
//! The mix comes from the restaurant's past bookings blended with [`PRIOR_MIX`]
//! weighted as [`PRIOR_BOOKINGS`] bookings, so a new restaurant starts from the prior
//! and its own mix takes over as bookings accumulate ([`blend_mix`]).

use std::time::Instant;

use crate::floor::Floor;
use crate::planner::plan;
use crate::reassign::{Movable, Move};
use crate::request::{Busy, Knobs, Micros, Request};

/// The cost of the most needed table, in score units.
pub const KEEP_OPEN_MAX: i64 = 150;

/// Party-size shares for a restaurant without history: (party, share), summing to 1.
/// A typical casual-dining mix (two-tops dominate, large parties are rare).
pub const PRIOR_MIX: &[(i32, f64)] = &[
    (1, 0.04),
    (2, 0.44),
    (3, 0.12),
    (4, 0.22),
    (5, 0.06),
    (6, 0.06),
    (7, 0.02),
    (8, 0.02),
    (10, 0.02),
];

/// How many bookings the prior counts as in [`blend_mix`].
pub const PRIOR_BOOKINGS: f64 = 50.0;

/// Largest combination the costs look at: parties that need more tables are rare, and
/// the sets of a dense zone grow as `n^k`.
pub const MAX_SET_TABLES: usize = 3;

/// Enumeration cap on connected sets per zone (keeps dense zones bounded; beyond it the
/// costs are computed from the sets seen so far, smallest sets first).
pub const MAX_SETS_PER_ZONE: usize = 20_000;

/// Blends the restaurant's own party-size counts `(party, bookings)` with
/// [`PRIOR_MIX`] weighted as [`PRIOR_BOOKINGS`] bookings. Returns (party, share),
/// shares summing to 1, ascending by party. Non-positive parties and counts are ignored.
pub fn blend_mix(counts: &[(i32, i64)]) -> Vec<(i32, f64)> {
    let mut by_party: std::collections::BTreeMap<i32, f64> = std::collections::BTreeMap::new();
    for &(p, share) in PRIOR_MIX {
        *by_party.entry(p).or_default() += share * PRIOR_BOOKINGS;
    }
    for &(p, n) in counts {
        if p > 0 && n > 0 {
            *by_party.entry(p).or_default() += n as f64;
        }
    }
    let total: f64 = by_party.values().sum();
    by_party
        .into_iter()
        .map(|(p, n)| (p, if total > 0.0 { n / total } else { 0.0 }))
        .collect()
}

/// Connected sets of 2..=`max_tables` of `members` (one zone's combinable, active
/// tables) in the adjacency graph (or any sets when `!adjacency`), each exactly once
/// (ESU: a set is grown only from its smallest table, through the exclusive
/// neighbourhood), as lists in discovery order. Stops after [`MAX_SETS_PER_ZONE`].
fn connected_sets(
    floor: &Floor,
    members: &[u32],
    max_tables: usize,
    adjacency: bool,
    interrupt: &mut dyn FnMut(),
) -> Vec<Vec<u32>> {
    let n = floor.tables().len();
    let mut member = vec![false; n];
    for &m in members {
        if let Some(x) = member.get_mut(m as usize) {
            *x = true;
        }
    }
    struct Walk<'a> {
        floor: &'a Floor,
        member: Vec<bool>,
        members: &'a [u32],
        k: usize,
        adjacency: bool,
        out: Vec<Vec<u32>>,
        interrupt: &'a mut dyn FnMut(),
    }
    fn emit(w: &mut Walk<'_>, sub: &[u32]) -> bool {
        if sub.len() >= 2 {
            if w.out.len().is_multiple_of(1024) {
                (w.interrupt)();
            }
            w.out.push(sub.to_vec());
            if w.out.len() >= MAX_SETS_PER_ZONE {
                return false;
            }
        }
        true
    }
    fn esu(w: &mut Walk<'_>, sub: &mut Vec<u32>, mut ext: Vec<u32>, v: u32) -> bool {
        if !emit(w, sub) {
            return false;
        }
        if sub.len() >= w.k {
            return true;
        }
        while let Some(x) = ext.pop() {
            if sub.len() + 1 >= w.k {
                // a leaf: emit it without building an extension it will not use
                sub.push(x);
                let go = emit(w, sub);
                sub.pop();
                if !go {
                    return false;
                }
                continue;
            }
            let mut next = ext.clone();
            for u in w.floor.neighbours(x as usize) {
                let u32_ = u as u32;
                if u32_ > v
                    && w.member.get(u).copied().unwrap_or(false)
                    && !sub.contains(&u32_)
                    && !sub.iter().any(|&s| w.floor.adjacent(s as usize, u))
                {
                    next.push(u32_);
                }
            }
            sub.push(x);
            let go = esu(w, sub, next, v);
            sub.pop();
            if !go {
                return false;
            }
        }
        true
    }
    fn combos(w: &mut Walk<'_>, sub: &mut Vec<u32>, from: usize) -> bool {
        if !emit(w, sub) {
            return false;
        }
        if sub.len() >= w.k {
            return true;
        }
        for i in from..w.members.len() {
            let m = w.members[i];
            sub.push(m);
            let go = combos(w, sub, i + 1);
            sub.pop();
            if !go {
                return false;
            }
        }
        true
    }
    let mut w = Walk {
        floor,
        member,
        members,
        k: max_tables,
        adjacency,
        out: Vec::new(),
        interrupt,
    };
    let mut sub = Vec::new();
    if !w.adjacency {
        combos(&mut w, &mut sub, 0);
        return w.out;
    }
    for &v in members {
        let ext: Vec<u32> = floor
            .neighbours(v as usize)
            .filter(|&u| u as u32 > v && w.member.get(u).copied().unwrap_or(false))
            .map(|u| u as u32)
            .collect();
        sub.push(v);
        let go = esu(&mut w, &mut sub, ext, v);
        sub.pop();
        if !go {
            break;
        }
    }
    w.out
}

/// Per-table keep-open costs in `0..=KEEP_OPEN_MAX` (index = table index), from the
/// floor and a party-size `mix` of (party, share). `max_tables`, `max_overage` and
/// `adjacency` are the strategy's combination rules. All zeros when no party of the
/// mix needs a combination. `interrupt` is called about every 1024 sets; it may unwind.
pub fn keep_open_costs(
    floor: &Floor,
    mix: &[(i32, f64)],
    max_tables: u8,
    max_overage: i32,
    adjacency: bool,
    interrupt: &mut dyn FnMut(),
) -> Vec<i64> {
    let n = floor.tables().len();
    let mut raw = vec![0f64; n];
    if max_tables < 2 {
        return vec![0; n];
    }
    for z in 0..floor.zone_count() {
        let members: Vec<u32> = floor
            .zone_tables(z)
            .iter()
            .copied()
            .filter(|&t| {
                floor
                    .tables()
                    .get(t as usize)
                    .is_some_and(|s| s.active && s.combinable)
            })
            .collect();
        if members.len() < 2 {
            continue;
        }
        let sets = connected_sets(
            floor,
            &members,
            usize::from(max_tables).min(MAX_SET_TABLES),
            adjacency,
            interrupt,
        );
        let seats: Vec<i64> = sets
            .iter()
            .map(|s| {
                s.iter()
                    .filter_map(|&t| floor.tables().get(t as usize))
                    .map(|x| i64::from(x.capacity))
                    .sum()
            })
            .collect();
        for &(p, share) in mix {
            if share <= 0.0 {
                continue;
            }
            let mut count = vec![0u32; n];
            let mut total = 0u32;
            let (lo, hi) = (i64::from(p), i64::from(p) + i64::from(max_overage));
            for (s, &st) in sets.iter().zip(&seats) {
                if st < lo || st > hi {
                    continue;
                }
                let has_single = s.iter().any(|&t| {
                    floor
                        .tables()
                        .get(t as usize)
                        .is_some_and(|x| x.min_party <= p && p <= x.max_party)
                });
                if has_single {
                    continue;
                }
                total += 1;
                for &t in s {
                    if let Some(c) = count.get_mut(t as usize) {
                        *c += 1;
                    }
                }
            }
            if total == 0 {
                continue;
            }
            for (r, c) in raw.iter_mut().zip(&count) {
                *r += share * f64::from(*c) / f64::from(total);
            }
        }
    }
    let max = raw.iter().copied().fold(0f64, f64::max);
    if max <= 0.0 {
        return vec![0; n];
    }
    raw.iter()
        .map(|r| ((r / max) * KEEP_OPEN_MAX as f64).round() as i64)
        .collect()
}

/// Options of [`repack`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepackOptions {
    /// Start of each slot to keep sellable (microseconds).
    pub slot_starts: Vec<Micros>,
    /// How long a booking sold in a slot would block its tables (stay + turnover).
    pub slot_len: Micros,
    /// Improving moves applied at most (a booking may move more than once; it
    /// counts as one move in the result).
    pub max_steps: usize,
}

/// What [`repack`] did: the moves (original tables to final tables), and the
/// objective before and after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Repack {
    pub moves: Vec<Move>,
    /// Sum over the slots of the seats of the largest free table or combination.
    pub before: i64,
    pub after: i64,
    pub timed_out: bool,
}

/// Seats of the largest free single table or combinable set of `sets` in `[s, e)`.
fn largest_free(
    floor: &Floor,
    sets: &[Vec<u32>],
    busy: &[(u32, Micros, Micros)],
    s: Micros,
    e: Micros,
) -> i64 {
    let n = floor.tables().len();
    let mut free = vec![true; n];
    for (t, bs, be) in busy {
        if *bs < e && s < *be {
            if let Some(f) = free.get_mut(*t as usize) {
                *f = false;
            }
        }
    }
    let mut best = 0i64;
    for (t, spec) in floor.tables().iter().enumerate() {
        if spec.active && free.get(t).copied().unwrap_or(false) {
            best = best.max(i64::from(spec.max_party.min(spec.capacity).max(1)));
        }
    }
    for set in sets {
        if set
            .iter()
            .all(|&t| free.get(t as usize).copied().unwrap_or(false))
        {
            let seats: i64 = set
                .iter()
                .filter_map(|&t| floor.tables().get(t as usize))
                .map(|x| i64::from(x.capacity))
                .sum();
            best = best.max(seats);
        }
    }
    best
}

/// Re-packs the `movable` bookings with `may_move[i]` so the most can still be sold:
/// hill-climbing on the sum over `opts.slot_starts` of the seats of the largest free
/// table or combination (`knobs`' `max_tables` and adjacency rules) during
/// `[slot, slot + slot_len)`. Each step applies the single re-plan of one booking
/// (its plans by the planner, `fixed` and the others as busy) that raises the sum
/// most; it stops when no move raises it, after `max_steps`, or at `knobs.deadline`.
pub fn repack(
    floor: &Floor,
    fixed: &[Busy],
    movable: &[Movable],
    may_move: &[bool],
    knobs: &Knobs,
    opts: &RepackOptions,
    interrupt: &mut dyn FnMut(),
) -> Repack {
    let deadline = knobs.deadline.and_then(|d| Instant::now().checked_add(d));
    let mut sets = Vec::new();
    if knobs.max_tables >= 2 {
        for z in 0..floor.zone_count() {
            let members: Vec<u32> = floor
                .zone_tables(z)
                .iter()
                .copied()
                .filter(|&t| {
                    floor
                        .tables()
                        .get(t as usize)
                        .is_some_and(|s| s.active && s.combinable)
                })
                .collect();
            sets.extend(connected_sets(
                floor,
                &members,
                usize::from(knobs.max_tables),
                knobs.require_adjacency,
                interrupt,
            ));
        }
    }
    let mut cur: Vec<smallvec::SmallVec<[u32; 6]>> =
        movable.iter().map(|m| m.tables.clone()).collect();
    let occupancy = |cur: &[smallvec::SmallVec<[u32; 6]>], skip: Option<usize>| {
        let mut v: Vec<(u32, Micros, Micros)> =
            fixed.iter().map(|b| (b.table, b.start, b.end)).collect();
        for (i, (m, ts)) in movable.iter().zip(cur).enumerate() {
            if Some(i) != skip {
                v.extend(ts.iter().map(|&t| (t, m.start, m.end)));
            }
        }
        v
    };
    let value = |busy: &[(u32, Micros, Micros)], lo: Micros, hi: Micros| -> i64 {
        opts.slot_starts
            .iter()
            .filter(|&&s| s < hi && lo < s + opts.slot_len)
            .map(|&s| largest_free(floor, &sets, busy, s, s + opts.slot_len))
            .sum()
    };
    let all = occupancy(&cur, None);
    let before = value(&all, Micros::MIN, Micros::MAX);
    let mut timed_out = false;
    for _ in 0..opts.max_steps {
        let mut best: Option<(i64, usize, smallvec::SmallVec<[u32; 6]>)> = None;
        for (i, m) in movable.iter().enumerate() {
            if !may_move.get(i).copied().unwrap_or(false) {
                continue;
            }
            interrupt();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                timed_out = true;
                break;
            }
            let others = occupancy(&cur, Some(i));
            let busy: Vec<Busy> = others
                .iter()
                .map(|&(table, start, end)| Busy { table, start, end })
                .collect();
            let req = Request {
                party: m.party,
                start: m.start,
                end: m.end,
                requested_zone: m.requested_zone,
                knobs: Knobs {
                    max_alternates: 15,
                    avoid: Vec::new(),
                    zone_restrict: None,
                    ..knobs.clone()
                },
            };
            let out = plan(floor, &busy, &req, &[], interrupt);
            let mut with_now = others.clone();
            with_now.extend(cur[i].iter().map(|&t| (t, m.start, m.end)));
            let base = value(&with_now, m.start, m.end);
            for p in &out.plans {
                if p.tables == cur[i] {
                    continue;
                }
                let mut with_p = others.clone();
                with_p.extend(p.tables.iter().map(|&t| (t, m.start, m.end)));
                let gain = value(&with_p, m.start, m.end) - base;
                if gain > 0 && best.as_ref().is_none_or(|(g, _, _)| gain > *g) {
                    best = Some((gain, i, p.tables.clone()));
                }
            }
        }
        match best {
            Some((_, i, tables)) if !timed_out => cur[i] = tables,
            _ => break,
        }
    }
    let after = value(&occupancy(&cur, None), Micros::MIN, Micros::MAX);
    let moves = movable
        .iter()
        .zip(&cur)
        .enumerate()
        .filter(|(_, (m, ts))| m.tables != **ts)
        .map(|(i, (m, ts))| Move {
            booking: i,
            from: m.tables.clone(),
            to: ts.clone(),
        })
        .collect();
    Repack {
        moves,
        before,
        after,
        timed_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::TableSpec;

    fn t(zone: u32, cap: i32) -> TableSpec {
        TableSpec {
            zone,
            capacity: cap,
            min_party: 1,
            max_party: cap,
            active: true,
            combinable: true,
            priority: 0,
        }
    }

    #[test]
    fn connected_sets_each_once() {
        // a 4-cycle 0-1-2-3-0 with a chord 0-2: connected sets of size 2..=3
        let f = match Floor::new(
            vec![t(0, 2), t(0, 2), t(0, 2), t(0, 2)],
            1,
            &[(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)],
        ) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let mut sets = connected_sets(&f, &[0, 1, 2, 3], 3, true, &mut || {});
        for s in &mut sets {
            s.sort_unstable();
        }
        sets.sort();
        let n = sets.len();
        sets.dedup();
        assert_eq!(sets.len(), n, "no set twice");
        // 5 edges + all 4 triples (each is connected)
        assert_eq!(n, 9, "{sets:?}");
        let any = connected_sets(&f, &[0, 1, 2, 3], 2, false, &mut || {});
        assert_eq!(any.len(), 6);
    }
}
