//! Proptest strategies shared by the property tests.

use autoassign_planner::TableSpec;
use proptest::prelude::*;

/// A random table: capacity 1..10, min/max party around it, mostly active and
/// combinable, priority 0..5, in one of `zones` zones.
pub fn table_strategy(zones: u32) -> impl Strategy<Value = TableSpec> {
    (
        0..zones,
        1i32..=10,
        0i32..=6,
        -3i32..=2,
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.85),
        0i32..=5,
    )
        .prop_map(
            |(zone, capacity, min_off, max_off, active, combinable, priority)| {
                let min_party = (capacity - min_off).max(1);
                let max_party = (capacity + max_off).max(1);
                TableSpec {
                    zone,
                    capacity,
                    min_party,
                    max_party,
                    active,
                    combinable,
                    priority,
                }
            },
        )
}
