//! 8 connections race to confirm the same 200 bookings of one evening.
mod common;

use common::*;
use std::sync::Arc;
use std::thread;

#[test]
#[ignore = "needs a running server: scripts/test.sh"]
fn eight_connections_two_hundred_bookings_no_overlap_no_duplicate() {
    let mut c = setup();
    let rid: String = c
        .query_one(
            "SELECT autoassign.autoassign_demo_load('2030-07-01', 7)::text",
            &[],
        )
        .unwrap()
        .get(0);
    // 140 more bookings on the same evening: 200 in all, far more than the floor holds
    c.execute(
        "INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
         SELECT $1::text::uuid, 2 + (g * 7) % 7,
                '2030-07-01 16:00+00'::timestamptz + make_interval(mins => 15 * ((g * 5) % 17)),
                '2030-07-01 16:00+00'::timestamptz + make_interval(mins => 15 * ((g * 5) % 17) + 100)
           FROM generate_series(1, 140) g",
        &[&rid],
    )
    .unwrap();
    let ids: Vec<String> = c
        .query("SELECT id::text FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid ORDER BY start_at, id", &[&rid])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids.len(), 200);
    let ids = Arc::new(ids);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let ids = Arc::clone(&ids);
            thread::spawn(move || {
                let mut c = connect();
                let mut confirmed = 0;
                // every worker walks all bookings from a different offset: each booking
                // sees several concurrent confirms and each table many competitors
                for i in 0..ids.len() {
                    let id = &ids[(i + w * 25) % ids.len()];
                    let (ok, _, _) = confirm(&mut c, id, "api");
                    confirmed += ok as i64;
                }
                confirmed
            })
        })
        .collect();
    let confirmed: i64 = workers.into_iter().map(|h| h.join().expect("worker")).sum();

    assert_eq!(overlapping_allocations(&mut c, &rid), 0);
    let status_confirmed = count(
        &mut c,
        "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid AND status = 'confirmed'",
        &rid,
    );
    assert_eq!(
        confirmed, status_confirmed,
        "each booking confirmed exactly once"
    );
    assert!(
        status_confirmed > 30,
        "a busy evening still seats many: {status_confirmed}"
    );
    let outbox = count(
        &mut c,
        "SELECT count(*) FROM autoassign.outbox WHERE restaurant_id = $1::text::uuid AND kind = 'booking_confirmed'",
        &rid,
    );
    assert_eq!(
        outbox, status_confirmed,
        "one confirmation message per confirmed booking"
    );
    // and one gave-up message per booking auto-assign settled as gave_up or cutoff
    let gave_up_messages = count(
        &mut c,
        "SELECT count(*) FROM autoassign.outbox WHERE restaurant_id = $1::text::uuid AND kind = 'auto_assign_gave_up'",
        &rid,
    );
    let gave_up_bookings = count(
        &mut c,
        "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid
            AND auto_assign_outcome IN ('gave_up', 'cutoff')",
        &rid,
    );
    assert_eq!(
        gave_up_messages, gave_up_bookings,
        "one gave-up message per settled booking"
    );
    let confirmed_summaries = count(
        &mut c,
        "SELECT count(*) FROM autoassign.events WHERE restaurant_id = $1::text::uuid
            AND event_type = 'auto_assign.summary' AND reason = 'confirmed'",
        &rid,
    );
    assert_eq!(
        confirmed_summaries, status_confirmed,
        "one confirmed summary per confirmed booking"
    );
    // failures behind a full waiting list settle at once (gave_up), never twice
    let repeated = count(
        &mut c,
        "SELECT count(*) FROM (SELECT booking_id FROM autoassign.events
            WHERE restaurant_id = $1::text::uuid AND event_type = 'auto_assign.summary'
            GROUP BY booking_id HAVING count(*) > 1) x",
        &rid,
    );
    assert_eq!(repeated, 0, "at most one summary per booking");
    let unexplained = count(
        &mut c,
        "SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid
            AND status <> 'confirmed' AND auto_assign_last_result->>'reason' IS NULL",
        &rid,
    );
    assert_eq!(
        unexplained, 0,
        "every booking is confirmed or carries a reason"
    );
    let allocated_unconfirmed = count(
        &mut c,
        "SELECT count(*) FROM autoassign.allocations a JOIN autoassign.bookings b ON b.id = a.booking_id
          WHERE a.restaurant_id = $1::text::uuid AND b.status <> 'confirmed'",
        &rid,
    );
    assert_eq!(allocated_unconfirmed, 0);
}
