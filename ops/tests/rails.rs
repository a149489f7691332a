//! The command line and the safety rails: --help, rate limit, production marker,
//! error-rate stop on statement timeouts, back-off while the database is busy.

mod common;

use common::*;
use postgres::Client;
use std::process::Command;
use std::time::{Duration, Instant};

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
            &[
                "--restaurant",
                "--from",
                "--to",
                "--apply",
                "--rate",
                "--concurrency",
                "--statement-timeout-ms",
                "--max-error-rate",
                "--max-active",
                "--max-lock-waits",
                "--yes",
            ],
        ),
        (
            "stress",
            &[
                "--bookings",
                "--clients",
                "--seconds",
                "--json",
                "--rate",
                "--yes",
            ],
        ),
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
        .args([
            "assign",
            "--restaurant",
            "x",
            "--day",
            "2030-01-01",
            "--concurrency",
            "5",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
#[ignore]
fn rate_limit_is_respected() {
    let mut c = setup();
    let rid = small_restaurant(&mut c, 11);
    let window = ["--from", "2031-03-01", "--to", "2031-03-04"];
    // 11 calls at 5/s over 3 sessions: at least (11 - 1) / 5 = 2 s
    let t0 = Instant::now();
    let mut args = vec![
        "assign",
        "--restaurant",
        rid.as_str(),
        "--rate",
        "5",
        "--concurrency",
        "3",
        "--json",
    ];
    args.extend(window);
    let o = pgaa(&args);
    let wall = t0.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["calls"], 11, "{j}");
    assert!(
        wall >= Duration::from_secs(2),
        "11 calls at 5/s took {wall:?}"
    );
    assert!(j["elapsed_s"].as_f64().unwrap() >= 1.99, "{j}");
    assert!(j["calls_per_s"].as_f64().unwrap() <= 5.5, "{j}");
    // and the limit is the only thing that made it slow: unlimited takes well under it
    let t0 = Instant::now();
    let mut args = vec![
        "assign",
        "--restaurant",
        rid.as_str(),
        "--rate",
        "0",
        "--json",
    ];
    args.extend(window);
    let o = pgaa(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["calls"], 11);
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "unlimited run took {:?}",
        t0.elapsed()
    );
}

#[test]
#[ignore]
fn production_database_refused_without_yes() {
    let mut c = setup();
    let (rid, day) = demo(&mut c, 6);
    let before = checksum(&mut c, &rid);
    let restaurants = count(
        &mut c,
        "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL",
        "x",
    );
    let _mark = ProductionMark::set(&mut c);

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
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("production") && err.contains("--yes"), "{err}");
    assert_eq!(
        checksum(&mut c, &rid),
        before,
        "refused run wrote to the restaurant"
    );
    assert_eq!(
        events(&mut c, &rid, "auto_assign.quote", "ops"),
        0,
        "refused before any call"
    );

    let s = pgaa(&["stress", "--bookings", "20", "--seconds", "1"]);
    assert_eq!(s.status.code(), Some(2), "{}", text(&s));
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL",
            "x"
        ),
        restaurants,
        "a refused stress run created a scratch restaurant"
    );

    // a dry run writes nothing but telemetry, so it needs no --yes
    let d = pgaa(&["assign", "--restaurant", &rid, "--day", &day, "--rate", "0"]);
    assert!(d.status.success(), "{}", text(&d));
    assert_eq!(checksum(&mut c, &rid), before);

    let y = pgaa(&[
        "assign",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "--apply",
        "--rate",
        "0",
        "--yes",
        "--json",
    ]);
    assert!(y.status.success(), "{}", text(&y));
    assert!(json(&y)["ok"].as_i64().unwrap() > 0);
    assert_ne!(checksum(&mut c, &rid), before, "with --yes it writes");
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
        "assign",
        "--restaurant",
        &rid,
        "--day",
        &day,
        "--apply",
        "--rate",
        "0",
        "--statement-timeout-ms",
        "300",
        "--max-error-rate",
        "0.5",
        "--min-calls",
        "3",
        "--json",
    ]);
    let took = t0.elapsed();
    tx.rollback().expect("release");
    assert_eq!(
        o.status.code(),
        Some(3),
        "stopped by the error-rate rail: {}",
        text(&o)
    );
    let j = json(&o);
    assert_eq!(j["stop"], "error_rate");
    assert_eq!(
        j["calls"], 3,
        "stopped as soon as the rate passed the threshold: {j}"
    );
    assert_eq!(j["errors"], 3);
    // each confirm waits for the row lock until statement_timeout (300 ms) cancels it; an
    // extension that gave up on the lock by itself would report lock_timeout instead
    let timeouts = j["reasons"]["error:57014"].as_i64().unwrap_or(0);
    let lock_timeouts = j["reasons"]["lock_timeout"].as_i64().unwrap_or(0);
    assert_eq!(timeouts + lock_timeouts, 3, "{j}");
    if timeouts == 3 {
        assert!(
            took >= Duration::from_millis(850),
            "each call waited for its timeout: {took:?}"
        );
    }
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
        "assign",
        "--restaurant",
        &rid,
        "--from",
        "2031-03-01",
        "--to",
        "2031-03-04",
        "--rate",
        "0",
        "--max-active",
        "0",
        "--busy-check-ms",
        "100",
        "--json",
    ]);
    sleeper.join().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["stop"], "done");
    assert_eq!(j["calls"], 11, "all calls made once the database was quiet");
    assert!(j["backoffs"].as_i64().unwrap() > 0, "{j}");
    assert!(
        j["elapsed_s"].as_f64().unwrap() >= 1.2,
        "waited for the busy backend: {j}"
    );
}

