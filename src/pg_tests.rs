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
