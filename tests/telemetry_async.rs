//! Planner events off the caller's transaction (issue 12) and per-database planner
//! statistics (issue 10, item 6). Needs a server with pg_autoassign preloaded (the
//! event queue and its writer live in shared memory): scripts/test.sh starts one.
mod common;

use common::*;
use postgres::{Client, NoTls};
use std::thread;
use std::time::{Duration, Instant};

/// One row of autoassign.event_queue, the counters this test reads.
#[derive(Debug, Clone, Copy)]
struct Queue {
    queued: i64,
    enqueued: i64,
    written: i64,
    dropped: i64,
    lost: i64,
    log_lines: i64,
    log_suppressed: i64,
    queue_free: i64,
    stats_keys: i64,
    stats_keys_total: i64,
    stats_max: i64,
    stats_evictions: i64,
}

fn queue(c: &mut Client) -> Queue {
    let r = c
        .query_one(
            "SELECT queued, enqueued, written, dropped, lost, log_lines, log_suppressed,
                    queue_free, stats_keys, stats_keys_total, stats_max, stats_evictions
               FROM autoassign.event_queue",
            &[],
        )
        .expect("event_queue view");
    Queue {
        queued: r.get(0),
        enqueued: r.get(1),
        written: r.get(2),
        dropped: r.get(3),
        lost: r.get(4),
        log_lines: r.get(5),
        log_suppressed: r.get(6),
        queue_free: r.get(7),
        stats_keys: r.get(8),
        stats_keys_total: r.get(9),
        stats_max: r.get(10),
        stats_evictions: r.get(11),
    }
}

fn connect_db(db: &str) -> Client {
    let mut cfg: postgres::Config = dsn().parse().expect("PGAA_TEST_DSN");
    cfg.dbname(db);
    cfg.connect(NoTls).expect("connect to the second database")
}

fn require_preload(c: &mut Client) {
    let preloaded: bool = c
        .query_one(
            "SELECT current_setting('shared_preload_libraries') ~ 'pg_autoassign'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        preloaded,
        "these tests need pg_autoassign in shared_preload_libraries (scripts/test.sh sets it)"
    );
}

