//! Shared helpers for the integration tests. They need a running server with
//! pg_autoassign installed: scripts/test.sh starts one and sets PGAA_TEST_DSN.
#![allow(dead_code)]

use postgres::{Client, NoTls};
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

static INSTALL: Once = Once::new();

/// Installs a fresh copy of the extension once per test binary.
pub fn setup() -> Client {
    INSTALL.call_once(|| {
        let mut c = connect();
        c.batch_execute(
            "SET client_min_messages = warning;
             DROP EXTENSION IF EXISTS pg_autoassign CASCADE;
             CREATE EXTENSION pg_autoassign CASCADE;",
        )
        .expect("install pg_autoassign");
    });
    connect()
}

/// A restaurant with one zone of `capacities` tables, all adjacent in a chain.
/// Returns (restaurant_id, table ids in order).
pub fn small_floor(c: &mut Client, capacities: &[i32]) -> (uuid_str::Id, Vec<uuid_str::Id>) {
    let rid: uuid_str::Id = c
        .query_one(
            "INSERT INTO autoassign.restaurants (name) VALUES ('test') RETURNING id::text",
            &[],
        )
        .expect("restaurant")
        .get(0);
    let zid: String = c
        .query_one(
            "INSERT INTO autoassign.zones (restaurant_id, name) VALUES ($1::text::uuid, 'z') RETURNING id::text",
            &[&rid],
        )
        .expect("zone")
        .get(0);
    let mut tables: Vec<String> = Vec::new();
    for (i, cap) in capacities.iter().enumerate() {
        let tid: String = c
            .query_one(
                "INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity)
                 VALUES ($1::text::uuid, $2::text::uuid, $3, $4) RETURNING id::text",
                &[&rid, &zid, &format!("T{i}"), cap],
            )
            .expect("table")
            .get(0);
        if let Some(prev) = tables.last() {
            c.execute(
                "INSERT INTO autoassign.table_adjacency VALUES ($1::text::uuid, $2::text::uuid, $3::text::uuid)",
                &[&rid, prev, &tid],
            )
            .expect("edge");
        }
        tables.push(tid);
    }
    (rid, tables)
}

/// Inserts a pending booking; times are offsets in minutes from 2030-06-01 18:00 UTC.
pub fn booking(c: &mut Client, rid: &str, party: i32, start_min: i32, minutes: i32) -> String {
    c.query_one(
        "INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
         VALUES ($1::text::uuid, $2,
                 '2030-06-01 18:00+00'::timestamptz + make_interval(mins => $3),
                 '2030-06-01 18:00+00'::timestamptz + make_interval(mins => $3 + $4))
         RETURNING id::text",
        &[&rid, &party, &start_min, &minutes],
    )
    .expect("booking")
    .get(0)
}

pub mod uuid_str {
    /// uuids travel as text in these tests (no extra client features needed).
    pub type Id = String;
}

/// (ok, reason, table ids as text) of autoassign_confirm.
pub fn confirm(c: &mut Client, booking: &str, source: &str) -> (bool, Option<String>, Vec<String>) {
    let row = c
        .query_one(
            "SELECT ok, reason, coalesce(table_ids::text[], '{}') FROM autoassign.autoassign_confirm($1::text::uuid, source => $2)",
            &[&booking, &source],
        )
        .expect("confirm");
    (row.get(0), row.get(1), row.get(2))
}

pub fn count(c: &mut Client, sql: &str, rid: &str) -> i64 {
    c.query_one(sql, &[&rid]).expect(sql).get(0)
}

/// A zone of `n` 2-seat tables, every one adjacent to every other: with max_tables 6
/// and exhaustive mode the planner visits tens of millions of sets, which takes seconds.
pub fn slow_floor(c: &mut Client, n: i32) -> String {
    let rid: String = c
        .query_one(
            "INSERT INTO autoassign.restaurants (name) VALUES ('slow') RETURNING id::text",
            &[],
        )
        .expect("restaurant")
        .get(0);
    c.execute(
        "WITH z AS (INSERT INTO autoassign.zones (restaurant_id, name) VALUES ($1::text::uuid, 'hall') RETURNING id)
         INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity, min_party)
         SELECT $1::text::uuid, z.id, 'S' || lpad(g::text, 3, '0'), 2, 1 FROM z, generate_series(1, $2) g",
        &[&rid, &n],
    )
    .expect("tables");
    c.execute(
        "INSERT INTO autoassign.table_adjacency
         SELECT $1::text::uuid, a.id, b.id FROM autoassign.tables a JOIN autoassign.tables b
             ON a.restaurant_id = b.restaurant_id AND a.id < b.id
          WHERE a.restaurant_id = $1::text::uuid",
        &[&rid],
    )
    .expect("edges");
    rid
}

pub const SLOW_STRATEGY: &str = r#"{"exhaustive": true, "max_tables": 6, "max_overage": 0}"#;

/// Writes the event queue first: quote and timeout events go through shared memory.
pub fn events(c: &mut Client, booking: &str, event_type: &str) -> i64 {
    flush(c);
    c.query_one(
        "SELECT count(*) FROM autoassign.events WHERE booking_id = $1::text::uuid AND event_type = $2",
        &[&booking, &event_type],
    )
    .expect("events")
    .get(0)
}

/// Writes the current database's queued planner events (`autoassign_flush_events`).
pub fn flush(c: &mut Client) -> i64 {
    c.query_one("SELECT autoassign.autoassign_flush_events()", &[])
        .expect("flush events")
        .get(0)
}

/// Makes the booking due for the sweep now: its queue row's timer, or, for a booking
/// never attempted (no queue row), the 30 s grace for its inline confirm.
pub fn make_due(c: &mut Client, booking: &str) {
    c.execute(
        "UPDATE autoassign.retry_queue SET next_attempt_at = now() - interval '1 second' WHERE booking_id = $1::text::uuid",
        &[&booking],
    )
    .expect("make due");
    c.execute(
        "UPDATE autoassign.bookings SET created_at = now() - interval '1 minute' WHERE id = $1::text::uuid",
        &[&booking],
    )
    .expect("make due");
}

/// One sweep over every restaurant (counts span the shared test database).
pub fn sweep(c: &mut Client) -> (i32, i32, i32, i32, i32) {
    let r = c
        .query_one("SELECT processed, confirmed, deferred, gave_up, cutoff FROM autoassign.autoassign_sweep()", &[])
        .expect("sweep");
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

/// One sweep over one restaurant: exact counts of its own bookings.
pub fn sweep_in(c: &mut Client, rid: &str) -> (i32, i32, i32, i32, i32) {
    let r = c
        .query_one(
            "SELECT processed, confirmed, deferred, gave_up, cutoff
               FROM autoassign.autoassign_sweep(restaurant_id => $1::text::uuid)",
            &[&rid],
        )
        .expect("sweep");
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

/// Pairs of allocations of one table whose windows overlap (must always be 0).
pub fn overlapping_allocations(c: &mut Client, rid: &str) -> i64 {
    count(
        c,
        "SELECT count(*) FROM autoassign.allocations a JOIN autoassign.allocations b
            ON a.table_id = b.table_id AND a.id < b.id AND a.during && b.during
         WHERE a.restaurant_id = $1::text::uuid",
        rid,
    )
}

/// A superuser lifts the server-side planner cap (autoassign.max_planner_ms, 250 ms) for
/// this session, so that a statement_timeout or pg_cancel_backend cuts a slow run first.
pub fn lift_planner_cap(c: &mut Client) {
    c.batch_execute("SET autoassign.max_planner_ms = '10min'")
        .expect("lift the planner cap");
}
