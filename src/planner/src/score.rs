//! The documented score and a bounded best-first plan list.

use crate::enumerate::TableSet;
use crate::floor::Floor;
use crate::outcome::{Plan, Score};
use crate::request::Weights;

fn sat_i32(x: i64) -> i32 {
    x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Builds a plan for `tables` (ascending, one zone) with lookahead cost 0.
#[cfg(test)]
pub(crate) fn make_plan(
    floor: &Floor,
    tables: &TableSet,
    party: i32,
    requested_zone: Option<u32>,
    w: &Weights,
) -> Plan {
    make_plan_open(floor, tables, party, requested_zone, w, &[])
}

/// [`make_plan`] with per-table keep-open costs (empty: none).
pub(crate) fn make_plan_open(
    floor: &Floor,
    tables: &TableSet,
    party: i32,
    requested_zone: Option<u32>,
    w: &Weights,
    keep_open: &[i64],
) -> Plan {
    let mut seats = 0i64;
    let mut priority = 0i64;
    let mut zone = 0u32;
    let mut open = 0i64;
    for &t in tables {
        if let Some(s) = floor.table(t as usize) {
            seats += i64::from(s.capacity);
            priority += i64::from(s.priority);
            zone = s.zone;
        }
        open = open.saturating_add(keep_open.get(t as usize).copied().unwrap_or(0));
    }
    let wasted = (seats - i64::from(party)).max(0);
    let zone_miss = requested_zone.is_some_and(|z| z != zone);
    let mut score = Score {
        total: 0,
        wasted: sat_i32(wasted),
        table_count: sat_i32(tables.len() as i64),
        lookahead: 0,
        zone_miss,
        priority,
        keep_open: open,
    };
    score.total = total(&score, w);
    Plan {
        tables: tables.clone(),
        zone,
        seats: sat_i32(seats),
        score,
    }
}

/// `waste*wasted + tables*(table_count-1) + lookahead*lookahead + zone*zone_miss
///  - priority*priority + keep_open`, saturating.
pub(crate) fn total(s: &Score, w: &Weights) -> i64 {
    w.waste
        .saturating_mul(i64::from(s.wasted))
        .saturating_add(w.tables.saturating_mul(i64::from(s.table_count) - 1))
        .saturating_add(w.lookahead.saturating_mul(s.lookahead))
        .saturating_add(if s.zone_miss { w.zone } else { 0 })
        .saturating_sub(w.priority.saturating_mul(s.priority))
        .saturating_add(s.keep_open)
}

/// Keeps the `cap` best plans by (total, table list), best first.
pub(crate) struct TopPlans {
    cap: usize,
    plans: Vec<Plan>,
}

impl TopPlans {
    pub(crate) fn new(cap: usize) -> TopPlans {
        TopPlans {
            cap: cap.max(1),
            plans: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, p: Plan) {
        let pos = self
            .plans
            .partition_point(|q| q.rank_cmp(&p) == std::cmp::Ordering::Less);
        if pos >= self.cap {
            return;
        }
        self.plans.insert(pos, p);
        self.plans.truncate(self.cap);
    }

    /// Total of the worst kept plan once the list is full, else `i64::MAX`.
    pub(crate) fn threshold(&self) -> i64 {
        match self.plans.last() {
            Some(p) if self.plans.len() >= self.cap => p.score.total,
            _ => i64::MAX,
        }
    }

    pub(crate) fn into_vec(self) -> Vec<Plan> {
        self.plans
    }
}

/// Sorts best first by the ranking key.
pub(crate) fn rank(plans: &mut [Plan]) {
    plans.sort_by(|a, b| a.rank_cmp(b));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::TableSpec;
    use smallvec::smallvec;

    fn floor() -> Floor {
        let t = |zone: u32, c: i32, prio: i32| TableSpec {
            zone,
            capacity: c,
            min_party: 1,
            max_party: c,
            active: true,
            combinable: true,
            priority: prio,
        };
        match Floor::new(vec![t(0, 4, 0), t(0, 2, 5), t(1, 6, 0)], 2, &[(0, 1)]) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn formula() {
        let f = floor();
        let w = Weights::default();
        let p = make_plan(&f, &smallvec![0, 1], 5, Some(1), &w);
        assert_eq!(p.seats, 6);
        assert_eq!(p.zone, 0);
        assert_eq!(p.score.wasted, 1);
        assert!(p.score.zone_miss);
        assert_eq!(p.score.priority, 5);
        assert_eq!(p.score.total, 1000 + 300 + 20 - 5);
        let q = make_plan(&f, &smallvec![2], 5, Some(1), &w);
        assert_eq!(q.score.total, 1000);
        let huge = Weights {
            waste: i64::MAX,
            ..w
        };
        assert_eq!(
            make_plan(&f, &smallvec![2], 1, None, &huge).score.total,
            i64::MAX
        );
    }

    #[test]
    fn top_plans_keeps_best_with_stable_ties() {
        let f = floor();
        let w = Weights {
            priority: 0,
            ..Weights::default()
        };
        let mut top = TopPlans::new(2);
        for ts in [smallvec![2], smallvec![0], smallvec![1], smallvec![0, 1]] {
            top.insert(make_plan(&f, &ts, 2, None, &w));
        }
        let got: Vec<Vec<u32>> = top.into_vec().iter().map(|p| p.tables.to_vec()).collect();
        // table 1 (2 seats) waste 0; then table 0 (waste 2, 2000) ties none; 6-top waste 4
        assert_eq!(got, vec![vec![1], vec![0]]);
    }
}
