//! Integration tests of the pgaa binary against a running server with pg_autoassign
//! (scripts/test.sh starts one and sets PGAA_TEST_DSN). The database tests are #[ignore]d
//! so they run only in the integration layer:
//!   cargo test --release -p pgaa -- --include-ignored --test-threads=1
//! Every test loads its own demo restaurant on its own day, so they do not see each other.

use postgres::{Client, NoTls};
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

fn dsn() -> String {
    std::env::var("PGAA_TEST_DSN")
        .unwrap_or_else(|_| "host=127.0.0.1 port=54329 user=postgres dbname=pg_autoassign".into())
}

fn connect() -> Client {
    match Client::connect(&dsn(), NoTls) {
        Ok(c) => c,
        Err(e) => panic!("cannot connect to {} (run scripts/test.sh): {e}", dsn()),
    }
}

static INSTALL: Once = Once::new();

/// A fresh copy of the extension once per test binary.
fn setup() -> Client {
    INSTALL.call_once(|| {
        connect()
            .batch_execute(
                "SET client_min_messages = warning;
                 DROP EXTENSION IF EXISTS pg_autoassign CASCADE;
                 CREATE EXTENSION pg_autoassign CASCADE;",
            )
            .expect("install pg_autoassign");
    });
    connect()
}

fn pgaa_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgaa"));
    cmd.arg("--dsn").arg(dsn()).args(args).env_remove("PGAA_DSN");
    cmd
}

fn pgaa(args: &[&str]) -> Output {
    pgaa_cmd(args).output().expect("run pgaa")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// The White Horse demo (60 pending bookings) on current_date + `days`; returns (id, day).
fn demo(c: &mut Client, days: i32) -> (String, String) {
    let row = c
        .query_one(
            "SELECT autoassign.autoassign_demo_load(current_date + $1::int, 42)::text, (current_date + $1::int)::text",
            &[&days],
        )
        .expect("demo load");
    (row.get(0), row.get(1))
}

/// Everything of one restaurant but its telemetry, as one md5.
fn checksum(c: &mut Client, rid: &str) -> String {
    c.query_one(
        "SELECT md5(concat_ws('|',
            (SELECT string_agg(concat_ws(',', b.id, b.status, b.party_size, b.start_at, b.end_at,
                                         b.auto_assign_outcome, b.auto_assign_last_result, b.updated_at), ';' ORDER BY b.id)
               FROM autoassign.bookings b WHERE b.restaurant_id = $1::text::uuid),
            (SELECT string_agg(concat_ws(',', a.booking_id, a.table_id, a.during), ';' ORDER BY a.id)
               FROM autoassign.allocations a WHERE a.restaurant_id = $1::text::uuid),
            (SELECT string_agg(concat_ws(',', h.booking_id, h.table_id, h.during), ';' ORDER BY h.id)
               FROM autoassign.holds h WHERE h.restaurant_id = $1::text::uuid),
            (SELECT string_agg(concat_ws(',', o.booking_id, o.kind, o.payload), ';' ORDER BY o.id)
               FROM autoassign.outbox o WHERE o.restaurant_id = $1::text::uuid),
            (SELECT string_agg(concat_ws(',', t.id, t.name, t.capacity, t.active), ';' ORDER BY t.id)
               FROM autoassign.tables t WHERE t.restaurant_id = $1::text::uuid),
            (SELECT count(*) FROM autoassign.table_adjacency j WHERE j.restaurant_id = $1::text::uuid),
            (SELECT concat_ws(',', r.name, r.floor_version) FROM autoassign.restaurants r
              WHERE r.id = $1::text::uuid)))",
        &[&rid],
    )
    .expect("checksum")
    .get(0)
}

fn count(c: &mut Client, sql: &str, rid: &str) -> i64 {
    c.query_one(sql, &[&rid]).expect(sql).get(0)
}

fn events(c: &mut Client, rid: &str, kind: &str, source: &str) -> i64 {
    c.query_one(
        "SELECT count(*) FROM autoassign.events
          WHERE restaurant_id = $1::text::uuid AND event_type = $2 AND source = $3",
        &[&rid, &kind, &source],
    )
    .expect("events")
    .get(0)
}

