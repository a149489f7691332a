//! pgaa assign and report against the test cluster: dry run, --apply, SIGINT.
//! Run with: cargo test --release -p pgaa -- --include-ignored --test-threads=1

mod common;

use common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
#[ignore]
fn dry_run_writes_nothing_but_telemetry() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 3);
    let before = checksum(&mut c, &rid);
    let o = pgaa(&[
        "assign",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "--rate",
        "0",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["mode"], "dry_run");
    assert_eq!(j["calls"], 60, "{j}");
    assert_eq!(j["stop"], "done");
    assert_eq!(
        checksum(&mut c, &rid),
        before,
        "a dry run changed bookings/allocations/holds/outbox"
    );
    assert_eq!(events(&mut c, &rid, "auto_assign.quote", "ops"), 60);
    let other = count(
        &mut c,
        "SELECT count(*) FROM autoassign.events
          WHERE restaurant_id = $1::text::uuid AND event_type <> 'auto_assign.quote'",
        &rid,
    );
    assert_eq!(other, 0, "a dry run wrote attempt/summary/lifecycle events");
}

#[test]
#[ignore]
fn apply_confirms_with_source_ops_and_report_reads_it() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 4);
    let o = pgaa(&[
        "assign",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "--apply",
        "--rate",
        "0",
        "--concurrency",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["mode"], "apply");
    assert_eq!(j["calls"], 60);
    let ok = j["ok"].as_i64().expect("ok");
    assert!(ok >= 40, "most of the demo service is seated: {j}");
    let confirmed = count(
        &mut c,
        "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid AND status = 'confirmed'",
        &rid,
    );
    assert_eq!(
        confirmed, ok,
        "the summary's confirmed count is what the database holds"
    );
    assert_consistent(&mut c, &rid);
    assert!(
        events(&mut c, &rid, "auto_assign.attempt", "ops") >= 60,
        "an attempt event per call"
    );
    assert!(
        events(&mut c, &rid, "auto_assign.quote", "ops") >= 60,
        "a planner run per call"
    );
    assert!(events(&mut c, &rid, "auto_assign.summary", "ops") >= ok);
    let with_ops = count(
        &mut c,
        "SELECT count(*) FROM autoassign.booking_outcomes
          WHERE restaurant_id = $1::text::uuid AND outcome = 'confirmed' AND 'ops' = ANY (sources)",
        &rid,
    );
    assert_eq!(with_ops, ok);

    // report --json reads the same service back from the views
    let r = pgaa(&["report", "--restaurant", &rid, "--day", &day, "--json"]);
    assert!(r.status.success(), "{}", text(&r));
    let rep = json(&r);
    let confirmed_row = rep["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["outcome"] == "confirmed")
        .expect("a confirmed outcome row")
        .clone();
    assert_eq!(confirmed_row["bookings"], ok);
    let ops = rep["latency"]
        .as_array()
        .expect("latency")
        .iter()
        .find(|l| l["source"] == "ops")
        .expect("an ops latency row")
        .clone();
    // every planner run of the calls (a confirm that lost a race plans again)
    assert_eq!(
        ops["calls"],
        events(&mut c, &rid, "auto_assign.quote", "ops")
    );
    let (p50, p99) = (
        ops["p50_us"].as_f64().unwrap(),
        ops["p99_us"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99, "{ops}");
    let share: f64 = rep["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["share"].as_f64().unwrap())
        .sum();
    assert!(
        (share - 1.0).abs() < 0.001,
        "reason shares sum to 1: {share}"
    );
    // and the human form prints every section
    let h = pgaa(&["report", "--restaurant", &rid, "--day", &day]);
    assert!(h.status.success(), "{}", text(&h));
    let ht = String::from_utf8_lossy(&h.stdout);
    for s in [
        "Bookings of the service",
        "Planner latency",
        "Reasons",
        "Outcomes and retries",
        "quote_latency",
    ] {
        assert!(ht.contains(s), "report shows {s}:\n{ht}");
    }
}

#[test]
#[ignore]
fn sigint_finishes_the_call_in_flight_and_leaves_nothing_half_done() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 7);
    let child = pgaa_cmd(&[
        "assign",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "--apply",
        "--rate",
        "10",
        "--json",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn pgaa");
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: sending a signal to our own child process by its pid
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0);
    let t0 = Instant::now();
    let o = child.wait_with_output().expect("wait");
    assert!(t0.elapsed() < Duration::from_secs(3), "stopped promptly");
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["stop"], "interrupted");
    let calls = j["calls"].as_i64().unwrap();
    assert!(calls > 0 && calls < 60, "interrupted mid-run: {j}");
    let confirmed = count(
        &mut c,
        "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid AND status = 'confirmed'",
        &rid,
    );
    assert_eq!(
        confirmed,
        j["ok"].as_i64().unwrap(),
        "every call it made is in the summary"
    );
    assert_consistent(&mut c, &rid);
    assert_eq!(
        events(&mut c, &rid, "auto_assign.attempt", "ops"),
        calls,
        "no call was started after the interrupt or lost"
    );
    // a backend leaves pg_stat_activity a moment after its client has gone
    let sessions = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgaa' AND $1::text IS NOT NULL";
    let t0 = Instant::now();
    let mut left = count(&mut c, sessions, "x");
    while left > 0 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        left = count(&mut c, sessions, "x");
    }
    assert_eq!(left, 0, "no pgaa session left behind");
}
