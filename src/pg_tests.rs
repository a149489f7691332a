// `#[pg_test]`s: each runs inside one transaction that is rolled back.

use crate::postgres::subxact::catch_in_subxact;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use pgrx::PgSqlErrorCode::*;

/// Runs `sql` in a subtransaction and returns the SQLSTATE it raised, if any.
fn sqlstate(sql: &str) -> Option<PgSqlErrorCode> {
    catch_in_subxact(|_| true, || Spi::run(sql)).err()
}

fn one<T: IntoDatum + FromDatum + std::fmt::Debug>(sql: &str) -> T {
    match Spi::get_one::<T>(sql) {
        Ok(Some(v)) => v,
        other => panic!("{sql}: {other:?}"),
    }
}

fn setup_floor() {
    Spi::run(
        "INSERT INTO autoassign.restaurants (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'R1'), ('00000000-0000-0000-0000-000000000002', 'R2');
         INSERT INTO autoassign.zones (id, restaurant_id, name) VALUES
           ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'Main'),
           ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-000000000002', 'Other');
         INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity) VALUES
           ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000a1', 'T1', 4),
           ('00000000-0000-0000-0000-0000000000b2', '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000a1', 'T2', 4),
           ('00000000-0000-0000-0000-0000000000b3', '00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-0000000000a2', 'T3', 2);",
    )
    .unwrap();
}

const R1: &str = "'00000000-0000-0000-0000-000000000001'";
const Z1: &str = "'00000000-0000-0000-0000-0000000000a1'";
const T1: &str = "'00000000-0000-0000-0000-0000000000b1'";
const T2: &str = "'00000000-0000-0000-0000-0000000000b2'";
const T3: &str = "'00000000-0000-0000-0000-0000000000b3'";

#[pg_test]
fn schema_rejects_impossible_rows() {
    setup_floor();
    let cases: Vec<(String, PgSqlErrorCode)> = vec![
        (format!("INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity) VALUES ({R1}, {Z1}, 'zero', 0)"), ERRCODE_CHECK_VIOLATION),
        (format!("INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity) VALUES ({R1}, {Z1}, 'neg', -2)"), ERRCODE_CHECK_VIOLATION),
        (format!("INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity, min_party, max_party) VALUES ({R1}, {Z1}, 'minmax', 6, 5, 3)"), ERRCODE_CHECK_VIOLATION),
        (format!("INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at) VALUES ({R1}, 0, now())"), ERRCODE_CHECK_VIOLATION),
        (format!("INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at) VALUES ({R1}, 2, now(), now() - interval '1 hour')"), ERRCODE_CHECK_VIOLATION),
        (format!("INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, status) VALUES ({R1}, 2, now(), 'maybe')"), ERRCODE_CHECK_VIOLATION),
        (format!("INSERT INTO autoassign.table_adjacency VALUES ({R1}, {T1}, {T1})"), ERRCODE_CHECK_VIOLATION),
        // a table of another restaurant: the composite foreign key refuses it
        (format!("INSERT INTO autoassign.table_adjacency VALUES ({R1}, {T1}, {T3})"), ERRCODE_FOREIGN_KEY_VIOLATION),
        // a zone of another restaurant
        (format!("INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity) VALUES ('00000000-0000-0000-0000-000000000002', {Z1}, 'x', 2)"), ERRCODE_FOREIGN_KEY_VIOLATION),
    ];
    for (sql, expected) in cases {
        assert_eq!(sqlstate(&sql), Some(expected), "{sql}");
    }
}

#[pg_test]
fn adjacency_is_undirected() {
    setup_floor();
    Spi::run(&format!("INSERT INTO autoassign.table_adjacency VALUES ({R1}, {T2}, {T1})")).unwrap();
    assert_eq!(
        sqlstate(&format!("INSERT INTO autoassign.table_adjacency VALUES ({R1}, {T1}, {T2})")),
        Some(ERRCODE_UNIQUE_VIOLATION)
    );
    // ON CONFLICT DO NOTHING is the idempotent way to add an edge
    Spi::run(&format!("INSERT INTO autoassign.table_adjacency VALUES ({R1}, {T1}, {T2}) ON CONFLICT DO NOTHING")).unwrap();
    assert_eq!(one::<i64>("SELECT count(*) FROM autoassign.table_adjacency"), 1);
}

