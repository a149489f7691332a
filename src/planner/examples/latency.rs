//! Latency report: `cargo run --release --example latency [runs]`.
//!
//! Runs each scenario (White Horse at peak, parties 2..=14, max_tables 3; the
//! 400-table banquet hall at ~50% busy, parties 4..=20, max_tables 4) N times in
//! normal and exhaustive mode and prints p50/p99 microseconds per plan, connected
//! combinations examined per second, and the exhaustive/normal cost ratio.

use std::time::Instant;

use autoassign_planner::testkit::{
    self, banquet_busy, banquet_hall, white_horse, white_horse_peak,
};
use autoassign_planner::{plan, Busy, Floor, Request};

struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
    combos: u64,
    secs: f64,
    plans: usize,
}

/// (name, floor, busy, requests, p99 target in µs)
type Scenario<'a> = (&'a str, &'a Floor, &'a [Busy], Vec<Request>, f64);

fn measure(floor: &Floor, busy: &[Busy], reqs: &[Request], runs: usize) -> Stats {
    let mut lat = Vec::with_capacity(runs * reqs.len());
    let mut combos = 0u64;
    let mut plans = 0usize;
    // warm-up
    for r in reqs {
        std::hint::black_box(plan(floor, busy, r, &[], &mut || {}));
    }
    for _ in 0..runs {
        for r in reqs {
            let t = Instant::now();
            let o = plan(floor, busy, r, &[], &mut || {});
            lat.push(t.elapsed().as_secs_f64() * 1e6);
            combos += o.counters.combinations_tried;
            plans += usize::from(!o.plans.is_empty());
            std::hint::black_box(o);
        }
    }
    let secs: f64 = lat.iter().sum::<f64>() / 1e6;
    lat.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| {
        let i = ((lat.len() as f64 - 1.0) * q).round() as usize;
        lat.get(i).copied().unwrap_or(0.0)
    };
    Stats {
        p50: pick(0.50),
        p99: pick(0.99),
        max: pick(1.0),
        mean: secs * 1e6 / lat.len().max(1) as f64,
        combos,
        secs,
        plans,
    }
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let (wh, bq) = match (white_horse(), banquet_hall()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("floor: {e}");
            std::process::exit(1);
        }
    };
    let r0 = testkit::request(2, 3);
    let wh_busy = white_horse_peak(&wh, r0.start, r0.end);
    let bq_busy = banquet_busy(&bq, r0.start, r0.end, 42);
    let scenarios: Vec<Scenario> = vec![
        (
            "white_horse_peak (40 tables, parties 2..=14, max_tables 3)",
            &wh,
            &wh_busy,
            (2..=14).map(|p| testkit::request(p, 3)).collect(),
            20.0,
        ),
        (
            "white_horse_empty (40 tables, parties 2..=24, max_tables 3)",
            &wh,
            &[],
            (2..=24).map(|p| testkit::request(p, 3)).collect(),
            20.0,
        ),
        (
            "banquet_400 (~50% busy, parties 4..=20, max_tables 4)",
            &bq,
            &bq_busy,
            (4..=20).map(|p| testkit::request(p, 4)).collect(),
            500.0,
        ),
    ];
    println!("runs per request: {runs}");
    for (name, floor, busy, reqs, target) in scenarios {
        let normal = measure(floor, busy, &reqs, runs);
        let ex_reqs: Vec<Request> = reqs
            .iter()
            .cloned()
            .map(|mut r| {
                r.knobs.exhaustive = true;
                r
            })
            .collect();
        let ex_runs = (runs / 10).max(10);
        let ex = measure(floor, busy, &ex_reqs, ex_runs);
        let per = |s: &Stats, n: usize| s.combos as f64 / (n * reqs.len()) as f64;
        println!("\n{name}");
        for (label, s, n) in [("normal", &normal, runs), ("exhaustive", &ex, ex_runs)] {
            println!(
                "  {label:<10} p50 {:>8.2} us  p99 {:>8.2} us  max {:>8.2} us  mean {:>8.2} us  \
                 {:>9.1} combos/plan  {:>6.1} M combos/s  seated {}/{}",
                s.p50,
                s.p99,
                s.max,
                s.mean,
                per(s, n),
                s.combos as f64 / s.secs.max(1e-12) / 1e6,
                s.plans / n,
                reqs.len()
            );
        }
        println!(
            "  exhaustive/normal: combinations x{:.1}, time x{:.1}   (p99 target <= {target} us: {})",
            per(&ex, ex_runs) / per(&normal, runs).max(1e-9),
            ex.mean / normal.mean.max(1e-9),
            if normal.p99 <= target { "met" } else { "MISSED" }
        );
    }
}