/// No booking half-done: confirmed/seated bookings have allocations, the outcome and one
/// confirmation message; allocations belong to confirmed/seated bookings only.
fn assert_consistent(c: &mut Client, rid: &str) {
    let bad = count(
        c,
        "SELECT count(*) FROM autoassign.bookings b
          WHERE b.restaurant_id = $1::text::uuid AND b.status IN ('confirmed', 'seated')
            AND (NOT EXISTS (SELECT 1 FROM autoassign.allocations a WHERE a.booking_id = b.id)
                 OR b.auto_assign_outcome IS DISTINCT FROM 'confirmed'
                 OR (SELECT count(*) FROM autoassign.outbox o
                      WHERE o.booking_id = b.id AND o.kind = 'booking_confirmed') <> 1)",
        rid,
    );
    assert_eq!(bad, 0, "confirmed bookings without allocations/outcome/outbox");
    let orphans = count(
        c,
        "SELECT count(*) FROM autoassign.allocations a
           JOIN autoassign.bookings b ON b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
          WHERE a.restaurant_id = $1::text::uuid AND b.status NOT IN ('confirmed', 'seated')",
        rid,
    );
    assert_eq!(orphans, 0, "allocations of bookings that are not confirmed/seated");
}

#[test]
fn help_for_every_subcommand() {
    let top = Command::new(env!("CARGO_BIN_EXE_pgaa"))
        .arg("--help")
        .output()
        .expect("run");
    assert!(top.status.success(), "{}", text(&top));
    let out = String::from_utf8_lossy(&top.stdout);
    for sub in ["assign", "stress", "report", "timeline"] {
        assert!(out.contains(sub), "--help lists {sub}: {out}");
    }
    let expect: [(&str, &[&str]); 4] = [
        (
            "assign",
            &["--restaurant", "--from", "--to", "--apply", "--rate", "--concurrency",
              "--statement-timeout-ms", "--max-error-rate", "--max-active", "--max-lock-waits", "--yes"],
        ),
        ("stress", &["--bookings", "--clients", "--seconds", "--json", "--rate", "--yes"]),
        ("report", &["--restaurant", "--day", "--json"]),
        ("timeline", &["--restaurant", "--day", "--output", "--html"]),
    ];
    for (sub, flags) in expect {
        let o = Command::new(env!("CARGO_BIN_EXE_pgaa"))
            .args([sub, "--help"])
            .output()
            .expect("run");
        assert!(o.status.success(), "{sub} --help: {}", text(&o));
        let h = String::from_utf8_lossy(&o.stdout);
        for f in flags {
            assert!(h.contains(f), "{sub} --help mentions {f}:\n{h}");
        }
    }
    // the concurrency cap is enforced by the argument parser
    let o = Command::new(env!("CARGO_BIN_EXE_pgaa"))
        .args(["assign", "--restaurant", "x", "--day", "2030-01-01", "--concurrency", "5"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
#[ignore]
fn dry_run_writes_nothing_but_telemetry() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 3);
    let before = checksum(&mut c, &rid);
    let o = pgaa(&["assign", "--restaurant", &rid, "--day", &day, "--rate", "0", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["mode"], "dry_run");
    assert_eq!(j["calls"], 60, "{j}");
    assert_eq!(j["stop"], "done");
    assert_eq!(checksum(&mut c, &rid), before, "a dry run changed bookings/allocations/holds/outbox");
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
        "assign", "--restaurant", &rid, "--day", &day, "--apply", "--rate", "0", "--concurrency", "2",
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
    assert_eq!(confirmed, ok, "the summary's confirmed count is what the database holds");
    assert_consistent(&mut c, &rid);
    assert!(events(&mut c, &rid, "auto_assign.attempt", "ops") >= 60, "an attempt event per call");
    assert!(events(&mut c, &rid, "auto_assign.quote", "ops") >= 60, "a planner run per call");
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
    assert_eq!(ops["calls"], events(&mut c, &rid, "auto_assign.quote", "ops"));
    let (p50, p99) = (ops["p50_us"].as_f64().unwrap(), ops["p99_us"].as_f64().unwrap());
    assert!(p50 > 0.0 && p50 <= p99, "{ops}");
    let share: f64 = rep["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["share"].as_f64().unwrap())
        .sum();
    assert!((share - 1.0).abs() < 0.001, "reason shares sum to 1: {share}");
    // and the human form prints every section
    let h = pgaa(&["report", "--restaurant", &rid, "--day", &day]);
    assert!(h.status.success(), "{}", text(&h));
    let ht = String::from_utf8_lossy(&h.stdout);
    for s in ["Bookings of the service", "Planner latency", "Reasons", "Outcomes and retries", "quote_latency"] {
        assert!(ht.contains(s), "report shows {s}:\n{ht}");
    }
}

/// A one-table restaurant with `n` pending bookings far apart (each quote plans).
fn small_restaurant(c: &mut Client, n: i32) -> String {
    let rid: String = c
        .query_one("INSERT INTO autoassign.restaurants (name) VALUES ('pgaa rate test') RETURNING id::text", &[])
        .expect("restaurant")
        .get(0);
    c.execute(
        "WITH z AS (INSERT INTO autoassign.zones (restaurant_id, name) VALUES ($1::text::uuid, 'z') RETURNING id)
         INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity) SELECT $1::text::uuid, z.id, 'T1', 4 FROM z",
        &[&rid],
    )
    .expect("table");
    c.execute(
        "INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
         SELECT $1::text::uuid, 2, '2031-03-01 00:00+00'::timestamptz + make_interval(hours => 3 * i),
                '2031-03-01 01:00+00'::timestamptz + make_interval(hours => 3 * i)
           FROM generate_series(1, $2) i",
        &[&rid, &n],
    )
    .expect("bookings");
    rid
}

#[test]
#[ignore]
fn rate_limit_is_respected() {
    let mut c = setup();
    let rid = small_restaurant(&mut c, 11);
    let window = ["--from", "2031-03-01", "--to", "2031-03-04"];
    // 11 calls at 5/s over 3 sessions: at least (11 - 1) / 5 = 2 s
    let t0 = Instant::now();
    let mut args = vec!["assign", "--restaurant", rid.as_str(), "--rate", "5", "--concurrency", "3", "--json"];
    args.extend(window);
    let o = pgaa(&args);
    let wall = t0.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["calls"], 11, "{j}");
    assert!(wall >= Duration::from_secs(2), "11 calls at 5/s took {wall:?}");
    assert!(j["elapsed_s"].as_f64().unwrap() >= 1.99, "{j}");
    assert!(j["calls_per_s"].as_f64().unwrap() <= 5.5, "{j}");
    // and the limit is the only thing that made it slow: unlimited takes well under it
    let t0 = Instant::now();
    let mut args = vec!["assign", "--restaurant", rid.as_str(), "--rate", "0", "--json"];
    args.extend(window);
    let o = pgaa(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["calls"], 11);
    assert!(t0.elapsed() < Duration::from_millis(1500), "unlimited run took {:?}", t0.elapsed());
}

/// Marks the test database as production; unmarks it when dropped (even on a failure).
struct ProductionMark;

impl ProductionMark {
    fn set(c: &mut Client) -> Self {
        c.batch_execute(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET pgaa.environment = %L',
                                        current_database(), 'production'); END $$",
        )
        .expect("mark production");
        ProductionMark
    }
}

