//! The retry sweep: each reason class, inline honoured, concurrency, a killed sweep,
//! pg_cron registration.
mod common;

use common::*;
use std::thread;
use std::time::Duration;

fn queue_row(c: &mut postgres::Client, booking: &str) -> Option<(String, bool, f64)> {
    c.query_opt(
        "SELECT last_class, wake, extract(epoch FROM next_attempt_at - now())::float8
           FROM autoassign.retry_queue WHERE booking_id = $1::text::uuid",
        &[&booking],
    )
    .unwrap()
    .map(|r| {
        (
            r.get::<_, Option<String>>(0).unwrap_or_default(),
            r.get(1),
            r.get(2),
        )
    })
}

/// The queue row's reason class; None once the booking left the queue.
fn class_of(c: &mut postgres::Client, booking: &str) -> Option<String> {
    queue_row(c, booking).map(|q| q.0)
}

fn summary(c: &mut postgres::Client, booking: &str) -> Option<String> {
    c.query_opt(
        "SELECT reason FROM autoassign.events WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.summary'",
        &[&booking],
    )
    .unwrap()
    .map(|r| r.get(0))
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn hard_reason_gives_up_without_replanning() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let big = booking(&mut c, &rid, 40, 0, 90);
    let (ok, reason, _) = confirm(&mut c, &big, "inline");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("party_exceeds_floor"));
    // never retried, so the failed inline confirm settles it at once
    assert_eq!(summary(&mut c, &big).as_deref(), Some("gave_up"));
    assert!(queue_row(&mut c, &big).is_none());
    let quotes_before = events(&mut c, &big, "auto_assign.quote");
    assert_eq!(
        sweep_in(&mut c, &rid),
        (0, 0, 0, 0, 0),
        "settled: nothing to sweep"
    );
    assert_eq!(
        events(&mut c, &big, "auto_assign.quote"),
        quotes_before,
        "no planner run for a hard reason"
    );
    let sources: String = c
        .query_one(
            "SELECT source FROM autoassign.events
              WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.summary'",
            &[&big],
        )
        .unwrap()
        .get(0);
    assert_eq!(sources, "inline");
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn capacity_failure_behind_a_full_waiting_list_gives_up_at_once() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4]);
    let seated = booking(&mut c, &rid, 4, 0, 90);
    assert!(confirm(&mut c, &seated, "inline").0);
    let waiting_list = |c: &mut postgres::Client, b: &str| -> (String, i32, i32, i32) {
        c.query_one(
            "SELECT reason, (payload->'waiting_list'->>'waiting')::int,
                    (payload->'waiting_list'->>'limit')::int, (payload->'waiting_list'->>'seated')::int
               FROM autoassign.events
              WHERE booking_id = $1::text::uuid AND event_type = 'auto_assign.summary'",
            &[&b],
        )
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .unwrap()
    };
    let fail = |c: &mut postgres::Client, party: i32, offset: i32| -> String {
        let b = booking(c, &rid, party, offset, 90);
        assert_eq!(confirm(c, &b, "inline").1.as_deref(), Some("no_capacity"));
        b
    };
    // defaults: ceil(0.04 * 1 seated) = 1 may wait for the 4-top
    let first = fail(&mut c, 4, 15);
    let second = fail(&mut c, 2, 30);
    assert_eq!(class_of(&mut c, &first).as_deref(), Some("capacity"));
    assert!(summary(&mut c, &first).is_none());
    assert!(class_of(&mut c, &second).is_none(), "settled, not queued");
    assert_eq!(waiting_list(&mut c, &second), ("gave_up".into(), 1, 1, 1));
    // max_waiting alone: two may wait
    set_waiting_limits(&mut c, Some(2), None);
    let third = fail(&mut c, 2, 45);
    let fourth = fail(&mut c, 2, 50);
    assert_eq!(class_of(&mut c, &third).as_deref(), Some("capacity"));
    assert_eq!(waiting_list(&mut c, &fourth), ("gave_up".into(), 2, 2, 1));
    // a stay that overlaps none of the waiting ones gets its own place on the list
    let blocker = booking(&mut c, &rid, 4, 390, 60);
    assert!(confirm(&mut c, &blocker, "inline").0);
    let later = fail(&mut c, 4, 400);
    assert_eq!(class_of(&mut c, &later).as_deref(), Some("capacity"));
    // no limit: every capacity failure waits
    set_waiting_limits(&mut c, None, None);
    let fifth = fail(&mut c, 2, 55);
    assert_eq!(class_of(&mut c, &fifth).as_deref(), Some("capacity"));
    set_waiting_limits(&mut c, Some(2), Some(0.04)); // the defaults, for the other tests
}

