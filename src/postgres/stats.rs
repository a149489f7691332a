//! Shared-memory planner statistics in the style of pg_stat_statements: per database x
//! restaurant x source x reason, calls, total and max duration, a latency histogram, and
//! how many of the key's events were queued, written and dropped. They are not
//! transactional, so they also count calls whose transaction rolled back or was
//! cancelled, and they cost one short LWLock per planner run.
//!
//! Capacity is `autoassign.stats_max` keys (a postmaster setting, as
//! `pg_stat_statements.max`). When every slot is taken, the least-used 5% of keys
//! (usage = calls, decayed by 1% at each eviction round) are evicted and counted.
//! They need shared_preload_libraries; without it `record` is a no-op and the view is
//! empty.

use super::shmem::{self, Held};
use pgrx::pg_sys;
use pgrx::Uuid;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bucket i counts durations in [2^i, 2^(i+1)) microseconds; the last one is open.
pub const BUCKETS: usize = 26;
pub const SOURCE_LEN: usize = 32;
pub const REASON_LEN: usize = 24;
const EMPTY: u32 = u32::MAX;
const USAGE_DECAY: f64 = 0.99;

#[derive(Clone, Copy)]
#[repr(C)]
pub struct Entry {
    pub used: bool,
    pub db: u32,
    pub restaurant: [u8; 16],
    pub source: [u8; SOURCE_LEN],
    pub reason: [u8; REASON_LEN],
    pub usage: f64,
    pub calls: u64,
    pub total_us: u64,
    pub max_us: u64,
    pub hist: [u64; BUCKETS],
    pub events_queued: u64,
    pub events_written: u64,
    pub events_dropped: u64,
}

#[repr(C)]
struct Header {
    capacity: u32,
    used: u32,
    index_size: u32,
    evictions: u64,
}

/// What an event did, counted on its key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EventFate {
    Queued,
    Written,
    Dropped,
}

/// A key as stored: database, restaurant (zeros for none), source, reason.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub db: u32,
    pub restaurant: [u8; 16],
    pub source: [u8; SOURCE_LEN],
    pub reason: [u8; REASON_LEN],
}

impl Key {
    pub fn new(db: u32, restaurant: Option<Uuid>, source: &str, reason: &str) -> Key {
        Key {
            db,
            restaurant: restaurant.map(|u| *u).unwrap_or([0; 16]),
            source: fixed(source),
            reason: fixed(reason),
        }
    }

