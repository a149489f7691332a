//! Issue 13 against a live server: re-assignment inside confirm (moves, outbox,
//! events, quote and explain), pinned / seated / frozen bookings never moving by any
//! path, alternatives, and autoassign_optimize.
mod common;

use common::*;
use postgres::Client;

/// A chain T0 - T1 - T2 of two-tops: a party of four needs T0+T1 or T1+T2; a
/// two-top on T1 blocks both. Returns (restaurant, tables, the two-top on T1).
fn two_top_on_the_middle(c: &mut Client) -> (String, Vec<String>, String) {
    let (rid, t) = small_floor(c, &[2, 2, 2]);
    let x = booking(c, &rid, 2, 0, 90);
    let strategy = format!(r#"{{"avoid_tables": ["{}", "{}"]}}"#, t[0], t[2]);
    let row = c
        .query_one(
            "SELECT ok, table_ids::text[] FROM autoassign.autoassign_confirm($1::text::uuid, $2::text::jsonb)",
            &[&x, &strategy],
        )
        .expect("confirm x");
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, Vec<String>>(1), vec![t[1].clone()]);
    (rid, t, x)
}

fn tables_of(c: &mut Client, booking: &str) -> Vec<String> {
    c.query_one(
        "SELECT coalesce(array_agg(table_id::text ORDER BY table_id::text), '{}') FROM autoassign.allocations
          WHERE booking_id = $1::text::uuid",
        &[&booking],
    )
    .expect("tables")
    .get(0)
}

fn one(c: &mut Client, sql: &str, arg: &str) -> i64 {
    c.query_one(sql, &[&arg]).expect(sql).get(0)
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn confirm_moves_a_two_top_to_seat_a_four() {
    let mut c = setup();
    let (rid, t, x) = two_top_on_the_middle(&mut c);
    let y = booking(&mut c, &rid, 4, 30, 90);

    // quote reports the move and writes nothing
    let q = c
        .query_one(
            "SELECT ok, jsonb_array_length(moves), moves->0->>'booking_id' FROM autoassign.autoassign_quote($1::text::uuid)",
            &[&y],
        )
        .expect("quote");
    assert!(q.get::<_, bool>(0));
    assert_eq!(q.get::<_, i32>(1), 1);
    assert_eq!(q.get::<_, Option<String>>(2).as_deref(), Some(x.as_str()));
    assert_eq!(tables_of(&mut c, &x), vec![t[1].clone()]);
    // explain shows it
    let detail: String = c
        .query_one(
            "SELECT detail FROM autoassign.autoassign_explain($1::text::uuid) WHERE stage = 'reassign'",
            &[&y],
        )
        .expect("explain")
        .get(0);
    assert!(detail.contains("1 move(s)"), "{detail}");

    let row = c
        .query_one(
            "SELECT ok, table_ids::text[], moves FROM autoassign.autoassign_confirm($1::text::uuid)",
            &[&y],
        )
        .expect("confirm y");
    assert!(row.get::<_, bool>(0));
    let y_tables: Vec<String> = row.get(1);
    assert_eq!(y_tables.len(), 2);
    assert!(y_tables.contains(&t[1]));
    let x_now = tables_of(&mut c, &x);
    assert_eq!(x_now.len(), 1);
    assert!(x_now[0] != t[1] && !y_tables.contains(&x_now[0]));
    // the moved booking: still confirmed, one tables_changed message, one event, its
    // confirmation unchanged (one booking_confirmed message)
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM autoassign.bookings WHERE id = $1::text::uuid AND status = 'confirmed'", &x),
        1
    );
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM autoassign.outbox WHERE booking_id = $1::text::uuid AND kind = 'tables_changed'", &x),
        1
    );
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM autoassign.outbox WHERE booking_id = $1::text::uuid AND kind = 'booking_confirmed'", &x),
        1
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM autoassign.events WHERE booking_id = $1::text::uuid
                      AND event_type = 'booking.lifecycle' AND reason = 'tables_changed'",
            &x
        ),
        1
    );
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM autoassign.outbox WHERE booking_id = $1::text::uuid AND payload->>'why' = 'reassigned'", &x),
        1
    );
    // the confirmed booking's last result names the move
    assert_eq!(
        one(&mut c, "SELECT jsonb_array_length(auto_assign_last_result->'moves')::int8 FROM autoassign.bookings WHERE id = $1::text::uuid", &y),
        1
    );
    assert_eq!(overlaps(&mut c, &rid), 0);
}

