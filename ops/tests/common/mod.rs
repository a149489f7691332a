//! Shared helpers for pgaa's integration tests: the binary, the test database
//! (PGAA_TEST_DSN; scripts/test.sh starts a cluster and sets it), demo restaurants and
//! checksums. Every test loads its own restaurant on its own day, so they do not see
//! each other.
#![allow(dead_code)]

use postgres::{Client, NoTls};
use std::process::{Command, Output};
use std::sync::Once;

pub fn dsn() -> String {
    std::env::var("PGAA_TEST_DSN")
        .unwrap_or_else(|_| "host=127.0.0.1 port=54329 user=postgres dbname=pg_autoassign".into())
}

pub fn connect() -> Client {
    match Client::connect(&dsn(), NoTls) {
        Ok(c) => c,
        Err(e) => panic!("cannot connect to {} (run scripts/test.sh): {e}", dsn()),
    }
}

pub static INSTALL: Once = Once::new();

/// A fresh copy of the extension once per test binary.
pub fn setup() -> Client {
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

pub fn pgaa_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgaa"));
    cmd.arg("--dsn")
        .arg(dsn())
        .args(args)
        .env_remove("PGAA_DSN");
    cmd
}

pub fn pgaa(args: &[&str]) -> Output {
    pgaa_cmd(args).output().expect("run pgaa")
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// The White Horse demo (60 pending bookings) on current_date + `days`; returns (id, day).
pub fn demo(c: &mut Client, days: i32) -> (String, String) {
    let row = c
        .query_one(
            "SELECT autoassign.autoassign_demo_load(current_date + $1::int, 42)::text, (current_date + $1::int)::text",
            &[&days],
        )
        .expect("demo load");
    (row.get(0), row.get(1))
}

/// Everything of one restaurant but its telemetry, as one md5.
pub fn checksum(c: &mut Client, rid: &str) -> String {
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

pub fn count(c: &mut Client, sql: &str, rid: &str) -> i64 {
    c.query_one(sql, &[&rid]).expect(sql).get(0)
}

pub fn events(c: &mut Client, rid: &str, kind: &str, source: &str) -> i64 {
    flush(c);
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
pub fn assert_consistent(c: &mut Client, rid: &str) {
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
    assert_eq!(
        bad, 0,
        "confirmed bookings without allocations/outcome/outbox"
    );
    let orphans = count(
        c,
        "SELECT count(*) FROM autoassign.allocations a
           JOIN autoassign.bookings b ON b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
          WHERE a.restaurant_id = $1::text::uuid AND b.status NOT IN ('confirmed', 'seated')",
        rid,
    );
    assert_eq!(
        orphans, 0,
        "allocations of bookings that are not confirmed/seated"
    );
}

/// A one-table restaurant with `n` pending bookings far apart (each quote plans).
pub fn small_restaurant(c: &mut Client, n: i32) -> String {
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

/// Marks the test database as production; unmarks it when dropped (even on a failure).
pub struct ProductionMark;

impl ProductionMark {
    pub fn set(c: &mut Client) -> Self {
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

/// Writes the extension's queued planner events now (asynchronous telemetry).
pub fn flush(c: &mut Client) {
    c.execute("SELECT autoassign.autoassign_flush_events()", &[])
        .expect("flush events");
}
