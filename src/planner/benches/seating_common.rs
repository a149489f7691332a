//! Shared by the seating bench and example: the benchmark floors (the same shapes as
//! bench/seating.sql) and a seeded evening of bookings, and one confirm-as-they-arrive
//! replay with or without keep-open costs and re-assignment.
#![allow(dead_code)]

use autoassign_planner::placement::{blend_mix, keep_open_costs};
use autoassign_planner::reassign::{reassign_capped, Movable, DEFAULT_CAPS};
use autoassign_planner::{plan, Busy, Floor, Knobs, Request, TableSpec};
use smallvec::SmallVec;
use std::time::Duration;

pub const MIN: i64 = 60_000_000;
pub const BUFFER: i64 = 5 * MIN;

/// issue30: 30 tables in 4 zones (8, 8, 7, 7), odd tables chained, even ones alone;
/// bistro9: 9 tables in one zone; big120: 4 zones of 30. Capacities cycle through
/// 2, 4, 2, 2, 4, 6, 2, 4, 2, 8 as in bench/seating.sql.
pub fn floor(kind: &str) -> Floor {
    let caps = [2, 4, 2, 2, 4, 6, 2, 4, 2, 8];
    let per: Vec<usize> = match kind {
        "bistro9" => vec![9],
        "issue30" => vec![8, 8, 7, 7],
        _ => vec![30; 4],
    };
    let mut tables = Vec::new();
    let mut edges = Vec::new();
    let mut n = 0usize;
    for (z, &count) in per.iter().enumerate() {
        let mut prev: Option<u32> = None;
        for i in 1..=count {
            n += 1;
            let cap = caps[(n * 7 + i) % caps.len()];
            let idx = tables.len() as u32;
            tables.push(TableSpec {
                zone: z as u32,
                capacity: cap,
                min_party: 1,
                max_party: cap,
                active: true,
                combinable: true,
                priority: 0,
            });
            if i % 2 == 1 {
                if let Some(p) = prev {
                    edges.push((p, idx));
                }
                prev = Some(idx);
            }
        }
    }
    Floor::new(tables, per.len() as u32, &edges).expect("bench floor")
}

/// splitmix64
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn f(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Booking {
    pub party: i32,
    pub start: i64,
    pub end: i64,
}

/// Bookings in arrival order until the requested seat-hours reach `demand` x the
/// floor's seat-hours 17:00-23:00 (time 0 = 17:00).
pub fn evening(floor: &Floor, demand: f64, seed: u64) -> Vec<Booking> {
    let seat_hours: f64 = floor
        .tables()
        .iter()
        .map(|t| f64::from(t.capacity))
        .sum::<f64>()
        * 6.0;
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let mut want = 0.0;
    loop {
        let r = rng.f();
        let party = match r {
            x if x < 0.04 => 1,
            x if x < 0.48 => 2,
            x if x < 0.60 => 3,
            x if x < 0.82 => 4,
            x if x < 0.88 => 5,
            x if x < 0.94 => 6,
            x if x < 0.97 => 8,
            _ => 10,
        };
        let start = (rng.f() * 19.0).floor() as i64 * 15 * MIN;
        let stay: i32 = if rng.f() < 0.6 { 90 } else { 120 };
        want += f64::from(party) * f64::from(stay) / 60.0;
        if want > demand * seat_hours {
            break;
        }
        out.push(Booking {
            party,
            start,
            end: start + i64::from(stay) * MIN + BUFFER,
        });
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub keep_open: bool,
    pub reassign: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Replay {
    pub bookings: usize,
    pub covers_requested: i64,
    pub covers_seated: i64,
    pub refused: usize,
    pub moves: usize,
    /// Planner time per confirm (plan, plus the re-assignment search when one ran).
    pub plan_times: Vec<Duration>,
    /// Time of the confirms where a re-assignment search ran.
    pub reassign_times: Vec<Duration>,
    /// Searches stopped by the node cap or the deadline (not exact).
    pub incomplete: usize,
    pub nodes: u64,
    pub planned: u64,
}

/// Confirms each booking as it arrives: the best plan, else (with `reassign`) the
/// fewest moves of earlier bookings (at most 2), else a refusal.
pub fn replay(floor: &Floor, bookings: &[Booking], mode: Mode) -> Replay {
    let knobs = Knobs {
        keep_open: if mode.keep_open {
            keep_open_costs(floor, &blend_mix(&[]), 3, 4, true, &mut || {})
        } else {
            Vec::new()
        },
        max_alternates: 0,
        ..Knobs::default()
    };
    let mut placed: Vec<(Booking, SmallVec<[u32; 6]>)> = Vec::new();
    let mut r = Replay::default();
    for b in bookings {
        r.bookings += 1;
        r.covers_requested += i64::from(b.party);
        let req = Request {
            party: b.party,
            start: b.start,
            end: b.end,
            requested_zone: None,
            knobs: knobs.clone(),
        };
        let t0 = cpu_now();
        let busy: Vec<Busy> = placed
            .iter()
            .filter(|(p, _)| p.start < b.end && b.start < p.end)
            .flat_map(|(p, ts)| {
                ts.iter().map(move |&t| Busy {
                    table: t,
                    start: p.start,
                    end: p.end,
                })
            })
            .collect();
        let out = plan(floor, &busy, &req, &[], &mut || {});
        if let Some(best) = out.plans.first() {
            r.plan_times.push(cpu_now().saturating_sub(t0));
            placed.push((*b, best.tables.clone()));
            r.covers_seated += i64::from(b.party);
            continue;
        }
        if !mode.reassign || !matches!(out.reason.map(|x| x.code()), Some("no_fit" | "no_capacity"))
        {
            r.plan_times.push(cpu_now().saturating_sub(t0));
            r.refused += 1;
            continue;
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
        let mut rq = req.clone();
        rq.knobs.deadline = Some(Duration::from_millis(250));
        let found = reassign_capped(floor, &[], &movable, &rq, 2, DEFAULT_CAPS, &mut || {});
        let dt = cpu_now().saturating_sub(t0);
        r.plan_times.push(dt);
        r.reassign_times.push(dt);
        r.incomplete += usize::from(!found.complete);
        r.nodes += found.nodes;
        r.planned += u64::from(found.bookings_planned);
        match found.found {
            Some(ra) => {
                for m in &ra.moves {
                    placed[m.booking].1 = m.to.clone();
                }
                r.moves += ra.moves.len();
                placed.push((*b, ra.plan.tables.clone()));
                r.covers_seated += i64::from(b.party);
            }
            None => r.refused += 1,
        }
    }
    r
}

/// This thread's CPU time (clock_gettime CLOCK_THREAD_CPUTIME_ID): unlike wall time
/// it does not grow when other builds share the machine's two cores.
pub fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a plain syscall filling a local struct.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

pub fn pct(v: &[Duration], p: f64) -> u128 {
    if v.is_empty() {
        return 0;
    }
    let mut s: Vec<u128> = v.iter().map(|d| d.as_micros()).collect();
    s.sort_unstable();
    let i = ((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
    s[i]
}
