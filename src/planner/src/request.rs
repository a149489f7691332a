//! Planner inputs: the request, its knobs and weights, busy intervals and
//! pending bookings, plus request validation.

use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::floor::Floor;

/// Timestamps as microseconds since any fixed epoch.
pub type Micros = i64;

/// Table `table` is occupied during the half-open interval `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    pub table: u32,
    pub start: Micros,
    pub end: Micros,
}

impl Busy {
    /// Half-open overlap with `[start, end)`; touching intervals do not overlap.
    pub fn overlaps(&self, start: Micros, end: Micros) -> bool {
        self.start < end && start < self.end
    }
}

/// Score weights (see the crate docs for the formula).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Weights {
    pub waste: i64,
    pub tables: i64,
    pub lookahead: i64,
    pub zone: i64,
    pub priority: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            waste: 1000,
            tables: 300,
            lookahead: 100,
            zone: 20,
            priority: 1,
        }
    }
}

/// Strategy knobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Knobs {
    /// Largest number of tables in one plan, `1..=6`.
    pub max_tables: u8,
    /// Multi-table plans must be connected in the adjacency graph.
    pub require_adjacency: bool,
    /// Seats allowed over the party in a multi-table plan.
    pub max_overage: i32,
    /// Only search this zone.
    pub zone_restrict: Option<u32>,
    /// Tables never to use.
    pub avoid: Vec<u32>,
    /// Planner time budget; past it the planner returns `Timeout`.
    pub deadline: Option<Duration>,
    /// Disable all pruning (same answer, slower; used to measure the pruning).
    pub exhaustive: bool,
    pub weights: Weights,
    /// Alternates returned after the best plan.
    pub max_alternates: usize,
    /// Upper bound on the lookahead cost of one plan.
    pub lookahead_cap: i64,
    /// Per-table keep-open cost (`placement::keep_open_costs`, each in
    /// `0..=placement::KEEP_OPEN_MAX`), added to a plan's score as the sum over its
    /// tables. Empty: off (cost 0).
    pub keep_open: Vec<i64>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            max_tables: 3,
            require_adjacency: true,
            max_overage: 4,
            zone_restrict: None,
            avoid: Vec::new(),
            deadline: None,
            exhaustive: false,
            weights: Weights::default(),
            max_alternates: 3,
            lookahead_cap: 1000,
            keep_open: Vec::new(),
        }
    }
}

/// The booking to plan. `end` already includes the turnover buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub party: i32,
    pub start: Micros,
    pub end: Micros,
    /// Preferred zone (ranking only).
    pub requested_zone: Option<u32>,
    pub knobs: Knobs,
}

/// Another pending booking inside the lookahead horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub party: i32,
    pub start: Micros,
    pub end: Micros,
    pub requested_zone: Option<u32>,
}

/// Why a request is invalid.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("max_tables must be between 1 and 6, got {0}")]
    MaxTables(u8),
    #[error("party must be positive, got {0}")]
    Party(i32),
    #[error("end ({end}) must be after start ({start})")]
    Window { start: Micros, end: Micros },
    #[error("max_overage must not be negative, got {0}")]
    MaxOverage(i32),
    #[error("lookahead_cap must not be negative, got {0}")]
    LookaheadCap(i64),
    #[error("zone_restrict {zone} is outside 0..{zone_count}")]
    ZoneRestrict { zone: u32, zone_count: u32 },
    #[error("requested_zone {zone} is outside 0..{zone_count}")]
    RequestedZone { zone: u32, zone_count: u32 },
    #[error("avoid table {table} is outside 0..{table_count}")]
    Avoid { table: u32, table_count: usize },
}

/// Checks a request against the floor.
pub fn validate(req: &Request, floor: &Floor) -> Result<(), RequestError> {
    let k = &req.knobs;
    if !(1..=6).contains(&k.max_tables) {
        return Err(RequestError::MaxTables(k.max_tables));
    }
    if req.party <= 0 {
        return Err(RequestError::Party(req.party));
    }
    if req.end <= req.start {
        return Err(RequestError::Window {
            start: req.start,
            end: req.end,
        });
    }
    if k.max_overage < 0 {
        return Err(RequestError::MaxOverage(k.max_overage));
    }
    if k.lookahead_cap < 0 {
        return Err(RequestError::LookaheadCap(k.lookahead_cap));
    }
    let zone_count = floor.zone_count();
    if let Some(zone) = k.zone_restrict {
        if zone >= zone_count {
            return Err(RequestError::ZoneRestrict { zone, zone_count });
        }
    }
    if let Some(zone) = req.requested_zone {
        if zone >= zone_count {
            return Err(RequestError::RequestedZone { zone, zone_count });
        }
    }
    let table_count = floor.tables().len();
    if let Some(&table) = k.avoid.iter().find(|&&a| a as usize >= table_count) {
        return Err(RequestError::Avoid { table, table_count });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::TableSpec;

    fn floor() -> Floor {
        let t = TableSpec {
            zone: 0,
            capacity: 4,
            min_party: 1,
            max_party: 4,
            active: true,
            combinable: true,
            priority: 0,
        };
        match Floor::new(vec![t.clone(), t], 2, &[(0, 1)]) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    fn req() -> Request {
        Request {
            party: 2,
            start: 0,
            end: 10,
            requested_zone: None,
            knobs: Knobs::default(),
        }
    }

    #[test]
    fn touching_is_not_overlap() {
        let b = Busy {
            table: 0,
            start: 10,
            end: 20,
        };
        assert!(!b.overlaps(0, 10));
        assert!(!b.overlaps(20, 30));
        assert!(b.overlaps(19, 30));
        assert!(b.overlaps(0, 11));
        assert!(b.overlaps(12, 13));
    }

    #[test]
    fn validation() {
        let f = floor();
        assert_eq!(validate(&req(), &f), Ok(()));
        let mut r = req();
        r.knobs.max_tables = 0;
        assert_eq!(validate(&r, &f), Err(RequestError::MaxTables(0)));
        r.knobs.max_tables = 7;
        assert_eq!(validate(&r, &f), Err(RequestError::MaxTables(7)));
        let mut r = req();
        r.party = 0;
        assert_eq!(validate(&r, &f), Err(RequestError::Party(0)));
        let mut r = req();
        r.end = r.start;
        assert!(matches!(validate(&r, &f), Err(RequestError::Window { .. })));
        let mut r = req();
        r.knobs.max_overage = -1;
        assert_eq!(validate(&r, &f), Err(RequestError::MaxOverage(-1)));
        let mut r = req();
        r.knobs.zone_restrict = Some(2);
        assert!(matches!(
            validate(&r, &f),
            Err(RequestError::ZoneRestrict { zone: 2, .. })
        ));
        let mut r = req();
        r.requested_zone = Some(5);
        assert!(matches!(
            validate(&r, &f),
            Err(RequestError::RequestedZone { zone: 5, .. })
        ));
        let mut r = req();
        r.knobs.avoid = vec![1, 2];
        assert!(matches!(
            validate(&r, &f),
            Err(RequestError::Avoid { table: 2, .. })
        ));
        let mut r = req();
        r.knobs.lookahead_cap = -5;
        assert_eq!(validate(&r, &f), Err(RequestError::LookaheadCap(-5)));
    }
}
