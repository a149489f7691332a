//! Lookahead: how much a candidate plan hurts the pending bookings that overlap it.
//!
//! For each overlapping pending booking (the 32 starting nearest the request's start) that can be seated now:
//! +100 if the candidate's tables leave it with no valid plan at all, +10 if they
//! take its best single table and no other single table is left (it would need a
//! multi-table plan). Costs are summed and capped by `lookahead_cap`.
//!
//! The costs are exactly those of the straightforward implementation kept in
//! `lookahead_ref` (checked by a property test); this one does less work:
//!
//! * pending bookings with the same party and the same free tables (most share a
//!   15-minute slot, and many windows see the same busy tables) are one group,
//!   evaluated once and counted with their multiplicity;
//! * free and single-table sets are bitsets, built once per distinct window;
//! * a booking keeps one of its single tables unless the candidate takes all of
//!   them, which a candidate of `k` tables cannot do to a booking with more than
//!   `k` singles; only then (or when it has no single table at all) does it need
//!   its multi-table witnesses (the first plan found per zone), so those
//!   existence searches run lazily, at most once per group and zone: the
//!   candidate's own zone first, then the other zones until one has a plan. Most
//!   groups never run one, and a zone whose `max_tables` largest members seat
//!   fewer than the party is dismissed without building a search;
//! * a candidate only triggers an exact search (its zone without its tables) when
//!   no other zone has a witness and its own zone's witness is hit; the answers
//!   are cached per (group, zone, tables taken from that zone's members).

use smallvec::SmallVec;

use crate::bitset::BitSet;
use crate::enumerate::{Bounds, Finish, SearchStats, TableSet, Visit, ZoneSearch};
use crate::floor::Floor;
use crate::outcome::Plan;
use crate::request::{Busy, Pending, Request};
use crate::rules::single_fits;
use crate::ticker::Ticker;

/// Pending bookings examined per request: the nearest to its start (re-exported as
/// `LOOKAHEAD_PENDING`; the extension reads no more than this many).
pub const MAX_PENDING: usize = 32;
/// Candidates (by score without lookahead) that get a lookahead evaluation.
pub(crate) const TOP_K: usize = 8;
pub(crate) const COST_NO_PLAN: i64 = 100;
pub(crate) const COST_LOSES_SINGLE: i64 = 10;

/// Pending bookings that are alike for the lookahead: same party, same free tables.
struct Group {
    party: i32,
    /// How many pending bookings this group stands for.
    count: i64,
    /// Active tables free for the bookings' windows.
    free: BitSet,
    /// Free tables that seat the party alone.
    singles: BitSet,
    n_singles: usize,
    /// Per zone, once searched: its first multi-table plan, if any.
    witness: Vec<Option<Option<TableSet>>>,
    /// Exact searches already run: (zone, tables taken from its members, found).
    searched: SmallVec<[(u32, TableSet, bool); 2]>,
}

pub(crate) struct Lookahead {
    groups: Vec<Group>,
    examined: usize,
    /// `limit - party` of the multi-table search (the request's `max_overage`).
    overage: i64,
    max_tables: usize,
    adjacency: bool,
    /// Scratch list of zone members.
    members: Vec<u32>,
}

fn first_plan(
    floor: &Floor,
    members: &[u32],
    b: Bounds,
    ticker: &mut Ticker<'_>,
    stats: &mut SearchStats,
) -> Result<Option<TableSet>, ()> {
    if members.len() < 2 {
        return Ok(None);
    }
    // The zone-pruning bound without building the search: the seats of the
    // `max_tables` largest members.
    let mut top: SmallVec<[i64; 6]> = SmallVec::new();
    let k = b.max_tables.min(6);
    for &m in members {
        let c = floor.table(m as usize).map_or(0, |t| i64::from(t.capacity));
        let pos = top.partition_point(|&x| x >= c);
        if pos < k {
            if top.len() == k {
                top.pop();
            }
            top.insert(pos, c);
        }
    }
    if b.max_tables <= 6 && top.iter().sum::<i64>() < b.party {
        return Ok(None);
    }
    let zs = ZoneSearch::new(floor, members, b);
    if zs.len() < 2 || zs.capacity_bound() < b.party {
        return Ok(None);
    }
    let mut found = None;
    let fin = zs.run(ticker, stats, None, &mut |s, _| {
        found = Some(s.clone());
        Visit::Stop
    });
    if fin == Finish::TimedOut {
        return Err(());
    }
    Ok(found)
}

