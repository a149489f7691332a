//! Telemetry guarantees that need a real server: every caller writes its quote event,
//! stats survive rollbacks, cancels leave nothing behind, one summary under races.
mod common;

use common::*;
use std::thread;
use std::time::Duration;

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn every_caller_path_writes_a_quote_event() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    let b = booking(&mut c, &rid, 2, 0, 90);
    c.query(
        "SELECT * FROM autoassign.autoassign_quote($1::text::uuid)",
        &[&a],
    )
    .unwrap();
    c.query(
        "SELECT * FROM autoassign.autoassign_explain($1::text::uuid)",
        &[&a],
    )
    .unwrap();
    c.query(
        "SELECT * FROM autoassign.autoassign_quote($1::text::uuid, source => 'my_tool')",
        &[&a],
    )
    .unwrap();
    assert!(confirm(&mut c, &a, "inline").0);
    make_due(&mut c, &b);
    assert_eq!(
        sweep_in(&mut c, &rid),
        (1, 1, 0, 0, 0),
        "the sweep confirms b"
    );
    flush(&mut c);
    let sources: Vec<String> = c
        .query(
            "SELECT DISTINCT source FROM autoassign.events WHERE restaurant_id = $1::text::uuid
               AND event_type = 'auto_assign.quote' ORDER BY 1",
            &[&rid],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(sources, vec!["api", "inline", "job", "my_tool", "ops"]);
    // every quote event carries the planner counters and the effective knobs
    let bare: i64 = c
        .query_one(
            "SELECT count(*) FROM autoassign.events WHERE restaurant_id = $1::text::uuid
               AND event_type = 'auto_assign.quote'
               AND (payload->>'combinations_tried' IS NULL OR strategy->>'max_tables' IS NULL
                    OR payload->>'cache_hit' IS NULL OR duration_us IS NULL)",
            &[&rid],
        )
        .unwrap()
        .get(0);
    assert_eq!(bare, 0);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn stats_and_quote_events_survive_rollback() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    let calls = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT coalesce(sum(calls), 0)::int8 FROM autoassign.stats WHERE restaurant_id = $1::text::uuid",
            &[&rid],
        )
        .unwrap()
        .get(0)
    };
    let before = calls(&mut c);
    let mut tx = c.transaction().unwrap();
    tx.query(
        "SELECT * FROM autoassign.autoassign_quote($1::text::uuid)",
        &[&a],
    )
    .unwrap();
    tx.rollback().unwrap();
    assert_eq!(
        calls(&mut c),
        before + 1,
        "shared-memory counters count the rolled-back call"
    );
    assert_eq!(
        events(&mut c, &a, "auto_assign.quote"),
        1,
        "its quote event went through the queue, outside the transaction (contract v2)"
    );
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn statement_timeout_leaves_no_allocation() {
    let mut c = setup();
    let rid = slow_floor(&mut c, 60);
    let a = booking(&mut c, &rid, 12, 0, 90);
    lift_planner_cap(&mut c);
    c.batch_execute("SET statement_timeout = '300ms'").unwrap();
    let err = c
        .query(
            "SELECT * FROM autoassign.autoassign_confirm($1::text::uuid, $2::text::jsonb)",
            &[&a, &SLOW_STRATEGY],
        )
        .expect_err("the planner must be cut by statement_timeout");
    assert_eq!(err.code().map(|s| s.code()), Some("57014"));
    c.batch_execute("RESET statement_timeout").unwrap();
    assert_nothing_written(&mut c, &rid, &a);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn pg_cancel_backend_leaves_no_allocation() {
    let mut c = setup();
    let rid = slow_floor(&mut c, 60);
    let a = booking(&mut c, &rid, 12, 0, 90);
    let mut victim = connect();
    lift_planner_cap(&mut victim);
    let pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let a2 = a.clone();
    let worker = thread::spawn(move || {
        victim
            .query(
                "SELECT * FROM autoassign.autoassign_confirm($1::text::uuid, $2::text::jsonb)",
                &[&a2, &SLOW_STRATEGY],
            )
            .map(|_| ())
    });
    // wait until the confirm is running, then cancel it
    for _ in 0..100 {
        let active: bool = c
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active')", &[&pid])
            .unwrap()
            .get(0);
        if active {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(150));
    let cancelled: bool = c
        .query_one("SELECT pg_cancel_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(cancelled);
    let err = worker
        .join()
        .unwrap()
        .expect_err("the confirm must be cancelled");
    assert_eq!(err.code().map(|s| s.code()), Some("57014"));
    assert_nothing_written(&mut c, &rid, &a);
    let counted: i64 = c
        .query_one(
            "SELECT coalesce(sum(calls), 0)::int8 FROM autoassign.stats WHERE restaurant_id = $1::text::uuid AND reason = 'cancelled'",
            &[&rid],
        )
        .unwrap()
        .get(0);
    assert!(
        counted >= 1,
        "the cancelled run is counted in autoassign.stats"
    );
}

fn assert_nothing_written(c: &mut postgres::Client, rid: &str, booking: &str) {
    assert_eq!(
        count(
            c,
            "SELECT count(*) FROM autoassign.allocations WHERE restaurant_id = $1::text::uuid",
            rid
        ),
        0
    );
    assert_eq!(
        count(
            c,
            "SELECT count(*) FROM autoassign.outbox WHERE restaurant_id = $1::text::uuid",
            rid
        ),
        0
    );
    let status: String = c
        .query_one(
            "SELECT status FROM autoassign.bookings WHERE id = $1::text::uuid",
            &[&booking],
        )
        .unwrap()
        .get(0);
    assert_eq!(status, "pending");
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn deadline_returns_timeout_and_writes_timeout_event() {
    let mut c = setup();
    let rid = slow_floor(&mut c, 60);
    let a = booking(&mut c, &rid, 12, 0, 90);
    let strategy = r#"{"exhaustive": true, "max_tables": 6, "max_overage": 0, "deadline_ms": 30}"#;
    let row = c
        .query_one("SELECT ok, reason, reason_class FROM autoassign.autoassign_quote($1::text::uuid, $2::text::jsonb)", &[&a, &strategy])
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("timeout"));
    assert_eq!(
        row.get::<_, Option<String>>(2).as_deref(),
        Some("transient")
    );
    assert_eq!(events(&mut c, &a, "auto_assign.timeout"), 1);
    flush(&mut c);
    let hit: bool = c
        .query_one(
            "SELECT (payload->>'deadline_hit')::bool FROM autoassign.events WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.quote'",
            &[&a],
        )
        .unwrap()
        .get(0);
    assert!(hit);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn one_summary_when_inline_sweep_and_manual_race() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4, 4, 4, 4, 4, 4]);
    let ids: Vec<String> = (0..12)
        .map(|i| booking(&mut c, &rid, 2, i * 20, 90))
        .collect();
    for id in &ids {
        make_due(&mut c, id);
    }
    let handles: Vec<_> = ["inline", "manual", "job"]
        .into_iter()
        .map(|source| {
            let ids = ids.clone();
            thread::spawn(move || {
                let mut c = connect();
                for id in &ids {
                    if source == "job" {
                        sweep(&mut c);
                    } else {
                        confirm(&mut c, id, source);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let bad: i64 = c
        .query_one(
            "SELECT count(*) FROM autoassign.bookings b WHERE b.restaurant_id = $1::text::uuid
               AND (SELECT count(*) FROM autoassign.events e WHERE e.booking_id = b.id
                     AND e.event_type = 'auto_assign.summary') <> 1",
            &[&rid],
        )
        .unwrap()
        .get(0);
    assert_eq!(bad, 0, "every booking has exactly one summary");
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.outbox WHERE restaurant_id = $1::text::uuid",
            &rid
        ),
        12
    );
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn quote_events_record_each_calls_own_strategy() {
    // the effective strategy's jsonb is cached per backend: a change of knobs must show
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    for strategy in ["{}", r#"{"max_tables": 2}"#, "{}", r#"{"max_overage": 1}"#] {
        c.query(
            "SELECT * FROM autoassign.autoassign_quote($1::text::uuid, $2::text::jsonb)",
            &[&a, &strategy],
        )
        .unwrap();
    }
    flush(&mut c);
    let recorded: Vec<(i32, i32)> = c
        .query(
            "SELECT (strategy->>'max_tables')::int, (strategy->>'max_overage')::int
               FROM autoassign.events
              WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.quote' ORDER BY id",
            &[&a],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(recorded, vec![(3, 4), (2, 4), (3, 4), (3, 1)]);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn quote_detail_on_request_and_duration_covers_the_call() {
    // issue 11: alternates and diagnostics only with detail => true; the returned
    // duration_us is the whole call, the event's payload splits load / plan / write
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[2, 2, 4, 4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    let plain = c
        .query_one(
            "SELECT ok, alternates IS NULL, diagnostics IS NULL, moves::text, duration_us
               FROM autoassign.autoassign_quote($1::text::uuid)",
            &[&a],
        )
        .unwrap();
    assert!(plain.get::<_, bool>(0));
    assert!(plain.get::<_, bool>(1), "no alternates unless asked");
    assert!(plain.get::<_, bool>(2), "no diagnostics unless asked");
    assert_eq!(plain.get::<_, String>(3), "[]");
    let returned_us: i64 = plain.get(4);
    flush(&mut c);
    let ev = c
        .query_one(
            "SELECT duration_us, (payload->>'load_us')::int8, (payload->>'plan_us')::int8,
                    (payload->>'write_us')::int8
               FROM autoassign.events
              WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.quote'",
            &[&a],
        )
        .unwrap();
    let (event_us, load, plan, write): (i64, i64, i64, i64) =
        (ev.get(0), ev.get(1), ev.get(2), ev.get(3));
    assert!(load > 0 && plan >= 0 && write >= 0, "{load} {plan} {write}");
    // the event is timed just before it is written: the parts add up to it, and the
    // returned duration_us (taken after the write) is at least as long
    assert!(
        load + plan + write <= event_us + 1,
        "{load}+{plan}+{write} vs {event_us}"
    );
    assert!(event_us <= returned_us, "{event_us} vs {returned_us}");

    let detailed = c
        .query_one(
            "SELECT jsonb_typeof(alternates), jsonb_array_length(alternates),
                    (diagnostics->>'plans')::int, diagnostics ? 'write_us', diagnostics->>'held'
               FROM autoassign.autoassign_quote($1::text::uuid, detail => true)",
            &[&a],
        )
        .unwrap();
    assert_eq!(detailed.get::<_, String>(0), "array");
    let plans: i32 = detailed.get(2);
    assert_eq!(
        i64::from(detailed.get::<_, i32>(1)),
        i64::from(plans) - 1,
        "alternates are the plans after the best"
    );
    assert!(detailed.get::<_, bool>(3));
    assert_eq!(detailed.get::<_, String>(4), "false");
    // the row is the same in the target list and in FROM, one row per call
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT autoassign.autoassign_quote($1::text::uuid)) q",
            &[&a],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // beside another set-returning function: one call (one event), the row once, then
    // NULLs while generate_series goes on
    let before = events(&mut c, &a, "auto_assign.quote");
    let paired: Vec<(bool, i32)> = c
        .query(
            "SELECT (q).ok IS NOT NULL, g
               FROM (SELECT autoassign.autoassign_quote($1::text::uuid) AS q,
                            generate_series(1, 3) AS g) s
              ORDER BY g",
            &[&a],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(paired, vec![(true, 1), (false, 2), (false, 3)]);
    assert_eq!(
        events(&mut c, &a, "auto_assign.quote") - before,
        1,
        "one call"
    );
}
