//! A set-returning function that returns exactly one row, without pgrx's SRF machinery.
//!
//! pgrx's `TableIterator` opens a multi-call context, builds the row's tuple descriptor
//! from the catalog (`get_call_result_type`, `BlessTupleDesc`) and forms the tuple after
//! our body has returned, then is called a second time to say it is done. For
//! `autoassign_quote` that was ~15 µs per call that its `duration_us` could not see
//! (issue 11). Here the tuple is formed inside the body, its descriptor is blessed once
//! per backend, and PostgreSQL's one-row protocol (`ExprSingleResult`) ends the set.

use pgrx::{pg_sys, FromDatum, IntoDatum};
use std::cell::Cell;

/// The argument `n` (0-based) of a V1 call, converted with pgrx's `FromDatum`.
///
/// # Safety
/// `fcinfo` is the call's; `T` matches the SQL type of argument `n`.
pub unsafe fn arg<T: FromDatum>(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Option<T> {
    unsafe {
        let nargs = (*fcinfo).nargs as usize;
        if n >= nargs {
            return None;
        }
        let a = (*fcinfo).args.as_slice(nargs)[n];
        T::from_polymorphic_datum(a.value, a.isnull, pg_sys::InvalidOid)
    }
}

/// One output column: the value as its datum, or NULL.
pub fn cell<T: IntoDatum>(value: T) -> Option<pg_sys::Datum> {
    value.into_datum()
}

thread_local! {
    /// The blessed row descriptor of the last function that returned a row here, by its
    /// OID (a re-created function has a new OID, so the entry can never be stale).
    static DESCRIPTOR: Cell<(pg_sys::Oid, pg_sys::TupleDesc)> =
        const { Cell::new((pg_sys::InvalidOid, std::ptr::null_mut())) };
}

/// The row descriptor of the called function's result, blessed, kept for the backend.
unsafe fn descriptor(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::TupleDesc {
    unsafe {
        let fn_oid = (*(*fcinfo).flinfo).fn_oid;
        let (oid, desc) = DESCRIPTOR.with(|d| d.get());
        if oid == fn_oid && !desc.is_null() {
            return desc;
        }
        let mut desc: pg_sys::TupleDesc = std::ptr::null_mut();
        let class = pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut desc);
        if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE || desc.is_null() {
            pgrx::error!(
                "function returning record called in context that cannot accept type record"
            );
        }
        let kept = {
            let old = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
            let copy = pg_sys::CreateTupleDescCopy(desc);
            pg_sys::MemoryContextSwitchTo(old);
            copy
        };
        pg_sys::BlessTupleDesc(kept);
        DESCRIPTOR.with(|d| d.set((fn_oid, kept)));
        kept
    }
}

/// Returns `cells` as the one row of a set-returning function's result.
///
/// # Safety
/// `fcinfo` is the call's, and `cells` match the function's declared columns in number
/// and types (checked: the count).
pub unsafe fn return_one_row(
    fcinfo: pg_sys::FunctionCallInfo,
    cells: &[Option<pg_sys::Datum>],
) -> pg_sys::Datum {
    unsafe {
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        if rsinfo.is_null()
            || (*rsinfo).type_ != pg_sys::NodeTag::T_ReturnSetInfo
            || (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_ValuePerCall as i32 == 0
        {
            pgrx::ereport!(
                ERROR,
                pgrx::PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "set-valued function called in context that cannot accept a set"
            );
        }
        let desc = descriptor(fcinfo);
        if (*desc).natts as usize != cells.len() {
            pgrx::error!(
                "the function declares {} columns and returned {}",
                (*desc).natts,
                cells.len()
            );
        }
        let mut values: Vec<pg_sys::Datum> = cells
            .iter()
            .map(|c| c.unwrap_or(pg_sys::Datum::from(0)))
            .collect();
        let mut nulls: Vec<bool> = cells.iter().map(Option::is_none).collect();
        let tuple = pg_sys::heap_form_tuple(desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_ValuePerCall;
        (*rsinfo).isDone = pg_sys::ExprDoneCond::ExprSingleResult;
        pg_sys::Datum::from((*tuple).t_data)
    }
}
