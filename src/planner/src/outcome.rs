//! Planner outputs: plans, scores, reasons and the outcome.

use serde::Serialize;
use smallvec::SmallVec;

use crate::counters::{Counters, Stage};

/// Score breakdown; lower `total` is better (see the crate docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Score {
    pub total: i64,
    pub wasted: i32,
    pub table_count: i32,
    /// Lookahead cost, already bounded by `lookahead_cap`.
    pub lookahead: i64,
    pub zone_miss: bool,
    /// Sum of the priorities of the plan's tables.
    pub priority: i64,
    /// Sum of the keep-open costs of the plan's tables (0 when `knobs.keep_open` is empty).
    pub keep_open: i64,
}

/// One way to seat the party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Table indices, ascending.
    pub tables: SmallVec<[u32; 6]>,
    pub zone: u32,
    pub seats: i32,
    pub score: Score,
}

impl Plan {
    /// The ranking key: score total, then the sorted table list.
    pub(crate) fn rank_cmp(&self, other: &Plan) -> std::cmp::Ordering {
        self.score
            .total
            .cmp(&other.score.total)
            .then_with(|| self.tables.as_slice().cmp(other.tables.as_slice()))
    }
}

/// Why no plan (or not the full answer) was returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Reason {
    NoCapacity,
    NoFit,
    Timeout,
    PartyExceedsFloor,
    InvalidRequest,
}

impl Reason {
    /// Stable reason code (SPEC §8).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoCapacity => "no_capacity",
            Reason::NoFit => "no_fit",
            Reason::Timeout => "timeout",
            Reason::PartyExceedsFloor => "party_exceeds_floor",
            Reason::InvalidRequest => "invalid_request",
        }
    }

    /// Reason class (SPEC §8): `capacity`, `transient` or `hard`.
    pub fn class(&self) -> &'static str {
        match self {
            Reason::NoCapacity | Reason::NoFit => "capacity",
            Reason::Timeout => "transient",
            Reason::PartyExceedsFloor | Reason::InvalidRequest => "hard",
        }
    }
}

/// Everything one planner run produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Best first, at most `1 + max_alternates`.
    pub plans: Vec<Plan>,
    /// `None` iff `plans` is non-empty, except `Timeout`, which may come with
    /// the best plans found so far.
    pub reason: Option<Reason>,
    pub counters: Counters,
    pub stages: Vec<Stage>,
    /// Seats of the free tables in the eligible zones.
    pub free_seats: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_and_classes() {
        let all = [
            (Reason::NoCapacity, "no_capacity", "capacity"),
            (Reason::NoFit, "no_fit", "capacity"),
            (Reason::Timeout, "timeout", "transient"),
            (Reason::PartyExceedsFloor, "party_exceeds_floor", "hard"),
            (Reason::InvalidRequest, "invalid_request", "hard"),
        ];
        for (r, code, class) in all {
            assert_eq!(r.code(), code);
            assert_eq!(r.class(), class);
        }
    }
}