fn set_waiting_limits(c: &mut postgres::Client, max: Option<i32>, per_seated: Option<f64>) {
    c.execute(
        "UPDATE autoassign.retry_policy SET max_waiting = $1, waiting_per_seated = $2
          WHERE class = 'capacity'",
        &[&max, &per_seated],
    )
    .unwrap();
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn transient_backs_off_with_jitter_then_confirms() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    // two lost races in a row, as a concurrent confirm reports them: the backoff itself
    // (10 s, 20 s, +-20% jitter) is unit-tested in autoassign_planner::retry
    c.execute(
        "INSERT INTO autoassign.retry_queue (restaurant_id, booking_id, attempts_transient, last_reason,
                                             last_class, next_attempt_at)
         VALUES ($1::text::uuid, $2::text::uuid, 2, 'conflict', 'transient', now() + interval '20 seconds')",
        &[&rid, &a],
    )
    .unwrap();
    c.execute(
        "UPDATE autoassign.bookings SET created_at = now() - interval '1 minute' WHERE id = $1::text::uuid",
        &[&a],
    )
    .unwrap();
    // not due yet: the sweep leaves it alone
    let quotes = events(&mut c, &a, "auto_assign.quote");
    assert_eq!(sweep_in(&mut c, &rid), (0, 0, 0, 0, 0));
    assert_eq!(events(&mut c, &a, "auto_assign.quote"), quotes);
    // due: the sweep confirms it through the API path, source job
    make_due(&mut c, &a);
    assert_eq!(sweep_in(&mut c, &rid), (1, 1, 0, 0, 0));
    assert!(
        class_of(&mut c, &a).is_none(),
        "confirm removed its own queue row"
    );
    let status: String = c
        .query_one(
            "SELECT status FROM autoassign.bookings WHERE id = $1::text::uuid",
            &[&a],
        )
        .unwrap()
        .get(0);
    assert_eq!(status, "confirmed");
    assert_eq!(summary(&mut c, &a).as_deref(), Some("confirmed"));
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn capacity_waits_for_a_cancel_that_frees_its_window() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4]);
    let a = booking(&mut c, &rid, 4, 0, 90);
    let b = booking(&mut c, &rid, 4, 30, 90); // overlaps a
    let late = booking(&mut c, &rid, 4, 300, 90); // does not overlap a
    assert!(confirm(&mut c, &a, "inline").0);
    assert!(!confirm(&mut c, &b, "inline").0);
    assert!(confirm(&mut c, &late, "inline").0);
    let late2 = booking(&mut c, &rid, 4, 320, 60); // overlaps late, not a
    assert!(!confirm(&mut c, &late2, "inline").0);
    let (class, wake, wait) = queue_row(&mut c, &b).unwrap();
    assert_eq!(class, "capacity");
    assert!(!wake);
    assert!(
        wait > 20.0 * 60.0,
        "capacity retries only on a slow backstop: {wait} s"
    );

    // nothing changed: the sweep does not re-run the planner (inline honoured)
    let quotes = events(&mut c, &b, "auto_assign.quote");
    assert_eq!(sweep_in(&mut c, &rid), (0, 0, 0, 0, 0));
    assert_eq!(events(&mut c, &b, "auto_assign.quote"), quotes);

    // cancelling a wakes exactly the bookings whose window overlaps the freed one
    c.query(
        "SELECT * FROM autoassign.autoassign_cancel($1::text::uuid)",
        &[&a],
    )
    .unwrap();
    assert!(queue_row(&mut c, &b).unwrap().1, "b is woken");
    assert!(
        !queue_row(&mut c, &late2).unwrap().1,
        "late2 does not overlap the freed window"
    );
    assert_eq!(
        sweep_in(&mut c, &rid),
        (1, 1, 0, 0, 0),
        "exactly b, confirmed"
    );
    let status: String = c
        .query_one(
            "SELECT status FROM autoassign.bookings WHERE id = $1::text::uuid",
            &[&b],
        )
        .unwrap()
        .get(0);
    assert_eq!(status, "confirmed");
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn cutoff_stops_before_service() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4]);
    // 2030-06-01 18:00 UTC, cutoff 10 min; just inserted, so not due on its grace
    // period: reaching the cutoff alone makes the sweep take it
    let a = booking(&mut c, &rid, 2, 0, 90);
    let r = c
        .query_one(
            "SELECT processed, cutoff FROM autoassign.autoassign_sweep(restaurant_id => $1::text::uuid,
                                                                      now => '2030-06-01 17:55+00')",
            &[&rid],
        )
        .unwrap();
    assert_eq!((r.get::<_, i32>(0), r.get::<_, i32>(1)), (1, 1));
    assert_eq!(summary(&mut c, &a).as_deref(), Some("cutoff"));
    assert_eq!(
        events(&mut c, &a, "auto_assign.quote"),
        0,
        "no planner run past the cutoff"
    );
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn two_concurrent_sweeps_never_share_a_booking() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4, 4, 4, 4]);
    let ids: Vec<String> = (0..40)
        .map(|i| booking(&mut c, &rid, 2, (i % 10) * 100, 60))
        .collect();
    for id in &ids {
        make_due(&mut c, id);
    }
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let rid = rid.clone();
            thread::spawn(move || {
                let mut c = connect();
                let mut processed = 0;
                loop {
                    let (p, ..) = sweep_in(&mut c, &rid);
                    if p == 0 {
                        break processed;
                    }
                    processed += p;
                }
            })
        })
        .collect();
    let total: i32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(
        total, 40,
        "each booking processed once, by one of the sweeps"
    );
    let attempts_per_booking: Vec<i64> = ids
        .iter()
        .map(|id| events(&mut c, id, "auto_assign.attempt"))
        .collect();
    assert!(
        attempts_per_booking.iter().all(|&n| n == 1),
        "each booking planned by one sweep: {attempts_per_booking:?}"
    );
    // every booking was confirmed, or lost a race to the other sweep and waits for a
    // transient retry; none is lost and none is double-booked
    let confirmed = count(
        &mut c,
        "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid AND status = 'confirmed'",
        &rid,
    );
    let retrying = count(
        &mut c,
        "SELECT count(*) FROM autoassign.retry_queue WHERE restaurant_id = $1::text::uuid AND last_class = 'transient'",
        &rid,
    );
    assert_eq!(confirmed + retrying, 40);
    assert!(
        confirmed >= 36,
        "lost races are rare after a fresh re-plan: {confirmed}"
    );
    assert_eq!(overlapping_allocations(&mut c, &rid), 0);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn killed_sweep_leaves_nothing_and_next_sweep_takes_over() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[4, 4]);
    let ids: Vec<String> = (0..4)
        .map(|i| booking(&mut c, &rid, 2, i * 100, 60))
        .collect();
    for id in &ids {
        make_due(&mut c, id);
    }
    let mut victim = connect();
    let pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    victim.batch_execute("BEGIN").unwrap();
    let (p, confirmed, ..) = sweep_in(&mut victim, &rid);
    assert_eq!(
        (p, confirmed),
        (4, 4),
        "inside its open transaction the sweep did the work"
    );
    // killed before commit: its allocations and its row locks go with it
    let killed: bool = c
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    for _ in 0..100 {
        let gone: bool = c
            .query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)",
                &[&pid],
            )
            .unwrap()
            .get(0);
        if gone {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.allocations WHERE restaurant_id = $1::text::uuid",
            &rid
        ),
        0
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid AND status = 'pending'",
            &rid
        ),
        4
    );
    c.batch_execute("SET lock_timeout = '2s'").unwrap();
    let (_, confirmed, ..) = sweep_in(&mut c, &rid);
    assert_eq!(
        confirmed, 4,
        "no stuck lock: the next sweep takes the bookings"
    );
    c.batch_execute("RESET lock_timeout").unwrap();
}

