//! The day's state around one request: busy intervals (allocations and live holds of
//! other bookings) and the pending bookings the lookahead protects. One indexed query each.

use super::floor_cache::CachedFloor;
use super::micros_param;
use crate::error::Result;
use autoassign_planner::{Busy, Pending};
use pgrx::prelude::*;
use pgrx::Uuid;

/// Pending bookings of the restaurant whose stay overlaps [start_us, end_us), starting
/// at most `horizon_us` before it, earliest first (the planner caps how many it uses).
pub fn pending(
    floor: &CachedFloor,
    restaurant: Uuid,
    exclude_booking: Uuid,
    start_us: i64,
    end_us: i64,
    horizon_us: i64,
) -> Result<Vec<Pending>> {
    let query = format!(
        "SELECT b.party_size,
                (extract(epoch FROM b.start_at) * 1000000)::int8,
                (extract(epoch FROM upper(autoassign.stay_range(b, r))) * 1000000)::int8,
                b.zone_id
           FROM autoassign.bookings b
           JOIN autoassign.restaurants r ON r.id = b.restaurant_id
          WHERE b.restaurant_id = $1 AND b.status = 'pending' AND b.id <> $2
            AND b.start_at < {end} AND b.start_at >= {start}
            -- a booking the sweep gave up on (or cut off) no longer needs protecting
            AND NOT EXISTS (SELECT 1 FROM autoassign.events e
                             WHERE e.booking_id = b.id AND e.event_type = 'auto_assign.summary')
          ORDER BY b.start_at, b.id
          LIMIT 64",
        start = micros_param(3),
        end = micros_param(4),
    );
    let args = [
        restaurant.into(),
        exclude_booking.into(),
        (start_us - horizon_us).into(),
        end_us.into(),
    ];
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in super::stmt::select(client, query.as_str(), None, &args)? {
            let (Some(party), Some(start), Some(end)) =
                (row.get::<i32>(1)?, row.get::<i64>(2)?, row.get::<i64>(3)?)
            else {
                continue;
            };
            if end <= start_us {
                continue; // left before this stay begins
            }
            let zone = row.get::<Uuid>(4)?.and_then(|z| floor.zone_index(z));
            out.push(Pending {
                party,
                start,
                end,
                requested_zone: zone,
            });
        }
        Ok(out)
    })
}

/// Busy intervals overlapping [start_us, end_us): allocations of other bookings and
/// holds of other bookings that have not expired. A booking's own hold never blocks it.
pub fn busy(
    floor: &CachedFloor,
    restaurant: Uuid,
    exclude_booking: Option<Uuid>,
    start_us: i64,
    end_us: i64,
) -> Result<Vec<Busy>> {
    let window = format!("tstzrange({}, {})", micros_param(2), micros_param(3));
    let query = format!(
        "SELECT table_id, (extract(epoch FROM lower(during)) * 1000000)::int8,
                (extract(epoch FROM upper(during)) * 1000000)::int8
           FROM autoassign.allocations
          WHERE restaurant_id = $1 AND during && {window}
            AND booking_id IS DISTINCT FROM $4
         UNION ALL
         SELECT table_id, (extract(epoch FROM lower(during)) * 1000000)::int8,
                (extract(epoch FROM upper(during)) * 1000000)::int8
           FROM autoassign.holds
          WHERE restaurant_id = $1 AND during && {window}
            AND expires_at > autoassign.clock_now()
            AND booking_id IS DISTINCT FROM $4"
    );
    let args = [
        restaurant.into(),
        start_us.into(),
        end_us.into(),
        super::opt_arg(exclude_booking),
    ];
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in super::stmt::select(client, query.as_str(), None, &args)? {
            let (Some(table), Some(start), Some(end)) =
                (row.get::<Uuid>(1)?, row.get::<i64>(2)?, row.get::<i64>(3)?)
            else {
                continue;
            };
            if let Some(table) = floor.table_index(table) {
                out.push(Busy { table, start, end });
            }
        }
        Ok(out)
    })
}