#[pg_test]
fn overlapping_allocations_refused_touching_allowed() {
    setup_floor();
    Spi::run(&format!(
        "INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at, status) VALUES
           ('00000000-0000-0000-0000-0000000000c1', {R1}, 2, '2030-01-01 18:00+00', 'confirmed'),
           ('00000000-0000-0000-0000-0000000000c2', {R1}, 2, '2030-01-01 19:00+00', 'confirmed'),
           ('00000000-0000-0000-0000-0000000000c3', {R1}, 2, '2030-01-01 19:30+00', 'confirmed');
         INSERT INTO autoassign.allocations (restaurant_id, booking_id, table_id, during) VALUES
           ({R1}, '00000000-0000-0000-0000-0000000000c1', {T1}, '[2030-01-01 18:00+00, 2030-01-01 19:30+00)')"
    ))
    .unwrap();
    assert_eq!(
        sqlstate(&format!(
            "INSERT INTO autoassign.allocations (restaurant_id, booking_id, table_id, during) VALUES
               ({R1}, '00000000-0000-0000-0000-0000000000c2', {T1}, '[2030-01-01 19:00+00, 2030-01-01 20:30+00)')"
        )),
        Some(ERRCODE_EXCLUSION_VIOLATION)
    );
    assert_eq!(
        sqlstate(&format!(
            "INSERT INTO autoassign.allocations (restaurant_id, booking_id, table_id, during) VALUES
               ({R1}, '00000000-0000-0000-0000-0000000000c3', {T1}, '[2030-01-01 19:30+00, 2030-01-01 21:00+00)')"
        )),
        None
    );
    assert_eq!(one::<i64>("SELECT count(*) FROM autoassign.allocations"), 2);
}

#[pg_test]
fn demo_loads_white_horse() {
    let rid = one::<pgrx::Uuid>("SELECT autoassign.autoassign_demo_load('2030-06-01')");
    let args = [rid.into()];
    let count = |sql: &str| -> i64 {
        Spi::get_one_with_args::<i64>(sql, &args).unwrap().unwrap()
    };
    assert_eq!(count("SELECT count(*) FROM autoassign.tables WHERE restaurant_id = $1"), 40);
    assert_eq!(count("SELECT sum(capacity) FROM autoassign.tables WHERE restaurant_id = $1"), 210);
    assert_eq!(count("SELECT count(*) FROM autoassign.zones WHERE restaurant_id = $1"), 5);
    assert_eq!(count("SELECT count(*) FROM autoassign.table_adjacency WHERE restaurant_id = $1"), 79);
    let bookings = count("SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1");
    assert_eq!(bookings, 60);
    // deterministic: a second load with the same seed gives the same parties and times
    let rid2 = one::<pgrx::Uuid>("SELECT autoassign.autoassign_demo_load('2030-06-01')");
    let same = Spi::get_one_with_args::<bool>(
        "SELECT (SELECT array_agg((party_size, start_at, end_at) ORDER BY start_at, party_size, end_at) FROM autoassign.bookings WHERE restaurant_id = $1)
              = (SELECT array_agg((party_size, start_at, end_at) ORDER BY start_at, party_size, end_at) FROM autoassign.bookings WHERE restaurant_id = $2)",
        &[rid.into(), rid2.into()],
    )
    .unwrap();
    assert_eq!(same, Some(true));
}

#[pg_test]
fn floor_version_moves_on_every_floor_write() {
    setup_floor();
    let version = || one::<i64>(&format!("SELECT floor_version FROM autoassign.restaurants WHERE id = {R1}"));
    let v0 = version();
    Spi::run(&format!("UPDATE autoassign.tables SET capacity = 6 WHERE id = {T1}")).unwrap();
    let v1 = version();
    assert!(v1 > v0);
    Spi::run(&format!("INSERT INTO autoassign.table_adjacency VALUES ({R1}, {T1}, {T2})")).unwrap();
    assert!(version() > v1);
}

