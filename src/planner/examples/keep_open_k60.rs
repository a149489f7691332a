//! Times keep_open_costs on a dense zone (60 two-tops, every pair adjacent) and on the
//! 120-table benchmark floor shape; prints microseconds.
use autoassign_planner::placement::{blend_mix, keep_open_costs};
use autoassign_planner::{Floor, TableSpec};
use std::time::Instant;

fn main() {
    let t = TableSpec {
        zone: 0,
        capacity: 2,
        min_party: 1,
        max_party: 2,
        active: true,
        combinable: true,
        priority: 0,
    };
    let mut edges = Vec::new();
    for a in 0..60u32 {
        for b in a + 1..60 {
            edges.push((a, b));
        }
    }
    let f = Floor::new(vec![t; 60], 1, &edges).expect("floor");
    let mix = blend_mix(&[]);
    for mt in [3u8, 6] {
        let s = Instant::now();
        let c = keep_open_costs(&f, &mix, mt, 0, true, &mut || {});
        println!(
            "K60 max_tables {mt}: {} us (max cost {})",
            s.elapsed().as_micros(),
            c.iter().max().unwrap_or(&0)
        );
    }
}
