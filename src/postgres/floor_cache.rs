//! Per-backend cache of each restaurant's floor, keyed by `restaurants.floor_version`.
//!
//! Every write to zones, tables or adjacency gives the restaurant a new version from a
//! sequence (sequences never roll back), so a cached floor is never stale. A hit saves
//! three queries and the adjacency build on every planner call.

use crate::error::{AutoassignError, Result};
use autoassign_planner::{Floor, TableSpec};
use lru::LruCache;
use pgrx::prelude::*;
use pgrx::Uuid;
use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::rc::Rc;

pub struct CachedFloor {
    pub version: i64,
    pub floor: Floor,
    pub table_ids: Vec<Uuid>,
    pub table_names: Vec<String>,
    pub zone_ids: Vec<Uuid>,
    pub zone_names: Vec<String>,
    table_index: HashMap<Uuid, u32>,
    zone_index: HashMap<Uuid, u32>,
}

impl CachedFloor {
    pub fn table_index(&self, id: Uuid) -> Option<u32> {
        self.table_index.get(&id).copied()
    }
    pub fn zone_index(&self, id: Uuid) -> Option<u32> {
        self.zone_index.get(&id).copied()
    }
    pub fn table_uuids(&self, tables: &[u32]) -> Vec<Uuid> {
        tables.iter().map(|&t| self.table_ids[t as usize]).collect()
    }
}

thread_local! {
    /// Least recently used floors of this backend, at most `autoassign.floor_cache_size`.
    /// A pooled backend serves many restaurants: evicting the coldest floor keeps the hot
    /// ones (a cold floor costs milliseconds to load, a hit a hash lookup).
    static CACHE: RefCell<LruCache<Uuid, Rc<CachedFloor>>> =
        RefCell::new(new_lru());
    /// Hits and misses of this backend, for autoassign_floor_cache_stats().
    static COUNTS: RefCell<(u64, u64)> = const { RefCell::new((0, 0)) };
}

/// `autoassign.floor_cache_size`, at least 1.
fn cache_size() -> NonZeroUsize {
    let n = usize::try_from(crate::gucs::FLOOR_CACHE_SIZE.get()).unwrap_or(1);
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}

/// A per-restaurant LRU cache of this backend, sized by `autoassign.floor_cache_size`.
pub fn new_lru<K: std::hash::Hash + Eq, V>() -> LruCache<K, V> {
    LruCache::new(cache_size())
}

/// Follows a change of `autoassign.floor_cache_size` (SET in the session) before use.
pub fn fit_to_setting<K: std::hash::Hash + Eq, V>(cache: &mut LruCache<K, V>) {
    if cache.cap() != cache_size() {
        cache.resize(cache_size());
    }
}

/// This backend's floor cache: (floors cached, capacity, hits, misses).
pub fn stats() -> (i64, i64, i64, i64) {
    let (len, cap) = CACHE.with(|c| {
        let c = c.borrow();
        (c.len(), c.cap().get())
    });
    let (hits, misses) = COUNTS.with(|n| *n.borrow());
    let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    (i(len as u64), i(cap as u64), i(hits), i(misses))
}

/// The floor of `restaurant` at `version`, and whether it came from the cache.
/// `bypass` always reloads (exhaustive mode measures the uncached path).
pub fn floor_for(restaurant: Uuid, version: i64, bypass: bool) -> Result<(Rc<CachedFloor>, bool)> {
    if !bypass {
        let hit = CACHE.with(|c| {
            let mut c = c.borrow_mut();
            fit_to_setting(&mut c);
            c.get(&restaurant).filter(|f| f.version == version).cloned()
        });
        if let Some(hit) = hit {
            COUNTS.with(|n| n.borrow_mut().0 += 1);
            return Ok((hit, true));
        }
    }
    COUNTS.with(|n| n.borrow_mut().1 += 1);
    let loaded = Rc::new(load(restaurant, version)?);
    CACHE.with(|c| c.borrow_mut().put(restaurant, Rc::clone(&loaded)));
    Ok((loaded, false))
}

