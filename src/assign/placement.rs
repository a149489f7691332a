//! Keep combinations open (issue 13): the per-table keep-open costs of a restaurant's
//! floor under a strategy's combination rules, from the floor's structure and the
//! restaurant's party-size mix (planner `placement`). Cached per backend by floor
//! version and rules, refreshed every [`MIX_TTL`] as the mix drifts slowly.

use crate::error::Result;
use crate::postgres::floor_cache::CachedFloor;
use crate::postgres::seating;
use crate::strategy::Strategy;
use autoassign_planner::placement::{blend_mix, keep_open_costs};
use pgrx::Uuid;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a computed mix and its costs are reused.
pub const MIX_TTL: Duration = Duration::from_secs(600);
/// Restaurants kept (a pooled backend serves many; the oldest entry goes).
const CACHE_CAP: usize = 256;

type Key = (Uuid, i64, u8, i32, bool);

thread_local! {
    static CACHE: RefCell<HashMap<Key, (Instant, Vec<i64>)>> = RefCell::new(HashMap::new());
}

/// The keep-open costs for `restaurant` on `floor` under `strategy`'s rules.
pub fn keep_open(restaurant: Uuid, floor: &CachedFloor, strategy: &Strategy) -> Result<Vec<i64>> {
    let key: Key = (
        restaurant,
        floor.version,
        strategy.max_tables,
        strategy.max_overage,
        strategy.require_adjacency,
    );
    let hit = CACHE.with(|c| {
        c.borrow()
            .get(&key)
            .filter(|(at, _)| at.elapsed() < MIX_TTL)
            .map(|(_, v)| v.clone())
    });
    if let Some(v) = hit {
        return Ok(v);
    }
    let mix = blend_mix(&seating::party_counts(restaurant)?);
    let costs = keep_open_costs(
        &floor.floor,
        &mix,
        strategy.max_tables,
        strategy.max_overage,
        strategy.require_adjacency,
        &mut || {
            pgrx::check_for_interrupts!();
        },
    );
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_CAP {
            if let Some(old) = c.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| *k) {
                c.remove(&old);
            }
        }
        c.insert(key, (Instant::now(), costs.clone()));
    });
    Ok(costs)
}
