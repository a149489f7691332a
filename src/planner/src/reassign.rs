//! Re-assignment: when a booking has no plan, find moves of other bookings that seat
//! everyone, this booking included, with as few moves as possible.
//!
//! ## Model
//!
//! * `fixed`: busy intervals that never move (seated, pinned or frozen bookings,
//!   holds, retired tables).
//! * `movable`: confirmed bookings that may move, each with its current tables and
//!   its stay `[start, end)` (turnover included). A moved booking gets a complete new
//!   plan under the request's rules (`max_tables`, adjacency, overage; no avoid list,
//!   no zone restriction, its own requested zone as a preference).
//! * A solution is a plan for the request plus new plans for a set `S` of movable
//!   bookings such that nothing overlaps: the request, `S` at their new tables, the
//!   other movable bookings at their current tables, and `fixed`. Its cost is `|S|`.
//!
//! ## Search (exact within `max_moves`)
//!
//! Iterative deepening on the move budget `0..=max_moves`, so the first solution has
//! the fewest moves. A depth-first search places one booking at a time (the request
//! first): it tries each of the booking's plans on the floor without movable
//! bookings, skips plans that collide with a booking placed on this path, and
//! displaces every not-yet-moved movable booking whose current tables the plan takes
//! during an overlapping stay; displaced bookings join the queue and cost one move
//! each. A booking moves at most once. Completeness: any solution `S` is found by
//! following its own plans, since every booking displaced on that path is in `S`.
//!
//! Each booking's plans are computed once by the planner itself (`plan`, no lookahead),
//! so the rules are exactly the planner's: the request's plans on the floor without
//! movable bookings (at most [`CANDIDATE_CAP`]); a displaced booking's plans on that
//! floor too (at most [`Caps::plans_per_booking`]).
//! Each plan carries the bookings it would displace; plans are tried by fewest
//! displaced first, and a sorted list stops where it displaces more than the budget
//! allows. The search is exact when no list hit its cap, the node cap
//! ([`reassign_capped`]) and the deadline did not stop it
//! ([`ReassignOutcome::complete`]).

use std::time::{Duration, Instant};

use smallvec::SmallVec;

use crate::floor::Floor;
use crate::outcome::Plan;
use crate::planner::plan;
use crate::request::{Busy, Knobs, Micros, Request};

/// Plans kept for the request.
pub const CANDIDATE_CAP: usize = 512;

/// Bounds on one search's work (`reassign_capped`): plans tried (search nodes),
/// planner runs (one per booking planned; 10-40 µs each on a 120-table floor, most of
/// a search's time), and plans kept per displaced booking (best score first, on the
/// floor without movable bookings: its plans free now are among them). Counts, not
/// time, so the same state always gives the same answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    pub nodes: u64,
    pub planned: u32,
    pub plans_per_booking: usize,
}

/// What `autoassign_confirm` uses: measured on the 120-table benchmark floor (the
/// `seating` example) to keep the search within about 1.3 ms of CPU at p99 (48 planner
/// runs: 2.1 ms and about 1% more covers there).
pub const DEFAULT_CAPS: Caps = Caps {
    nodes: 5_000,
    planned: 32,
    plans_per_booking: 64,
};

/// No bound but [`CANDIDATE_CAP`] plans per booking: what [`reassign`] uses.
pub const EXACT_CAPS: Caps = Caps {
    nodes: u64::MAX,
    planned: u32::MAX,
    plans_per_booking: CANDIDATE_CAP,
};

/// A confirmed booking that may move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movable {
    pub party: i32,
    pub start: Micros,
    /// Stay end plus turnover buffer.
    pub end: Micros,
    /// Its current tables (indices into the floor).
    pub tables: SmallVec<[u32; 6]>,
    /// Preferred zone (ranking only).
    pub requested_zone: Option<u32>,
}

/// One moved booking: index into `movable`, from its current tables to new ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub booking: usize,
    pub from: SmallVec<[u32; 6]>,
    pub to: SmallVec<[u32; 6]>,
}

/// A plan for the request and the moves it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassignment {
    pub plan: Plan,
    /// Fewest moves first: `moves.len()` is minimal among solutions within budget
    /// (when the search was complete).
    pub moves: Vec<Move>,
}

/// What the search found and how far it got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReassignOutcome {
    pub found: Option<Reassignment>,
    /// True when the answer is exact: no deadline hit and no candidate list capped.
    pub complete: bool,
    /// The deadline passed (not the node cap).
    pub timed_out: bool,
    /// Search nodes visited (one per plan tried).
    pub nodes: u64,
    /// Bookings whose plans were computed.
    pub bookings_planned: u32,
}

struct Cand {
    tables: SmallVec<[u32; 6]>,
    plan: Plan,
    /// Movable bookings (not the owner) whose current tables these take during an
    /// overlapping stay, before anything moved.
    disp0: SmallVec<[usize; 8]>,
}

