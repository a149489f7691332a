//! Per-zone enumeration of candidate table sets.
//!
//! With adjacency the connected sets are produced by ESU (extension-set
//! enumeration, Wernicke 2006): every connected set is visited exactly once,
//! rooted at its smallest local index. Without adjacency, plain combinations in
//! ascending local order. Local order is capacity descending (ties by table
//! index), which makes the upper-bound cut a prefix-sum lookup.

use smallvec::SmallVec;

use crate::bitset::BitSet;
use crate::floor::Floor;
use crate::ticker::Ticker;

/// Sets of at most six tables.
pub(crate) type TableSet = SmallVec<[u32; 6]>;

/// What the visitor wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Visit {
    Continue,
    Stop,
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    Done,
    Stopped,
    TimedOut,
}

/// Enumeration counters, folded into `Counters` by the caller.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SearchStats {
    pub tried: u64,
    pub cut_upper_bound: u64,
    pub cut_overage: u64,
    pub cut_valid_superset: u64,
}

/// Search parameters shared by the zone searches of one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    pub party: i64,
    pub limit: i64,
    pub max_tables: usize,
    pub adjacency: bool,
    /// Apply the branch-and-bound cuts (false = exhaustive).
    pub prune: bool,
}

/// One zone's candidate tables, in search order.
pub(crate) struct ZoneSearch {
    glob: Vec<u32>,
    cap: Vec<i64>,
    /// prefix[i] = cap[0] + .. + cap[i-1]
    prefix: Vec<i64>,
    adj: Vec<BitSet>,
    b: Bounds,
}

struct Walk<'a, 'b> {
    ticker: &'a mut Ticker<'b>,
    stats: &'a mut SearchStats,
    visit: &'a mut dyn FnMut(&TableSet, i64) -> Visit,
    set: SmallVec<[usize; 6]>,
    stopped: bool,
}