fn demo_booking(order: i64) -> (pgrx::Uuid, pgrx::Uuid) {
    let rid = one::<pgrx::Uuid>("SELECT autoassign.autoassign_demo_load('2030-06-01')");
    let bid = Spi::get_one_with_args::<pgrx::Uuid>(
        "SELECT id FROM autoassign.bookings WHERE restaurant_id = $1 ORDER BY start_at, id OFFSET $2 LIMIT 1",
        &[rid.into(), order.into()],
    )
    .unwrap()
    .unwrap();
    (rid, bid)
}

fn count_for(sql: &str, id: pgrx::Uuid) -> i64 {
    Spi::get_one_with_args::<i64>(sql, &[id.into()]).unwrap().unwrap_or(0)
}

#[pg_test]
fn quote_writes_only_its_event() {
    let (rid, bid) = demo_booking(0);
    let ok = Spi::get_one_with_args::<bool>("SELECT ok FROM autoassign.autoassign_quote($1)", &[bid.into()]).unwrap();
    assert_eq!(ok, Some(true));
    assert_eq!(count_for("SELECT count(*) FROM autoassign.allocations WHERE restaurant_id = $1", rid), 0);
    assert_eq!(count_for("SELECT count(*) FROM autoassign.holds WHERE restaurant_id = $1", rid), 0);
    // the quote event goes through the shared-memory queue (preloaded here): not in this
    // transaction, written by the event writer; a fresh snapshot (update mode) sees it
    assert_eq!(
        count_for("SELECT count(*) FROM autoassign.events WHERE booking_id = $1 AND event_type = 'auto_assign.quote'", bid),
        0
    );
    Spi::run("SELECT autoassign.autoassign_flush_events()").unwrap();
    let written = Spi::connect_mut(|c| {
        c.update(
            "SELECT count(*) FROM autoassign.events WHERE booking_id = $1 AND event_type = 'auto_assign.quote'",
            None,
            &[bid.into()],
        )
        .unwrap()
        .first()
        .get::<i64>(1)
        .unwrap()
    });
    assert_eq!(written, Some(1));
    let status = Spi::get_one_with_args::<String>("SELECT status FROM autoassign.bookings WHERE id = $1", &[bid.into()]).unwrap();
    assert_eq!(status.as_deref(), Some("pending"));
}

#[pg_test]
fn confirm_is_atomic_and_idempotent() {
    let (rid, bid) = demo_booking(0);
    let first = Spi::get_two_with_args::<bool, i32>("SELECT ok, attempt FROM autoassign.autoassign_confirm($1)", &[bid.into()]).unwrap();
    assert_eq!(first, (Some(true), Some(1)));
    let tables = count_for("SELECT count(*) FROM autoassign.allocations WHERE booking_id = $1", bid);
    assert!(tables >= 1);
    let second = Spi::get_two_with_args::<bool, String>("SELECT ok, reason FROM autoassign.autoassign_confirm($1)", &[bid.into()]).unwrap();
    assert_eq!(second, (Some(false), Some("booking_not_pending".to_string())));
    assert_eq!(count_for("SELECT count(*) FROM autoassign.allocations WHERE booking_id = $1", bid), tables);
    assert_eq!(count_for("SELECT count(*) FROM autoassign.outbox WHERE booking_id = $1", bid), 1);
    assert_eq!(
        count_for("SELECT count(*) FROM autoassign.events WHERE booking_id = $1 AND event_type = 'auto_assign.summary'", bid),
        1
    );
    let last = Spi::get_one_with_args::<pgrx::JsonB>(
        "SELECT auto_assign_last_result FROM autoassign.bookings WHERE id = $1",
        &[bid.into()],
    )
    .unwrap()
    .unwrap()
    .0;
    for key in ["v", "source", "at", "success", "reason", "reason_class", "strategy", "duration_us", "attempt", "table_ids", "confirmation_enqueued"] {
        assert!(last.get(key).is_some(), "last_result lacks {key}: {last}");
    }
    assert_eq!(last["confirmation_enqueued"], serde_json::json!(true));
    // the outcome lives on the booking row; the retry queue holds only retries
    let outcome = Spi::get_one_with_args::<String>(
        "SELECT auto_assign_outcome FROM autoassign.bookings WHERE id = $1",
        &[bid.into()],
    )
    .unwrap();
    assert_eq!(outcome.as_deref(), Some("confirmed"));
    assert_eq!(count_for("SELECT count(*) FROM autoassign.retry_queue WHERE restaurant_id = $1", rid), 0);
}