    fn hash(&self) -> u64 {
        // FNV-1a: tiny, and spreads thousands of keys well enough
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let db = self.db.to_le_bytes();
        for b in db
            .iter()
            .chain(&self.restaurant)
            .chain(&self.source)
            .chain(&self.reason)
        {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    fn matches(&self, e: &Entry) -> bool {
        e.used
            && e.db == self.db
            && e.restaurant == self.restaurant
            && e.source == self.source
            && e.reason == self.reason
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static mut BASE: *mut u8 = std::ptr::null_mut();
static mut LOCK: *mut pg_sys::LWLock = std::ptr::null_mut();
static mut CAPACITY: usize = 0;

fn index_size(capacity: usize) -> usize {
    (capacity * 2).next_power_of_two()
}

fn layout(capacity: usize) -> (usize, usize, usize) {
    let header = std::mem::size_of::<Header>().next_multiple_of(16);
    let entries = capacity * std::mem::size_of::<Entry>();
    let index = index_size(capacity) * std::mem::size_of::<u32>();
    (header, header + entries, header + entries + index)
}

unsafe fn init_region(ptr: *mut u8) {
    unsafe {
        let cap = CAPACITY;
        let header = ptr.cast::<Header>();
        (*header).capacity = cap as u32;
        (*header).index_size = index_size(cap) as u32;
        let (_, index_at, _) = layout(cap);
        let index = ptr.add(index_at).cast::<u32>();
        for i in 0..index_size(cap) {
            *index.add(i) = EMPTY;
        }
    }
}

unsafe fn attach_region(ptr: *mut u8, lock: *mut pg_sys::LWLock) {
    unsafe {
        BASE = ptr;
        LOCK = lock;
    }
    ENABLED.store(true, Ordering::Relaxed);
}

/// Called from `_PG_init` while shared_preload_libraries is being processed.
pub fn init_shared_memory(capacity: usize) {
    // SAFETY: _PG_init, single-threaded.
    unsafe { CAPACITY = capacity };
    shmem::register(shmem::Region {
        name: c"pg_autoassign_stats",
        size: layout(capacity).2,
        init: init_region,
        attach: attach_region,
    });
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The table, borrowed while its lock is held.
struct Table<'a> {
    header: &'a mut Header,
    entries: &'a mut [Entry],
    index: &'a mut [u32],
    _held: Held,
}

fn lock(exclusive: bool) -> Table<'static> {
    // SAFETY: enabled() was checked by the caller, so BASE and LOCK are attached;
    // the slices cover the region laid out by `layout`, and the lock guards them.
    unsafe {
        let held = if exclusive {
            Held::exclusive(LOCK)
        } else {
            Held::shared(LOCK)
        };
        let header = &mut *BASE.cast::<Header>();
        let cap = header.capacity as usize;
        let (entries_at, index_at, _) = layout(cap);
        Table {
            entries: std::slice::from_raw_parts_mut(BASE.add(entries_at).cast::<Entry>(), cap),
            index: std::slice::from_raw_parts_mut(
                BASE.add(index_at).cast::<u32>(),
                header.index_size as usize,
            ),
            header,
            _held: held,
        }
    }
}

impl Table<'_> {
    fn find(&self, key: &Key) -> Option<usize> {
        let mask = self.index.len() - 1;
        let mut i = (key.hash() as usize) & mask;
        loop {
            let at = self.index[i];
            if at == EMPTY {
                return None;
            }
            if key.matches(&self.entries[at as usize]) {
                return Some(at as usize);
            }
            i = (i + 1) & mask;
        }
    }

    fn place(&mut self, key: &Key, at: u32) {
        let mask = self.index.len() - 1;
        let mut i = (key.hash() as usize) & mask;
        while self.index[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.index[i] = at;
    }

    fn rebuild_index(&mut self) {
        self.index.fill(EMPTY);
        let mut used = 0;
        for at in 0..self.entries.len() {
            let e = self.entries[at];
            if e.used {
                used += 1;
                let key = Key {
                    db: e.db,
                    restaurant: e.restaurant,
                    source: e.source,
                    reason: e.reason,
                };
                self.place(&key, at as u32);
            }
        }
        self.header.used = used;
    }

    /// Frees the least-used 5% of the slots (at least one), decays the rest.
    fn evict(&mut self) {
        let mut usage: Vec<(f64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.used)
            .map(|(i, e)| (e.usage, i))
            .collect();
        let n = (usage.len() / 20).max(1).min(usage.len());
        usage.select_nth_unstable_by(n - 1, |a, b| a.0.total_cmp(&b.0));
        for &(_, i) in &usage[..n] {
            self.entries[i].used = false;
        }
        for e in self.entries.iter_mut().filter(|e| e.used) {
            e.usage *= USAGE_DECAY;
        }
        self.header.evictions += n as u64;
        self.rebuild_index();
    }

    fn find_or_insert(&mut self, key: &Key) -> usize {
        if let Some(at) = self.find(key) {
            return at;
        }
        if self.header.used as usize >= self.entries.len() {
            self.evict();
        }
        let at = self
            .entries
            .iter()
            .position(|e| !e.used)
            .unwrap_or_default();
        self.entries[at] = Entry {
            used: true,
            db: key.db,
            restaurant: key.restaurant,
            source: key.source,
            reason: key.reason,
            ..Entry::default()
        };
        self.header.used += 1;
        self.place(key, at as u32);
        at
    }
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            used: false,
            db: 0,
            restaurant: [0; 16],
            source: [0; SOURCE_LEN],
            reason: [0; REASON_LEN],
            usage: 0.0,
            calls: 0,
            total_us: 0,
            max_us: 0,
            hist: [0; BUCKETS],
            events_queued: 0,
            events_written: 0,
            events_dropped: 0,
        }
    }
}

pub fn fixed<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let bytes = s.as_bytes();
    let n = bytes.len().min(N);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

pub fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

pub fn bucket(duration_us: u64) -> usize {
    (64 - duration_us.max(1).leading_zeros() as usize - 1).min(BUCKETS - 1)
}

/// Upper bound of the bucket holding the q-quantile: good enough for p50/p95/p99.
pub fn quantile(hist: &[u64; BUCKETS], calls: u64, q: f64) -> Option<i64> {
    if calls == 0 {
        return None;
    }
    let target = ((calls as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in hist.iter().enumerate() {
        seen += n;
        if seen >= target {
            return Some((1i64 << (i + 1)) - 1);
        }
    }
    None
}

pub fn current_db() -> u32 {
    // SAFETY: a plain global read.
    unsafe { pg_sys::MyDatabaseId.to_u32() }
}

/// Counts one planner run of the current database. A no-op without preloading.
pub fn record(restaurant: Option<Uuid>, source: &str, reason: &str, duration_us: i64) {
    if !enabled() {
        return;
    }
    let key = Key::new(current_db(), restaurant, source, reason);
    let duration = duration_us.max(0) as u64;
    let mut table = lock(true);
    let at = table.find_or_insert(&key);
    let e = &mut table.entries[at];
    e.usage += 1.0;
    e.calls += 1;
    e.total_us += duration;
    e.max_us = e.max_us.max(duration);
    e.hist[bucket(duration)] += 1;
}

/// Counts events on their keys (a key evicted meanwhile is not re-created).
pub fn count_events(keys: &[Key], fate: EventFate) {
    if !enabled() || keys.is_empty() {
        return;
    }
    let table = lock(true);
    for key in keys {
        if let Some(at) = table.find(key) {
            let e = &mut table.entries[at];
            match fate {
                EventFate::Queued => e.events_queued += 1,
                EventFate::Written => e.events_written += 1,
                EventFate::Dropped => e.events_dropped += 1,
            }
        }
    }
}

/// The current database's keys.
pub fn snapshot() -> Vec<Entry> {
    if !enabled() {
        return Vec::new();
    }
    let db = current_db();
    let table = lock(false);
    table
        .entries
        .iter()
        .filter(|e| e.used && e.db == db)
        .copied()
        .collect()
}

/// Table-wide figures: (keys of this database, keys of all databases, capacity,
/// evictions since start).
pub fn usage() -> (i64, i64, i64, i64) {
    if !enabled() {
        return (0, 0, 0, 0);
    }
    let db = current_db();
    let table = lock(false);
    let mine = table
        .entries
        .iter()
        .filter(|e| e.used && e.db == db)
        .count();
    (
        mine as i64,
        i64::from(table.header.used),
        table.entries.len() as i64,
        table.header.evictions as i64,
    )
}

/// Forgets the current database's keys; returns how many.
pub fn reset() -> i64 {
    if !enabled() {
        return 0;
    }
    let db = current_db();
    let mut table = lock(true);
    let mut n = 0;
    for e in table.entries.iter_mut().filter(|e| e.used && e.db == db) {
        e.used = false;
        n += 1;
    }
    table.rebuild_index();
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(2), 1);
        assert_eq!(bucket(1023), 9);
        assert_eq!(bucket(1024), 10);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        let mut hist = [0u64; BUCKETS];
        // 90 calls around 100 us (bucket 6: 64..127), 10 around 5000 us (bucket 12)
        hist[6] = 90;
        hist[12] = 10;
        assert_eq!(quantile(&hist, 100, 0.5), Some(127));
        assert_eq!(quantile(&hist, 100, 0.9), Some(127));
        assert_eq!(quantile(&hist, 100, 0.95), Some(8191));
        assert_eq!(quantile(&hist, 0, 0.5), None);
    }

    #[test]
    fn fixed_width_text_round_trips() {
        assert_eq!(text(&fixed::<8>("api")), "api");
        assert_eq!(text(&fixed::<4>("inline")), "inli");
    }

    #[test]
    fn layout_is_aligned_and_index_has_room() {
        let (entries_at, index_at, total) = layout(100);
        assert_eq!(entries_at % 8, 0);
        assert!(index_at >= entries_at + 100 * std::mem::size_of::<Entry>());
        assert_eq!(total - index_at, 256 * 4);
    }
}
