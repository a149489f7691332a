//! Test and benchmark helpers: a brute-force oracle that re-checks the rules
//! independently of the planner, and the demo floors (White Horse, a 400-table
//! banquet hall). Small and pure; always compiled so tests, benches and
//! examples can share it.

use crate::enumerate::SearchStats;
use crate::floor::{Floor, FloorError, TableSpec};
use crate::outcome::Plan;
use crate::request::{Busy, Knobs, Micros, Pending, Request};
use crate::ticker::Ticker;

/// A plan found by the oracle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OraclePlan {
    /// Ascending table indices.
    pub tables: Vec<u32>,
    pub zone: u32,
    pub seats: i64,
    /// Score total by the documented formula, lookahead cost 0.
    pub total: i64,
}

/// Everything the oracle knows about one request.
#[derive(Clone, Debug, Default)]
pub struct OracleResult {
    /// Every valid plan (not only minimal ones), unsorted.
    pub valid: Vec<OraclePlan>,
    /// Minimal valid plans (no proper subset is a valid plan), best first by
    /// (total, tables).
    pub minimal: Vec<OraclePlan>,
}

impl OracleResult {
    /// Best valid plan by (total, tables), minimal or not.
    pub fn best_any(&self) -> Option<&OraclePlan> {
        self.valid
            .iter()
            .min_by(|a, b| a.total.cmp(&b.total).then(a.tables.cmp(&b.tables)))
    }
}

fn is_free(floor: &Floor, busy: &[Busy], req: &Request, t: u32) -> bool {
    let Some(spec) = floor.tables().get(t as usize) else {
        return false;
    };
    spec.active
        && !req.knobs.avoid.contains(&t)
        && req.knobs.zone_restrict.is_none_or(|z| z == spec.zone)
        && !busy
            .iter()
            .any(|b| b.table == t && b.start < req.end && req.start < b.end)
}

fn connected(floor: &Floor, set: &[u32]) -> bool {
    let mut seen = vec![false; set.len()];
    let mut stack = vec![0usize];
    if let Some(s) = seen.first_mut() {
        *s = true;
    }
    while let Some(i) = stack.pop() {
        let Some(&a) = set.get(i) else { continue };
        for nb in floor.neighbours(a as usize) {
            if let Some(j) = set.iter().position(|&x| x as usize == nb) {
                if let Some(s) = seen.get_mut(j) {
                    if !*s {
                        *s = true;
                        stack.push(j);
                    }
                }
            }
        }
    }
    seen.iter().all(|&s| s)
}

/// Re-checks every §2 rule for `tables` (any order). `Err` names the broken rule.
pub fn check_set(
    floor: &Floor,
    busy: &[Busy],
    req: &Request,
    tables: &[u32],
) -> Result<(), String> {
    let k = &req.knobs;
    let mut sorted = tables.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != tables.len() || tables.is_empty() {
        return Err("empty or repeated tables".into());
    }
    if tables.len() > usize::from(k.max_tables) {
        return Err("more than max_tables".into());
    }
    for &t in tables {
        if !is_free(floor, busy, req, t) {
            return Err(format!("table {t} is not free"));
        }
    }
    let specs: Vec<&TableSpec> = tables
        .iter()
        .filter_map(|&t| floor.tables().get(t as usize))
        .collect();
    let party = i64::from(req.party);
    if let [one] = specs.as_slice() {
        return if one.min_party <= req.party && req.party <= one.max_party {
            Ok(())
        } else {
            Err("single table does not seat the party".into())
        };
    }
    if specs.iter().any(|s| !s.combinable) {
        return Err("non-combinable table in a multi-table plan".into());
    }
    if specs.windows(2).any(|w| w[0].zone != w[1].zone) {
        return Err("tables in several zones".into());
    }
    let seats: i64 = specs.iter().map(|s| i64::from(s.capacity)).sum();
    if seats < party || seats > party + i64::from(k.max_overage) {
        return Err(format!("{seats} seats for a party of {party}"));
    }
    if k.require_adjacency && !connected(floor, &sorted) {
        return Err("tables not connected".into());
    }
    Ok(())
}

