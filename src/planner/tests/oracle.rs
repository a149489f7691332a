//! Property test: the planner against a brute-force oracle on random floors.

mod common;

use autoassign_planner::testkit::{check_plan, oracle};
use autoassign_planner::*;
use common::table_strategy;
use proptest::collection::vec;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Case {
    tables: Vec<TableSpec>,
    zones: u32,
    edges: Vec<(u32, u32)>,
    busy: Vec<Busy>,
    req: Request,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..14, 1u32..=3)
        .prop_flat_map(|(n, zones)| {
            let nn = n as u32;
            (
                vec(table_strategy(zones), n),
                Just(zones),
                vec((0..nn, 0..nn), 0..=3 * n),
                vec((0..nn, 0i64..20, 1i64..8), 0..=n),
                vec(0..nn, 0..=2),
                (
                    1i32..=20,
                    0i64..12,
                    1i64..6,
                    1u8..=4,
                    any::<bool>(),
                    0i32..=5,
                    prop::option::weighted(0.2, 0..zones),
                    prop::option::weighted(0.3, 0..zones),
                    0usize..=4,
                ),
            )
        })
        .prop_map(|(tables, zones, raw_edges, raw_busy, avoid, r)| {
            let (party, start, len, max_tables, adj, overage, restrict, requested, alts) = r;
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
            let req = Request {
                party,
                start,
                end: start + len,
                requested_zone: requested,
                knobs: Knobs {
                    max_tables,
                    require_adjacency: adj,
                    max_overage: overage,
                    zone_restrict: restrict,
                    avoid,
                    max_alternates: alts,
                    ..Knobs::default()
                },
            };
            Case {
                tables,
                zones,
                edges,
                busy,
                req,
            }
        })
}

fn expected_reason(f: &Floor, c: &Case) -> Reason {
    let k = &c.req.knobs;
    let eligible = |z: u32| k.zone_restrict.is_none_or(|r| r == z);
    let zone_max: i64 = (0..c.zones)
        .filter(|&z| eligible(z))
        .map(|z| {
            f.tables()
                .iter()
                .filter(|t| t.zone == z && t.active)
                .map(|t| i64::from(t.capacity))
                .sum::<i64>()
        })
        .max()
        .unwrap_or(0);
    let single = f
        .tables()
        .iter()
        .any(|t| t.active && eligible(t.zone) && t.max_party >= c.req.party);
    let free_seats: i64 = f
        .tables()
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            t.active
                && eligible(t.zone)
                && !k.avoid.contains(&(*i as u32))
                && !c
                    .busy
                    .iter()
                    .any(|b| b.table == *i as u32 && b.start < c.req.end && c.req.start < b.end)
        })
        .map(|(_, t)| i64::from(t.capacity))
        .sum();
    if i64::from(c.req.party) > zone_max && !single {
        Reason::PartyExceedsFloor
    } else if free_seats < i64::from(c.req.party) {
        Reason::NoCapacity
    } else {
        Reason::NoFit
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=200000 for a deeper local run
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn planner_matches_oracle(c in case_strategy()) {
        let f = match Floor::new(c.tables.clone(), c.zones, &c.edges) {
            Ok(f) => f,
            Err(e) => return Err(TestCaseError::fail(format!("floor: {e}"))),
        };
        let got = plan(&f, &c.busy, &c.req, &[], &mut || {});
        let want = oracle(&f, &c.busy, &c.req);

        // exists iff the oracle finds a plan
        prop_assert_eq!(got.plans.is_empty(), want.valid.is_empty());
        // every plan re-checked independently
        for p in &got.plans {
            prop_assert_eq!(check_plan(&f, &c.busy, &c.req, p), Ok(()), "plan {:?}", p);
        }
        if let (Some(best), Some(ob)) = (got.plans.first(), want.best_any()) {
            // same best score as the best of ALL valid plans, and the same best plan
            prop_assert_eq!(best.score.total, ob.total);
            prop_assert_eq!(best.tables.to_vec(), ob.tables.clone());
        }
        // the whole list equals the oracle's ranking of minimal plans
        let n = c.req.knobs.max_alternates + 1;
        let want_list: Vec<(Vec<u32>, i64)> =
            want.minimal.iter().take(n).map(|p| (p.tables.clone(), p.total)).collect();
        let got_list: Vec<(Vec<u32>, i64)> =
            got.plans.iter().map(|p| (p.tables.to_vec(), p.score.total)).collect();
        prop_assert_eq!(&got_list, &want_list);
        prop_assert!(got.counters.plans_found as usize <= want.minimal.len());
        // reasons
        if got.plans.is_empty() {
            prop_assert_eq!(got.reason, Some(expected_reason(&f, &c)));
        } else {
            prop_assert_eq!(got.reason, None);
        }
        // exhaustive mode: identical plans
        let mut ex = c.req.clone();
        ex.knobs.exhaustive = true;
        let gx = plan(&f, &c.busy, &ex, &[], &mut || {});
        prop_assert_eq!(&gx.plans, &got.plans);
        prop_assert_eq!(gx.reason, got.reason);
        prop_assert_eq!(gx.counters.plans_found as usize, want.minimal.len());
        prop_assert!(gx.counters.combinations_tried >= got.counters.combinations_tried);
    }
}

/// Found by the property test in CI: the zone-level score bound counted the priority
/// of only one table of a plan, so a better two-table plan in another zone was cut.
#[test]
fn zone_score_bound_counts_every_table_priority() {
    let t = |zone, capacity, min_party, max_party, active, combinable, priority| TableSpec {
        zone,
        capacity,
        min_party,
        max_party,
        active,
        combinable,
        priority,
    };
    let off = || t(0, 1, 1, 1, false, false, 0);
    let tables = vec![
        off(),
        off(),
        off(),
        t(0, 6, 6, 6, true, true, 2),
        t(0, 10, 10, 11, true, false, 0),
        off(),
        off(),
        t(0, 5, 5, 5, true, true, 3),
        off(),
        t(1, 4, 4, 4, true, true, 2),
        t(1, 7, 7, 7, true, true, 4),
        off(),
    ];
    let floor = Floor::new(tables, 2, &[]).expect("floor");
    let req = Request {
        party: 11,
        start: 0,
        end: 1,
        requested_zone: None,
        knobs: Knobs {
            max_tables: 2,
            require_adjacency: false,
            max_overage: 0,
            max_alternates: 1,
            ..Knobs::default()
        },
    };
    let got = plan(&floor, &[], &req, &[], &mut || {});
    let list: Vec<(Vec<u32>, i64)> = got
        .plans
        .iter()
        .map(|p| (p.tables.to_vec(), p.score.total))
        .collect();
    assert_eq!(list, vec![(vec![4], 0), (vec![9, 10], 294)]);
    let want = oracle(&floor, &[], &req);
    let want_list: Vec<(Vec<u32>, i64)> = want
        .minimal
        .iter()
        .take(2)
        .map(|p| (p.tables.clone(), p.total))
        .collect();
    assert_eq!(list, want_list);
}
