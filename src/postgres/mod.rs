//! Glue that talks to PostgreSQL: SPI loading, writes, events, subtransactions.
//! Nothing here decides anything; the planner decides, `crate::assign` orchestrates.

pub mod booking;
pub mod busy;
pub mod events;
pub mod floor_cache;
pub mod stats;
pub mod stmt;
pub mod subxact;
pub mod writes;

use pgrx::datum::DatumWithOid;

/// SQL fragment turning an int8 of microseconds since the Unix epoch into timestamptz
/// exactly (no float rounding, which would break touching windows).
pub const MICROS_TO_TS: &str = "('epoch'::timestamptz + ($N::int8) * interval '1 microsecond')";

/// Builds the fragment above for parameter number `n`.
pub fn micros_param(n: usize) -> String {
    MICROS_TO_TS.replace("$N", &format!("${n}"))
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
