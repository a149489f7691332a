//! Loads one booking with what the planner needs from its restaurant.

use crate::error::Result;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};

#[derive(Debug, Clone)]
pub struct BookingCtx {
    pub booking_id: Uuid,
    pub restaurant_id: Uuid,
    pub party: i32,
    pub status: String,
    pub zone_id: Option<Uuid>,
    /// Stay start, microseconds since the Unix epoch.
    pub start_us: i64,
    /// Stay end plus the turnover buffer: the window the tables are blocked for.
    pub end_us: i64,
    pub floor_version: i64,
    pub past_cutoff: bool,
    pub last_result: Option<serde_json::Value>,
}

const SELECT: &str = "
SELECT b.restaurant_id, b.party_size, b.status, b.zone_id,
       (extract(epoch FROM b.start_at) * 1000000)::int8,
       (extract(epoch FROM upper(autoassign.stay_range(b, r))) * 1000000)::int8,
       r.floor_version,
       b.start_at - make_interval(mins => r.cutoff_minutes) <= autoassign.clock_now(),
       b.auto_assign_last_result
  FROM autoassign.bookings b
  JOIN autoassign.restaurants r ON r.id = b.restaurant_id
 WHERE b.id = $1";

fn from_row(booking_id: Uuid, row: &pgrx::spi::SpiHeapTupleData<'_>) -> Result<BookingCtx> {
    Ok(BookingCtx {
        booking_id,
        restaurant_id: row.get::<Uuid>(1)?.unwrap_or_else(super::nil_uuid),
        party: row.get::<i32>(2)?.unwrap_or_default(),
        status: row.get::<String>(3)?.unwrap_or_default(),
        zone_id: row.get::<Uuid>(4)?,
        start_us: row.get::<i64>(5)?.unwrap_or_default(),
        end_us: row.get::<i64>(6)?.unwrap_or_default(),
        floor_version: row.get::<i64>(7)?.unwrap_or_default(),
        past_cutoff: row.get::<bool>(8)?.unwrap_or(false),
        last_result: row.get::<JsonB>(9)?.map(|j| j.0),
    })
}

/// Reads the booking; with `lock`, takes its row lock (FOR UPDATE) first, so confirm
/// and cancel serialise per booking. Without it the read stays read-only (no xid),
/// so quote and explain work on a replica.
pub fn load(booking_id: Uuid, lock: bool) -> Result<Option<BookingCtx>> {
    let args = [booking_id.into()];
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
