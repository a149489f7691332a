//! The lookahead's window (issue 11): a request late in the evening is fed exactly the
//! pending bookings whose stays overlap it, nearest first, up to the cap (the 32 the
//! planner examines), whatever the earlier evening holds.
mod common;

use common::*;

fn pending_fed(c: &mut postgres::Client, booking: &str) -> i64 {
    c.query_one(
        "SELECT (diagnostics->>'pending_bookings')::int8
           FROM autoassign.autoassign_quote($1::text::uuid, source => 'test', detail => true)",
        &[&booking],
    )
    .unwrap()
    .get(0)
}

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn late_request_sees_the_pending_bookings_that_overlap_it() {
    let mut c = setup();
    let (rid, _) = small_floor(&mut c, &[2, 2, 4, 4, 6, 6]);
    // offsets from 18:00; the request is 21:30-23:30 (+5 min turnover)
    let request = booking(&mut c, &rid, 2, 210, 120);
    // 100 early bookings that all left before 21:30: never fed
    for i in 0..100 {
        booking(&mut c, &rid, 2, -60 + (i % 4) * 15, 90);
    }
    // a long stay that began at 19:00 and runs to 23:00: overlaps, found through the
    // restaurant's longest stay (240 min), not the default 90
    booking(&mut c, &rid, 4, 60, 240);
    // 10 that began before the request and still run, 10 that begin during it
    for i in 0..10 {
        booking(&mut c, &rid, 2, 150 + i, 90);
        booking(&mut c, &rid, 2, 220 + i, 90);
    }
    // 5 that start after the request ends: never fed
    for _ in 0..5 {
        booking(&mut c, &rid, 2, 340, 60);
    }
    assert_eq!(
        pending_fed(&mut c, &request),
        21,
        "exactly the overlapping ones"
    );

    // more overlapping bookings than the cap: the 32 the planner examines (nearest
    // first; the order is the planner crate's, property-tested there)
    for _ in 0..10 {
        booking(&mut c, &rid, 2, 210, 60);
    }
    for i in 0..40 {
        booking(&mut c, &rid, 2, 150 + i % 20, 90);
    }
    assert_eq!(pending_fed(&mut c, &request), 32, "capped at 32");
    // settled bookings (gave up) leave the window
    c.execute(
        "UPDATE autoassign.bookings SET auto_assign_outcome = 'gave_up'
          WHERE restaurant_id = $1::text::uuid AND start_at < '2030-06-01 21:30+00'
            AND start_at >= '2030-06-01 20:30+00'",
        &[&rid],
    )
    .unwrap();
    assert_eq!(
        pending_fed(&mut c, &request),
        10 + 10 + 1,
        "the 10 starting during it, the 10 at 21:30 and the long stay"
    );
}