struct Search<'a> {
    floor: &'a Floor,
    fixed: &'a [Busy],
    movable: &'a [Movable],
    req: &'a Request,
    deadline: Option<Instant>,
    interrupt: &'a mut dyn FnMut(),
    /// Per movable booking (and the request, last): its plans once computed.
    cands: Vec<Option<Vec<Cand>>>,
    /// Movable bookings per table.
    occupants: Vec<Vec<usize>>,
    moved: Vec<bool>,
    /// How many are moved on this path.
    moved_n: usize,
    /// Placed on this path: (who, start, end, tables).
    placed: Vec<(usize, Micros, Micros, SmallVec<[u32; 6]>)>,
    capped: bool,
    timed_out: bool,
    nodes: u64,
    caps: Caps,
    planned: u32,
}

fn share_table(a: &[u32], b: &[u32]) -> bool {
    a.iter().any(|t| b.contains(t))
}

impl Search<'_> {
    fn window(&self, who: usize) -> (Micros, Micros) {
        match self.movable.get(who) {
            Some(m) => (m.start, m.end),
            None => (self.req.start, self.req.end),
        }
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_micros(1))
        })
    }

    fn out_of_time(&mut self) -> bool {
        if self.timed_out {
            return true;
        }
        (self.interrupt)();
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.timed_out = true;
        }
        if self.nodes >= self.caps.nodes || self.planned >= self.caps.planned {
            self.capped = true;
            self.timed_out = true;
        }
        self.timed_out
    }

    fn ensure_cands(&mut self, who: usize) {
        if self.cands.get(who).is_some_and(Option::is_some) {
            return;
        }
        let k = &self.req.knobs;
        let mut req = match self.movable.get(who) {
            Some(m) => Request {
                party: m.party,
                start: m.start,
                end: m.end,
                requested_zone: m.requested_zone,
                knobs: Knobs {
                    max_tables: k.max_tables,
                    require_adjacency: k.require_adjacency,
                    max_overage: k.max_overage,
                    weights: k.weights,
                    keep_open: k.keep_open.clone(),
                    ..Knobs::default()
                },
            },
            None => self.req.clone(),
        };
        let cap = if who < self.movable.len() {
            self.caps.plans_per_booking.max(1)
        } else {
            CANDIDATE_CAP
        };
        req.knobs.deadline = self.remaining();
        req.knobs.max_alternates = cap - 1;
        // the floor without movable bookings: its plans free now are those that
        // displace nobody (disp0 empty), so one run gives both
        let out = plan(self.floor, self.fixed, &req, &[], &mut *self.interrupt);
        self.planned += 1;
        self.timed_out |= out.counters.deadline_hit;
        self.capped |= out.plans.len() >= cap;
        let plans = out.plans;
        let (start, end) = (req.start, req.end);
        let mut list: Vec<Cand> = plans
            .into_iter()
            .map(|p| {
                let mut disp0: SmallVec<[usize; 8]> = SmallVec::new();
                for &t in &p.tables {
                    for &m in self
                        .occupants
                        .get(t as usize)
                        .map_or(&[][..], |v| v.as_slice())
                    {
                        if m == who || disp0.contains(&m) {
                            continue;
                        }
                        if self
                            .movable
                            .get(m)
                            .is_some_and(|mb| mb.start < end && start < mb.end)
                        {
                            disp0.push(m);
                        }
                    }
                }
                Cand {
                    tables: p.tables.clone(),
                    plan: p,
                    disp0,
                }
            })
            .collect();
        // stable: by displacement, then as the planner ranked them
        list.sort_by_key(|c| c.disp0.len());
        if let Some(slot) = self.cands.get_mut(who) {
            *slot = Some(list);
        }
    }

    fn collides(&self, start: Micros, end: Micros, tables: &[u32]) -> bool {
        self.placed
            .iter()
            .any(|(_, s, e, ts)| *s < end && start < *e && share_table(ts, tables))
    }

    /// Places every booking of `queue`; `budget` moves left. Pushes to `placed`.
    fn place(&mut self, queue: &mut Vec<usize>, budget: usize) -> bool {
        let Some(who) = queue.pop() else {
            return true;
        };
        if self.out_of_time() {
            queue.push(who);
            return false;
        }
        self.ensure_cands(who);
        let (start, end) = self.window(who);
        // plans by (moves they cause, score): cheap ones first. A plan displaces its
        // disp0 minus the bookings already moved on this path, so the sorted list can
        // stop at disp0 > budget + moved.
        let mut order: Vec<(usize, SmallVec<[usize; 8]>)> = Vec::new();
        if let Some(Some(list)) = self.cands.get(who) {
            for (i, c) in list.iter().enumerate() {
                if c.disp0.len() > budget + self.moved_n {
                    break;
                }
                if self.collides(start, end, &c.tables) {
                    continue;
                }
                let d: SmallVec<[usize; 8]> = c
                    .disp0
                    .iter()
                    .copied()
                    .filter(|&m| !self.moved.get(m).copied().unwrap_or(true))
                    .collect();
                if d.len() <= budget {
                    order.push((i, d));
                }
            }
        }
        order.sort_by_key(|(i, d)| (d.len(), *i));
        for (i, d) in order {
            self.nodes += 1;
            if (self.nodes.is_multiple_of(256) || self.nodes >= self.caps.nodes)
                && self.out_of_time()
            {
                break;
            }
            let tables = match self.cands.get(who) {
                Some(Some(list)) => list.get(i).map(|c| c.tables.clone()),
                _ => None,
            };
            let Some(tables) = tables else { continue };
            for &m in &d {
                if let Some(x) = self.moved.get_mut(m) {
                    *x = true;
                }
            }
            self.moved_n += d.len();
            self.placed.push((who, start, end, tables));
            let qlen = queue.len();
            queue.extend(d.iter().copied());
            if self.place(queue, budget - d.len()) {
                return true;
            }
            queue.truncate(qlen);
            self.placed.pop();
            self.moved_n -= d.len();
            for &m in &d {
                if let Some(x) = self.moved.get_mut(m) {
                    *x = false;
                }
            }
            if self.timed_out {
                break;
            }
        }
        queue.push(who);
        false
    }
}

