//! Criterion: the re-assignment search on the 120-table floor at about 90% busy (a
//! seeded evening at 100% demand confirmed up to the first refusals), the keep-open
//! costs of that floor, and alternatives for a refused booking.
#[path = "seating_common.rs"]
mod common;

use autoassign_planner::alternatives::{alternatives, AltOptions};
use autoassign_planner::placement::{blend_mix, keep_open_costs};
use autoassign_planner::reassign::{reassign_capped, Movable, DEFAULT_CAPS};
use autoassign_planner::{plan, Busy, Knobs, Request};
use common::*;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let f = floor("big120");
    let ev = evening(&f, 1.0, 1);
    // confirm with plain plans until bookings start being refused; keep the refused
    let mut placed: Vec<(Booking, smallvec::SmallVec<[u32; 6]>)> = Vec::new();
    let mut refused: Vec<Booking> = Vec::new();
    for b in &ev {
        let busy: Vec<Busy> = placed
            .iter()
            .flat_map(|(p, ts)| {
                ts.iter().map(move |&t| Busy {
                    table: t,
                    start: p.start,
                    end: p.end,
                })
            })
            .collect();
        let req = Request {
            party: b.party,
            start: b.start,
            end: b.end,
            requested_zone: None,
            knobs: Knobs::default(),
        };
        match plan(&f, &busy, &req, &[], &mut || {}).plans.first() {
            Some(p) => placed.push((*b, p.tables.clone())),
            None => refused.push(*b),
        }
    }
    let movable: Vec<Movable> = placed
        .iter()
        .map(|(p, ts)| Movable {
            party: p.party,
            start: p.start,
            end: p.end,
            tables: ts.clone(),
            requested_zone: None,
        })
        .collect();
    let busy: Vec<Busy> = placed
        .iter()
        .flat_map(|(p, ts)| {
            ts.iter().map(move |&t| Busy {
                table: t,
                start: p.start,
                end: p.end,
            })
        })
        .collect();
    let reqs: Vec<Request> = refused
        .iter()
        .take(16)
        .map(|b| Request {
            party: b.party,
            start: b.start,
            end: b.end,
            requested_zone: None,
            knobs: Knobs::default(),
        })
        .collect();
    c.bench_function("reassign_big120_refused_x16", |bn| {
        bn.iter(|| {
            for r in &reqs {
                black_box(reassign_capped(
                    &f,
                    &[],
                    &movable,
                    r,
                    2,
                    DEFAULT_CAPS,
                    &mut || {},
                ));
            }
        })
    });
    c.bench_function("keep_open_costs_big120", |bn| {
        bn.iter(|| black_box(keep_open_costs(&f, &blend_mix(&[]), 3, 4, true, &mut || {})))
    });
    let opts = AltOptions {
        within: 90 * MIN,
        step: 15 * MIN,
        earliest_start: i64::MIN,
        min_stay: 45 * MIN,
    };
    c.bench_function("alternatives_big120_refused_x16", |bn| {
        bn.iter(|| {
            for r in &reqs {
                black_box(alternatives(&f, &busy, r, opts, &mut || {}));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