/// The documented score with lookahead cost 0.
pub fn oracle_score(floor: &Floor, req: &Request, tables: &[u32]) -> i64 {
    let w = &req.knobs.weights;
    let specs: Vec<&TableSpec> = tables
        .iter()
        .filter_map(|&t| floor.tables().get(t as usize))
        .collect();
    let seats: i64 = specs.iter().map(|s| i64::from(s.capacity)).sum();
    let prio: i64 = specs.iter().map(|s| i64::from(s.priority)).sum();
    let wasted = (seats - i64::from(req.party)).max(0);
    let zone = specs.first().map_or(0, |s| s.zone);
    let miss = req.requested_zone.is_some_and(|z| z != zone);
    w.waste * wasted + w.tables * (tables.len() as i64 - 1) + if miss { w.zone } else { 0 }
        - w.priority * prio
}

/// Brute force: every subset of at most `max_tables` tables.
pub fn oracle(floor: &Floor, busy: &[Busy], req: &Request) -> OracleResult {
    let n = floor.tables().len() as u32;
    let maxk = usize::from(req.knobs.max_tables);
    struct Walk<'a> {
        floor: &'a Floor,
        busy: &'a [Busy],
        req: &'a Request,
        maxk: usize,
        cur: Vec<u32>,
        res: OracleResult,
    }
    fn rec(w: &mut Walk<'_>, start: u32, n: u32) {
        for t in start..n {
            w.cur.push(t);
            if check_set(w.floor, w.busy, w.req, &w.cur).is_ok() {
                let seats = w
                    .cur
                    .iter()
                    .filter_map(|&x| w.floor.tables().get(x as usize))
                    .map(|s| i64::from(s.capacity))
                    .sum();
                let zone = w.floor.tables().get(t as usize).map_or(0, |s| s.zone);
                let total = oracle_score(w.floor, w.req, &w.cur);
                w.res.valid.push(OraclePlan {
                    tables: w.cur.clone(),
                    zone,
                    seats,
                    total,
                });
            }
            if w.cur.len() < w.maxk {
                rec(w, t + 1, n);
            }
            w.cur.pop();
        }
    }
    let mut w = Walk {
        floor,
        busy,
        req,
        maxk,
        cur: Vec::new(),
        res: OracleResult::default(),
    };
    rec(&mut w, 0, n);
    let mut res = w.res;
    let mut minimal: Vec<OraclePlan> = res
        .valid
        .iter()
        .filter(|p| {
            let k = p.tables.len();
            (1u32..(1u32 << k) - 1).all(|mask| {
                let sub: Vec<u32> = (0..k)
                    .filter(|i| mask & (1 << i) != 0)
                    .filter_map(|i| p.tables.get(i).copied())
                    .collect();
                check_set(floor, busy, req, &sub).is_err()
            })
        })
        .cloned()
        .collect();
    minimal.sort_by(|a, b| a.total.cmp(&b.total).then(a.tables.cmp(&b.tables)));
    res.minimal = minimal;
    res
}

/// Checks a planner plan: rules, sorted tables, zone, seats and score fields.
pub fn check_plan(floor: &Floor, busy: &[Busy], req: &Request, p: &Plan) -> Result<(), String> {
    check_set(floor, busy, req, &p.tables)?;
    if p.tables.windows(2).any(|w| w[0] >= w[1]) {
        return Err("tables not ascending".into());
    }
    let seats: i64 = p
        .tables
        .iter()
        .filter_map(|&t| floor.tables().get(t as usize))
        .map(|s| i64::from(s.capacity))
        .sum();
    if i64::from(p.seats) != seats {
        return Err("seats mismatch".into());
    }
    let zone = p
        .tables
        .first()
        .and_then(|&t| floor.tables().get(t as usize))
        .map(|s| s.zone);
    if Some(p.zone) != zone {
        return Err("zone mismatch".into());
    }
    let w = &req.knobs.weights;
    let expect = oracle_score(floor, req, &p.tables)
        + w.lookahead * p.score.lookahead.min(req.knobs.lookahead_cap);
    if p.score.total != expect {
        return Err(format!("score {} != {}", p.score.total, expect));
    }
    Ok(())
}

/// A table with `min_party = max(1, capacity / 2)`, `max_party = capacity`.
pub fn demo_table(zone: u32, capacity: i32) -> TableSpec {
    TableSpec {
        zone,
        capacity,
        min_party: (capacity / 2).max(1),
        max_party: capacity,
        active: true,
        combinable: true,
        priority: 0,
    }
}

