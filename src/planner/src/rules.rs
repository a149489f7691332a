//! The seating rules of SPEC §2, as small predicates.

use crate::floor::{Floor, TableSpec};

/// `min_party <= party <= max_party`.
pub(crate) fn single_fits(t: &TableSpec, party: i32) -> bool {
    t.min_party <= party && party <= t.max_party
}

/// True when `set` (global indices, at most 64) induces a connected subgraph.
pub(crate) fn is_connected(floor: &Floor, set: &[u32]) -> bool {
    let n = set.len();
    if n <= 1 {
        return true;
    }
    if n > 64 {
        return false;
    }
    let mut seen: u64 = 1;
    let mut frontier: u64 = 1;
    while frontier != 0 {
        let i = frontier.trailing_zeros() as usize;
        frontier &= frontier - 1;
        for (j, &b) in set.iter().enumerate() {
            let bit = 1u64 << j;
            if seen & bit == 0 {
                if let Some(&a) = set.get(i) {
                    if floor.adjacent(a as usize, b as usize) {
                        seen |= bit;
                        frontier |= bit;
                    }
                }
            }
        }
    }
    seen.count_ones() as usize == n
}

/// A multi-table set in seat range is minimal when no proper subset is itself a
/// valid plan: a lone table that seats the party (`single_ok`), or a connected
/// (when `adjacency`) sub-multiset still seating the party. Only subsets whose
/// removed tables fit in the slack `seats - party` can qualify.
pub(crate) fn is_minimal(
    floor: &Floor,
    set: &[u32],
    seats: i64,
    party: i64,
    adjacency: bool,
    single_ok: &dyn Fn(u32) -> bool,
) -> bool {
    let n = set.len();
    if !(2..=16).contains(&n) {
        return true;
    }
    // A lone table may seat the party even with capacity < party (max_party
    // above capacity), so singles are checked apart from the seat slack.
    if set.iter().any(|&t| single_ok(t)) {
        return false;
    }
    let caps: smallvec::SmallVec<[i64; 6]> = set
        .iter()
        .map(|&t| floor.table(t as usize).map_or(0, |s| i64::from(s.capacity)))
        .collect();
    let slack = seats - party;
    if caps.iter().all(|&c| c > slack) {
        return true;
    }
    let full: u32 = (1u32 << n) - 1;
    // `removed` ranges over the non-empty proper subsets.
    for removed in 1..full {
        let mut rs = 0i64;
        for (i, &c) in caps.iter().enumerate() {
            if removed & (1 << i) != 0 {
                rs += c;
            }
        }
        if rs > slack {
            continue;
        }
        let keep: smallvec::SmallVec<[u32; 6]> = set
            .iter()
            .enumerate()
            .filter(|(i, _)| removed & (1 << i) == 0)
            .map(|(_, &t)| t)
            .collect();
        if keep.len() >= 2 && (!adjacency || is_connected(floor, &keep)) {
            return false;
        }
    }
    true
}

/// Why a booking's current tables no longer seat it (see [`check_seating`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeatingProblem {
    /// The booking holds no tables.
    NoTables,
    /// A table index is not on the floor.
    UnknownTable,
    /// A table is inactive.
    Inactive,
    /// One table, and the party is outside `min_party..=max_party`.
    PartyOutsideTable,
    /// Several tables, and one of them is not combinable.
    NotCombinable,
    /// Several tables in more than one zone.
    SplitAcrossZones,
    /// Several tables seating fewer than the party.
    TooFewSeats,
    /// Several tables that are not connected (when adjacency is required).
    NotConnected,
}

impl SeatingProblem {
    /// A stable code for messages and hints.
    pub fn code(self) -> &'static str {
        match self {
            SeatingProblem::NoTables => "no_tables",
            SeatingProblem::UnknownTable => "unknown_table",
            SeatingProblem::Inactive => "inactive_table",
            SeatingProblem::PartyOutsideTable => "party_outside_table",
            SeatingProblem::NotCombinable => "not_combinable",
            SeatingProblem::SplitAcrossZones => "split_across_zones",
            SeatingProblem::TooFewSeats => "too_few_seats",
            SeatingProblem::NotConnected => "not_connected",
        }
    }
}

