//! Hot standby behaviour (issue 12): planning reads only, so quote without a hold and
//! explain work on a standby (their events are counted, not written); every function
//! that changes bookings, holds or the queue refuses with 25006 and says where to go.

use pgrx::pg_sys;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// True on a hot standby (recovery in progress).
pub fn in_recovery() -> bool {
    // SAFETY: cheap after the first call returns false (cached per backend).
    unsafe { pg_sys::RecoveryInProgress() }
}

/// Raises 25006 (read_only_sql_transaction) with a hint when running on a standby.
/// `what` names the refused call, e.g. "autoassign_confirm".
pub fn refuse_writes(what: &str) {
    if in_recovery() {
        ErrorReport::new(
            PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION,
            format!("{what} cannot run on a hot standby: it changes bookings, holds or the retry queue"),
            "pg_autoassign::standby",
        )
        .set_hint(
            "Call it on the primary. On a standby only autoassign_quote without hold_seconds \
             and autoassign_explain work (their events are counted in autoassign.event_queue, not written).",
        )
        .report(PgLogLevel::ERROR);
    }
}
