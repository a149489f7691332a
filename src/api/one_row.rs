//! A set-returning function that returns exactly one row, without pgrx's SRF machinery.
//!
//! pgrx's `TableIterator` opens a multi-call context, builds the row's tuple descriptor
//! from the catalog (`get_call_result_type`, `BlessTupleDesc`) and forms the tuple after
//! our body has returned, then is called a second time to say it is done. For
//! `autoassign_quote` that was ~15 µs per call that its `duration_us` could not see
//! (issue 11). Here the tuple is formed inside the body, its descriptor is blessed once
//! per backend, and the row is handed over in materialize mode: a one-row tuplestore,
//! one call, correct wherever a set-returning function may stand (FROM, LATERAL, a
//! target list beside other set-returning functions).

use pgrx::{pg_sys, FromDatum, IntoDatum};
use std::cell::RefCell;

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
    /// Blessed row descriptors of the functions that returned rows here, by function OID
    /// (a re-created function has a new OID, so an entry is never stale).
    static DESCRIPTORS: RefCell<Vec<(pg_sys::Oid, pg_sys::TupleDesc)>> =
        const { RefCell::new(Vec::new()) };
}

/// The row descriptor of the called function's result, blessed, kept for the backend.
unsafe fn descriptor(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::TupleDesc {
    unsafe {
        let fn_oid = (*(*fcinfo).flinfo).fn_oid;
        let known = DESCRIPTORS.with(|d| {
            d.borrow()
                .iter()
                .find(|(oid, _)| *oid == fn_oid)
                .map(|(_, desc)| *desc)
        });
        if let Some(desc) = known {
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
        DESCRIPTORS.with(|d| d.borrow_mut().push((fn_oid, kept)));
        kept
    }
}

/// Returns `cells` as the one row of a set-returning function's result (materialize
/// mode: the row in a tuplestore of the query's memory).
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
            || (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize as i32 == 0
            || (*rsinfo).econtext.is_null()
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
        // the tuplestore and its descriptor live in the query's memory; the executor frees
        // the descriptor copy (tdrefcount -1) once it has checked it
        let old = pg_sys::MemoryContextSwitchTo((*(*rsinfo).econtext).ecxt_per_query_memory);
        let store = pg_sys::tuplestore_begin_heap(false, false, pg_sys::work_mem);
        let set_desc = pg_sys::CreateTupleDescCopy(desc);
        pg_sys::MemoryContextSwitchTo(old);
        pg_sys::tuplestore_puttuple(store, tuple);
        (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
        (*rsinfo).setResult = store;
        (*rsinfo).setDesc = set_desc;
        // isDone stays ExprSingleResult, as materialize mode requires
        (*fcinfo).isnull = true;
        pg_sys::Datum::from(0)
    }
}
