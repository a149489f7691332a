//! Loads one booking with what the planner needs from its restaurant.

use crate::error::Result;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};

#[derive(Debug, Clone)]
pub struct BookingCtx {
    pub booking_id: Uuid,
    pub restaurant_id: Uuid,
    pub party: i32,
    pub status: String,
    pub zone_id: Option<Uuid>,
    /// Stay start, microseconds since 2000-01-01 (PostgreSQL's timestamptz).
    pub start_us: i64,
    /// Stay end plus the turnover buffer: the window the tables are blocked for.
    pub end_us: i64,
    pub floor_version: i64,
    pub past_cutoff: bool,
    pub last_result: Option<serde_json::Value>,
    /// The restaurant's default stay and turnover buffer, for other bookings' windows.
    pub default_duration_us: i64,
    pub buffer_us: i64,
    /// start - cutoff_minutes, microseconds: auto-assign stops here.
    pub cutoff_at_us: i64,
    /// The longest stay (with turnover) any booking of the restaurant can have, in
    /// microseconds: max(longest_stay_minutes, default_duration_minutes) + buffer.
    pub longest_stay_us: i64,
}

const SELECT: &str = "
SELECT b.restaurant_id, b.party_size, b.status, b.zone_id,
       b.start_at,
       autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes, r.buffer_after_minutes),
       r.floor_version,
       b.start_at - make_interval(mins => r.cutoff_minutes) <= autoassign.clock_now(),
       b.auto_assign_last_result,
       r.default_duration_minutes, r.buffer_after_minutes,
       b.start_at - make_interval(mins => r.cutoff_minutes),
       greatest(r.longest_stay_minutes, r.default_duration_minutes) + r.buffer_after_minutes
  FROM autoassign.bookings b
  JOIN autoassign.restaurants r ON r.id = b.restaurant_id
 WHERE b.id = $1
   AND ($2 OR autoassign.may_access(b.restaurant_id, $3))";

fn from_row(booking_id: Uuid, row: &pgrx::spi::SpiHeapTupleData<'_>) -> Result<BookingCtx> {
    Ok(BookingCtx {
        booking_id,
        restaurant_id: row.get::<Uuid>(1)?.unwrap_or_else(super::nil_uuid),
        party: row.get::<i32>(2)?.unwrap_or_default(),
        status: row.get::<String>(3)?.unwrap_or_default(),
        zone_id: row.get::<Uuid>(4)?,
        start_us: row
            .get::<TimestampWithTimeZone>(5)?
            .map_or(0, super::ts_micros),
        end_us: row
            .get::<TimestampWithTimeZone>(6)?
            .map_or(0, super::ts_micros),
        floor_version: row.get::<i64>(7)?.unwrap_or_default(),
        past_cutoff: row.get::<bool>(8)?.unwrap_or(false),
        last_result: row.get::<JsonB>(9)?.map(|j| j.0),
        default_duration_us: i64::from(row.get::<i32>(10)?.unwrap_or(90)) * 60_000_000,
        buffer_us: i64::from(row.get::<i32>(11)?.unwrap_or(0)) * 60_000_000,
        cutoff_at_us: row
            .get::<TimestampWithTimeZone>(12)?
            .map_or(0, super::ts_micros),
        longest_stay_us: i64::from(row.get::<i32>(13)?.unwrap_or(0)) * 60_000_000,
    })
}

/// Reads the booking; with `lock`, takes its row lock (FOR UPDATE) first, so confirm
/// and cancel serialise per booking. Without it the read stays read-only (no xid),
/// so quote and explain work on a replica.
///
/// Every booking the Rust code acts on is read here, so this is where the caller's
/// right to act for the booking's restaurant is checked, inside the query: another
/// restaurant's booking reads as no booking at all (reason booking_not_found), and is
/// never row-locked, so no tenant can make another's confirm wait.
pub fn load(booking_id: Uuid, lock: bool) -> Result<Option<BookingCtx>> {
    use super::security;
    let args = [
        booking_id.into(),
        security::acting_superuser().into(),
        security::acting_role().into(),
    ];
    if lock {
        let query = format!("{SELECT} FOR UPDATE OF b");
        Spi::connect_mut(|client| {
            let table = super::stmt::update(client, query.as_str(), Some(1), &args)?;
            table
                .into_iter()
                .next()
                .map(|row| from_row(booking_id, &row))
                .transpose()
        })
    } else {
        Spi::connect(|client| {
            let table = super::stmt::select(client, SELECT, Some(1), &args)?;
            table
                .into_iter()
                .next()
                .map(|row| from_row(booking_id, &row))
                .transpose()
        })
    }
}
