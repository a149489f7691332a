//! Keep-open costs, party mix and re-packing (planner `placement`).

use autoassign_planner::placement::{
    blend_mix, keep_open_costs, repack, RepackOptions, KEEP_OPEN_MAX,
};
use autoassign_planner::reassign::Movable;
use autoassign_planner::{Floor, Knobs, TableSpec};

fn t(zone: u32, cap: i32) -> TableSpec {
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

/// Zone 0: a chain of four 2-tops 0-1-2-3; zone 1: an isolated 2-top (4).
fn chain() -> Floor {
    match Floor::new(
        vec![t(0, 2), t(0, 2), t(0, 2), t(0, 2), t(1, 2)],
        2,
        &[(0, 1), (1, 2), (2, 3)],
    ) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn isolated_first_then_chain_ends_then_middles() {
    let f = chain();
    let c = keep_open_costs(&f, &blend_mix(&[]), 3, 2, true, &mut || {});
    assert_eq!(c[4], 0, "isolated table breaks nothing: {c:?}");
    assert!(c[0] > 0 && c[0] == c[3], "{c:?}");
    assert!(
        c[1] > c[0] && c[1] == c[2],
        "middles cost more than ends: {c:?}"
    );
    assert_eq!(c[1], KEEP_OPEN_MAX);
}

#[test]
fn mix_of_only_small_parties_needs_no_combination() {
    let f = chain();
    let mix = vec![(2, 1.0)];
    assert_eq!(
        keep_open_costs(&f, &mix, 3, 2, true, &mut || {}),
        vec![0; 5]
    );
    assert_eq!(
        keep_open_costs(&f, &blend_mix(&[]), 1, 2, true, &mut || {}),
        vec![0; 5]
    );
}

#[test]
fn repack_frees_the_pair() {
    // 0-1 a pair of 2-tops, 2 an isolated 2-top; a two-top sits on 1
    let f = match Floor::new(vec![t(0, 2), t(0, 2), t(0, 2)], 1, &[(0, 1)]) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let m = Movable {
        party: 2,
        start: 0,
        end: 10,
        tables: smallvec::smallvec![1],
        requested_zone: None,
    };
    let opts = RepackOptions {
        slot_starts: vec![0, 5],
        slot_len: 10,
        max_steps: 5,
    };
    let r = repack(
        &f,
        &[],
        std::slice::from_ref(&m),
        &[true],
        &Knobs::default(),
        &opts,
        &mut || {},
    );
    assert_eq!(r.moves.len(), 1);
    assert_eq!(r.moves[0].to.as_slice(), &[2]);
    assert_eq!((r.before, r.after), (4, 8));
    // not allowed to move: nothing happens
    let r = repack(
        &f,
        &[],
        &[m],
        &[false],
        &Knobs::default(),
        &opts,
        &mut || {},
    );
    assert!(r.moves.is_empty() && r.before == r.after);
}

#[test]
fn blend_moves_from_prior_to_own_mix() {
    let prior = blend_mix(&[]);
    let s: f64 = prior.iter().map(|x| x.1).sum();
    assert!((s - 1.0).abs() < 1e-9);
    let own = blend_mix(&[(6, 100_000)]);
    let six = own.iter().find(|x| x.0 == 6).map_or(0.0, |x| x.1);
    assert!(six > 0.99, "{own:?}");
    assert!(blend_mix(&[(-1, 5), (3, 0)]) == prior);
}
