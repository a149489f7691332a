//! Glue that talks to PostgreSQL: SPI loading, writes, events, subtransactions.
//! Nothing here decides anything; the planner decides, `crate::assign` orchestrates.

pub mod booking;
pub mod busy;
pub mod events;
pub mod floor_cache;
pub mod queue;
pub mod seating;
pub mod stats;
pub mod stmt;
pub mod subxact;
pub mod writes;

use pgrx::datum::DatumWithOid;
use pgrx::datum::TimestampWithTimeZone;

/// The planner works on plain microseconds; PostgreSQL's timestamptz already is one
/// (microseconds since 2000-01-01), so conversions are exact and cost nothing (an
/// `extract(epoch ..)` in SQL goes through numeric and was a hot spot).
pub fn ts_micros(ts: TimestampWithTimeZone) -> i64 {
    i64::from(ts)
}

pub fn micros_ts(micros: i64) -> TimestampWithTimeZone {
    TimestampWithTimeZone::try_from(micros).unwrap_or_else(|_| {
        if micros < 0 {
            TimestampWithTimeZone::negative_infinity()
        } else {
            TimestampWithTimeZone::positive_infinity()
        }
    })
}

/// A NULL-able argument.
pub fn opt_arg<'a, T: pgrx::IntoDatum>(v: Option<T>) -> DatumWithOid<'a> {
    match v {
        Some(v) => v.into(),
        None => DatumWithOid::null::<T>(),
    }
}

/// Stands in for NULL in NOT NULL uuid columns, so a read never panics.
pub fn nil_uuid() -> pgrx::Uuid {
    pgrx::Uuid::from_bytes([0; 16])
}

/// Sets `autoassign.simulated_now` for the rest of the transaction (tests, simulator).
pub fn set_simulated_now(now: TimestampWithTimeZone) -> crate::error::Result<()> {
    pgrx::Spi::connect_mut(|client| {
        stmt::update(
            client,
            "SELECT set_config('autoassign.simulated_now', $1::text, true)",
            None,
            &[now.into()],
        )?;
        Ok(())
    })
}