#[test]
#[ignore = "needs a running server with pg_cron preloaded: scripts/test.sh"]
fn pg_cron_registration() {
    let mut c = setup();
    c.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        .unwrap();
    // the launcher starts a little after the database exists: poll for it
    let mut launcher = false;
    for _ in 0..100 {
        launcher = c
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher')", &[])
            .unwrap()
            .get(0);
        if launcher {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert!(launcher, "pg_cron launcher is running");
    let job: i64 = c
        .query_one(
            "SELECT autoassign.autoassign_schedule_sweep('*/5 * * * *')",
            &[],
        )
        .unwrap()
        .get(0);
    let row = c
        .query_one(
            "SELECT schedule, command FROM cron.job WHERE jobid = $1",
            &[&job],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "*/5 * * * *");
    assert!(row.get::<_, String>(1).contains("autoassign_sweep"));
    let removed: bool = c
        .query_one("SELECT autoassign.autoassign_unschedule_sweep()", &[])
        .unwrap()
        .get(0);
    assert!(removed);
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM cron.job WHERE jobname = 'pg_autoassign_sweep'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn wake_attempts_do_not_spend_the_budget() {
    let mut c = setup();
    // d below waits next to b: no waiting-list limit here (tested on its own above)
    set_waiting_limits(&mut c, None, None);
    // a 2-top and a 3-top that are not adjacent: 5 seats, but no plan for 4 (no_fit)
    let (rid, _) = small_floor(&mut c, &[2, 3]);
    c.execute(
        "DELETE FROM autoassign.table_adjacency WHERE restaurant_id = $1::text::uuid",
        &[&rid],
    )
    .unwrap();
    let b = booking(&mut c, &rid, 4, 0, 90);
    let (ok, reason, _) = confirm(&mut c, &b, "inline");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("no_fit"));
    let spent = |c: &mut postgres::Client, id: &str| -> i32 {
        c.query_one("SELECT attempts_capacity FROM autoassign.retry_queue WHERE booking_id = $1::text::uuid", &[&id])
            .unwrap()
            .get(0)
    };
    assert_eq!(spent(&mut c, &b), 1);
    // a wake-up that does not help is re-planned but not charged
    c.execute(
        "UPDATE autoassign.retry_queue SET wake = true WHERE booking_id = $1::text::uuid",
        &[&b],
    )
    .unwrap();
    assert_eq!(sweep_in(&mut c, &rid), (1, 0, 1, 0, 0));
    assert_eq!(spent(&mut c, &b), 1, "the woken attempt is not charged");
    assert_eq!(
        events(&mut c, &b, "auto_assign.attempt"),
        2,
        "but it is recorded"
    );
    assert!(
        !queue_row(&mut c, &b).unwrap().1,
        "the wake flag is consumed"
    );

    // too few free seats in every zone: the sweep does not even run the planner
    let e = booking(&mut c, &rid, 3, 0, 90);
    assert!(confirm(&mut c, &e, "inline").0, "e takes the 3-top");
    let d = booking(&mut c, &rid, 3, 0, 90);
    let (ok, reason, _) = confirm(&mut c, &d, "inline");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("no_capacity"));
    c.execute(
        "UPDATE autoassign.retry_queue SET wake = true WHERE booking_id = $1::text::uuid",
        &[&d],
    )
    .unwrap();
    assert_eq!(sweep_in(&mut c, &rid), (1, 0, 1, 0, 0), "d deferred");
    assert_eq!(
        events(&mut c, &d, "auto_assign.quote"),
        1,
        "capacity pre-check: no planner run"
    );
    assert_eq!(spent(&mut c, &d), 1);
    assert!(!queue_row(&mut c, &d).unwrap().1);
    set_waiting_limits(&mut c, Some(2), Some(0.04));
}

/// The same evening twice, once with every event of the restaurant deleted before each
/// step: the outcomes, the queue and the sweep's counts must not differ (telemetry is
/// write-only; issue 9, "delete every event, and behaviour is unchanged").
#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn behaviour_does_not_depend_on_events() {
    let mut c = setup();
    let run = |c: &mut postgres::Client, forget: bool| -> Vec<String> {
        let (rid, _) = small_floor(c, &[4]);
        let wipe = |c: &mut postgres::Client| {
            if forget {
                c.execute(
                    "DELETE FROM autoassign.events WHERE restaurant_id = $1::text::uuid",
                    &[&rid],
                )
                .unwrap();
            }
        };
        let a = booking(c, &rid, 4, 0, 90);
        let b = booking(c, &rid, 4, 30, 90);
        let late = booking(c, &rid, 2, 45, 90);
        let mut seen = vec![format!("{:?}", confirm(c, &a, "inline").0)];
        wipe(c);
        seen.push(format!("{:?}", confirm(c, &b, "inline").1)); // waits (capacity)
        wipe(c);
        seen.push(format!("{:?}", confirm(c, &late, "inline").1)); // waiting list full
        wipe(c);
        seen.push(format!("{:?}", sweep_in(c, &rid))); // nothing due
        c.query(
            "SELECT * FROM autoassign.autoassign_cancel($1::text::uuid)",
            &[&a],
        )
        .unwrap();
        wipe(c);
        seen.push(format!("{:?}", sweep_in(c, &rid))); // b woken and seated
        wipe(c);
        seen.push(format!("{:?}", sweep_in(c, &rid))); // late stays settled
        for id in [&a, &b, &late] {
            let r = c
                .query_one(
                    "SELECT status, coalesce(auto_assign_outcome, '-') FROM autoassign.bookings
                      WHERE id = $1::text::uuid",
                    &[id],
                )
                .unwrap();
            seen.push(format!(
                "{}/{}",
                r.get::<_, String>(0),
                r.get::<_, String>(1)
            ));
        }
        seen.push(format!(
            "queue {}",
            count(
                c,
                "SELECT count(*) FROM autoassign.retry_queue WHERE restaurant_id = $1::text::uuid",
                &rid
            )
        ));
        seen
    };
    let kept = run(&mut c, false);
    let forgotten = run(&mut c, true);
    assert_eq!(kept, forgotten);
    assert_eq!(
        kept,
        vec![
            "true",
            "Some(\"no_capacity\")",
            "Some(\"no_capacity\")",
            "(0, 0, 0, 0, 0)",
            "(1, 1, 0, 0, 0)",
            "(0, 0, 0, 0, 0)",
            "cancelled/confirmed",
            "confirmed/confirmed",
            "pending/gave_up",
            "queue 0",
        ]
    );
}