/// Login roles for the extension's three roles, dropped again when the test ends.
struct Logins;

impl Logins {
    fn create(c: &mut Client) -> Self {
        Logins::drop_all(c);
        c.batch_execute(
            "CREATE ROLE pgaa_t_admin LOGIN IN ROLE autoassign_admin;
             CREATE ROLE pgaa_t_api LOGIN IN ROLE autoassign_api;
             CREATE ROLE pgaa_t_reader LOGIN IN ROLE autoassign_reader;",
        )
        .expect("login roles");
        Logins
    }

    fn drop_all(c: &mut Client) {
        // grants and sessions first, so the roles can go
        let _ = c.batch_execute(
            "DELETE FROM autoassign.restaurant_access WHERE role_name IN ('pgaa_t_admin', 'pgaa_t_api', 'pgaa_t_reader');
             DROP ROLE IF EXISTS pgaa_t_admin; DROP ROLE IF EXISTS pgaa_t_api; DROP ROLE IF EXISTS pgaa_t_reader;",
        );
    }
}

impl Drop for Logins {
    fn drop(&mut self) {
        Logins::drop_all(&mut connect());
    }
}

/// The DSN of the test database for another login role.
fn dsn_as(user: &str) -> String {
    let base = dsn();
    let kept: Vec<&str> = base
        .split_whitespace()
        .filter(|kv| !kv.starts_with("user="))
        .collect();
    format!("{} user={user}", kept.join(" "))
}

fn pgaa_as(user: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pgaa"))
        .arg("--dsn")
        .arg(dsn_as(user))
        .args(args)
        .env_remove("PGAA_DSN")
        .output()
        .expect("run pgaa")
}

#[test]
#[ignore]
fn each_subcommand_works_with_the_extension_roles_and_sees_only_its_restaurants() {
    let mut c = setup();
    let _logins = Logins::create(&mut c);
    let (rid, day) = demo(&mut c, 11);
    let (other, _) = demo(&mut c, 12);
    let other_before = checksum(&mut c, &other);
    c.execute(
        "SELECT autoassign.autoassign_grant_restaurant($1::text::uuid, 'pgaa_t_api'),
                autoassign.autoassign_grant_restaurant($1::text::uuid, 'pgaa_t_reader')",
        &[&rid],
    )
    .expect("grant");

    // the booking API's role confirms through the functions
    let o = pgaa_as(
        "pgaa_t_api",
        &[
            "assign",
            "--restaurant",
            &rid,
            "--day",
            &day,
            "--apply",
            "--rate",
            "0",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let ok = json(&o)["ok"].as_i64().unwrap();
    assert!(ok >= 40);
    // the read-only role reads the report and draws the timeline
    let r = pgaa_as(
        "pgaa_t_reader",
        &["report", "--restaurant", &rid, "--day", &day, "--json"],
    );
    assert!(r.status.success(), "{}", text(&r));
    let confirmed = json(&r)["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["outcome"] == "confirmed")
        .map(|o| o["bookings"].as_i64().unwrap());
    assert_eq!(confirmed, Some(ok));
    let svg = std::env::temp_dir().join(format!("pgaa-roles-{}.svg", std::process::id()));
    let t = pgaa_as(
        "pgaa_t_reader",
        &[
            "timeline",
            "--restaurant",
            &rid,
            "--day",
            &day,
            "-o",
            svg.to_str().unwrap(),
        ],
    );
    assert!(t.status.success(), "{}", text(&t));
    let _ = std::fs::remove_file(&svg);
    let _ = std::fs::remove_file(svg.with_extension("html"));
    // a restaurant the role does not act for does not exist for it
    for (user, sub) in [("pgaa_t_reader", "report"), ("pgaa_t_api", "assign")] {
        let o = pgaa_as(user, &[sub, "--restaurant", &other, "--day", &day]);
        assert_eq!(o.status.code(), Some(2), "{user} {sub}: {}", text(&o));
    }
    // an admin runs stress in its own scratch restaurant and removes it
    let restaurants = count(
        &mut c,
        "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL",
        "x",
    );
    let s = pgaa_as(
        "pgaa_t_admin",
        &[
            "stress",
            "--bookings",
            "100",
            "--clients",
            "2",
            "--seconds",
            "1",
            "--json",
        ],
    );
    assert!(s.status.success(), "{}", text(&s));
    let sj = json(&s);
    assert!(
        sj["calls"].as_i64().unwrap() > 0 && sj["removed"] == true,
        "{sj}"
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM autoassign.restaurants WHERE $1::text IS NOT NULL",
            "x"
        ),
        restaurants
    );
    // and cannot remove a real restaurant with the scratch cleanup function
    let mut admin = Client::connect(&dsn_as("pgaa_t_admin"), postgres::NoTls).expect("admin login");
    let e = admin
        .query_one("SELECT autoassign.ops_stress_drop($1::text::uuid)", &[&rid])
        .map(|row| row.get::<_, i32>(0));
    assert!(matches!(e, Ok(0) | Err(_)), "{e:?}");
    assert_eq!(
        checksum(&mut c, &other),
        other_before,
        "the other restaurant is untouched"
    );
}