/// Zone names of the White Horse demo floor, by zone index.
pub const WHITE_HORSE_ZONES: [&str; 5] = [
    "Main Dining",
    "Bar Area",
    "Patio",
    "Private Room",
    "Outdoor Garden",
];

/// Capacities per zone of the White Horse demo floor (40 tables, 210 seats).
pub const WHITE_HORSE_CAPS: [&[i32]; 5] = [
    &[2, 2, 4, 4, 4, 4, 6, 6, 8, 8, 10, 10],
    &[2, 2, 4, 4, 4, 4, 6, 6],
    &[2, 2, 4, 4, 6, 6, 8, 8],
    &[4, 4, 6, 6, 10, 10],
    &[2, 4, 4, 6, 6, 8],
];

/// The White Horse demo floor, exactly as `sql/demo/white_horse.sql` seeds it:
/// each zone's tables stand in a row in capacity order, and two tables are
/// adjacent iff they share a zone, their capacities differ by at most 2 and they
/// stand at most 3 places apart (79 edges; 91 without the distance rule).
pub fn white_horse() -> Result<Floor, FloorError> {
    white_horse_with(Some(3))
}

/// White Horse with a custom placement distance (`None`: no distance rule).
pub fn white_horse_with(max_distance: Option<usize>) -> Result<Floor, FloorError> {
    let mut tables = Vec::new();
    let mut place = Vec::new();
    for (z, caps) in WHITE_HORSE_CAPS.iter().enumerate() {
        for (i, &c) in caps.iter().enumerate() {
            tables.push(demo_table(z as u32, c));
            place.push(i);
        }
    }
    let mut edges = Vec::new();
    for (a, ta) in tables.iter().enumerate() {
        for (b, tb) in tables.iter().enumerate().skip(a + 1) {
            let dist = place
                .get(b)
                .copied()
                .unwrap_or(0)
                .abs_diff(place.get(a).copied().unwrap_or(0));
            if ta.zone == tb.zone
                && (ta.capacity - tb.capacity).abs() <= 2
                && max_distance.is_none_or(|d| dist <= d)
            {
                edges.push((a as u32, b as u32));
            }
        }
    }
    Floor::new(tables, WHITE_HORSE_ZONES.len() as u32, &edges)
}

/// Tables left free at White Horse peak: Main 4, 4, 6 (adjacent), Bar 2, Patio 4
/// = 20 free seats of 210 (about 90% busy).
pub const WHITE_HORSE_PEAK_FREE: [u32; 5] = [2, 3, 6, 12, 22];

/// Busy intervals covering `[start, end)` for every White Horse table except
/// [`WHITE_HORSE_PEAK_FREE`].
pub fn white_horse_peak(floor: &Floor, start: Micros, end: Micros) -> Vec<Busy> {
    (0..floor.tables().len() as u32)
        .filter(|t| !WHITE_HORSE_PEAK_FREE.contains(t))
        .map(|table| Busy { table, start, end })
        .collect()
}

/// Deterministic pseudo-random numbers (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next_u64() % span) as i64
    }
}

/// A 400-table banquet hall: 8 zones of 50; zones 0..4 are chains, zones 4..8
/// are 5x10 grids; capacities 2..=10, `min_party = 1`.
pub fn banquet_hall() -> Result<Floor, FloorError> {
    let mut rng = Rng(0xBA_4B_E7);
    let mut tables = Vec::new();
    let mut edges = Vec::new();
    for z in 0..8u32 {
        let base = tables.len() as u32;
        for _ in 0..50 {
            let mut t = demo_table(z, rng.range(2, 10) as i32);
            t.min_party = 1;
            tables.push(t);
        }
        if z < 4 {
            for i in 0..49 {
                edges.push((base + i, base + i + 1));
            }
        } else {
            for r in 0..5u32 {
                for c in 0..10u32 {
                    let i = base + r * 10 + c;
                    if c + 1 < 10 {
                        edges.push((i, i + 1));
                    }
                    if r + 1 < 5 {
                        edges.push((i, i + 10));
                    }
                }
            }
        }
    }
    Floor::new(tables, 8, &edges)
}

