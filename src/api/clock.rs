//! The clock every time decision reads: `autoassign.clock_now()`.

use crate::gucs::SIMULATED_NOW;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;

/// now() (the transaction's start), unless `autoassign.simulated_now` is set: tests and
/// the simulator replay a whole day in seconds. The setting is superuser-only, and this
/// function lives in the library so that calling it loads the library first: a value a
/// non-superuser set as a placeholder before the library was loaded is then refused
/// (PostgreSQL warns and keeps the default) instead of being read. An unparsable value
/// raises PostgreSQL's own 22007.
#[pg_extern(stable, parallel_safe, name = "clock_now")]
fn clock_now() -> TimestampWithTimeZone {
    if let Some(text) = SIMULATED_NOW.get().filter(|t| !t.is_empty()) {
        // SAFETY: timestamptz_in takes (cstring, typelem oid, typmod) and returns a
        // timestamptz datum, or raises an ERROR for bad input.
        let parsed = unsafe {
            pgrx::direct_function_call::<TimestampWithTimeZone>(
                pg_sys::timestamptz_in,
                &[
                    Some(pg_sys::Datum::from(text.as_ptr())),
                    Some(pg_sys::Datum::from(pg_sys::InvalidOid)),
                    Some(pg_sys::Datum::from(-1i32)),
                ],
            )
        };
        if let Some(ts) = parsed {
            return ts;
        }
    }
    // SAFETY: a read of the current transaction's start timestamp.
    let start = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    TimestampWithTimeZone::try_from(start)
        .unwrap_or_else(|_| TimestampWithTimeZone::positive_infinity())
}
