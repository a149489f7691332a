//! The White Horse demo floor: every party 1..=24, empty and at peak, against
//! the brute-force oracle.

use autoassign_planner::testkit::{self, check_plan, oracle};
use autoassign_planner::*;

fn floor() -> Floor {
    match testkit::white_horse() {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn demo_floor_shape() {
    let f = floor();
    assert_eq!(f.tables().len(), 40);
    assert_eq!(f.zone_count(), 5);
    let seats: i32 = f.tables().iter().map(|t| t.capacity).sum();
    assert_eq!(seats, 210);
    let per_zone: Vec<usize> = (0..5)
        .map(|z| f.tables().iter().filter(|t| t.zone == z).count())
        .collect();
    assert_eq!(per_zone, vec![12, 8, 8, 6, 6]);
    // Same zone, |capacity difference| <= 2, at most 3 places apart (as the SQL seed).
    assert_eq!(f.edge_count(), 79);
    // Without the distance rule: 34 + 24 + 16 + 7 + 10.
    let loose = match testkit::white_horse_with(None) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(loose.edge_count(), 91);
    let min_parties: Vec<i32> = f.tables().iter().take(12).map(|t| t.min_party).collect();
    assert_eq!(min_parties, vec![1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5, 5]);
}

fn check_all(busy: &[Busy], label: &str) -> (usize, usize) {
    let f = floor();
    let (mut seated, mut multi) = (0, 0);
    for party in 1..=24 {
        let req = testkit::request(party, 3);
        let got = plan(&f, busy, &req, &[], &mut || {});
        let want = oracle(&f, busy, &req);
        assert_eq!(
            got.plans.is_empty(),
            want.valid.is_empty(),
            "{label} party {party}: existence"
        );
        for p in &got.plans {
            assert_eq!(
                check_plan(&f, busy, &req, p),
                Ok(()),
                "{label} party {party}"
            );
        }
        if let (Some(b), Some(o)) = (got.plans.first(), want.best_any()) {
            assert_eq!(b.score.total, o.total, "{label} party {party}: best score");
            assert_eq!(
                b.tables.to_vec(),
                o.tables,
                "{label} party {party}: best plan"
            );
            seated += 1;
            if b.tables.len() > 1 {
                multi += 1;
            }
        } else {
            assert!(got.reason.is_some(), "{label} party {party}: reason");
        }
        let want_list: Vec<Vec<u32>> = want
            .minimal
            .iter()
            .take(4)
            .map(|p| p.tables.clone())
            .collect();
        let got_list: Vec<Vec<u32>> = got.plans.iter().map(|p| p.tables.to_vec()).collect();
        assert_eq!(got_list, want_list, "{label} party {party}: plan list");
        let mut ex = req.clone();
        ex.knobs.exhaustive = true;
        let gx = plan(&f, busy, &ex, &[], &mut || {});
        assert_eq!(gx.plans, got.plans, "{label} party {party}: exhaustive");
    }
    (seated, multi)
}

#[test]
fn empty_floor_every_party() {
    let (seated, multi) = check_all(&[], "empty");
    // Two 10-tops joined seat 20; three 8/10-tops up to 24 (overage 4).
    assert_eq!(seated, 24);
    assert!(multi > 0);
}

#[test]
fn peak_every_party() {
    let f = floor();
    let req = testkit::request(2, 3);
    let busy = testkit::white_horse_peak(&f, req.start, req.end);
    let caps = free_capacity(&f, &busy, req.start, req.end);
    let free: i64 = caps.iter().map(|z| z.free_seats).sum();
    assert_eq!(free, 20); // ~90% of 210 seats busy
    let (seated, multi) = check_all(&busy, "peak");
    // Main 4+4+6 joined seat 14; nothing seats 15+.
    assert_eq!(seated, 14);
    assert!(multi > 0);
    let o = plan(&f, &busy, &testkit::request(15, 3), &[], &mut || {});
    // 20 free seats, but no combination of 3 seats 15: no_fit
    assert_eq!(o.reason, Some(Reason::NoFit));
    let o = plan(&f, &busy, &testkit::request(21, 3), &[], &mut || {});
    assert_eq!(o.reason, Some(Reason::NoCapacity));
}
