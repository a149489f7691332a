//! Holds block others until they expire or are confirmed; cancel frees tables.
mod common;

use common::*;

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn hold_blocks_others_not_itself_and_expires() {
    let mut c = setup();
    let (rid, tables) = small_floor(&mut c, &[4]);
    let a = booking(&mut c, &rid, 2, 0, 90);
    let b = booking(&mut c, &rid, 2, 30, 90);

    let held: (bool, Vec<String>) = {
        let r = c
            .query_one("SELECT ok, table_ids::text[] FROM autoassign.autoassign_quote($1::text::uuid, hold_seconds => 60)", &[&a])
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(held.0);
    assert_eq!(held.1, vec![tables[0].clone()]);
    // a booking's own hold never blocks itself
    let again: bool = c
        .query_one(
            "SELECT ok FROM autoassign.autoassign_quote($1::text::uuid)",
            &[&a],
        )
        .unwrap()
        .get(0);
    assert!(again);
    // it blocks everyone else
    let (ok, reason, _) = confirm(&mut c, &b, "api");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("no_capacity"));
    // an expired hold blocks nobody
    c.execute("UPDATE autoassign.holds SET expires_at = now() - interval '1 second' WHERE booking_id = $1::text::uuid", &[&a]).unwrap();
    let free_now: bool = c
        .query_one(
            "SELECT ok FROM autoassign.autoassign_quote($1::text::uuid)",
            &[&b],
        )
        .unwrap()
        .get(0);
    assert!(free_now, "an expired hold never blocks anyone");
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn confirm_uses_live_hold() {
    let mut c = setup();
    let (rid, tables) = small_floor(&mut c, &[4, 4]);
    let a = booking(&mut c, &rid, 3, 0, 90);
    // avoid the first table so the hold is on the second; confirm must keep it
    let held: Vec<String> = c
        .query_one(
            "SELECT table_ids::text[] FROM autoassign.autoassign_quote($1::text::uuid, jsonb_build_object('avoid_tables', jsonb_build_array($2::text)), hold_seconds => 120)",
            &[&a, &tables[0]],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, vec![tables[1].clone()]);
    let (ok, _, got) = confirm(&mut c, &a, "api");
    assert!(ok);
    assert_eq!(got, held);
    let holds_left = count(
        &mut c,
        "SELECT count(*) FROM autoassign.holds WHERE restaurant_id = $1::text::uuid",
        &rid,
    );
    assert_eq!(holds_left, 0, "confirm consumes the hold");
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn cancel_then_rebook() {
    let mut c = setup();
    let (rid, tables) = small_floor(&mut c, &[4]);
    let a = booking(&mut c, &rid, 4, 0, 90);
    let b = booking(&mut c, &rid, 4, 60, 90);
    assert!(confirm(&mut c, &a, "api").0);
    let (ok, reason, _) = confirm(&mut c, &b, "api");
    assert!(!ok);
    assert_eq!(reason.as_deref(), Some("no_capacity"));

    let freed: i64 = c
        .query_one(
            "SELECT tables_freed FROM autoassign.autoassign_cancel($1::text::uuid)",
            &[&a],
        )
        .unwrap()
        .get(0);
    assert_eq!(freed, 1);
    let (ok, _, got) = confirm(&mut c, &b, "api");
    assert!(ok, "the freed table is rebooked");
    assert_eq!(got, vec![tables[0].clone()]);

    // cancelling again is harmless
    let row = c
        .query_one(
            "SELECT ok, status, tables_freed FROM autoassign.autoassign_cancel($1::text::uuid)",
            &[&a],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "cancelled");
    assert_eq!(row.get::<_, i64>(2), 0);
    let summaries = count(
        &mut c,
        "SELECT count(*) FROM autoassign.events WHERE restaurant_id = $1::text::uuid AND event_type = 'auto_assign.summary'",
        &rid,
    );
    assert_eq!(
        summaries, 2,
        "a confirmed then b confirmed; a's cancel adds no second summary"
    );
}
