//! Per-zone enumeration of candidate table sets.
//!
//! With adjacency the connected sets are produced by ESU (extension-set
//! enumeration, Wernicke 2006): every connected set is visited exactly once,
//! rooted at its smallest local index. Without adjacency, plain combinations in
//! ascending local order. Local order is capacity descending (ties by table
//! index), which makes the upper-bound cut a prefix-sum lookup.

use std::cell::Cell;

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
    pub cut_score_bound: u64,
}

/// Score branch-and-bound: a subtree is cut when even its best conceivable plan
/// scores worse than `threshold` (the worst kept plan once the list is full).
/// Only valid with non-negative waste, tables and priority weights.
#[derive(Clone, Copy)]
pub(crate) struct ScoreCut<'a> {
    pub tables_w: i64,
    pub priority_w: i64,
    /// The zone-miss term, constant within a zone.
    pub zone_term: i64,
    pub threshold: &'a Cell<i64>,
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
    prio: Vec<i64>,
    /// max(0, largest priority among the candidates)
    max_prio: i64,
    b: Bounds,
}

struct Walk<'a, 'b> {
    ticker: &'a mut Ticker<'b>,
    stats: &'a mut SearchStats,
    visit: &'a mut dyn FnMut(&TableSet, i64) -> Visit,
    score: Option<ScoreCut<'a>>,
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
        let prio_of = |g: u32| floor.table(g as usize).map_or(0, |t| i64::from(t.priority));
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
        let prio: Vec<i64> = glob.iter().map(|&g| prio_of(g)).collect();
        let max_prio = prio.iter().copied().max().unwrap_or(0).max(0);
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
            prio,
            max_prio,
            b,
        }
    }

    /// Lower bound of the score of any plan in this zone: at least two tables, and up
    /// to `max_tables` of them, each with at most the zone's largest priority.
    pub(crate) fn zone_score_floor(&self, sc: &ScoreCut<'_>) -> i64 {
        let best_prio = self.max_prio.saturating_mul(self.b.max_tables as i64);
        sc.zone_term
            .saturating_add(sc.tables_w)
            .saturating_sub(sc.priority_w.saturating_mul(best_prio))
    }

    /// Lower bound of the score of any plan extending a set of `size` tables with
    /// priority sum `prio` by at least one more table.
    fn node_score_floor(&self, sc: &ScoreCut<'_>, size: usize, prio: i64) -> i64 {
        let r = self.b.max_tables.saturating_sub(size) as i64;
        let best_prio = prio.saturating_add(self.max_prio.saturating_mul(r));
        sc.zone_term
            .saturating_add(sc.tables_w.saturating_mul(size as i64))
            .saturating_sub(sc.priority_w.saturating_mul(best_prio))
    }

    /// True (and counted) when no extension of the current set can make the list.
    fn score_cut(&self, w: &mut Walk<'_, '_>) -> bool {
        let Some(sc) = w.score else { return false };
        let prio: i64 = w
            .set
            .iter()
            .map(|&i| self.prio.get(i).copied().unwrap_or(0))
            .sum();
        if self.node_score_floor(&sc, w.set.len(), prio) > sc.threshold.get() {
            w.stats.cut_score_bound += 1;
            return true;
        }
        false
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

    /// First local index whose capacity is at most `room` (capacities descend).
    fn first_fitting(&self, room: i64) -> usize {
        self.cap.partition_point(|&c| c > room)
    }

    /// Pruned mode, before descending from a node with `sum` seats and `size`
    /// tables: drops extension candidates that would overshoot the limit, then
    /// bounds the seats reachable with the remaining `max_tables - size` tables
    /// (only vertices reachable from `ext` outside `nbhd` can still be added).
    /// Returns false when the subtree cannot reach the party.
    fn prepare_child(
        &self,
        w: &mut Walk<'_, '_>,
        sum: i64,
        size: usize,
        ext: &mut BitSet,
        nbhd: &BitSet,
        allowed: &BitSet,
    ) -> bool {
        let fit = self.first_fitting(self.b.limit - sum);
        let before = ext.count();
        ext.clear_below(fit);
        w.stats.cut_overage += (before - ext.count()) as u64;
        let r = self.b.max_tables.saturating_sub(size);
        if ext.is_empty() || r == 0 {
            return false;
        }
        let mut pool = ext.clone();
        let mut frontier = ext.clone();
        for _ in 1..r {
            let mut next = BitSet::new(self.glob.len());
            for v in frontier.iter() {
                if let Some(nv) = self.adj.get(v) {
                    next.union_with(nv);
                }
            }
            next.intersect_with(allowed);
            next.difference_with(nbhd);
            next.difference_with(&pool);
            next.clear_below(fit);
            if next.is_empty() {
                break;
            }
            pool.union_with(&next);
            frontier = next;
        }
        // Capacities descend with the local index: the first r members are the largest.
        let best: i64 = pool.iter().take(r).map(|i| self.cap_of(i)).sum();
        if sum.saturating_add(best) < self.b.party {
            w.stats.cut_upper_bound += 1;
            return false;
        }
        true
    }

    fn cap_of(&self, i: usize) -> i64 {
        self.cap.get(i).copied().unwrap_or(0)
    }

    /// Visits every candidate set of 2..=max_tables tables whose seats are within
    /// `[party, limit]` (connected when `adjacency`). With `prune`, sets that are
    /// strict supersets of an in-range set along the search path are skipped.
    pub(crate) fn run<'a>(
        &self,
        ticker: &'a mut Ticker<'_>,
        stats: &'a mut SearchStats,
        score: Option<ScoreCut<'a>>,
        visit: &'a mut dyn FnMut(&TableSet, i64) -> Visit,
    ) -> Finish {
        if self.b.max_tables < 2 || self.glob.len() < 2 {
            return Finish::Done;
        }
        let mut w = Walk {
            ticker,
            stats,
            visit,
            score: score.filter(|_| self.b.prune),
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
            if self.b.prune && !self.prepare_child(w, c, 1, &mut ext, &nbhd, &allowed) {
                continue;
            }
            w.set.clear();
            w.set.push(v);
            if self.score_cut(w) {
                continue;
            }
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
            if ok && extend && !self.score_cut(w) {
                if let Some(nx) = self.adj.get(x) {
                    let mut ext2 = ext.clone();
                    ext2.union_masked(nx, nbhd, allowed);
                    let mut nb2 = nbhd.clone();
                    nb2.union_with(nx);
                    let size = w.set.len();
                    if !self.b.prune || self.prepare_child(w, s2, size, &mut ext2, &nb2, allowed) {
                        ok = self.esu(w, s2, ext2, &nb2, allowed, root);
                    }
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
        let start = if self.b.prune {
            // Capacities descend: skip the tables that would overshoot the limit.
            let fit = self.first_fitting(self.b.limit - sum).min(self.glob.len());
            if fit > start {
                w.stats.cut_overage += (fit - start) as u64;
            }
            start.max(fit)
        } else {
            start
        };
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
            if ok && extend && !self.score_cut(w) {
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
        let fin = zs.run(&mut ticker, &mut stats, None, &mut |s, _| {
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