/// Does the set of tables (floor indices) still seat `party` under SPEC §2? The rules a
/// plan had to meet when it was made, minus the knobs that only shape the search
/// (`max_tables`, `max_overage`, minimality): a lone table needs
/// `min_party <= party <= max_party`; several need to be active, combinable, in one zone,
/// seat at least the party and, with `require_adjacency`, be connected. Used when the
/// floor or the party changes under a confirmed booking.
pub fn check_seating(
    floor: &Floor,
    tables: &[u32],
    party: i32,
    require_adjacency: bool,
) -> Result<(), SeatingProblem> {
    let specs: Option<Vec<&TableSpec>> = tables.iter().map(|&t| floor.table(t as usize)).collect();
    let specs = specs.ok_or(SeatingProblem::UnknownTable)?;
    match specs.as_slice() {
        [] => Err(SeatingProblem::NoTables),
        _ if specs.iter().any(|t| !t.active) => Err(SeatingProblem::Inactive),
        [one] if single_fits(one, party) => Ok(()),
        [_] => Err(SeatingProblem::PartyOutsideTable),
        many => {
            if many.iter().any(|t| !t.combinable) {
                return Err(SeatingProblem::NotCombinable);
            }
            if many.iter().any(|t| t.zone != many[0].zone) {
                return Err(SeatingProblem::SplitAcrossZones);
            }
            let seats: i64 = many.iter().map(|t| i64::from(t.capacity)).sum();
            if seats < i64::from(party) {
                return Err(SeatingProblem::TooFewSeats);
            }
            if require_adjacency && !is_connected(floor, tables) {
                return Err(SeatingProblem::NotConnected);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor() -> Floor {
        let t = |c: i32, maxp: i32| TableSpec {
            zone: 0,
            capacity: c,
            min_party: 1,
            max_party: maxp,
            active: true,
            combinable: true,
            priority: 0,
        };
        // 0(4) - 1(4) - 2(2), 3(6) isolated
        match Floor::new(
            vec![t(4, 4), t(4, 4), t(2, 2), t(6, 5)],
            1,
            &[(0, 1), (1, 2)],
        ) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn connectivity() {
        let f = floor();
        assert!(is_connected(&f, &[0, 1, 2]));
        assert!(is_connected(&f, &[2]));
        assert!(!is_connected(&f, &[0, 2]));
        assert!(!is_connected(&f, &[0, 3]));
    }

    #[test]
    fn minimality() {
        let f = floor();
        let no_single = |_: u32| false;
        // party 8: {0,1} minimal; {0,1,2} (10 seats) contains {0,1}.
        assert!(is_minimal(&f, &[0, 1], 8, 8, true, &no_single));
        assert!(!is_minimal(&f, &[0, 1, 2], 10, 8, true, &no_single));
        // party 6 without adjacency: {0,2} = 6 is minimal, {0,1} = 8 is minimal too
        assert!(is_minimal(&f, &[0, 2], 6, 6, false, &no_single));
        // party 4: {0,2} contains table 0 which seats 4 alone
        let single = |t: u32| t == 0;
        assert!(!is_minimal(&f, &[0, 2], 6, 4, false, &single));
        assert!(single_fits(&f.tables()[3], 5));
        assert!(!single_fits(&f.tables()[3], 6));
    }

    #[test]
    fn seating_check() {
        let f = floor();
        assert_eq!(check_seating(&f, &[3], 5, true), Ok(()));
        assert_eq!(
            check_seating(&f, &[3], 6, true),
            Err(SeatingProblem::PartyOutsideTable)
        );
        assert_eq!(check_seating(&f, &[0, 1], 8, true), Ok(()));
        assert_eq!(
            check_seating(&f, &[0, 1], 9, true),
            Err(SeatingProblem::TooFewSeats)
        );
        assert_eq!(
            check_seating(&f, &[0, 2], 6, true),
            Err(SeatingProblem::NotConnected)
        );
        assert_eq!(check_seating(&f, &[0, 2], 6, false), Ok(()));
        assert_eq!(
            check_seating(&f, &[], 2, true),
            Err(SeatingProblem::NoTables)
        );
        assert_eq!(
            check_seating(&f, &[9], 2, true),
            Err(SeatingProblem::UnknownTable)
        );
    }
}
