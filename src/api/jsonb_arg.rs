//! A `jsonb` argument received as its text, parsed by us.
//!
//! pgrx's `JsonB` argument converts with `serde_json` and `.expect`s the result, so a
//! number serde_json cannot hold (`1e400`) or nesting deeper than 127 levels became
//! SQLSTATE XX000 with Rust panic text before our code ran. `StrategyArg` only renders
//! the value (`jsonb_out`); [`crate::strategy::Strategy::parse_text`] turns every parse
//! failure into 22023 with a hint.

use pgrx::{pg_sys, FromDatum};

/// The text form of a SQL `jsonb` argument, exactly as `jsonb_out` prints it.
pub struct StrategyArg(pub String);

impl FromDatum for StrategyArg {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<StrategyArg> {
        if is_null {
            return None;
        }
        // SAFETY: PostgreSQL passes a valid jsonb datum for an argument declared jsonb;
        // jsonb_out detoasts it and returns a palloc'd, NUL-terminated C string.
        let text =
            pgrx::direct_function_call::<&core::ffi::CStr>(pg_sys::jsonb_out, &[Some(datum)])?;
        // jsonb text is UTF-8 in a UTF-8 database; lossy keeps any other encoding parseable
        let owned = text.to_string_lossy().into_owned();
        pg_sys::pfree(text.as_ptr() as *mut core::ffi::c_void);
        Some(StrategyArg(owned))
    }
}

pgrx::impl_sql_translatable!(StrategyArg, arg_only = "jsonb");

// SAFETY: StrategyArg is only declared for arguments whose SQL type is jsonb (above), so
// the datum unboxed here is a jsonb; FromDatum handles SQL NULL.
unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for StrategyArg {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        // only reached for a non-NULL argument; an empty text fails to parse with 22023
        arg.unbox_arg_using_from_datum()
            .unwrap_or_else(|| StrategyArg(String::new()))
    }

    unsafe fn unbox_nullable_arg(
        arg: pgrx::callconv::Arg<'_, 'fcx>,
    ) -> pgrx::nullable::Nullable<Self> {
        arg.unbox_arg_using_from_datum().into()
    }
}