/// Searches for the fewest moves (at most `max_moves`) of `movable` bookings that
/// seat `req` too. `fixed` must cover the stays of every booking the search may
/// touch (the caller loads a span of `max_moves` longest stays around the request).
/// `req.knobs.deadline` bounds the whole search; `interrupt` is called regularly and
/// may unwind.
pub fn reassign(
    floor: &Floor,
    fixed: &[Busy],
    movable: &[Movable],
    req: &Request,
    max_moves: usize,
    interrupt: &mut dyn FnMut(),
) -> ReassignOutcome {
    reassign_capped(floor, fixed, movable, req, max_moves, EXACT_CAPS, interrupt)
}

/// [`reassign`] within `caps` (then `complete` is false when one stopped it).
pub fn reassign_capped(
    floor: &Floor,
    fixed: &[Busy],
    movable: &[Movable],
    req: &Request,
    max_moves: usize,
    caps: Caps,
    interrupt: &mut dyn FnMut(),
) -> ReassignOutcome {
    let deadline = req
        .knobs
        .deadline
        .and_then(|d| Instant::now().checked_add(d));
    let n = floor.tables().len();
    let mut occupants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, m) in movable.iter().enumerate() {
        for &t in &m.tables {
            if let Some(o) = occupants.get_mut(t as usize) {
                o.push(i);
            }
        }
    }
    let mut s = Search {
        floor,
        fixed,
        movable,
        req,
        deadline,
        interrupt,
        cands: (0..=movable.len()).map(|_| None).collect(),
        occupants,
        moved: vec![false; movable.len()],
        moved_n: 0,
        placed: Vec::new(),
        capped: false,
        timed_out: false,
        nodes: 0,
        caps,
        planned: 0,
    };
    let root = movable.len();
    let mut found = None;
    for budget in 0..=max_moves {
        let mut queue = vec![root];
        s.placed.clear();
        if s.place(&mut queue, budget) {
            found = Some(budget);
            break;
        }
        if s.timed_out {
            break;
        }
        // no plan displaces fewer than `budget + 1`: skip budgets no plan can use
        if s.cands
            .get(root)
            .is_some_and(|c| c.as_ref().is_some_and(Vec::is_empty))
        {
            break;
        }
    }
    let found = found.and_then(|_| {
        let mut plan_for_req = None;
        let mut moves = Vec::new();
        for (who, _, _, tables) in &s.placed {
            if *who == root {
                let list = s.cands.get(root).and_then(Option::as_ref);
                plan_for_req = list
                    .and_then(|l| l.iter().find(|c| &c.tables == tables))
                    .map(|c| c.plan.clone());
            } else if let Some(m) = movable.get(*who) {
                moves.push(Move {
                    booking: *who,
                    from: m.tables.clone(),
                    to: tables.clone(),
                });
            }
        }
        plan_for_req.map(|plan| Reassignment { plan, moves })
    });
    ReassignOutcome {
        found,
        complete: !s.timed_out && !s.capped,
        timed_out: s.timed_out && !s.capped,
        nodes: s.nodes,
        bookings_planned: s.planned,
    }
}

/// A necessary condition for [`reassign`], cheap to check first: some plan of the
/// request, on the floor without the movable bookings, displaces at most `max_moves`
/// of them. `fixed` and `movable` need only cover the request's own stay (a solution's
/// plan for the request displaces exactly the movable bookings it overlaps, all of
/// which overlap the stay). False means no re-assignment within `max_moves` exists;
/// true says nothing. `req.knobs.deadline` bounds it (past it: true, unknown).
pub fn may_reassign(
    floor: &Floor,
    fixed: &[Busy],
    movable: &[Movable],
    req: &Request,
    max_moves: usize,
    interrupt: &mut dyn FnMut(),
) -> bool {
    let mut r = req.clone();
    r.knobs.max_alternates = CANDIDATE_CAP - 1;
    let out = plan(floor, fixed, &r, &[], interrupt);
    if out.counters.deadline_hit || out.plans.len() >= CANDIDATE_CAP {
        return true;
    }
    out.plans.iter().any(|p| {
        movable
            .iter()
            .filter(|m| {
                m.start < req.end
                    && req.start < m.end
                    && m.tables.iter().any(|t| p.tables.contains(t))
            })
            .count()
            <= max_moves
    })
}