#[pg_test]
fn summary_guard_lives_on_the_booking_row_not_in_events() {
    // delete every event: a second settle of the same booking still writes nothing
    let (_, bid) = demo_booking(0);
    Spi::run(&format!("SELECT * FROM autoassign.autoassign_confirm('{bid}')")).unwrap();
    Spi::run("DELETE FROM autoassign.events").unwrap();
    Spi::run(&format!("UPDATE autoassign.bookings SET status = 'cancelled' WHERE id = '{bid}'")).unwrap();
    assert_eq!(
        count_for("SELECT count(*) FROM autoassign.events WHERE booking_id = $1 AND event_type = 'auto_assign.summary'", bid),
        0,
        "settled once (confirmed); cancelling after that is no second outcome"
    );
    assert_eq!(count_for("SELECT count(*) FROM autoassign.allocations WHERE booking_id = $1", bid), 0);
}

#[pg_test]
fn bad_inputs_raise_sqlstates_and_write_nothing() {
    let (rid, bid) = demo_booking(0);
    let b = format!("'{bid}'");
    let cases: Vec<(String, PgSqlErrorCode)> = vec![
        ("SELECT * FROM autoassign.autoassign_quote(NULL)".into(), ERRCODE_NULL_VALUE_NOT_ALLOWED),
        ("SELECT * FROM autoassign.autoassign_confirm(NULL)".into(), ERRCODE_NULL_VALUE_NOT_ALLOWED),
        ("SELECT * FROM autoassign.autoassign_cancel(NULL)".into(), ERRCODE_NULL_VALUE_NOT_ALLOWED),
        ("SELECT * FROM autoassign.autoassign_explain(NULL)".into(), ERRCODE_NULL_VALUE_NOT_ALLOWED),
        (format!("SELECT * FROM autoassign.autoassign_confirm({b}, '{{\"max_tables\": 0}}')"), ERRCODE_INVALID_PARAMETER_VALUE),
        (format!("SELECT * FROM autoassign.autoassign_confirm({b}, '{{\"max_tables\": 7}}')"), ERRCODE_INVALID_PARAMETER_VALUE),
        (format!("SELECT * FROM autoassign.autoassign_confirm({b}, '{{\"require_adjacency\": \"yes\"}}')"), ERRCODE_INVALID_PARAMETER_VALUE),
        (format!("SELECT * FROM autoassign.autoassign_confirm({b}, '{{\"unknown\": 1}}')"), ERRCODE_INVALID_PARAMETER_VALUE),
        (format!("SELECT * FROM autoassign.autoassign_confirm({b}, '{{\"zone_id\": \"00000000-0000-0000-0000-000000000000\"}}')"), ERRCODE_INVALID_PARAMETER_VALUE),
        (format!("SELECT * FROM autoassign.autoassign_confirm({b}, source => 'API')"), ERRCODE_INVALID_PARAMETER_VALUE),
        (format!("SELECT * FROM autoassign.autoassign_quote({b}, hold_seconds => -1)"), ERRCODE_INVALID_PARAMETER_VALUE),
        ("SELECT * FROM autoassign.autoassign_free_capacity(NULL, now(), now() + interval '1 hour')".into(), ERRCODE_NULL_VALUE_NOT_ALLOWED),
        ("SELECT * FROM autoassign.autoassign_sweep(0)".into(), ERRCODE_INVALID_PARAMETER_VALUE),
        ("SET autoassign.telemetry = 'loud'".into(), ERRCODE_INVALID_PARAMETER_VALUE),
    ];
    for (sql, expected) in cases {
        assert_eq!(sqlstate(&sql), Some(expected), "{sql}");
    }
    assert_eq!(count_for("SELECT count(*) FROM autoassign.allocations WHERE restaurant_id = $1", rid), 0);
    assert_eq!(count_for("SELECT count(*) FROM autoassign.outbox WHERE restaurant_id = $1", rid), 0);
    assert_eq!(count_for("SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1 AND status <> 'pending'", rid), 0);
}

