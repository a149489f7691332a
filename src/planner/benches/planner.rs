//! Criterion benches: White Horse at peak, the 400-table banquet hall at ~50%
//! busy, each in normal and exhaustive mode; the White Horse evening quotes
//! (`testkit::white_horse_evening`) without and with their pending bookings.

use autoassign_planner::testkit::{
    self, banquet_busy, banquet_hall, white_horse, white_horse_evening, white_horse_peak,
};
use autoassign_planner::{plan, Busy, Floor, Request};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

struct Scenario {
    name: &'static str,
    floor: Floor,
    busy: Vec<Busy>,
    reqs: Vec<Request>,
}

fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    if let (Ok(wh), Ok(bq)) = (white_horse(), banquet_hall()) {
        let r0 = testkit::request(2, 3);
        let busy = white_horse_peak(&wh, r0.start, r0.end);
        out.push(Scenario {
            name: "white_horse_peak",
            floor: wh,
            busy,
            reqs: (2..=14).map(|p| testkit::request(p, 3)).collect(),
        });
        let busy = banquet_busy(&bq, r0.start, r0.end, 42);
        out.push(Scenario {
            name: "banquet_400",
            floor: bq,
            busy,
            reqs: (4..=20).map(|p| testkit::request(p, 4)).collect(),
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    for s in scenarios() {
        for exhaustive in [false, true] {
            let reqs: Vec<Request> = s
                .reqs
                .iter()
                .cloned()
                .map(|mut r| {
                    r.knobs.exhaustive = exhaustive;
                    r
                })
                .collect();
            let name = format!(
                "{}/{}",
                s.name,
                if exhaustive { "exhaustive" } else { "normal" }
            );
            c.bench_function(&name, |b| {
                b.iter(|| {
                    for r in &reqs {
                        black_box(plan(&s.floor, &s.busy, r, &[], &mut || {}));
                    }
                })
            });
        }
    }
}

fn bench_lookahead(c: &mut Criterion) {
    let Ok(wh) = white_horse() else { return };
    let quotes = white_horse_evening(&wh);
    for lookahead in [false, true] {
        let name = format!(
            "white_horse_evening/{}",
            if lookahead { "lookahead" } else { "no_pending" }
        );
        c.bench_function(&name, |b| {
            b.iter(|| {
                for q in &quotes {
                    let pending = if lookahead { &q.pending[..] } else { &[] };
                    black_box(plan(&wh, &q.busy, &q.request, pending, &mut || {}));
                }
            })
        });
    }
}

criterion_group!(benches, bench, bench_lookahead);
criterion_main!(benches);
