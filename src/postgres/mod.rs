//! Glue that talks to PostgreSQL: SPI loading, writes, events, subtransactions.
//! Nothing here decides anything; the planner decides, `crate::assign` orchestrates.

pub mod booking;
pub mod busy;
pub mod event_queue;
pub mod event_writer;
pub mod events;
pub mod floor_cache;
pub mod jsonb_out;
pub mod log_limit;
pub mod queue;
pub mod raw_rows;
pub mod seating;
pub mod security;
pub mod shmem;
pub mod standby;
pub mod stats;
pub mod stmt;
pub mod subxact;
pub mod telemetry_settings;
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
/// The setting is superuser-only (PGC_SUSET); the caller has checked that the acting
/// role is a superuser, and inside SECURITY DEFINER set_config() would check the owner.
pub fn set_simulated_now(now: TimestampWithTimeZone) -> crate::error::Result<()> {
    let text = pgrx::Spi::get_one_with_args::<String>("SELECT $1::text", &[now.into()])?
        .unwrap_or_default();
    let value = std::ffi::CString::new(text).unwrap_or_default();
    // SAFETY: both strings are NUL-terminated and live across the call; an invalid value
    // raises a PostgreSQL ERROR (elevel ERROR), which pgrx turns into an unwinding panic.
    unsafe {
        pgrx::pg_sys::set_config_option(
            c"autoassign.simulated_now".as_ptr(),
            value.as_ptr(),
            pgrx::pg_sys::GucContext::PGC_SUSET,
            pgrx::pg_sys::GucSource::PGC_S_SESSION,
            pgrx::pg_sys::GucAction::GUC_ACTION_LOCAL,
            true,
            pgrx::PgLogLevel::ERROR as core::ffi::c_int,
            false,
        );
    }
    Ok(())
}
