//! Property test: the optimised lookahead gives exactly the costs of the reference
//! implementation (`testkit::lookahead_costs_reference`, the pre-optimisation code)
//! on random floors, busy intervals, pending bookings and candidates, and the
//! planner's plans carry those costs.

mod common;

use autoassign_planner::testkit::{lookahead_costs, lookahead_costs_reference};
use autoassign_planner::*;
use common::table_strategy;
use proptest::collection::vec;
use proptest::prelude::*;
use smallvec::SmallVec;

#[derive(Clone, Debug)]
struct Case {
    tables: Vec<TableSpec>,
    zones: u32,
    edges: Vec<(u32, u32)>,
    busy: Vec<Busy>,
    pending: Vec<Pending>,
    req: Request,
    /// Extra candidates: (zone, raw table picks), mapped onto that zone's tables.
    extra: Vec<(u32, Vec<u32>)>,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..16, 1u32..=3)
        .prop_flat_map(|(n, zones)| {
            let nn = n as u32;
            (
                vec(table_strategy(zones), n),
                Just(zones),
                vec((0..nn, 0..nn), 0..=3 * n),
                vec((0..nn, 0i64..24, 1i64..8), 0..=n),
                // pending: few distinct windows and parties, so groups form
                vec(
                    (
                        1i32..=24,
                        0i64..16,
                        1i64..8,
                        prop::option::weighted(0.2, 0..zones),
                    ),
                    0..=40,
                ),
                (
                    1i32..=20,
                    0i64..12,
                    1i64..8,
                    1u8..=4,
                    prop::bool::weighted(0.8),
                    0i32..=5,
                    prop::option::weighted(0.1, 0..zones),
                    0usize..=4,
                    prop_oneof![Just(1000i64), Just(150), Just(100), Just(10), 0i64..400],
                ),
                vec((0..zones, vec(0..nn, 1..=4)), 0..=6),
            )
        })
        .prop_map(
            |(tables, zones, raw_edges, raw_busy, raw_pending, r, extra)| {
                let (party, start, len, max_tables, adj, overage, restrict, alts, cap) = r;
                let edges = raw_edges
                    .into_iter()
                    .filter(|&(a, b)| a != b && tables[a as usize].zone == tables[b as usize].zone)
                    .collect();
                let busy = raw_busy
                    .into_iter()
                    .map(|(table, s, l)| Busy {
                        table,
                        start: s,
                        end: s + l,
                    })
                    .collect();
                let pending = raw_pending
                    .into_iter()
                    .map(|(party, s, l, zone)| Pending {
                        party,
                        start: s,
                        end: s + l,
                        requested_zone: zone,
                    })
                    .collect();
                let req = Request {
                    party,
                    start,
                    end: start + len,
                    requested_zone: None,
                    knobs: Knobs {
                        max_tables,
                        require_adjacency: adj,
                        max_overage: overage,
                        zone_restrict: restrict,
                        max_alternates: alts,
                        lookahead_cap: cap,
                        ..Knobs::default()
                    },
                };
                Case {
                    tables,
                    zones,
                    edges,
                    busy,
                    pending,
                    req,
                    extra,
                }
            },
        )
}

/// A candidate on `tables` (any tables of one zone, not necessarily a valid plan).
fn candidate(f: &Floor, zone: u32, tables: &[u32]) -> Plan {
    let mut t: SmallVec<[u32; 6]> = tables.iter().copied().collect();
    t.sort_unstable();
    t.dedup();
    Plan {
        seats: t.iter().map(|&x| f.tables()[x as usize].capacity).sum(),
        tables: t,
        zone,
        score: Score::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn lookahead_matches_reference(c in case_strategy()) {
        let f = match Floor::new(c.tables.clone(), c.zones, &c.edges) {
            Ok(f) => f,
            Err(e) => return Err(TestCaseError::fail(format!("floor: {e}"))),
        };
        // The candidates the planner re-scores ...
        let mut q = c.req.clone();
        q.knobs.max_alternates = q.knobs.max_alternates.max(7);
        let mut cands = plan(&f, &c.busy, &q, &[], &mut || {}).plans;
        // ... plus arbitrary table sets of one zone (busy or not), which take a
        // pending booking's single tables far more often.
        for (z, picks) in &c.extra {
            let zt = f.zone_tables(*z);
            if zt.is_empty() {
                continue;
            }
            let ts: Vec<u32> = picks.iter().map(|&p| zt[p as usize % zt.len()]).collect();
            cands.push(candidate(&f, *z, &ts));
        }
        let got = lookahead_costs(&f, &c.busy, &c.req, &c.pending, &cands);
        let want = lookahead_costs_reference(&f, &c.busy, &c.req, &c.pending, &cands);
        prop_assert_eq!(&got, &want);
        prop_assert!(got.is_some());

        // The planner's plans carry exactly the reference costs.
        let o = plan(&f, &c.busy, &c.req, &c.pending, &mut || {});
        let lookahead_on = !c.pending.is_empty() && c.req.knobs.lookahead_cap > 0;
        let want = lookahead_costs_reference(&f, &c.busy, &c.req, &c.pending, &o.plans);
        if let Some(want) = want.filter(|_| lookahead_on) {
            let got: Vec<i64> = o.plans.iter().map(|p| p.score.lookahead).collect();
            prop_assert_eq!(got, want);
        }
    }
}