/// `active` minus the tables with a busy interval overlapping `[start, end)`.
fn free_set(active: &BitSet, busy: &[Busy], start: i64, end: i64) -> BitSet {
    let mut free = active.clone();
    for b in busy {
        if b.overlaps(start, end) {
            free.remove(b.table as usize);
        }
    }
    free
}

impl Lookahead {
    /// Prepares the pending bookings; `Err` on timeout.
    pub(crate) fn prepare(
        floor: &Floor,
        busy: &[Busy],
        req: &Request,
        pending: &[Pending],
        ticker: &mut Ticker<'_>,
        _stats: &mut SearchStats,
    ) -> Result<Lookahead, ()> {
        let mut rel: Vec<&Pending> = pending
            .iter()
            .filter(|p| p.party > 0 && p.end > p.start && p.start < req.end && req.start < p.end)
            .collect();
        rel.sort_by_key(|p| {
            (
                (p.start - req.start).abs(),
                p.start,
                p.end,
                p.party,
                p.requested_zone,
            )
        });
        rel.truncate(MAX_PENDING);
        let mut groups: Vec<Group> = Vec::with_capacity(rel.len());
        let n = floor.tables().len();
        let mut active = BitSet::new(n);
        for (i, t) in floor.tables().iter().enumerate() {
            if t.active {
                active.insert(i);
            }
        }
        // Tables that seat a party alone, per party seen.
        let mut fits: SmallVec<[(i32, BitSet); 8]> = SmallVec::new();
        // Sorted by window: equal windows are consecutive and share the free set.
        let mut window: Option<(i64, i64, BitSet)> = None;
        for p in &rel {
            if !ticker.check_now() {
                return Err(());
            }
            let free = match &window {
                Some((s, e, f)) if *s == p.start && *e == p.end => f,
                _ => {
                    let f = free_set(&active, busy, p.start, p.end);
                    &window.insert((p.start, p.end, f)).2
                }
            };
            if let Some(g) = groups
                .iter_mut()
                .find(|g| g.party == p.party && g.free == *free)
            {
                g.count += 1;
                continue;
            }
            let fit = match fits.iter().position(|(party, _)| *party == p.party) {
                Some(i) => i,
                None => {
                    let mut f = BitSet::new(n);
                    for (i, t) in floor.tables().iter().enumerate() {
                        if single_fits(t, p.party) {
                            f.insert(i);
                        }
                    }
                    fits.push((p.party, f));
                    fits.len() - 1
                }
            };
            let mut singles = free.clone();
            if let Some((_, f)) = fits.get(fit) {
                singles.intersect_with(f);
            }
            let n_singles = singles.count();
            groups.push(Group {
                party: p.party,
                count: 1,
                free: free.clone(),
                singles,
                n_singles,
                witness: Vec::new(),
                searched: SmallVec::new(),
            });
        }
        Ok(Lookahead {
            groups,
            examined: rel.len(),
            overage: i64::from(req.knobs.max_overage),
            max_tables: usize::from(req.knobs.max_tables),
            adjacency: req.knobs.require_adjacency,
            members: Vec::new(),
        })
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.examined
    }