fn timeout_events(c: &mut Client, booking: &str) -> Vec<(String, Option<String>, bool)> {
    flush(c);
    c.query(
        "SELECT payload->>'cut_by', reason, success FROM autoassign.events
          WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.timeout' ORDER BY id",
        &[&booking],
    )
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get::<_, Option<String>>(0).unwrap_or_default(),
            r.get(1),
            r.get(2),
        )
    })
    .collect()
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn rolled_back_quote_still_appears_as_an_event() {
    let mut c = setup();
    require_preload(&mut c);
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    let before = queue(&mut c);
    let mut tx = c.transaction().unwrap();
    let ok: bool = tx
        .query_one(
            "SELECT ok FROM autoassign.autoassign_quote($1::text::uuid)",
            &[&a],
        )
        .unwrap()
        .get(0);
    assert!(ok);
    tx.rollback().unwrap();
    assert_eq!(queue(&mut c).enqueued, before.enqueued + 1);
    assert_eq!(events(&mut c, &a, "auto_assign.quote"), 1);
    // the row is a complete quote event: counters, knobs, duration
    let complete: bool = c
        .query_one(
            "SELECT success AND reason IS NULL AND duration_us > 0 AND source = 'api'
                    AND restaurant_id = $2::text::uuid
                    AND (payload->>'combinations_tried') IS NOT NULL
                    AND (strategy->>'max_tables')::int = 3
               FROM autoassign.events
              WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.quote'",
            &[&a, &rid],
        )
        .unwrap()
        .get(0);
    assert!(complete);
    // the attempt of a rolled-back confirm is a fact about the booking: it rolls back
    let mut tx = c.transaction().unwrap();
    tx.query(
        "SELECT * FROM autoassign.autoassign_confirm($1::text::uuid)",
        &[&a],
    )
    .unwrap();
    tx.rollback().unwrap();
    assert_eq!(events(&mut c, &a, "auto_assign.quote"), 2);
    assert_eq!(events(&mut c, &a, "auto_assign.attempt"), 0);
    assert_eq!(events(&mut c, &a, "auto_assign.summary"), 0);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn statement_timeout_leaves_its_timeout_row_and_one_log_line() {
    let mut c = setup();
    require_preload(&mut c);
    let rid = slow_floor(&mut c, 60);
    let a = booking(&mut c, &rid, 12, 0, 90);
    let mut victim = connect();
    let before = queue(&mut victim);
    lift_planner_cap(&mut victim);
    victim
        .batch_execute("SET statement_timeout = '300ms'")
        .unwrap();
    for _ in 0..2 {
        let err = victim
            .query(
                "SELECT * FROM autoassign.autoassign_quote($1::text::uuid, $2::text::jsonb)",
                &[&a, &SLOW_STRATEGY],
            )
            .expect_err("the planner must be cut by statement_timeout");
        assert_eq!(err.code().map(|s| s.code()), Some("57014"));
    }
    victim.batch_execute("RESET statement_timeout").unwrap();
    let rows = timeout_events(&mut c, &a);
    assert_eq!(
        rows,
        vec![
            (
                "statement_timeout".to_string(),
                Some("timeout".to_string()),
                false
            ),
            (
                "statement_timeout".to_string(),
                Some("timeout".to_string()),
                false
            ),
        ]
    );
    // nothing of the booking was written
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.allocations WHERE restaurant_id = $1::text::uuid",
            &rid
        ),
        0
    );
    // the planner-path log line is rate-limited: one written, the second suppressed
    let after = queue(&mut victim);
    assert_eq!(
        after.log_lines - before.log_lines,
        1,
        "{before:?} {after:?}"
    );
    assert_eq!(after.log_suppressed - before.log_suppressed, 1);
    let cancelled: i64 = c
        .query_one(
            "SELECT coalesce(sum(events_written), 0)::int8 FROM autoassign.stats
              WHERE restaurant_id = $1::text::uuid AND reason = 'cancelled'",
            &[&rid],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        cancelled, 2,
        "the stats key counts the written timeout events"
    );
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn pg_cancel_backend_leaves_its_timeout_row() {
    let mut c = setup();
    require_preload(&mut c);
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
    for _ in 0..100 {
        let active: bool = c
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active')",
                &[&pid],
            )
            .unwrap()
            .get(0);
        if active {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(200));
    let cancelled: bool = c
        .query_one("SELECT pg_cancel_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(cancelled);
    let err = worker
        .join()
        .unwrap()
        .expect_err("the confirm is cancelled");
    assert_eq!(err.code().map(|s| s.code()), Some("57014"));
    let rows = timeout_events(&mut c, &a);
    assert_eq!(
        rows,
        vec![("cancel".to_string(), Some("timeout".to_string()), false)]
    );
    // the confirm's attempt and summary rolled back with it
    assert_eq!(events(&mut c, &a, "auto_assign.attempt"), 0);
    assert_eq!(events(&mut c, &a, "auto_assign.summary"), 0);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn full_queue_drops_and_counts_without_blocking() {
    let mut c = setup();
    require_preload(&mut c);
    flush(&mut c);
    // the writer blocks on the events table: nothing leaves the queue
    let mut blocker = connect();
    blocker
        .batch_execute("BEGIN; LOCK TABLE autoassign.events IN SHARE MODE")
        .unwrap();
    let before = queue(&mut c);
    // the writer may hold one batch (autoassign.event_batch_size, 500) when it blocks
    let n = before.queue_free + 1500;
    let started = Instant::now();
    // quotes of unknown bookings: cheap hard stops, one quote event each
    let returned: i64 = c
        .query_one(
            "SELECT count(*) FROM generate_series(1, $1::int8) g,
                    LATERAL autoassign.autoassign_quote(md5(g::text || clock_timestamp()::text)::uuid,
                                                        source => 'fill') q",
            &[&n],
        )
        .unwrap()
        .get(0);
    let took = started.elapsed();
    assert_eq!(returned, n);
    let full = queue(&mut c);
    let dropped = full.dropped - before.dropped;
    assert!(
        dropped >= 1000,
        "a full queue drops: {before:?} -> {full:?}"
    );
    assert_eq!(full.queue_free, 0);
    assert_eq!(
        (full.enqueued - before.enqueued) + dropped,
        n,
        "every event is queued or counted as dropped"
    );
    assert!(
        took < Duration::from_secs(30),
        "the caller never waits for the writer ({took:?} for {n} quotes)"
    );
    let dropped_on_keys: i64 = c
        .query_one(
            "SELECT coalesce(sum(events_dropped), 0)::int8 FROM autoassign.stats WHERE source = 'fill'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dropped_on_keys, dropped, "the stats key counts them too");
    blocker.batch_execute("COMMIT").unwrap();
    flush(&mut c);
    let after = queue(&mut c);
    assert_eq!(after.queued, 0);
    assert_eq!(
        after.written + after.lost,
        after.enqueued,
        "after the lock is gone everything queued is written: {after:?}"
    );
    c.batch_execute("DELETE FROM autoassign.events WHERE source = 'fill'")
        .unwrap();
}

fn pid_of(c: &mut Client, backend_type: &str) -> Option<i32> {
    c.query_opt(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = $1 ORDER BY pid LIMIT 1",
        &[&backend_type],
    )
    .unwrap()
    .map(|r| r.get(0))
}

fn wait_for_pid(c: &mut Client, backend_type: &str, not: Option<i32>) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(pid) = pid_of(c, backend_type) {
            if Some(pid) != not {
                return pid;
            }
        }
        assert!(Instant::now() < deadline, "no {backend_type} came back");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn killed_workers_come_back_and_go_on() {
    let mut c = setup();
    require_preload(&mut c);
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    let quote = |c: &mut Client| {
        c.query(
            "SELECT * FROM autoassign.autoassign_quote($1::text::uuid)",
            &[&a],
        )
        .unwrap();
    };
    quote(&mut c);
    assert_eq!(events(&mut c, &a, "auto_assign.quote"), 1);
    // the launcher: the postmaster restarts it
    let launcher = wait_for_pid(&mut c, "pg_autoassign event launcher", None);
    let killed: bool = c
        .query_one("SELECT pg_terminate_backend($1)", &[&launcher])
        .unwrap()
        .get(0);
    assert!(killed);
    let relaunched = wait_for_pid(&mut c, "pg_autoassign event launcher", Some(launcher));
    assert_ne!(relaunched, launcher);
    quote(&mut c);
    assert_eq!(events(&mut c, &a, "auto_assign.quote"), 2);
    // the writer: the launcher starts another one for the next records
    quote(&mut c);
    let writer = wait_for_pid(&mut c, "pg_autoassign event writer", None);
    let killed: bool = c
        .query_one("SELECT pg_terminate_backend($1)", &[&writer])
        .unwrap()
        .get(0);
    assert!(killed);
    thread::sleep(Duration::from_millis(200));
    quote(&mut c);
    let n = events(&mut c, &a, "auto_assign.quote");
    let lost = queue(&mut c).lost;
    assert!(
        n == 4 || (n == 3 && lost > 0),
        "at most the batch in flight is lost, and counted: {n} rows, lost {lost}"
    );
    let new_writer = pid_of(&mut c, "pg_autoassign event writer");
    assert!(new_writer.is_some() && new_writer != Some(writer));
}

const SECOND_DB: &str = "pgaa_async_b";

fn second_database(c: &mut Client) -> Client {
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {SECOND_DB} WITH (FORCE)"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {SECOND_DB}"))
        .unwrap();
    let mut b = connect_db(SECOND_DB);
    b.batch_execute("SET client_min_messages = warning; CREATE EXTENSION pg_autoassign CASCADE")
        .unwrap();
    b
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn two_databases_get_their_own_rows_and_stats() {
    let mut c = setup();
    require_preload(&mut c);
    let mut b = second_database(&mut c);
    let (rid_a, _) = small_floor(&mut c, &[4, 4]);
    let (rid_b, _) = small_floor(&mut b, &[2, 6]);
    let ba = booking(&mut c, &rid_a, 2, 0, 90);
    let bb = booking(&mut b, &rid_b, 2, 0, 90);
    for _ in 0..3 {
        c.query(
            "SELECT * FROM autoassign.autoassign_quote($1::text::uuid, source => 'in_a')",
            &[&ba],
        )
        .unwrap();
    }
    for _ in 0..2 {
        b.query(
            "SELECT * FROM autoassign.autoassign_quote($1::text::uuid, source => 'in_b')",
            &[&bb],
        )
        .unwrap();
    }
    assert_eq!(events(&mut c, &ba, "auto_assign.quote"), 3);
    assert_eq!(events(&mut b, &bb, "auto_assign.quote"), 2);
    let strays = |c: &mut Client, other: &str| -> i64 {
        c.query_one(
            "SELECT count(*) FROM autoassign.events WHERE source = $1",
            &[&other],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(strays(&mut c, "in_b"), 0);
    assert_eq!(strays(&mut b, "in_a"), 0);
    // the stats view shows the current database only
    let sources = |c: &mut Client| -> Vec<String> {
        c.query(
            "SELECT DISTINCT source FROM autoassign.stats ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    assert!(sources(&mut c).contains(&"in_a".to_string()));
    assert!(!sources(&mut c).contains(&"in_b".to_string()));
    assert_eq!(sources(&mut b), vec!["in_b".to_string()]);
    let qb = queue(&mut b);
    assert_eq!((qb.enqueued, qb.written), (2, 2), "{qb:?}");
    drop(b);
    c.batch_execute(&format!("DROP DATABASE {SECOND_DB} WITH (FORCE)"))
        .unwrap();
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn stats_reset_is_per_database_and_privileged_and_full_table_evicts() {
    let mut c = setup();
    require_preload(&mut c);
    let mut b = second_database(&mut c);
    b.query(
        "SELECT * FROM autoassign.autoassign_quote(gen_random_uuid(), source => 'kept_in_b')",
        &[],
    )
    .unwrap();
    c.query(
        "SELECT * FROM autoassign.autoassign_quote(gen_random_uuid(), source => 'reset_in_a')",
        &[],
    )
    .unwrap();
    // an ordinary role may not reset
    c.batch_execute(
        "DO $$ BEGIN
             IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgaa_nobody') THEN
                 DROP OWNED BY pgaa_nobody;
                 DROP ROLE pgaa_nobody;
             END IF;
         END $$;
         CREATE ROLE pgaa_nobody;
         GRANT USAGE ON SCHEMA autoassign TO pgaa_nobody;
         GRANT EXECUTE ON FUNCTION autoassign.autoassign_stats_reset() TO pgaa_nobody;
         DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'autoassign_admin') THEN
                 CREATE ROLE autoassign_admin NOLOGIN;
             END IF;
         END $$;",
    )
    .unwrap();
    c.batch_execute("SET ROLE pgaa_nobody").unwrap();
    let err = c
        .query("SELECT autoassign.autoassign_stats_reset()", &[])
        .expect_err("an ordinary role may not reset the statistics");
    c.batch_execute("RESET ROLE").unwrap();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "42501");
    assert!(db.hint().unwrap_or("").contains("autoassign_admin"));
    // a member of autoassign_admin may; only this database's keys go
    c.batch_execute("GRANT autoassign_admin TO pgaa_nobody; SET ROLE pgaa_nobody")
        .unwrap();
    let reset: bool = c
        .query_one("SELECT autoassign.autoassign_stats_reset()", &[])
        .unwrap()
        .get(0);
    c.batch_execute("RESET ROLE").unwrap();
    assert!(reset);
    assert_eq!(queue(&mut c).stats_keys, 0);
    let kept: i64 = b
        .query_one(
            "SELECT count(*) FROM autoassign.stats WHERE source = 'kept_in_b'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "the other database's statistics stay");
    // more keys than stats_max: the least-used are evicted and counted
    let q = queue(&mut c);
    b.query(
        "SELECT * FROM autoassign.autoassign_quote(gen_random_uuid(), source => 'kept_in_b')",
        &[],
    )
    .unwrap();
    let n = q.stats_max - q.stats_keys_total + 200;
    c.query(
        "SELECT count(*) FROM generate_series(1, $1::int8) g,
                LATERAL autoassign.autoassign_quote(gen_random_uuid(),
                    source => 'k' || translate(g::text, '0123456789', 'abcdefghij')) q",
        &[&n],
    )
    .unwrap();
    let after = queue(&mut c);
    assert!(
        after.stats_evictions > q.stats_evictions,
        "a full table evicts: {q:?} -> {after:?}"
    );
    assert!(after.stats_keys_total <= after.stats_max);
    // the key used twice survives the eviction of keys used once
    let kept: i64 = b
        .query_one(
            "SELECT calls FROM autoassign.stats WHERE source = 'kept_in_b'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kept, 2);
    c.batch_execute(
        "SELECT autoassign.autoassign_flush_events();
         DELETE FROM autoassign.events WHERE source ~ '^k[a-j]+$';
         SELECT autoassign.autoassign_stats_reset();
         DROP OWNED BY pgaa_nobody;
         DROP ROLE pgaa_nobody;",
    )
    .unwrap();
    drop(b);
    c.batch_execute(&format!("DROP DATABASE {SECOND_DB} WITH (FORCE)"))
        .unwrap();
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn history_and_dashboards_show_both_paths_in_order() {
    let mut c = setup();
    require_preload(&mut c);
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    c.query(
        "SELECT * FROM autoassign.autoassign_quote($1::text::uuid)",
        &[&a],
    )
    .unwrap();
    assert!(confirm(&mut c, &a, "inline").0);
    flush(&mut c);
    // quote (queue), then confirm's quote (queue), and in its transaction the summary
    // (written by the status trigger) and the attempt
    let kinds: Vec<(String, String)> = c
        .query(
            "SELECT kind, source FROM autoassign.autoassign_booking_history($1::text::uuid) ORDER BY seq",
            &[&a],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expect = |k: &str, s: &str| (k.to_string(), s.to_string());
    assert_eq!(
        kinds,
        vec![
            expect("auto_assign.quote", "api"),
            expect("auto_assign.quote", "inline"),
            expect("auto_assign.summary", "inline"),
            expect("auto_assign.attempt", "inline"),
            expect("last_result", "inline"),
        ]
    );
    let row = c
        .query_one(
            "SELECT quotes, attempts, outcome FROM autoassign.booking_outcomes WHERE booking_id = $1::text::uuid",
            &[&a],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(row.get::<_, i64>(1), 1);
    assert_eq!(row.get::<_, String>(2), "confirmed");
    let calls: i64 = c
        .query_one(
            "SELECT coalesce(sum(calls), 0)::int8 FROM autoassign.quote_latency WHERE restaurant_id = $1::text::uuid",
            &[&rid],
        )
        .unwrap()
        .get(0);
    assert_eq!(calls, 2);
}
