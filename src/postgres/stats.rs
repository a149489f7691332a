//! Shared-memory planner statistics in the style of pg_stat_statements: per restaurant
//! x source x reason, calls, total and max duration and a latency histogram. They are
//! not transactional, so they also count calls whose transaction rolled back or was
//! cancelled, and they cost one short LWLock per planner run. They need
//! shared_preload_libraries; without it `record` is a no-op and the view is empty.

use pgrx::lwlock::PgLwLock;
use pgrx::prelude::*;
use pgrx::shmem::PGRXSharedMemory;
use pgrx::Uuid;
use std::sync::atomic::{AtomicBool, Ordering};

/// Distinct (restaurant, source, reason) keys kept; further keys share an overflow slot.
pub const SLOTS: usize = 512;
/// Bucket i counts durations in [2^i, 2^(i+1)) microseconds; the last one is open.
pub const BUCKETS: usize = 26;
const SOURCE_LEN: usize = 32;
const REASON_LEN: usize = 24;

#[derive(Clone, Copy)]
pub struct Entry {
    pub used: bool,
    pub restaurant: [u8; 16],
    pub source: [u8; SOURCE_LEN],
    pub reason: [u8; REASON_LEN],
    pub calls: u64,
    pub total_us: u64,
    pub max_us: u64,
    pub hist: [u64; BUCKETS],
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            used: false,
            restaurant: [0; 16],
            source: [0; SOURCE_LEN],
            reason: [0; REASON_LEN],
            calls: 0,
            total_us: 0,
            max_us: 0,
            hist: [0; BUCKETS],
        }
    }
}

#[derive(Clone, Copy)]
pub struct Table {
    pub entries: [Entry; SLOTS],
    pub dropped_keys: u64,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            entries: [Entry::default(); SLOTS],
            dropped_keys: 0,
        }
    }
}

// SAFETY: plain old data, no pointers.
unsafe impl PGRXSharedMemory for Table {}

pub static STATS: PgLwLock<Table> = unsafe { PgLwLock::new(c"pg_autoassign_stats") };
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Called from _PG_init while shared_preload_libraries is being processed.
pub fn init_shared_memory() {
    pgrx::pg_shmem_init!(STATS);
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn fixed<const N: usize>(s: &str) -> [u8; N] {
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

fn slot_hash(restaurant: &[u8; 16], source: &[u8], reason: &[u8]) -> usize {
    // FNV-1a: tiny, and good enough to spread a few hundred keys
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in restaurant.iter().chain(source).chain(reason) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % SLOTS
}

/// Counts one planner run. A no-op without shared_preload_libraries.
pub fn record(restaurant: Option<Uuid>, source: &str, reason: &str, duration_us: i64) {
    if !enabled() {
        return;
    }
    let restaurant: [u8; 16] = restaurant.map(|u| *u).unwrap_or([0; 16]);
    let source = fixed::<SOURCE_LEN>(source);
    let reason = fixed::<REASON_LEN>(reason);
    let duration = duration_us.max(0) as u64;
    let mut table = STATS.exclusive();
    let start = slot_hash(&restaurant, &source, &reason);
    for probe in 0..SLOTS {
        let i = (start + probe) % SLOTS;
        let e = &mut table.entries[i];
        if !e.used {
            *e = Entry {
                used: true,
                restaurant,
                source,
                reason,
                ..Entry::default()
            };
        } else if e.restaurant != restaurant || e.source != source || e.reason != reason {
            continue;
        }
        e.calls += 1;
        e.total_us += duration;
        e.max_us = e.max_us.max(duration);
        e.hist[bucket(duration)] += 1;
        return;
    }
    table.dropped_keys += 1;
}

pub fn snapshot() -> Vec<Entry> {
    if !enabled() {
        return Vec::new();
    }
    let table = STATS.share();
    table.entries.iter().filter(|e| e.used).copied().collect()
}

pub fn reset() {
    if enabled() {
        *STATS.exclusive() = Table::default();
    }
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
}
