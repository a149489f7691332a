//! Keep combinations open (issue 13): the per-table keep-open costs of a restaurant's
//! floor under a strategy's combination rules, from the floor's structure and the
//! restaurant's party-size mix (planner `placement`). Cached per backend by floor
//! version and rules, refreshed every [`MIX_TTL`] as the mix drifts slowly.

use crate::error::Result;
use crate::postgres::floor_cache::{fit_to_setting, new_lru, CachedFloor};
use crate::postgres::seating;
use crate::strategy::Strategy;
use autoassign_planner::placement::{blend_mix, keep_open_costs};
use lru::LruCache;
use pgrx::Uuid;
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// How long a computed mix and its costs are reused.
pub const MIX_TTL: Duration = Duration::from_secs(600);
type Key = (Uuid, i64, u8, i32, bool);

thread_local! {
    /// Least recently used (restaurant, rules) entries, as many as floors are cached
    /// (`autoassign.floor_cache_size`): a pooled backend that keeps 2,000 floors keeps
    /// their keep-open costs too (with a smaller fixed cap, a round-robin over many
    /// restaurants recomputed the mix on every call, issue 11).
    static CACHE: RefCell<LruCache<Key, (Instant, Vec<i64>)>> =
        RefCell::new(new_lru());
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
        let mut c = c.borrow_mut();
        fit_to_setting(&mut c);
        c.get(&key)
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
    CACHE.with(|c| c.borrow_mut().put(key, (Instant::now(), costs.clone())));
    Ok(costs)
}