impl Drop for ProductionMark {
    fn drop(&mut self) {
        let _ = connect().batch_execute(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET pgaa.environment', current_database()); END $$",
        );
    }
}

#[test]
#[ignore]
fn production_database_refused_without_yes() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 6);
    let before = checksum(&mut c, &rid);
    let restaurants = count(&mut c, "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL", "x");
    let _mark = ProductionMark::set(&mut c);

    let o = pgaa(&["assign", "--restaurant", &rid, "--day", &day, "--apply", "--rate", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("production") && err.contains("--yes"), "{err}");
    assert_eq!(checksum(&mut c, &rid), before, "refused run wrote to the restaurant");
    assert_eq!(events(&mut c, &rid, "auto_assign.quote", "ops"), 0, "refused before any call");

    let s = pgaa(&["stress", "--bookings", "20", "--seconds", "1"]);
    assert_eq!(s.status.code(), Some(2), "{}", text(&s));
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL", "x"),
        restaurants,
        "a refused stress run created a scratch restaurant"
    );

    // a dry run writes nothing but telemetry, so it needs no --yes
    let d = pgaa(&["assign", "--restaurant", &rid, "--day", &day, "--rate", "0"]);
    assert!(d.status.success(), "{}", text(&d));
    assert_eq!(checksum(&mut c, &rid), before);

    let y = pgaa(&["assign", "--restaurant", &rid, "--day", &day, "--apply", "--rate", "0", "--yes", "--json"]);
    assert!(y.status.success(), "{}", text(&y));
    assert!(json(&y)["ok"].as_i64().unwrap() > 0);
    assert_ne!(checksum(&mut c, &rid), before, "with --yes it writes");
}

