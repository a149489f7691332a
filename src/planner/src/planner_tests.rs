//! Behaviour tests of `plan()` on small hand-built floors.

use std::time::Duration;

use crate::testkit::{self, check_plan};
use crate::*;

fn table(zone: u32, cap: i32) -> TableSpec {
    TableSpec {
        zone,
        capacity: cap,
        min_party: 1,
        max_party: cap,
        active: true,
        combinable: true,
        priority: 0,
    }
}

fn floor(tables: Vec<TableSpec>, zones: u32, edges: &[(u32, u32)]) -> Floor {
    match Floor::new(tables, zones, edges) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

fn req(party: i32) -> Request {
    Request {
        party,
        start: 1000,
        end: 2000,
        requested_zone: None,
        knobs: Knobs::default(),
    }
}

fn run(f: &Floor, busy: &[Busy], r: &Request) -> Outcome {
    plan(f, busy, r, &[], &mut || {})
}

fn ids(o: &Outcome) -> Vec<Vec<u32>> {
    o.plans.iter().map(|p| p.tables.to_vec()).collect()
}

#[test]
fn touching_intervals_are_free() {
    let f = floor(vec![table(0, 4)], 1, &[]);
    let r = req(4);
    let before = Busy {
        table: 0,
        start: 0,
        end: 1000,
    };
    let after = Busy {
        table: 0,
        start: 2000,
        end: 3000,
    };
    let o = run(&f, &[before, after], &r);
    assert_eq!(ids(&o), vec![vec![0]]);
    assert_eq!(o.reason, None);
    let overlap = Busy {
        table: 0,
        start: 1999,
        end: 3000,
    };
    let o = run(&f, &[overlap], &r);
    assert!(o.plans.is_empty());
    assert_eq!(o.counters.pruned_busy, 1);
    assert_eq!(o.reason, Some(Reason::NoCapacity));
}

#[test]
fn best_plan_and_alternates() {
    // zone 0: 2-4-6 chain; zone 1: a 5-top
    let f = floor(
        vec![table(0, 2), table(0, 4), table(0, 6), table(1, 5)],
        2,
        &[(0, 1), (1, 2)],
    );
    let o = run(&f, &[], &req(5));
    // 5-top wastes 0; 6-top wastes 1; {2,4} wastes 1 + 300
    assert_eq!(ids(&o), vec![vec![3], vec![2], vec![0, 1]]);
    assert_eq!(o.plans[0].score.total, 0);
    assert_eq!(o.plans[1].score.total, 1000);
    assert_eq!(o.plans[2].score.total, 1300);
    for p in &o.plans {
        assert_eq!(check_plan(&f, &[], &req(5), p), Ok(()));
    }
    let mut r = req(5);
    r.requested_zone = Some(0);
    let o = run(&f, &[], &r);
    assert_eq!(o.plans[0].tables.as_slice(), &[3]);
    assert!(o.plans[0].score.zone_miss);
    assert_eq!(o.plans[0].score.total, 20);
    let mut r = req(5);
    r.knobs.max_alternates = 0;
    assert_eq!(ids(&run(&f, &[], &r)), vec![vec![3]]);
}

#[test]
fn avoid_and_zone_restrict() {
    let f = floor(vec![table(0, 4), table(0, 4), table(1, 4)], 2, &[(0, 1)]);
    let mut r = req(4);
    r.knobs.avoid = vec![0];
    let o = run(&f, &[], &r);
    assert_eq!(ids(&o), vec![vec![1], vec![2]]);
    assert_eq!(o.counters.pruned_avoided, 1);
    r.knobs.zone_restrict = Some(1);
    let o = run(&f, &[], &r);
    assert_eq!(ids(&o), vec![vec![2]]);
    assert_eq!(o.counters.pruned_zone, 2);
    assert_eq!(o.free_seats, 4);
    r.knobs.avoid = vec![2];
    let o = run(&f, &[], &r);
    assert_eq!(o.reason, Some(Reason::NoCapacity));
}

#[test]
fn adjacency_and_overage() {
    // 0(4) - 1(4)   2(4) not adjacent to either
    let f = floor(vec![table(0, 4), table(0, 4), table(0, 4)], 1, &[(0, 1)]);
    let o = run(&f, &[], &req(8));
    assert_eq!(ids(&o), vec![vec![0, 1]]);
    let mut r = req(8);
    r.knobs.require_adjacency = false;
    assert_eq!(
        ids(&run(&f, &[], &r)),
        vec![vec![0, 1], vec![0, 2], vec![1, 2]]
    );
    // party 7: 8 seats = 1 over; max_overage 0 forbids it
    let mut r = req(7);
    r.knobs.max_overage = 0;
    let o = run(&f, &[], &r);
    assert_eq!(o.reason, Some(Reason::NoFit));
    r.knobs.max_overage = 1;
    assert_eq!(ids(&run(&f, &[], &r)), vec![vec![0, 1]]);
    // max_tables 1: no combination
    let mut r = req(8);
    r.knobs.max_tables = 1;
    assert_eq!(run(&f, &[], &r).reason, Some(Reason::NoFit));
}

#[test]
fn reasons() {
    let mut big = table(0, 4);
    big.combinable = false;
    let f = floor(
        vec![table(0, 4), table(0, 4), big, table(1, 2)],
        2,
        &[(0, 1)],
    );
    // 14 > every zone's seats (12, 2) and every max_party
    let o = run(&f, &[], &req(14));
    assert_eq!(o.reason, Some(Reason::PartyExceedsFloor));
    assert_eq!(o.reason.map(|r| r.class()), Some("hard"));
    // 12 seats exist in zone 0 but the 4-top is not combinable: no_fit
    assert_eq!(run(&f, &[], &req(12)).reason, Some(Reason::NoFit));
    // busy table: only 10 free seats for 11
    let busy = [Busy {
        table: 0,
        start: 0,
        end: 5000,
    }];
    let o = run(&f, &busy, &req(11));
    assert_eq!(o.reason, Some(Reason::NoCapacity));
    assert_eq!(o.reason.map(|r| r.code()), Some("no_capacity"));
    assert_eq!(o.free_seats, 14 - 4);
    // 10 free seats for 8, but 4 + 2 are in different zones: no_fit
    assert_eq!(run(&f, &busy, &req(8)).reason, Some(Reason::NoFit));
    assert!(o.plans.is_empty());
    // Inactive tables do not count for the floor
    let mut t = vec![table(0, 4), table(0, 4)];
    t[1].active = false;
    let f = floor(t, 1, &[(0, 1)]);
    assert_eq!(
        run(&f, &[], &req(8)).reason,
        Some(Reason::PartyExceedsFloor)
    );
}

#[test]
fn invalid_request() {
    let f = floor(vec![table(0, 4)], 1, &[]);
    let mut r = req(2);
    r.knobs.max_tables = 9;
    let o = run(&f, &[], &r);
    assert_eq!(o.reason, Some(Reason::InvalidRequest));
    assert!(o.plans.is_empty());
    let mut r = req(2);
    r.end = r.start - 1;
    assert_eq!(run(&f, &[], &r).reason, Some(Reason::InvalidRequest));
}

#[test]
fn zero_deadline_times_out() {
    let f = match testkit::white_horse() {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let mut r = testkit::request(6, 3);
    r.knobs.deadline = Some(Duration::ZERO);
    let o = run(&f, &[], &r);
    assert_eq!(o.reason, Some(Reason::Timeout));
    assert!(o.counters.deadline_hit);
    assert_eq!(o.reason.map(|r| r.class()), Some("transient"));
    // A generous deadline does not fire
    r.knobs.deadline = Some(Duration::from_secs(60));
    let o = run(&f, &[], &r);
    assert_eq!(o.reason, None);
    assert!(!o.counters.deadline_hit);
}

#[test]
fn interrupt_is_called_regularly() {
    let f = match testkit::banquet_hall() {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let mut r = testkit::request(20, 4);
    r.knobs.exhaustive = true;
    let mut calls = 0u64;
    let o = plan(&f, &[], &r, &[], &mut || calls += 1);
    assert!(o.counters.combinations_tried > 4096);
    assert!(calls >= o.counters.combinations_tried / 1024);
    // An interrupt that unwinds (like CHECK_FOR_INTERRUPTS) propagates.
    let res = std::panic::catch_unwind(|| {
        plan(&f, &[], &r, &[], &mut || panic!("query canceled"));
    });
    assert!(res.is_err());
}

#[test]
fn deterministic() {
    let f = match testkit::banquet_hall() {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let busy = testkit::banquet_busy(&f, 0, 5_400_000_000, 7);
    let mut rev = busy.clone();
    rev.reverse();
    for party in [3, 9, 15, 20] {
        let r = testkit::request(party, 4);
        let a = run(&f, &busy, &r);
        let b = run(&f, &rev, &r);
        assert_eq!(a, b);
        assert!(!a.plans.is_empty());
        let mut e = r.clone();
        e.knobs.exhaustive = true;
        let x = run(&f, &busy, &e);
        assert_eq!(ids(&a), ids(&x));
        assert!(x.counters.combinations_tried > a.counters.combinations_tried);
    }
}

#[test]
fn lookahead_examines_the_pending_bookings_nearest_the_request() {
    // The floor and request of the test below; 40 small parties that arrived long
    // before the request (still overlapping it) would fill the 32 places if the
    // lookahead took the earliest, and the party of 10 starting with the request
    // would be left out. Nearest first, it is examined and the 8-top is protected.
    let f = floor(
        vec![table(0, 8), table(0, 2), table(0, 4), table(0, 4)],
        1,
        &[(0, 1), (2, 3)],
    );
    let r = req(6);
    let mut pending: Vec<Pending> = (0..40)
        .map(|i| Pending {
            party: 2,
            start: i,
            end: 1100,
            requested_zone: None,
        })
        .collect();
    pending.push(Pending {
        party: 10,
        start: 1000,
        end: 2500,
        requested_zone: None,
    });
    let o = plan(&f, &[], &r, &pending, &mut || {});
    assert_eq!(o.plans[0].tables.as_slice(), &[2, 3]);
    let eight = o.plans.iter().find(|p| p.tables.as_slice() == [0]);
    assert!(eight.is_some_and(|p| p.score.lookahead >= 100));
}

#[test]
fn lookahead_keeps_big_table_for_pending_big_party() {
    // 0: 8-top, 1: 2-top adjacent to it; 2,3: two adjacent 4-tops.
    let f = floor(
        vec![table(0, 8), table(0, 2), table(0, 4), table(0, 4)],
        1,
        &[(0, 1), (2, 3)],
    );
    let r = req(6);
    // Without pending bookings the 8-top (waste 2) beats two 4-tops (waste 2 + table).
    let o = run(&f, &[], &r);
    assert_eq!(o.plans[0].tables.as_slice(), &[0]);
    // A pending party of 10 needs 8+2; giving away the 8-top leaves it nothing.
    let pending = [Pending {
        party: 10,
        start: 1500,
        end: 2500,
        requested_zone: None,
    }];
    let o = plan(&f, &[], &r, &pending, &mut || {});
    assert_eq!(o.plans[0].tables.as_slice(), &[2, 3]);
    assert_eq!(o.plans[0].score.lookahead, 0);
    let eight = o.plans.iter().find(|p| p.tables.as_slice() == [0]);
    assert_eq!(eight.map(|p| p.score.lookahead), Some(100));
    assert_eq!(eight.map(|p| p.score.total), Some(2000 + 100 * 100));
    assert!(o.counters.lookahead_evaluated >= 2);
    // A pending party of 8 could still use 4+4 if we take the 8-top: +10.
    let pending = [Pending {
        party: 8,
        start: 1500,
        end: 2500,
        requested_zone: None,
    }];
    let o = plan(&f, &[], &r, &pending, &mut || {});
    assert_eq!(o.plans[0].tables.as_slice(), &[2, 3]);
    let eight = o.plans.iter().find(|p| p.tables.as_slice() == [0]);
    assert_eq!(eight.map(|p| p.score.lookahead), Some(10));
    // A pending booking that does not overlap changes nothing.
    let pending = [Pending {
        party: 10,
        start: 2000,
        end: 3000,
        requested_zone: None,
    }];
    let o = plan(&f, &[], &r, &pending, &mut || {});
    assert_eq!(o.plans[0].tables.as_slice(), &[0]);
    // The cap bounds the cost.
    let mut r2 = req(6);
    r2.knobs.lookahead_cap = 5;
    let pending = [Pending {
        party: 10,
        start: 1500,
        end: 2500,
        requested_zone: None,
    }];
    let o = plan(&f, &[], &r2, &pending, &mut || {});
    let eight = o.plans.iter().find(|p| p.tables.as_slice() == [0]);
    assert_eq!(eight.map(|p| p.score.lookahead), Some(5));
}

#[test]
fn stages_and_counters() {
    let f = floor(
        vec![
            table(0, 2),
            table(0, 4),
            table(0, 6),
            table(1, 5),
            table(1, 5),
        ],
        2,
        &[(0, 1), (1, 2), (3, 4)],
    );
    let o = run(&f, &[], &req(11));
    let names: Vec<&str> = o.stages.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        vec![
            "load_floor",
            "filter_tables",
            "single_tables",
            "zone_capacity",
            "combinations",
            "lookahead",
            "rank"
        ]
    );
    assert_eq!(o.counters.tables_considered, 5);
    // zone 1 seats 10 < 11: pruned without enumeration
    assert_eq!(o.counters.zones_pruned_capacity, 1);
    assert_eq!(o.counters.zones_considered, 1);
    assert_eq!(ids(&o), vec![vec![0, 1, 2]]);
    assert_eq!(o.counters.plans_found, 1);
    assert!(o.counters.combinations_tried >= 3);
    let o = run(&f, &[], &req(10));
    // {4,6} and {5,5}; {2,4,6} is a superset of {4,6}
    assert_eq!(ids(&o), vec![vec![1, 2], vec![3, 4]]);
    assert!(o.counters.cut_valid_superset >= 1);
}
