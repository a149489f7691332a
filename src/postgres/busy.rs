//! The day's state around one request: busy intervals (allocations and live holds of
//! other bookings) and the pending bookings the lookahead protects. One indexed query each.

use super::booking::BookingCtx;
use super::floor_cache::CachedFloor;
use super::micros_ts;
use super::raw_rows::{Col, RawRows};
use crate::error::Result;
use autoassign_planner::{Busy, Pending};
use pgrx::datum::Interval;
use pgrx::prelude::*;
use pgrx::Uuid;

/// How many pending bookings the lookahead is fed at most: the number the planner
/// examines (the nearest to the request's start). Reading more only to drop them cost
/// ~35 µs per quote on a busy evening (issue 11).
pub const PENDING_CAP: usize = autoassign_planner::LOOKAHEAD_PENDING;

/// Pending (not settled) bookings of the restaurant whose stay overlaps the request's
/// [start_us, end_us), nearest to its start first, at most [`PENDING_CAP`] (ties at the
/// same start by id). Two index scans of `bookings_pending` (restaurant_id, start_at,
/// id), each stopping at the cap:
/// forward from the request's start for stays that begin during it, backward from it
/// for stays that began earlier (no earlier than start - `lookback_us`, the restaurant's
/// longest stay or `autoassign.lookahead_minutes`, whichever is shorter) and still
/// run. Stay ends come from the restaurant's defaults in `ctx`, so neither scan joins
/// or calls a function per row.
pub fn pending(floor: &CachedFloor, ctx: &BookingCtx, lookback_us: i64) -> Result<Vec<Pending>> {
    let query = "(SELECT b.party_size, b.start_at, b.end_at, b.zone_id
            FROM autoassign.bookings b
           WHERE b.restaurant_id = $1 AND b.status = 'pending' AND b.auto_assign_outcome IS NULL
             AND b.start_at >= $3 AND b.start_at < $4 AND b.id <> $2
           ORDER BY b.start_at, b.id
           LIMIT $8)
         UNION ALL
         (SELECT b.party_size, b.start_at, b.end_at, b.zone_id
            FROM autoassign.bookings b
           WHERE b.restaurant_id = $1 AND b.status = 'pending' AND b.auto_assign_outcome IS NULL
             AND b.start_at >= $5 AND b.start_at < $3 AND b.id <> $2
             AND coalesce(b.end_at + $7, b.start_at + $6) > $3
           ORDER BY b.start_at DESC, b.id DESC
           LIMIT $8)";
    let args = [
        ctx.restaurant_id.into(),
        ctx.booking_id.into(),
        micros_ts(ctx.start_us).into(),
        micros_ts(ctx.end_us).into(),
        micros_ts(ctx.start_us - lookback_us).into(),
        Interval::from_micros(ctx.default_duration_us + ctx.buffer_us).into(),
        Interval::from_micros(ctx.buffer_us).into(),
        (PENDING_CAP as i64).into(),
    ];
    Spi::connect(|client| {
        let rows = RawRows::new(
            super::stmt::select(client, query, None, &args)?,
            &[Col::Int4, Col::Timestamptz, Col::Timestamptz, Col::Uuid],
        )?;
        let mut out = Vec::with_capacity(rows.count());
        for i in 0..rows.count() {
            let row = rows.row(i);
            let (Some(party), Some(start)) = (row.int4(1), row.timestamptz(2)) else {
                continue;
            };
            let end = row
                .timestamptz(3)
                .unwrap_or(start + ctx.default_duration_us)
                + ctx.buffer_us;
            let zone = row.uuid(4).and_then(|z| floor.zone_index(z));
            out.push(Pending {
                party,
                start,
                end,
                requested_zone: zone,
            });
        }
        out.sort_by_key(|p| ((p.start - ctx.start_us).abs(), p.start));
        out.truncate(PENDING_CAP);
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
    // Each range is selected once and decoded here (no lower()/upper() calls per row);
    // a retired table's interval is [retired_from, infinity).
    let query = "SELECT table_id, during
           FROM autoassign.allocations
          WHERE restaurant_id = $1 AND during && tstzrange($2, $3)
            AND booking_id IS DISTINCT FROM $4
         UNION ALL
         SELECT table_id, during
           FROM autoassign.holds
          WHERE restaurant_id = $1 AND during && tstzrange($2, $3)
            AND expires_at > autoassign.clock_now()
            AND booking_id IS DISTINCT FROM $4
         UNION ALL
         SELECT id, tstzrange(retired_from, NULL)
           FROM autoassign.tables
          WHERE restaurant_id = $1 AND retired_from < $3";
    let args = [
        restaurant.into(),
        micros_ts(start_us).into(),
        micros_ts(end_us).into(),
        super::opt_arg(exclude_booking),
    ];
    Spi::connect(|client| {
        let rows = RawRows::new(
            super::stmt::select(client, query, None, &args)?,
            &[Col::Uuid, Col::Tstzrange],
        )?;
        let mut out = Vec::with_capacity(rows.count());
        for i in 0..rows.count() {
            let row = rows.row(i);
            let (Some(table), Some((start, end))) = (
                row.uuid(1).and_then(|t| floor.table_index(t)),
                row.tstzrange(2),
            ) else {
                continue;
            };
            out.push(Busy { table, start, end });
        }
        Ok(out)
    })
}
