//! Keep combinations open: a per-table cost that makes a party prefer tables whose
//! use breaks no combination a larger party will need.
//!
//! Driven by the floor's structure and the restaurant's party-size mix, not by
//! weights tuned per floor:
//!
//! * for every party size `p` of the mix (share `w_p`, summing to 1), the
//!   *combinations* of `p` are the connected sets of 2..=`max_tables` combinable
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

use std::collections::HashSet;

use crate::floor::Floor;

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

/// Enumeration cap on connected sets per zone (keeps huge zones bounded; beyond it the
/// costs are computed from the sets seen so far).
pub const MAX_SETS_PER_ZONE: usize = 200_000;

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
/// tables) in the adjacency graph (or any sets when `!adjacency`), each once, as
/// sorted lists. Stops after [`MAX_SETS_PER_ZONE`].
fn connected_sets(
    floor: &Floor,
    members: &[u32],
    max_tables: usize,
    adjacency: bool,
) -> Vec<Vec<u32>> {
    let member: HashSet<u32> = members.iter().copied().collect();
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    let mut out = Vec::new();
    let mut frontier: Vec<Vec<u32>> = members.iter().map(|&m| vec![m]).collect();
    for _size in 2..=max_tables {
        let mut next = Vec::new();
        for set in &frontier {
            let cands: Vec<u32> = if adjacency {
                let mut c: Vec<u32> = set
                    .iter()
                    .flat_map(|&t| floor.neighbours(t as usize).map(|x| x as u32))
                    .filter(|x| member.contains(x) && !set.contains(x))
                    .collect();
                c.sort_unstable();
                c.dedup();
                c
            } else {
                members
                    .iter()
                    .copied()
                    .filter(|x| set.last().is_some_and(|l| x > l))
                    .collect()
            };
            for c in cands {
                let mut s = set.clone();
                s.push(c);
                s.sort_unstable();
                if seen.insert(s.clone()) {
                    out.push(s.clone());
                    next.push(s);
                    if out.len() >= MAX_SETS_PER_ZONE {
                        return out;
                    }
                }
            }
        }
        frontier = next;
    }
    out
}

/// Per-table keep-open costs in `0..=KEEP_OPEN_MAX` (index = table index), from the
/// floor and a party-size `mix` of (party, share). `max_tables`, `max_overage` and
/// `adjacency` are the strategy's combination rules. All zeros when no party of the
/// mix needs a combination.
pub fn keep_open_costs(
    floor: &Floor,
    mix: &[(i32, f64)],
    max_tables: u8,
    max_overage: i32,
    adjacency: bool,
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
        let sets = connected_sets(floor, &members, usize::from(max_tables), adjacency);
        for &(p, share) in mix {
            if share <= 0.0 {
                continue;
            }
            let mut count = vec![0u32; n];
            let mut total = 0u32;
            for s in &sets {
                let mut seats = 0i64;
                let mut has_single = false;
                for &t in s {
                    if let Some(spec) = floor.tables().get(t as usize) {
                        seats += i64::from(spec.capacity);
                        has_single |= spec.min_party <= p && p <= spec.max_party;
                    }
                }
                if has_single
                    || seats < i64::from(p)
                    || seats > i64::from(p) + i64::from(max_overage)
                {
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

    /// Zone 0: a chain of four 2-tops 0-1-2-3; zone 1: an isolated 2-top (4).
    fn chain() -> Floor {
        match Floor::new(
            vec![t(0, 2), t(0, 2), t(0, 2), t(0, 2), t(1, 2)],
            2,
            &[(0, 1), (1, 2), (2, 3)],
        ) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn isolated_first_then_chain_ends_then_middles() {
        let f = chain();
        let c = keep_open_costs(&f, &blend_mix(&[]), 3, 2, true);
        assert_eq!(c[4], 0, "isolated table breaks nothing: {c:?}");
        assert!(c[0] > 0 && c[0] == c[3], "{c:?}");
        assert!(
            c[1] > c[0] && c[1] == c[2],
            "middles cost more than ends: {c:?}"
        );
        assert_eq!(c[1], KEEP_OPEN_MAX);
    }

    #[test]
    fn mix_of_only_small_parties_needs_no_combination() {
        let f = chain();
        let mix = vec![(2, 1.0)];
        assert_eq!(keep_open_costs(&f, &mix, 3, 2, true), vec![0; 5]);
        assert_eq!(keep_open_costs(&f, &blend_mix(&[]), 1, 2, true), vec![0; 5]);
    }

    #[test]
    fn blend_moves_from_prior_to_own_mix() {
        let prior = blend_mix(&[]);
        let s: f64 = prior.iter().map(|x| x.1).sum();
        assert!((s - 1.0).abs() < 1e-9);
        let own = blend_mix(&[(6, 100_000)]);
        let six = own.iter().find(|x| x.0 == 6).map_or(0.0, |x| x.1);
        assert!(six > 0.99, "{own:?}");
        assert!(blend_mix(&[(-1, 5), (3, 0)]) == prior);
    }
}