    /// Lookahead cost of taking `plan`'s tables, capped by `cap`; `Err` on timeout.
    pub(crate) fn cost(
        &mut self,
        floor: &Floor,
        plan: &Plan,
        cap: i64,
        ticker: &mut Ticker<'_>,
        stats: &mut SearchStats,
    ) -> Result<i64, ()> {
        let taken = plan.tables.as_slice();
        let mut cost = 0i64;
        let Lookahead {
            groups,
            overage,
            max_tables,
            adjacency,
            members,
            ..
        } = self;
        for g in groups.iter_mut() {
            if cost >= cap {
                break;
            }
            // Still has a single table (a candidate of k tables cannot take more than k).
            if g.n_singles > taken.len() || g.singles.iter().any(|s| !taken.contains(&(s as u32))) {
                continue;
            }
            let b = Bounds {
                party: i64::from(g.party),
                limit: i64::from(g.party) + *overage,
                max_tables: *max_tables,
                adjacency: *adjacency,
                prune: true,
            };
            let pz = plan.zone as usize;
            let own = witness(g, pz, floor, members, b, ticker, stats)?;
            let mut had_multi = own.is_some();
            let mut multi_after = own.is_some_and(|w| !w.iter().any(|t| taken.contains(t)));
            if !multi_after {
                for z in (0..floor.zone_count() as usize).filter(|&z| z != pz) {
                    if witness(g, z, floor, members, b, ticker, stats)?.is_some() {
                        had_multi = true;
                        multi_after = true;
                        break;
                    }
                }
            }
            if g.n_singles == 0 && !had_multi {
                continue; // could not be seated anyway
            }
            if !multi_after && had_multi {
                // Every witness is hit: search the zone without the candidate's tables.
                // The answer depends only on which of the zone's members are taken.
                multi_members(members, floor, &g.free, &g.singles, plan.zone, b.limit);
                let hit: TableSet = taken
                    .iter()
                    .copied()
                    .filter(|t| members.contains(t))
                    .collect();
                let z = plan.zone;
                multi_after = if let Some(&(_, _, found)) =
                    g.searched.iter().find(|(sz, h, _)| *sz == z && *h == hit)
                {
                    found
                } else {
                    members.retain(|t| !hit.contains(t));
                    let found = first_plan(floor, members, b, ticker, stats)?.is_some();
                    g.searched.push((z, hit, found));
                    found
                };
            }
            let c = if g.n_singles > 0 {
                if multi_after {
                    COST_LOSES_SINGLE
                } else {
                    COST_NO_PLAN
                }
            } else if !multi_after {
                COST_NO_PLAN
            } else {
                0
            };
            cost = cost.saturating_add(c.saturating_mul(g.count));
        }
        Ok(cost.min(cap))
    }
}

/// The group's first multi-table plan in zone `z` (searched on first need; `None`
/// for a zone outside the floor).
fn witness<'g>(
    g: &'g mut Group,
    z: usize,
    floor: &Floor,
    members: &mut Vec<u32>,
    b: Bounds,
    ticker: &mut Ticker<'_>,
    stats: &mut SearchStats,
) -> Result<Option<&'g TableSet>, ()> {
    if z >= floor.zone_count() as usize {
        return Ok(None);
    }
    if g.witness.len() <= z {
        g.witness.resize(floor.zone_count() as usize, None);
    }
    let Some(slot) = g.witness.get_mut(z) else {
        return Ok(None);
    };
    if slot.is_none() {
        multi_members(members, floor, &g.free, &g.singles, z as u32, b.limit);
        *slot = Some(first_plan(floor, members, b, ticker, stats)?);
    }
    Ok(slot.as_ref().and_then(|w| w.as_ref()))
}

/// Free combinable tables of zone `z` that could be part of a minimal multi plan
/// (not single-table fits, at most `limit` seats), into `out`.
fn multi_members(
    out: &mut Vec<u32>,
    floor: &Floor,
    free: &BitSet,
    singles: &BitSet,
    z: u32,
    limit: i64,
) {
    out.clear();
    out.extend(floor.zone_tables(z).iter().copied().filter(|&t| {
        free.contains(t as usize)
            && !singles.contains(t as usize)
            && floor
                .table(t as usize)
                .is_some_and(|s| s.combinable && i64::from(s.capacity) <= limit)
    }));
}
