//! Diagnostics: counters for telemetry and stages for EXPLAIN.

use serde::Serialize;

/// What the planner did, for telemetry payloads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Tables examined by the filter stage (all tables of the floor).
    pub tables_considered: u32,
    pub pruned_inactive: u32,
    pub pruned_busy: u32,
    pub pruned_avoided: u32,
    /// Outside `zone_restrict`.
    pub pruned_zone: u32,
    /// Free tables that seat the party alone.
    pub single_fits: u32,
    /// Zones searched for multi-table plans.
    pub zones_considered: u32,
    /// Zones skipped because their best `max_tables` free combinable tables seat too few.
    pub zones_pruned_capacity: u32,
    /// Table sets visited by the multi-table enumeration.
    pub combinations_tried: u64,
    pub cut_upper_bound: u64,
    pub cut_overage: u64,
    pub cut_valid_superset: u64,
    /// Subtrees (and zones) cut because no plan in them could make the kept list.
    pub cut_score_bound: u64,
    /// Valid (minimal) plans found, single and multi.
    pub plans_found: u64,
    /// Candidate plans that got a lookahead evaluation.
    pub lookahead_evaluated: u32,
    /// Sum of the (capped) lookahead costs of the evaluated candidates.
    pub lookahead_cost: i64,
    pub deadline_hit: bool,
}

/// One planner stage, for `autoassign_explain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub name: &'static str,
    pub kept: u64,
    pub pruned: u64,
    pub note: String,
}

impl Stage {
    pub(crate) fn new(name: &'static str, kept: u64, pruned: u64, note: String) -> Stage {
        Stage {
            name,
            kept,
            pruned,
            note,
        }
    }
}