#[test]
#[ignore]
fn sigint_finishes_the_call_in_flight_and_leaves_nothing_half_done() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 7);
    let child = pgaa_cmd(&["assign", "--restaurant", &rid, "--day", &day, "--apply", "--rate", "10", "--json"])
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
    assert_eq!(confirmed, j["ok"].as_i64().unwrap(), "every call it made is in the summary");
    assert_consistent(&mut c, &rid);
    assert_eq!(
        events(&mut c, &rid, "auto_assign.attempt", "ops"),
        calls,
        "no call was started after the interrupt or lost"
    );
    let left = count(
        &mut c,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgaa' AND $1::text IS NOT NULL",
        "x",
    );
    assert_eq!(left, 0, "no pgaa session left behind");
}

#[test]
#[ignore]
fn stress_never_touches_an_existing_restaurant() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 8);
    // a realistic neighbour: half its service confirmed, so it has allocations and outbox rows
    c.execute(
        "SELECT count(*) FROM (SELECT autoassign.autoassign_confirm(b.id) FROM autoassign.bookings b
          WHERE b.restaurant_id = $1::text::uuid ORDER BY b.start_at LIMIT 30) x",
        &[&rid],
    )
    .expect("confirm half");
    let _ = day;
    let before = checksum(&mut c, &rid);
    let ev_sql = "SELECT count(*) FROM autoassign.events WHERE restaurant_id = $1::text::uuid";
    let ev_before = count(&mut c, ev_sql, &rid);
    let all_sql = "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL";
    let restaurants = count(&mut c, all_sql, "x");

    let dir = std::env::temp_dir().join(format!("pgaa-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("stress.json");
    let o = pgaa(&[
        "stress", "--bookings", "200", "--clients", "2", "--seconds", "2", "--json",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("throughput") && out.contains("p50") && out.contains("results:"), "{out}");
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(j["calls"].as_i64().unwrap() > 0 && j["throughput"].as_f64().unwrap() > 0.0, "{j}");
    assert_eq!(j["removed"], true);
    assert!(j["restaurant_name"].as_str().unwrap().starts_with("pgaa-stress-"));
    for l in j["latency"].as_array().unwrap() {
        let p = &l["client_ms"];
        let (a, b, cc) = (p["p50"].as_f64().unwrap(), p["p95"].as_f64().unwrap(), p["p99"].as_f64().unwrap());
        assert!(a > 0.0 && a <= b && b <= cc, "{l}");
    }
    assert!(j["reasons"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum::<i64>() == j["calls"].as_i64().unwrap());

    assert_eq!(checksum(&mut c, &rid), before, "stress changed an existing restaurant");
    assert_eq!(count(&mut c, ev_sql, &rid), ev_before, "stress wrote events for an existing restaurant");
    assert_eq!(count(&mut c, all_sql, "x"), restaurants, "the scratch restaurant was removed");
    let scratch_events = count(
        &mut c,
        "SELECT count(*) FROM autoassign.events WHERE restaurant_id = $1::text::uuid",
        j["restaurant_id"].as_str().unwrap(),
    );
    assert_eq!(scratch_events, 0, "the scratch restaurant's telemetry went with it");

    // the database refuses to drop a real restaurant through the stress cleanup function
    let e = c
        .query_one("SELECT autoassign.ops_stress_drop($1::text::uuid)", &[&rid])
        .expect_err("ops_stress_drop refuses a real restaurant");
    assert_eq!(e.code().map(|s| s.code()), Some("42501"));

    // Ctrl-C during a stress run still removes the scratch restaurant
    let child = pgaa_cmd(&["stress", "--bookings", "200", "--seconds", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(2000));
    // SAFETY: signalling our own child
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let t0 = Instant::now();
    let o = child.wait_with_output().expect("wait");
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert_eq!(count(&mut c, all_sql, "x"), restaurants, "interrupted stress removed its restaurant");
    assert_eq!(checksum(&mut c, &rid), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore]
fn timeline_svg_parses_with_one_bar_per_allocation() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 9);
    let o = pgaa(&["assign", "--restaurant", &rid, "--day", &day, "--apply", "--rate", "0"]);
    assert!(o.status.success(), "{}", text(&o));
    // a live hold: an extra party of 2 in the afternoon, quoted with hold_seconds
    let held: bool = c
        .query_one(
            "WITH b AS (INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
                        SELECT $1::text::uuid, 2, ($2::text::date + time '14:00') AT TIME ZONE r.timezone
                          FROM autoassign.restaurants r WHERE r.id = $1::text::uuid RETURNING id)
             SELECT q.ok FROM b, autoassign.autoassign_quote(b.id, hold_seconds => 600) q",
            &[&rid, &day],
        )
        .expect("hold")
        .get(0);
    assert!(held);

    let dir = std::env::temp_dir().join(format!("pgaa-timeline-{}", std::process::id()));
    let svg_path = dir.join("service.svg");
    let o = pgaa(&["timeline", "--restaurant", &rid, "--day", &day, "-o", svg_path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let svg = std::fs::read_to_string(&svg_path).expect("svg written");
    let doc = roxmltree::Document::parse(&svg).expect("the SVG parses as XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let with_class = |cls: &str| {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(cls))
            .collect::<Vec<_>>()
    };
    let allocations = count(
        &mut c,
        "SELECT count(*) FROM autoassign.allocations a
           JOIN autoassign.bookings b ON b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
          WHERE a.restaurant_id = $1::text::uuid",
        &rid,
    );
    assert!(allocations > 40);
    let bars = with_class("bar");
    assert_eq!(bars.len() as i64, allocations, "one bar per allocation");
    // each bar is its allocation's booking
    let mut from_svg: Vec<String> = bars
        .iter()
        .map(|b| b.attribute("data-booking").unwrap().to_string())
        .collect();
    from_svg.sort();
    let mut from_db: Vec<String> = c
        .query(
            "SELECT booking_id::text FROM autoassign.allocations WHERE restaurant_id = $1::text::uuid",
            &[&rid],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    from_db.sort();
    assert_eq!(from_svg, from_db);
    assert_eq!(with_class("hold").len(), 1, "the live hold shows");
    let combos = count(
        &mut c,
        "SELECT count(*) FROM (SELECT booking_id FROM autoassign.allocations
          WHERE restaurant_id = $1::text::uuid GROUP BY booking_id HAVING count(*) > 1) x",
        &rid,
    );
    assert_eq!(with_class("link").len() as i64, combos, "one link per combination");
    assert_eq!(with_class("table-label").len(), 40, "a row per table");
    assert_eq!(with_class("zone").len(), 5, "tables grouped by zone");
    assert!(!with_class("gap").is_empty(), "free gaps show");
    let html = std::fs::read_to_string(dir.join("service.html")).expect("html written");
    assert!(html.contains("<svg") && html.contains("Bookings without a table"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore]
fn statement_timeouts_trip_the_error_rate_rail() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 10);
    // another session holds every booking row of the service: each confirm waits for it
    // until its statement_timeout cancels it
    let mut locker = connect();
    let mut tx = locker.transaction().expect("begin");
    tx.execute(
        "SELECT 1 FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid FOR UPDATE",
        &[&rid],
    )
    .expect("lock rows");
    let t0 = Instant::now();
    let o = pgaa(&[
        "assign", "--restaurant", &rid, "--day", &day, "--apply", "--rate", "0",
        "--statement-timeout-ms", "300", "--max-error-rate", "0.5", "--min-calls", "3", "--json",
    ]);
    let took = t0.elapsed();
    tx.rollback().expect("release");
    assert_eq!(o.status.code(), Some(3), "stopped by the error-rate rail: {}", text(&o));
    let j = json(&o);
    assert_eq!(j["stop"], "error_rate");
    assert_eq!(j["calls"], 3, "stopped as soon as the rate passed the threshold: {j}");
    assert_eq!(j["errors"], 3);
    assert!(took >= Duration::from_millis(850), "each call waited for its timeout: {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid AND status <> 'pending'",
            &rid
        ),
        0,
        "cancelled calls wrote nothing"
    );
    assert_consistent(&mut c, &rid);
}

#[test]
#[ignore]
fn backs_off_while_the_database_is_busy() {
    let mut c = setup();
    let rid = small_restaurant(&mut c, 11);
    // one other active backend for ~2 s; --max-active 0 makes that "busy"
    let sleeper = std::thread::spawn(|| {
        connect().execute("SELECT pg_sleep(2)", &[]).expect("sleep");
    });
    std::thread::sleep(Duration::from_millis(300));
    let o = pgaa(&[
        "assign", "--restaurant", &rid, "--from", "2031-03-01", "--to", "2031-03-04", "--rate", "0",
        "--max-active", "0", "--busy-check-ms", "100", "--json",
    ]);
    sleeper.join().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["stop"], "done");
    assert_eq!(j["calls"], 11, "all calls made once the database was quiet");
    assert!(j["backoffs"].as_i64().unwrap() > 0, "{j}");
    assert!(j["elapsed_s"].as_f64().unwrap() >= 1.2, "waited for the busy backend: {j}");
}