/// About half the banquet tables busy over `[start, end)` (deterministic).
pub fn banquet_busy(floor: &Floor, start: Micros, end: Micros, seed: u64) -> Vec<Busy> {
    let mut rng = Rng(seed);
    (0..floor.tables().len() as u32)
        .filter(|_| rng.next_u64() & 1 == 0)
        .map(|table| Busy { table, start, end })
        .collect()
}

/// A request for `party` over `[0, 5_400_000_000)` with default knobs and the
/// given `max_tables`.
pub fn request(party: i32, max_tables: u8) -> Request {
    Request {
        party,
        start: 0,
        end: 5_400_000_000,
        requested_zone: None,
        knobs: Knobs {
            max_tables,
            ..Knobs::default()
        },
    }
}

/// Lookahead costs the planner gives `plans` for `req` (each capped by
/// `req.knobs.lookahead_cap`), `None` on timeout. The plans need not come from the
/// planner: any table sets of one zone will do.
pub fn lookahead_costs(
    floor: &Floor,
    busy: &[Busy],
    req: &Request,
    pending: &[Pending],
    plans: &[Plan],
) -> Option<Vec<i64>> {
    let mut hook = || {};
    let mut ticker = Ticker::new(&mut hook, req.knobs.deadline);
    let mut stats = SearchStats::default();
    let mut la =
        crate::lookahead::Lookahead::prepare(floor, busy, req, pending, &mut ticker, &mut stats)
            .ok()?;
    plans
        .iter()
        .map(|p| {
            la.cost(floor, p, req.knobs.lookahead_cap, &mut ticker, &mut stats)
                .ok()
        })
        .collect()
}

/// [`lookahead_costs`] by the straightforward reference implementation (the
/// pre-optimisation code, kept to check the optimised one against).
pub fn lookahead_costs_reference(
    floor: &Floor,
    busy: &[Busy],
    req: &Request,
    pending: &[Pending],
    plans: &[Plan],
) -> Option<Vec<i64>> {
    let mut hook = || {};
    let mut ticker = Ticker::new(&mut hook, req.knobs.deadline);
    let mut stats = SearchStats::default();
    let la = crate::lookahead_ref::Lookahead::prepare(
        floor,
        busy,
        req,
        pending,
        &mut ticker,
        &mut stats,
    )
    .ok()?;
    plans
        .iter()
        .map(|p| {
            la.cost(floor, p, req.knobs.lookahead_cap, &mut ticker, &mut stats)
                .ok()
        })
        .collect()
}

/// One minute in [`Micros`].
pub const MINUTE: Micros = 60_000_000;

/// One quote as the extension runs it: the booking's own request, the other
/// pending bookings of the lookahead horizon and the busy intervals around them.
#[derive(Clone, Debug)]
pub struct Quote {
    pub busy: Vec<Busy>,
    pub pending: Vec<Pending>,
    pub request: Request,
}

/// The White Horse demo service of `sql/demo/white_horse.sql`
/// (`autoassign_demo_load(date, seed)`): `count` bookings from its linear
/// congruential generator (dinner peak 18:30-19:15, parties 2..=14), each a
/// [`Pending`] over its stay `[start, end + 5 min)` in [`MINUTE`]s since
/// midnight, in generation order.
pub fn white_horse_service(seed: i64, count: usize) -> Vec<Pending> {
    const SLOT_WEIGHTS: [i64; 17] = [4, 4, 5, 6, 7, 8, 9, 9, 8, 6, 4, 3, 2, 2, 1, 1, 1];
    let total: i64 = SLOT_WEIGHTS.iter().sum();
    let mut state = seed;
    let step = |s: &mut i64| *s = (s.wrapping_mul(1_103_515_245) + 12_345).rem_euclid(1 << 31);
    (0..count)
        .map(|_| {
            step(&mut state);
            let mut pick = (state / 65_536) % total;
            let mut slot = 0i64;
            for &w in &SLOT_WEIGHTS {
                if pick < w {
                    break;
                }
                pick -= w;
                slot += 1;
            }
            step(&mut state);
            let n = (state / 65_536) % 100;
            let party = match n {
                0..=29 => 2,
                30..=44 => 3,
                45..=64 => 4,
                65..=74 => 5,
                75..=84 => 6,
                85..=90 => 7,
                _ => 8 + (state / 65_536 / 100) % 7,
            } as i32;
            let minutes = match party {
                ..=4 => 90,
                5..=7 => 105,
                _ => 120,
            };
            let start = (17 * 60 + 15 * slot) * MINUTE;
            Pending {
                party,
                start,
                end: start + (minutes + 5) * MINUTE,
                requested_zone: None,
            }
        })
        .collect()
}