fn overlaps(c: &mut Client, rid: &str) -> i64 {
    one(
        c,
        "SELECT count(*) FROM autoassign.allocations a JOIN autoassign.allocations b
            ON a.restaurant_id = b.restaurant_id AND a.table_id = b.table_id AND a.id < b.id
           AND a.during && b.during WHERE a.restaurant_id = $1::text::uuid",
        rid,
    )
}

/// (ok, reason, moves, alternatives is null) of a confirm.
fn confirm_y(c: &mut Client, y: &str, strategy: &str) -> (bool, Option<String>, i32, bool) {
    let row = c
        .query_one(
            "SELECT ok, reason, jsonb_array_length(moves), alternatives IS NULL
               FROM autoassign.autoassign_confirm($1::text::uuid, $2::text::jsonb)",
            &[&y, &strategy],
        )
        .expect("confirm");
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn pinned_seated_and_frozen_bookings_never_move() {
    let mut c = setup();
    // pinned
    let (rid, t, x) = two_top_on_the_middle(&mut c);
    c.execute(
        "UPDATE autoassign.bookings SET pinned = true WHERE id = $1::text::uuid",
        &[&x],
    )
    .expect("pin");
    let y = booking(&mut c, &rid, 4, 30, 90);
    let (ok, reason, moves, no_alts) = confirm_y(&mut c, &y, "{}");
    assert!(!ok && moves == 0);
    assert_eq!(reason.as_deref(), Some("no_fit"));
    assert!(!no_alts, "a no_fit refusal comes with alternatives");
    assert_eq!(tables_of(&mut c, &x), vec![t[1].clone()]);
    // no other path moves it either: the guard refuses with 23514
    for sql in [
        "DELETE FROM autoassign.allocations WHERE booking_id = $1::text::uuid",
        "UPDATE autoassign.allocations SET table_id = (SELECT id FROM autoassign.tables t
            WHERE t.restaurant_id = allocations.restaurant_id AND t.name = 'T0') WHERE booking_id = $1::text::uuid",
    ] {
        let err = c.execute(sql, &[&x]).expect_err("guard refuses");
        assert_eq!(err.code().map(|s| s.code()), Some("23514"), "{err:?}");
    }
    // unpinned, it moves
    c.execute(
        "UPDATE autoassign.bookings SET pinned = false WHERE id = $1::text::uuid",
        &[&x],
    )
    .expect("unpin");
    let (ok, _, moves, _) = confirm_y(&mut c, &y, "{}");
    assert!(ok && moves == 1);

    // seated
    let (rid, t, x) = two_top_on_the_middle(&mut c);
    c.execute(
        "UPDATE autoassign.bookings SET status = 'seated' WHERE id = $1::text::uuid",
        &[&x],
    )
    .expect("seat");
    let y = booking(&mut c, &rid, 4, 30, 90);
    let (ok, reason, _, _) = confirm_y(&mut c, &y, "{}");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("no_fit"));
    assert_eq!(tables_of(&mut c, &x), vec![t[1].clone()]);

    // frozen: the two-top starts within the restaurant's freeze window (30 minutes)
    let (rid, t, x) = two_top_on_the_middle(&mut c);
    let y = booking(&mut c, &rid, 4, 30, 90);
    c.batch_execute("BEGIN; SET LOCAL autoassign.simulated_now = '2030-06-01 17:45+00'")
        .expect("clock");
    let (ok, reason, _, _) = confirm_y(&mut c, &y, "{}");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("no_fit"));
    assert_eq!(tables_of(&mut c, &x), vec![t[1].clone()]);
    c.batch_execute("ROLLBACK").expect("rollback");
    // a shorter freeze window lets it move
    c.batch_execute("BEGIN; SET LOCAL autoassign.simulated_now = '2030-06-01 17:45+00'")
        .expect("clock");
    c.execute(
        "UPDATE autoassign.restaurants SET freeze_minutes = 10 WHERE id = $1::text::uuid",
        &[&rid],
    )
    .expect("freeze");
    let (ok, _, moves, _) = confirm_y(&mut c, &y, "{}");
    assert!(ok && moves == 1);
    c.batch_execute("COMMIT").expect("commit");

    // reassign off, or max_moves 0: a plain refusal
    let (rid, _, _) = two_top_on_the_middle(&mut c);
    let y = booking(&mut c, &rid, 4, 30, 90);
    assert!(!confirm_y(&mut c, &y, r#"{"reassign": false}"#).0);
    assert!(!confirm_y(&mut c, &y, r#"{"max_moves": 0}"#).0);
    assert!(confirm_y(&mut c, &y, r#"{"max_moves": 1}"#).0);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn alternatives_offer_the_nearest_start_that_fits() {
    let mut c = setup();
    let (rid, _, x) = two_top_on_the_middle(&mut c);
    c.execute(
        "UPDATE autoassign.bookings SET pinned = true WHERE id = $1::text::uuid",
        &[&x],
    )
    .expect("pin");
    // four at 18:30 for 90 minutes: T1 is busy 18:00-19:35 (stay + 5 min buffer), so the
    // nearest start on the 15-minute grid is 19:45 (+75); 16:25 would be -125, too far
    let y = booking(&mut c, &rid, 4, 30, 90);
    let rows = c
        .query(
            "SELECT offset_minutes, shorter_by_minutes, cardinality(table_ids), to_char(start_at AT TIME ZONE 'UTC', 'HH24:MI')
               FROM autoassign.autoassign_alternatives($1::text::uuid)",
            &[&y],
        )
        .expect("alternatives");
    let offsets: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(offsets, vec![75, 90], "{offsets:?}");
    assert_eq!(rows[0].get::<_, i32>(1), 0);
    assert_eq!(rows[0].get::<_, i32>(2), 2);
    assert_eq!(rows[0].get::<_, String>(3), "19:45");
    // a wider window finds the early one too; a shorter stay at 19:00 fits before... none here
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM autoassign.autoassign_alternatives($1::text::uuid, '3 hours', '15 minutes')
              WHERE offset_minutes < 0",
            &[&y],
        )
        .expect("wide")
        .get(0);
    assert!(n >= 1);
    // confirm returns the same offers with its refusal (planned on the state its
    // re-assignment search loaded, not on a second load)
    let from_confirm: Vec<(i32, i32, String)> = c
        .query(
            "SELECT (a->>'offset_minutes')::int, (a->>'shorter_by_minutes')::int, a->>'start_at'
               FROM autoassign.autoassign_confirm($1::text::uuid) c,
                    jsonb_array_elements(c.alternatives) a",
            &[&y],
        )
        .expect("confirm")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let offsets_confirm: Vec<i32> = from_confirm.iter().map(|a| a.0).collect();
    assert_eq!(offsets_confirm, offsets, "{from_confirm:?}");
    assert_eq!(
        from_confirm[0].2, "2030-06-01T19:45:00Z",
        "{from_confirm:?}"
    );
    // bad arguments
    let err = c
        .query(
            "SELECT * FROM autoassign.autoassign_alternatives($1::text::uuid, step => '0 minutes')",
            &[&y],
        )
        .expect_err("step 0");
    assert_eq!(err.code().map(|s| s.code()), Some("22023"), "{err:?}");
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn a_shorter_stay_is_offered_when_it_fits() {
    let mut c = setup();
    let (rid, t) = small_floor(&mut c, &[4]);
    let later = booking(&mut c, &rid, 4, 120, 60); // 20:00-21:00 on the only table
    assert!(confirm(&mut c, &later, "api").0);
    let y = booking(&mut c, &rid, 2, 0, 150); // 18:00-20:30 collides
    let rows = c
        .query(
            "SELECT offset_minutes, shorter_by_minutes, table_ids::text[] FROM autoassign.autoassign_alternatives($1::text::uuid)
              WHERE shorter_by_minutes > 0",
            &[&y],
        )
        .expect("alternatives");
    assert_eq!(rows.len(), 1);
    // 18:00 until 19:55 at the latest (5 minute buffer before 20:00): 150 -> 105 minutes
    assert_eq!(rows[0].get::<_, i32>(0), 0);
    assert_eq!(rows[0].get::<_, i32>(1), 45);
    assert_eq!(rows[0].get::<_, Vec<String>>(2), vec![t[0].clone()]);
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn optimize_repacks_a_window() {
    let mut c = setup();
    let (rid, t, x) = two_top_on_the_middle(&mut c);
    let rows = c
        .query(
            "SELECT booking_id::text, table_ids::text[], largest_free_before, largest_free_after
               FROM autoassign.autoassign_optimize($1::text::uuid, '2030-06-01 17:00+00', '2030-06-01 21:00+00')",
            &[&rid],
        )
        .expect("optimize");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), x);
    let to: Vec<String> = rows[0].get(1);
    assert!(to == vec![t[0].clone()] || to == vec![t[2].clone()]);
    assert!(rows[0].get::<_, i64>(3) > rows[0].get::<_, i64>(2));
    assert_eq!(tables_of(&mut c, &x), to);
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM autoassign.outbox WHERE booking_id = $1::text::uuid AND payload->>'why' = 'optimized'", &x),
        1
    );
    // nothing left to improve: a second run moves nothing
    let again = c
        .query(
            "SELECT 1 FROM autoassign.autoassign_optimize($1::text::uuid, '2030-06-01 17:00+00', '2030-06-01 21:00+00')",
            &[&rid],
        )
        .expect("optimize again");
    assert!(again.is_empty());
    // a pinned booking is never re-packed
    let (rid, _, x) = two_top_on_the_middle(&mut c);
    c.execute(
        "UPDATE autoassign.bookings SET pinned = true WHERE id = $1::text::uuid",
        &[&x],
    )
    .expect("pin");
    let rows = c
        .query(
            "SELECT 1 FROM autoassign.autoassign_optimize($1::text::uuid, '2030-06-01 17:00+00', '2030-06-01 21:00+00')",
            &[&rid],
        )
        .expect("optimize pinned");
    assert!(rows.is_empty());
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn keep_open_puts_a_two_top_on_the_chain_end() {
    let mut c = setup();
    // a chain of three two-tops T1 - T0 - T2 with the middle first in table order: the
    // ends break fewer pairs, so a two-top goes to an end (before keep-open it took T0)
    let (rid, t) = small_floor(&mut c, &[2, 2, 2]);
    c.execute(
        "DELETE FROM autoassign.table_adjacency WHERE restaurant_id = $1::text::uuid
            AND $2::text::uuid IN (table_a, table_b) AND $3::text::uuid IN (table_a, table_b)",
        &[&rid, &t[1], &t[2]],
    )
    .expect("unlink");
    c.execute(
        "INSERT INTO autoassign.table_adjacency VALUES ($1::text::uuid, $2::text::uuid, $3::text::uuid)",
        &[&rid, &t[0], &t[2]],
    )
    .expect("link");
    let x = booking(&mut c, &rid, 2, 0, 90);
    let (ok, _, tables) = confirm(&mut c, &x, "api");
    assert!(ok);
    assert!(
        tables == vec![t[1].clone()] || tables == vec![t[2].clone()],
        "{tables:?}"
    );
    // and a four still finds its pair next to it
    let y = booking(&mut c, &rid, 4, 0, 90);
    assert!(confirm(&mut c, &y, "api").0);
}
