//! Issue 13, pure planner: covers seated when every booking is confirmed as it
//! arrives, on the benchmark floors at 80/100/130% demand, with neither keep-open nor
//! re-assignment (as 0.2.0 plans), with each, and with both; plus the planner time per
//! confirm (µs of this thread's CPU time, so other builds on the machine do not
//! inflate it) and of the confirms that ran a re-assignment search.
//!
//! `cargo run --release -p autoassign_planner --example seating -- [seeds]`
#[path = "../benches/seating_common.rs"]
mod common;

use common::*;

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let modes = [
        (
            "0.2.0 (plan only)",
            Mode {
                keep_open: false,
                reassign: false,
            },
        ),
        (
            "keep-open",
            Mode {
                keep_open: true,
                reassign: false,
            },
        ),
        (
            "reassign",
            Mode {
                keep_open: false,
                reassign: true,
            },
        ),
        (
            "keep-open + reassign",
            Mode {
                keep_open: true,
                reassign: true,
            },
        ),
    ];
    for kind in ["issue30", "bistro9", "big120"] {
        let f = floor(kind);
        for demand in [0.8, 1.0, 1.3] {
            println!("{kind} demand {:.0}%, seeds 1..={seeds}:", demand * 100.0);
            for (name, mode) in modes {
                let (mut req, mut seated, mut refused, mut moves, mut n) = (0, 0, 0, 0, 0);
                let (mut times, mut rtimes) = (Vec::new(), Vec::new());
                let (mut incomplete, mut nodes, mut planned) = (0, 0, 0);
                for seed in 1..=seeds {
                    let ev = evening(&f, demand, seed);
                    let r = replay(&f, &ev, mode);
                    req += r.covers_requested;
                    seated += r.covers_seated;
                    refused += r.refused;
                    moves += r.moves;
                    n += r.bookings;
                    times.extend(r.plan_times);
                    rtimes.extend(r.reassign_times);
                    incomplete += r.incomplete;
                    nodes += r.nodes;
                    planned += r.planned;
                }
                println!(
                    "  {name:<22} covers seated {seated:>5} of {req:>5} ({:.1}%), refused {refused:>4} of {n:>4} bookings, moves {moves:>4}; planner µs p50 {} p99 {}; with a re-assignment search n {} p50 {} p99 {} max {} (not exact {}, nodes {}, bookings planned {})",
                    100.0 * seated as f64 / req as f64,
                    pct(&times, 0.5),
                    pct(&times, 0.99),
                    rtimes.len(),
                    pct(&rtimes, 0.5),
                    pct(&rtimes, 0.99),
                    pct(&rtimes, 1.0),
                    incomplete,
                    nodes,
                    planned,
                );
            }
        }
    }
}