/// Replays the `bench/setup.sql` fixture on `bookings` and returns the quotes
/// `bench/quote.pgbench` runs: bookings are confirmed in start order (each on the
/// planner's best plan, with the lookahead, as `autoassign_confirm` does) while
/// there are fewer than `confirm_tables` allocations (one per table and booking); then each of the first
/// `quotes` still-pending bookings (in start order) is quoted. Like the extension,
/// a plan sees the other pending bookings starting at most 180 minutes before it
/// and before its end and still there at its start, earliest 64, and the
/// allocations overlapping the span of all of them.
pub fn replay_service(
    floor: &Floor,
    bookings: &[Pending],
    knobs: &Knobs,
    confirm_tables: usize,
    quotes: usize,
) -> Vec<Quote> {
    const HORIZON: Micros = 180 * MINUTE;
    let mut order: Vec<usize> = (0..bookings.len()).collect();
    order.sort_by_key(|&i| bookings.get(i).map(|b| b.start));
    let mut pending_now: Vec<bool> = vec![true; bookings.len()];
    let mut allocations: Vec<Busy> = Vec::new();
    let quote = |me: usize, pending_now: &[bool], allocations: &[Busy]| -> Option<Quote> {
        let b = bookings.get(me)?;
        let mut pending: Vec<Pending> = order
            .iter()
            .filter(|&&i| i != me && pending_now.get(i).copied().unwrap_or(false))
            .filter_map(|&i| bookings.get(i).copied())
            .filter(|p| p.start < b.end && p.start >= b.start - HORIZON && p.end > b.start)
            .collect();
        pending.truncate(64);
        let span_start = pending.iter().map(|p| p.start).fold(b.start, i64::min);
        let span_end = pending.iter().map(|p| p.end).fold(b.end, i64::max);
        let busy = allocations
            .iter()
            .filter(|a| a.overlaps(span_start, span_end))
            .copied()
            .collect();
        Some(Quote {
            busy,
            pending,
            request: Request {
                party: b.party,
                start: b.start,
                end: b.end,
                requested_zone: b.requested_zone,
                knobs: knobs.clone(),
            },
        })
    };
    for &i in &order {
        if allocations.len() >= confirm_tables {
            break;
        }
        let Some(q) = quote(i, &pending_now, &allocations) else {
            continue;
        };
        let o = crate::planner::plan(floor, &q.busy, &q.request, &q.pending, &mut || {});
        if let Some(p) = o.plans.first() {
            for &table in &p.tables {
                allocations.push(Busy {
                    table,
                    start: q.request.start,
                    end: q.request.end,
                });
            }
            if let Some(x) = pending_now.get_mut(i) {
                *x = false;
            }
        }
    }
    order
        .iter()
        .filter(|&&i| pending_now.get(i).copied().unwrap_or(false))
        .take(quotes)
        .filter_map(|&i| quote(i, &pending_now, &allocations))
        .collect()
}

/// The White Horse benchmark evening, as `bench/setup.sql` builds it: the demo
/// service (seed 42, 60 bookings), confirmed in start order until there are 25
/// allocations (of 40 tables); the quotes of the first 30 pending bookings (about 35
/// pending bookings, most overlapping each quote).
pub fn white_horse_evening(floor: &Floor) -> Vec<Quote> {
    replay_service(
        floor,
        &white_horse_service(42, 60),
        &Knobs::default(),
        25,
        30,
    )
}

/// The banquet-hall benchmark evening: the demo generator at ten times the
/// volume (seed 42, 600 bookings), max_tables 4, confirmed in start order until
/// there are 250 allocations (of 400 tables); the quotes of the first 30 pending
/// bookings (the lookahead examines the 32 overlapping ones starting nearest the request).
pub fn banquet_evening(floor: &Floor) -> Vec<Quote> {
    let knobs = Knobs {
        max_tables: 4,
        ..Knobs::default()
    };
    replay_service(floor, &white_horse_service(42, 600), &knobs, 250, 30)
}
