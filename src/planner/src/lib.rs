//! # autoassign_planner
//!
//! The pure-Rust planner core of `pg_autoassign`: given a floor (tables, zones,
//! adjacency), the busy intervals and a booking request, it returns the best
//! table plans, best first. No pgrx, no SPI, no I/O.
//!
//! ## Rules (SPEC §2)
//!
//! * A table is **free** when it is active, no [`Busy`] interval of it overlaps
//!   the half-open request window `[start, end)` (touching is free), it is not in
//!   `knobs.avoid`, and it lies in `knobs.zone_restrict` when that is set.
//! * **Single-table plan**: a free table with `min_party <= party <= max_party`.
//! * **Multi-table plan** (`max_tables >= 2`): 2..=`max_tables` free, combinable
//!   tables of one zone, connected in the adjacency subgraph they induce (when
//!   `require_adjacency`), seating `party <= seats <= party + max_overage`.
//! * **Minimality**: a plan never contains a proper subset that is itself a valid
//!   plan (a party never gets a table it does not need). Such supersets always
//!   waste more seats and use more tables, so with realistic priorities this
//!   changes nothing about the best plan; it keeps the alternates meaningful and
//!   makes the search cut `cut_valid_superset` exact.
//!
//! ## Score (lower is better)
//!
//! ```text
//! total = waste     * wasted                      (seats - party, >= 0)
//!       + tables    * (table_count - 1)
//!       + lookahead * min(lookahead_cost, lookahead_cap)
//!       + zone      * (requested_zone is Some and plan.zone != requested_zone)
//!       - priority  * sum(priority of the plan's tables)
//! ```
//!
//! with [`Weights`] defaults `waste 1000, tables 300, lookahead 100, zone 20,
//! priority 1` (all arithmetic saturating). Ties are broken by the sorted table
//! index list, lexicographically, so output is deterministic.
//!
//! **Lookahead** (only when `pending` is non-empty and the lookahead weight and
//! cap are non-zero): the best `max(8, 1 + max_alternates)` candidates by score
//! without lookahead are re-scored. For each pending booking overlapping the
//! request window (the 32 starting nearest the request's start): if it can be seated now but not once the
//! candidate's tables are also busy, +100; else if the candidate takes its best
//! single table and no single table is left for it, +10. Pending bookings use the
//! request's `max_tables`, `require_adjacency` and `max_overage`, no avoid list and
//! no zone restriction.
//!
//! ## Search
//!
//! Per zone, connected sets are enumerated with ESU (each set exactly once) and
//! branch-and-bound: overage cut, upper-bound cut, valid-superset cut, and zone
//! pruning on the seats of the `max_tables` largest free combinable tables, and
//! a score bound (a subtree whose best conceivable score is worse than the
//! worst kept plan is skipped; only with non-negative waste/tables/priority
//! weights).
//! `knobs.exhaustive` turns every cut off and filters at the end; it returns the
//! same plans, only slower.
//!
//! ## Reasons when there is no plan
//!
//! `party_exceeds_floor` when the party exceeds every eligible zone's active seats
//! and every active table's `max_party`; else `no_capacity` when the free seats of
//! the eligible zones are fewer than the party; else `no_fit`. `timeout` when the
//! deadline passed (possibly with the best plans found so far), `invalid_request`
//! when [`validate`] fails.

pub mod alternatives;
mod bitset;
mod capacity;
mod counters;
mod enumerate;
mod floor;
mod lookahead;
mod lookahead_ref;
mod outcome;
pub mod placement;
mod planner;
pub mod reassign;
mod request;
pub mod retry;
mod rules;
mod score;
pub mod testkit;
mod ticker;

#[cfg(test)]
mod planner_tests;

pub use bitset::BitSet;
pub use capacity::{free_capacity, ZoneCapacity};
pub use counters::{Counters, Stage};
pub use floor::{Floor, FloorError, TableSpec, MAX_TABLES, MAX_ZONES};
pub use lookahead::MAX_PENDING as LOOKAHEAD_PENDING;
pub use outcome::{Outcome, Plan, Reason, Score};
pub use planner::plan;
pub use request::{validate, Busy, Knobs, Micros, Pending, Request, RequestError, Weights};
pub use rules::{check_seating, SeatingProblem};
