//! Latency report: `cargo run --release --example latency [runs]`.
//!
//! Runs each scenario (White Horse at peak, parties 2..=14, max_tables 3; the
//! 400-table banquet hall at ~50% busy, parties 4..=20, max_tables 4) N times in
//! normal and exhaustive mode and prints p50/p99 microseconds per plan, connected
//! combinations examined per second, and the exhaustive/normal cost ratio.
//!
//! Then the lookahead scenarios (`testkit::white_horse_evening`: the pgbench quote
//! fixture, about half the floor allocated and ~35 pending bookings;
//! `testkit::banquet_evening`): µs per plan without and with the pending bookings,
//! and the lookahead alone on the same candidates, optimised vs the reference
//! implementation (the costs must be identical).

use std::time::Instant;

use autoassign_planner::testkit::{
    self, banquet_busy, banquet_evening, banquet_hall, white_horse, white_horse_evening,
    white_horse_peak, Quote,
};
use autoassign_planner::{plan, Busy, Floor, Pending, Plan, Request};

struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
    combos: u64,
    secs: f64,
    plans: usize,
}

/// Percentiles and totals of per-plan latencies in µs.
fn summarize(mut lat: Vec<f64>, combos: u64, plans: usize) -> Stats {
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
    summarize(lat, combos, plans)
}

type CostFn = fn(&Floor, &[Busy], &Request, &[Pending], &[Plan]) -> Option<Vec<i64>>;

/// Mean µs per plan over `runs` rounds of every quote, with or without its pending
/// bookings; p50/p99 over all calls.
fn measure_quotes(floor: &Floor, quotes: &[Quote], lookahead: bool, runs: usize) -> Stats {
    let mut lat = Vec::with_capacity(runs * quotes.len());
    let mut plans = 0usize;
    let pending = |q: &'_ Quote| -> Vec<Pending> {
        if lookahead {
            q.pending.clone()
        } else {
            Vec::new()
        }
    };
    let prepared: Vec<(&Quote, Vec<Pending>)> = quotes.iter().map(|q| (q, pending(q))).collect();
    for (q, p) in &prepared {
        std::hint::black_box(plan(floor, &q.busy, &q.request, p, &mut || {}));
    }
    for _ in 0..runs {
        for (q, p) in &prepared {
            let t = Instant::now();
            let o = plan(floor, &q.busy, &q.request, p, &mut || {});
            lat.push(t.elapsed().as_secs_f64() * 1e6);
            plans += usize::from(!o.plans.is_empty());
            std::hint::black_box(o);
        }
    }
    summarize(lat, 0, plans)
}

/// Mean µs per quote of the lookahead alone (prepare + every candidate).
fn time_costs(
    f: CostFn,
    floor: &Floor,
    cands: &[(&Quote, Vec<Plan>)],
    runs: usize,
) -> (f64, Vec<Option<Vec<i64>>>) {
    let costs: Vec<_> = cands
        .iter()
        .map(|(q, ps)| f(floor, &q.busy, &q.request, &q.pending, ps))
        .collect();
    let t = Instant::now();
    for _ in 0..runs {
        for (q, ps) in cands {
            std::hint::black_box(f(floor, &q.busy, &q.request, &q.pending, ps));
        }
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / (runs * cands.len()).max(1) as f64;
    (us, costs)
}

fn lookahead_report(name: &str, floor: &Floor, quotes: &[Quote], runs: usize, target: f64) {
    let n = quotes.len().max(1) as f64;
    let avg = |f: &dyn Fn(&Quote) -> usize| quotes.iter().map(f).sum::<usize>() as f64 / n;
    let busy_tables = avg(&|q| {
        let mut t: Vec<u32> = q
            .busy
            .iter()
            .filter(|b| b.overlaps(q.request.start, q.request.end))
            .map(|b| b.table)
            .collect();
        t.sort_unstable();
        t.dedup();
        t.len()
    });
    let pending = avg(&|q| q.pending.len());
    let overlapping = avg(&|q| {
        q.pending
            .iter()
            .filter(|p| p.start < q.request.end && q.request.start < p.end)
            .count()
            .min(32)
    });
    println!(
        "\n{name}: {} quotes; per quote on average {busy_tables:.1}/{} tables busy, \
         {pending:.1} pending ({overlapping:.1} examined)",
        quotes.len(),
        floor.tables().len(),
    );
    let without = measure_quotes(floor, quotes, false, runs);
    let with = measure_quotes(floor, quotes, true, runs);
    for (label, s) in [("no pending", &without), ("lookahead", &with)] {
        println!(
            "  {label:<10} p50 {:>8.2} us  p99 {:>8.2} us  max {:>8.2} us  mean {:>8.2} us  seated {}/{}",
            s.p50,
            s.p99,
            s.max,
            s.mean,
            s.plans / runs,
            quotes.len()
        );
    }
    // The candidates the planner re-scores: the best max(8, 1 + alternates) plans.
    let cands: Vec<(&Quote, Vec<Plan>)> = quotes
        .iter()
        .map(|q| {
            let mut r = q.request.clone();
            r.knobs.max_alternates = r.knobs.max_alternates.max(7);
            (q, plan(floor, &q.busy, &r, &[], &mut || {}).plans)
        })
        .collect();
    let (new_us, new_costs) = time_costs(testkit::lookahead_costs, floor, &cands, runs);
    let ref_runs = (runs / 4).max(10);
    let (ref_us, ref_costs) =
        time_costs(testkit::lookahead_costs_reference, floor, &cands, ref_runs);
    let total: i64 = new_costs.iter().flatten().flatten().sum();
    let overhead = with.mean - without.mean;
    println!(
        "  lookahead overhead {overhead:.2} us/plan (target <= {target} us: {}); lookahead alone: \
         optimised {new_us:.2} us/plan, reference {ref_us:.2} us/plan (x{:.1}); costs {} (sum {total})",
        if overhead <= target { "met" } else { "MISSED" },
        ref_us / new_us.max(1e-9),
        if new_costs == ref_costs { "identical" } else { "DIFFER" },
    );
    if new_costs != ref_costs {
        eprintln!("optimised {new_costs:?}\nreference {ref_costs:?}");
        std::process::exit(1);
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

    lookahead_report(
        "white_horse_evening (40 tables, demo service seed 42, max_tables 3)",
        &wh,
        &white_horse_evening(&wh),
        runs / 4,
        25.0,
    );
    // The same quotes with the floor at peak (~90% busy): the pending bookings lose
    // their single tables, so the multi-table searches run.
    let tight: Vec<Quote> = white_horse_evening(&wh)
        .into_iter()
        .map(|mut q| {
            q.busy = white_horse_peak(&wh, 17 * 60 * testkit::MINUTE, 24 * 60 * testkit::MINUTE);
            q
        })
        .collect();
    lookahead_report(
        "white_horse_evening at peak (same quotes, ~90% busy)",
        &wh,
        &tight,
        runs / 4,
        25.0,
    );
    lookahead_report(
        "banquet_evening (400 tables, 600 bookings, max_tables 4)",
        &bq,
        &banquet_evening(&bq),
        (runs / 40).max(10),
        250.0,
    );
}
