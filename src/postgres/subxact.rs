//! Run work in a subtransaction and roll it back on an expected error, so the caller's
//! transaction carries on. pgrx 0.18 has no helper for this (see PGRX-NOTES.md);
//! catching the error without rolling back would keep the conflicting rows.

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::{PgSqlErrorCode, PgTryBuilder};
use std::ops::DerefMut;
use std::panic::AssertUnwindSafe;

/// Runs `work` inside a subtransaction. If it raises one of `expected`, the
/// subtransaction is rolled back and the code is returned; any other error propagates.
pub fn try_in_subxact<R, F: FnOnce() -> R>(
    expected: &[PgSqlErrorCode],
    work: F,
) -> Result<R, PgSqlErrorCode> {
    catch_in_subxact(|code| expected.contains(&code), work)
}

/// Like `try_in_subxact`, but catches every PostgreSQL error (tests use it to read
/// the SQLSTATE a statement raises).
pub fn catch_in_subxact<R, F: FnOnce() -> R>(
    expected: impl Fn(PgSqlErrorCode) -> bool,
    work: F,
) -> Result<R, PgSqlErrorCode> {
    // SAFETY: we restore the memory context and resource owner on both paths, as
    // PostgreSQL's own PL handlers do around internal subtransactions.
    let (mcxt, owner) = unsafe { (pg_sys::CurrentMemoryContext, pg_sys::CurrentResourceOwner) };
    unsafe {
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(mcxt);
    }
    let mut slot = AssertUnwindSafe(Some(work));
    let outcome: Result<R, Box<CaughtError>> = PgTryBuilder::new(move || {
        let work = slot.deref_mut().take();
        match work {
            Some(work) => Ok(work()),
            None => unreachable!("subtransaction body runs once"),
        }
    })
    .catch_others(|e| Err(Box::new(e)))
    .execute();
    unsafe {
        match &outcome {
            Ok(_) => pg_sys::ReleaseCurrentSubTransaction(),
            Err(_) => pg_sys::RollbackAndReleaseCurrentSubTransaction(),
        }
        pg_sys::MemoryContextSwitchTo(mcxt);
        pg_sys::CurrentResourceOwner = owner;
    }
    match outcome {
        Ok(r) => Ok(r),
        Err(caught) => {
            let code = match caught.as_ref() {
                CaughtError::PostgresError(e) | CaughtError::ErrorReport(e) => {
                    Some(e.sql_error_code())
                }
                CaughtError::RustPanic { .. } => None,
            };
            match code {
                Some(code) if expected(code) => Err(code),
                _ => (*caught).rethrow(),
            }
        }
    }
}
