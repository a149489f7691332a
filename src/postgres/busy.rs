//! The day's state around one request: busy intervals (allocations and live holds of
//! other bookings) and the pending bookings the lookahead protects. One indexed query each.

use super::booking::BookingCtx;
use super::floor_cache::CachedFloor;
use super::{micros_ts, ts_micros};
use crate::error::Result;
use autoassign_planner::{Busy, Pending};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::Uuid;

/// Pending bookings of the restaurant whose stay overlaps [start_us, end_us), starting
/// at most `horizon_us` before it, earliest first (the planner caps how many it uses).
/// Stay ends are computed here from the restaurant's defaults in `ctx`, which keeps the
/// query a plain index scan (no join, no per-row SQL function).
pub fn pending(floor: &CachedFloor, ctx: &BookingCtx, horizon_us: i64) -> Result<Vec<Pending>> {
    let query = "SELECT b.party_size, b.start_at, b.end_at, b.zone_id
           FROM autoassign.bookings b
          WHERE b.restaurant_id = $1 AND b.status = 'pending' AND b.id <> $2
            AND b.start_at < $4 AND b.start_at >= $3
            -- settled (given up, cut off) bookings no longer need protecting; the
            -- condition is the partial index's own, so this stays one index scan
            AND b.auto_assign_outcome IS NULL
          ORDER BY b.start_at, b.id
          LIMIT 64";
    let args = [
        ctx.restaurant_id.into(),
        ctx.booking_id.into(),
        micros_ts(ctx.start_us - horizon_us).into(),
        micros_ts(ctx.end_us).into(),
    ];
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in super::stmt::select(client, query, None, &args)? {
            let (Some(party), Some(start)) =
                (row.get::<i32>(1)?, row.get::<TimestampWithTimeZone>(2)?)
            else {
                continue;
            };
            let start = ts_micros(start);
            let end = row
                .get::<TimestampWithTimeZone>(3)?
                .map_or(start + ctx.default_duration_us, ts_micros)
                + ctx.buffer_us;
            if end <= ctx.start_us {
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

/// Busy intervals overlapping [start_us, end_us): allocations of other bookings, holds
/// of other bookings that have not expired, and retired tables from their
/// `retired_from` on. A booking's own allocations and hold never block it.
pub fn busy(
    floor: &CachedFloor,
    restaurant: Uuid,
    exclude_booking: Option<Uuid>,
    start_us: i64,
    end_us: i64,
) -> Result<Vec<Busy>> {
    let query = "SELECT table_id, lower(during), upper(during)
           FROM autoassign.allocations
          WHERE restaurant_id = $1 AND during && tstzrange($2, $3)
            AND booking_id IS DISTINCT FROM $4
         UNION ALL
         SELECT table_id, lower(during), upper(during)
           FROM autoassign.holds
          WHERE restaurant_id = $1 AND during && tstzrange($2, $3)
            AND expires_at > autoassign.clock_now()
            AND booking_id IS DISTINCT FROM $4
         UNION ALL
         SELECT id, retired_from, 'infinity'::timestamptz
           FROM autoassign.tables
          WHERE restaurant_id = $1 AND retired_from < $3";
    let args = [
        restaurant.into(),
        micros_ts(start_us).into(),
        micros_ts(end_us).into(),
        super::opt_arg(exclude_booking),
    ];
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in super::stmt::select(client, query, None, &args)? {
            let (Some(table), Some(start), Some(end)) = (
                row.get::<Uuid>(1)?,
                row.get::<TimestampWithTimeZone>(2)?,
                row.get::<TimestampWithTimeZone>(3)?,
            ) else {
                continue;
            };
            if let Some(table) = floor.table_index(table) {
                out.push(Busy {
                    table,
                    start: ts_micros(start),
                    end: ts_micros(end),
                });
            }
        }
        Ok(out)
    })
}