#[pg_test]
fn explain_lists_stages_in_order() {
    let (_, bid) = demo_booking(3);
    let stages: Vec<String> = Spi::connect(|c| {
        c.select("SELECT stage FROM autoassign.autoassign_explain($1) ORDER BY step", None, &[bid.into()])
            .unwrap()
            .map(|r| r.get::<String>(1).unwrap().unwrap())
            .collect()
    });
    assert_eq!(stages.first().map(String::as_str), Some("booking"));
    assert_eq!(stages.last().map(String::as_str), Some("result"));
    for stage in ["floor", "window", "filter_tables", "single_tables", "zone_capacity", "combinations", "lookahead", "rank"] {
        assert!(stages.iter().any(|s| s == stage), "missing stage {stage}: {stages:?}");
    }
}

#[pg_test]
fn free_capacity_sees_allocations() {
    let (rid, bid) = demo_booking(0);
    let free = |rid: pgrx::Uuid| -> i64 {
        Spi::get_one_with_args::<i64>(
            "SELECT (SELECT sum(free_seats) FROM autoassign.autoassign_free_capacity($1, b.start_at, b.start_at + interval '30 minutes'))::int8
               FROM autoassign.bookings b WHERE b.id = $2",
            &[rid.into(), bid.into()],
        )
        .unwrap()
        .unwrap()
    };
    assert_eq!(free(rid), 210);
    Spi::run_with_args("SELECT * FROM autoassign.autoassign_confirm($1)", &[bid.into()]).unwrap();
    let seats = count_for(
        "SELECT sum(t.capacity)::int8 FROM autoassign.allocations a JOIN autoassign.tables t ON t.id = a.table_id WHERE a.booking_id = $1",
        bid,
    );
    assert_eq!(free(rid), 210 - seats);
}

/// `JsonbOut` (jsonb built with pushJsonbValue) gives exactly the jsonb that pgrx's
/// `JsonB` gave (serde_json text through `jsonb_in`): same value, same text.
#[pg_test]
fn jsonb_out_equals_the_text_path() {
    use crate::postgres::jsonb_out::JsonbOut;
    use std::ffi::{CStr, CString};
    let cases = [
        r#"{"a":1,"b":[true,false,null],"c":{"d":"é\n\"x\"\u0001"},"e":-9223372036854775808,
            "f":18446744073709551615,"g":0.1,"h":1.5e300,"i":[],"j":{},"k":-0.0,"l":2.50}"#,
        r#"{"b":1,"a":2,"aa":3,"":4}"#,
        "[1,[2,[3,[4,{\"x\":[]}]]]]",
        "[]",
        "{}",
        "42",
        "-7.25",
        "\"text\"",
        "null",
        "true",
    ];
    for case in cases {
        let value: serde_json::Value = serde_json::from_str(case).unwrap();
        let built = JsonbOut::new(&value).into_datum().unwrap();
        let text = CString::new(serde_json::to_string(&value).unwrap()).unwrap();
        // SAFETY: jsonb_in takes a C string; jsonb_out and jsonb_eq take jsonb datums
        let (built_text, parsed_text, equal) = unsafe {
            let parsed = pgrx::direct_function_call_as_datum(
                pg_sys::jsonb_in,
                &[Some(pg_sys::Datum::from(text.as_ptr()))],
            )
            .unwrap();
            let out = |d| {
                pgrx::direct_function_call::<&CStr>(pg_sys::jsonb_out, &[Some(d)])
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            };
            let equal =
                pgrx::direct_function_call::<bool>(pg_sys::jsonb_eq, &[Some(built), Some(parsed)]);
            (out(built), out(parsed), equal)
        };
        assert_eq!(built_text, parsed_text, "{case}");
        assert_eq!(equal, Some(true), "{case}");
    }
}