fn load(restaurant: Uuid, version: i64) -> Result<CachedFloor> {
    let inconsistent = |detail: String| AutoassignError::InconsistentFloor {
        restaurant: restaurant.to_string(),
        detail,
    };
    Spi::connect(|client| {
        let args = [restaurant.into()];
        let mut zone_ids = Vec::new();
        let mut zone_names = Vec::new();
        for row in client.select(
            "SELECT id, name FROM autoassign.zones WHERE restaurant_id = $1 ORDER BY name, id",
            None,
            &args,
        )? {
            zone_ids.push(row.get::<Uuid>(1)?.unwrap_or_else(super::nil_uuid));
            zone_names.push(row.get::<String>(2)?.unwrap_or_default());
        }
        let zone_index: HashMap<Uuid, u32> = zone_ids
            .iter()
            .enumerate()
            .map(|(i, z)| (*z, i as u32))
            .collect();

        let mut table_ids = Vec::new();
        let mut table_names = Vec::new();
        let mut specs = Vec::new();
        // Order by zone then name: a stable order makes ties break the same way everywhere.
        for row in client.select(
            "SELECT t.id, t.zone_id, t.name, t.capacity, t.min_party,
                    coalesce(t.max_party, t.capacity), t.active, t.combinable, t.priority
               FROM autoassign.tables t
               JOIN autoassign.zones z ON z.restaurant_id = t.restaurant_id AND z.id = t.zone_id
              WHERE t.restaurant_id = $1
              ORDER BY z.name, z.id, t.name, t.id",
            None,
            &args,
        )? {
            let zone_id = row.get::<Uuid>(2)?.unwrap_or_else(super::nil_uuid);
            let zone = *zone_index
                .get(&zone_id)
                .ok_or_else(|| inconsistent(format!("table in unknown zone {zone_id}")))?;
            table_ids.push(row.get::<Uuid>(1)?.unwrap_or_else(super::nil_uuid));
            table_names.push(row.get::<String>(3)?.unwrap_or_default());
            specs.push(TableSpec {
                zone,
                capacity: row.get::<i32>(4)?.unwrap_or_default(),
                min_party: row.get::<i32>(5)?.unwrap_or(1),
                max_party: row.get::<i32>(6)?.unwrap_or_default(),
                active: row.get::<bool>(7)?.unwrap_or(false),
                combinable: row.get::<bool>(8)?.unwrap_or(false),
                priority: row.get::<i32>(9)?.unwrap_or_default(),
            });
        }
        let table_index: HashMap<Uuid, u32> = table_ids
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, i as u32))
            .collect();

        let mut edges = Vec::new();
        // Edges across zones can never be part of a plan (plans stay in one zone).
        for row in client.select(
            "SELECT a.table_a, a.table_b
               FROM autoassign.table_adjacency a
               JOIN autoassign.tables ta ON ta.restaurant_id = a.restaurant_id AND ta.id = a.table_a
               JOIN autoassign.tables tb ON tb.restaurant_id = a.restaurant_id AND tb.id = a.table_b
              WHERE a.restaurant_id = $1 AND ta.zone_id = tb.zone_id",
            None,
            &args,
        )? {
            let a = row
                .get::<Uuid>(1)?
                .and_then(|t| table_index.get(&t).copied());
            let b = row
                .get::<Uuid>(2)?
                .and_then(|t| table_index.get(&t).copied());
            if let (Some(a), Some(b)) = (a, b) {
                edges.push((a, b));
            }
        }
        let floor = Floor::new(specs, zone_ids.len() as u32, &edges)
            .map_err(|e| inconsistent(e.to_string()))?;
        Ok(CachedFloor {
            version,
            floor,
            table_ids,
            table_names,
            zone_ids,
            zone_names,
            table_index,
            zone_index,
        })
    })
}
