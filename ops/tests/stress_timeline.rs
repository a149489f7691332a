//! pgaa stress (never touches an existing restaurant) and pgaa timeline (the SVG).

mod common;

use common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

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
    flush(&mut c);
    let ev_before = count(&mut c, ev_sql, &rid);
    let all_sql = "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL";
    let restaurants = count(&mut c, all_sql, "x");

    let dir = std::env::temp_dir().join(format!("pgaa-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("stress.json");
    let o = pgaa(&[
        "stress",
        "--bookings",
        "200",
        "--clients",
        "2",
        "--seconds",
        "2",
        "--json",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("throughput") && out.contains("p50") && out.contains("results:"),
        "{out}"
    );
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(
        j["calls"].as_i64().unwrap() > 0 && j["throughput"].as_f64().unwrap() > 0.0,
        "{j}"
    );
    assert_eq!(j["removed"], true);
    assert!(j["restaurant_name"]
        .as_str()
        .unwrap()
        .starts_with("pgaa-stress-"));
    for l in j["latency"].as_array().unwrap() {
        let p = &l["client_ms"];
        let (a, b, cc) = (
            p["p50"].as_f64().unwrap(),
            p["p95"].as_f64().unwrap(),
            p["p99"].as_f64().unwrap(),
        );
        assert!(a > 0.0 && a <= b && b <= cc, "{l}");
    }
    assert!(
        j["reasons"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>()
            == j["calls"].as_i64().unwrap()
    );

    assert_eq!(
        checksum(&mut c, &rid),
        before,
        "stress changed an existing restaurant"
    );
    assert_eq!(
        count(&mut c, ev_sql, &rid),
        ev_before,
        "stress wrote events for an existing restaurant"
    );
    assert_eq!(
        count(&mut c, all_sql, "x"),
        restaurants,
        "the scratch restaurant was removed"
    );
    flush(&mut c);
    let scratch_events = count(
        &mut c,
        "SELECT count(*) FROM autoassign.events WHERE restaurant_id = $1::text::uuid",
        j["restaurant_id"].as_str().unwrap(),
    );
    assert_eq!(
        scratch_events, 0,
        "the scratch restaurant's telemetry went with it"
    );

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
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let t0 = Instant::now();
    let o = child.wait_with_output().expect("wait");
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert_eq!(
        count(&mut c, all_sql, "x"),
        restaurants,
        "interrupted stress removed its restaurant"
    );
    assert_eq!(checksum(&mut c, &rid), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore]
fn timeline_svg_parses_with_one_bar_per_allocation() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 9);
    let o = pgaa(&[
        "assign",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "--apply",
        "--rate",
        "0",
    ]);
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
    let o = pgaa(&[
        "timeline",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "-o",
        svg_path.to_str().unwrap(),
    ]);
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
    assert_eq!(
        with_class("link").len() as i64,
        combos,
        "one link per combination"
    );
    assert_eq!(with_class("table-label").len(), 40, "a row per table");
    assert_eq!(with_class("zone").len(), 5, "tables grouped by zone");
    assert!(!with_class("gap").is_empty(), "free gaps show");
    let html = std::fs::read_to_string(dir.join("service.html")).expect("html written");
    assert!(html.contains("<svg") && html.contains("Bookings without a table"));
    let _ = std::fs::remove_dir_all(&dir);
}