impl ZoneSearch {
    /// `members` are global table indices (free, combinable, one zone).
    pub(crate) fn new(floor: &Floor, members: &[u32], b: Bounds) -> ZoneSearch {
        let mut order: Vec<(i64, u32)> = members
            .iter()
            .filter_map(|&g| floor.table(g as usize).map(|t| (i64::from(t.capacity), g)))
            .collect();
        order.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        let glob: Vec<u32> = order.iter().map(|x| x.1).collect();
        let cap: Vec<i64> = order.iter().map(|x| x.0).collect();
        let mut prefix = Vec::with_capacity(cap.len() + 1);
        let mut acc = 0i64;
        prefix.push(0);
        for &c in &cap {
            acc = acc.saturating_add(c);
            prefix.push(acc);
        }
        let n = glob.len();
        let adj = if b.adjacency {
            let mut pos: Vec<(u32, usize)> = glob.iter().copied().zip(0..n).collect();
            pos.sort_unstable();
            glob.iter()
                .map(|&g| {
                    let mut s = BitSet::new(n);
                    for nb in floor.neighbours(g as usize) {
                        if let Ok(i) = pos.binary_search_by(|p| p.0.cmp(&(nb as u32))) {
                            if let Some(&(_, l)) = pos.get(i) {
                                s.insert(l);
                            }
                        }
                    }
                    s
                })
                .collect()
        } else {
            Vec::new()
        };
        ZoneSearch {
            glob,
            cap,
            prefix,
            adj,
            b,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.glob.len()
    }

    /// Seats of the `max_tables` largest candidates (the zone-pruning bound).
    pub(crate) fn capacity_bound(&self) -> i64 {
        self.prefix_at(self.b.max_tables)
    }

    fn prefix_at(&self, i: usize) -> i64 {
        let i = i.min(self.cap.len());
        self.prefix.get(i).copied().unwrap_or(0)
    }

    /// Largest seats `r` more candidates with local index > `i` can add.
    fn best_after(&self, i: usize, r: usize) -> i64 {
        let lo = i.saturating_add(1);
        self.prefix_at(lo.saturating_add(r)) - self.prefix_at(lo)
    }

    fn cap_of(&self, i: usize) -> i64 {
        self.cap.get(i).copied().unwrap_or(0)
    }

    /// Visits every candidate set of 2..=max_tables tables whose seats are within
    /// `[party, limit]` (connected when `adjacency`). With `prune`, sets that are
    /// strict supersets of an in-range set along the search path are skipped.
    pub(crate) fn run(
        &self,
        ticker: &mut Ticker<'_>,
        stats: &mut SearchStats,
        visit: &mut dyn FnMut(&TableSet, i64) -> Visit,
    ) -> Finish {
        if self.b.max_tables < 2 || self.glob.len() < 2 {
            return Finish::Done;
        }
        let mut w = Walk {
            ticker,
            stats,
            visit,
            set: SmallVec::new(),
            stopped: false,
        };
        let ok = if self.b.adjacency {
            self.run_esu(&mut w)
        } else {
            self.combos(&mut w, 0, 0)
        };
        if w.stopped {
            Finish::Stopped
        } else if !ok {
            Finish::TimedOut
        } else {
            Finish::Done
        }
    }

    /// Node evaluation shared by both walks: returns (in_range, may_extend).
    /// `after` is the local index above which extensions are drawn.
    fn judge(&self, w: &mut Walk<'_, '_>, size: usize, sum: i64, after: usize) -> (bool, bool) {
        let b = &self.b;
        let room = size < b.max_tables;
        let in_range = size >= 2 && sum >= b.party && sum <= b.limit;
        if !b.prune {
            return (in_range, room);
        }
        if sum > b.limit {
            w.stats.cut_overage += 1;
            return (false, false);
        }
        if in_range {
            if room {
                w.stats.cut_valid_superset += 1;
            }
            return (true, false);
        }
        if room && sum.saturating_add(self.best_after(after, b.max_tables - size)) < b.party {
            w.stats.cut_upper_bound += 1;
            return (false, false);
        }
        (false, room)
    }

    fn report(&self, w: &mut Walk<'_, '_>, sum: i64) -> bool {
        let mut ts: TableSet = w
            .set
            .iter()
            .filter_map(|&l| self.glob.get(l).copied())
            .collect();
        ts.sort_unstable();
        if (w.visit)(&ts, sum) == Visit::Stop {
            w.stopped = true;
            return false;
        }
        true
    }

    fn run_esu(&self, w: &mut Walk<'_, '_>) -> bool {
        let n = self.glob.len();
        let mut allowed = BitSet::new(n);
        for i in 0..n {
            allowed.insert(i);
        }
        for v in 0..n {
            allowed.remove(v);
            if !w.ticker.tick() {
                return false;
            }
            w.stats.tried += 1;
            let c = self.cap_of(v);
            if self.b.prune {
                if c > self.b.limit {
                    w.stats.cut_overage += 1;
                    continue;
                }
                if c.saturating_add(self.best_after(v, self.b.max_tables - 1)) < self.b.party {
                    // Later roots have smaller capacities and fewer tables after them.
                    w.stats.cut_upper_bound += 1;
                    break;
                }
            }
            let Some(nv) = self.adj.get(v) else { continue };
            let mut ext = nv.clone();
            ext.intersect_with(&allowed);
            let mut nbhd = nv.clone();
            nbhd.insert(v);
            w.set.clear();
            w.set.push(v);
            if !self.esu(w, c, ext, &nbhd, &allowed, v) {
                return false;
            }
        }
        true
    }

    fn esu(
        &self,
        w: &mut Walk<'_, '_>,
        sum: i64,
        mut ext: BitSet,
        nbhd: &BitSet,
        allowed: &BitSet,
        root: usize,
    ) -> bool {
        while let Some(x) = ext.pop_first() {
            if !w.ticker.tick() {
                return false;
            }
            w.stats.tried += 1;
            let s2 = sum.saturating_add(self.cap_of(x));
            w.set.push(x);
            let (in_range, extend) = self.judge(w, w.set.len(), s2, root);
            let mut ok = true;
            if in_range {
                ok = self.report(w, s2);
            }
            if ok && extend {
                if let Some(nx) = self.adj.get(x) {
                    let mut ext2 = ext.clone();
                    ext2.union_masked(nx, nbhd, allowed);
                    let mut nb2 = nbhd.clone();
                    nb2.union_with(nx);
                    ok = self.esu(w, s2, ext2, &nb2, allowed, root);
                }
            }
            w.set.pop();
            if !ok {
                return false;
            }
        }
        true
    }

    fn combos(&self, w: &mut Walk<'_, '_>, start: usize, sum: i64) -> bool {
        for i in start..self.glob.len() {
            if !w.ticker.tick() {
                return false;
            }
            w.stats.tried += 1;
            let s2 = sum.saturating_add(self.cap_of(i));
            let size = w.set.len() + 1;
            if self.b.prune {
                if s2 > self.b.limit {
                    // Capacities descend: a later table may still fit.
                    w.stats.cut_overage += 1;
                    continue;
                }
                let room = size < self.b.max_tables;
                let short = s2 < self.b.party
                    && (!room
                        || s2.saturating_add(self.best_after(i, self.b.max_tables - size))
                            < self.b.party);
                if short {
                    // Later tables are no larger and have fewer tables after them.
                    w.stats.cut_upper_bound += 1;
                    break;
                }
            }
            w.set.push(i);
            let (in_range, extend) = self.judge(w, size, s2, i);
            let mut ok = true;
            if in_range {
                ok = self.report(w, s2);
            }
            if ok && extend {
                ok = self.combos(w, i + 1, s2);
            }
            w.set.pop();
            if !ok {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::TableSpec;

    fn floor(caps: &[i32], edges: &[(u32, u32)]) -> Floor {
        let tabs = caps
            .iter()
            .map(|&c| TableSpec {
                zone: 0,
                capacity: c,
                min_party: 1,
                max_party: c,
                active: true,
                combinable: true,
                priority: 0,
            })
            .collect();
        match Floor::new(tabs, 1, edges) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    fn collect(f: &Floor, b: Bounds) -> (Vec<Vec<u32>>, SearchStats) {
        let members: Vec<u32> = (0..f.tables().len() as u32).collect();
        let zs = ZoneSearch::new(f, &members, b);
        let mut hook = || {};
        let mut ticker = Ticker::new(&mut hook, None);
        let mut stats = SearchStats::default();
        let mut out = Vec::new();
        let fin = zs.run(&mut ticker, &mut stats, &mut |s, _| {
            out.push(s.to_vec());
            Visit::Continue
        });
        assert_eq!(fin, Finish::Done);
        out.sort();
        (out, stats)
    }

    #[test]
    fn esu_visits_each_connected_set_once() {
        // Cycle of 5 plus a chord: count connected sets of size 2..=5 by brute force.
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)];
        let f = floor(&[1, 1, 1, 1, 1], &edges);
        let b = Bounds {
            party: 1,
            limit: 100,
            max_tables: 5,
            adjacency: true,
            prune: false,
        };
        let (sets, stats) = collect(&f, b);
        let mut brute = Vec::new();
        for mask in 1u32..32 {
            let v: Vec<u32> = (0..5).filter(|i| mask & (1 << i) != 0).collect();
            if v.len() >= 2 && crate::rules::is_connected(&f, &v) {
                brute.push(v);
            }
        }
        brute.sort();
        assert_eq!(sets, brute);
        // every connected set (including singletons) visited exactly once
        assert_eq!(stats.tried as usize, brute.len() + 5);
    }

    #[test]
    fn combos_respect_bounds() {
        let f = floor(&[2, 4, 6, 8], &[]);
        let b = Bounds {
            party: 10,
            limit: 11,
            max_tables: 3,
            adjacency: false,
            prune: true,
        };
        let (sets, stats) = collect(&f, b);
        // {2,8}=10, {4,6}=10 ; {2,4,... } supersets cut
        assert_eq!(sets, vec![vec![0, 3], vec![1, 2]]);
        assert!(stats.cut_overage > 0);
        let (all, _) = collect(&f, Bounds { prune: false, ..b });
        assert_eq!(all, vec![vec![0, 3], vec![1, 2]]);
    }
}
