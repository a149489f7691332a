//! jsonb result columns built in place: a `serde_json::Value` becomes a jsonb datum
//! through `pushJsonbValue`, with no JSON text printed and parsed again.
//!
//! pgrx's `JsonB` return type prints the value with serde_json and feeds the text to
//! `jsonb_in` when the result row is formed, after our function body has returned: that
//! cost ~40 µs per quote and fell outside the `duration_us` the call reports (issue 11).
//! [`JsonbOut`] is built inside the body, so `duration_us` covers it.

use pgrx::pg_sys;
use pgrx::IntoDatum;
use serde_json::Value;
use std::ffi::CString;

/// A jsonb datum already built in the current memory context. Declared `jsonb` in SQL.
pub struct JsonbOut(pg_sys::Datum);

impl JsonbOut {
    /// Builds the jsonb for `value`. Numbers keep serde_json's text form (exactly what
    /// `jsonb_in` would have read); strings and keys are copied into the jsonb.
    pub fn new(value: &Value) -> JsonbOut {
        // SAFETY: every JsonbValue pushed points into `value`, which outlives the parse
        // state; JsonbValueToJsonb copies them into one palloc'd varlena.
        unsafe {
            let mut state: *mut pg_sys::JsonbParseState = std::ptr::null_mut();
            let root = match value {
                Value::Array(_) | Value::Object(_) => push(&mut state, value, None),
                scalar => {
                    // a top-level scalar is a one-element raw-scalar array in jsonb
                    let mut open = value_of_kind(pg_sys::jbvType::jbvArray);
                    open.val.array.rawScalar = true;
                    pg_sys::pushJsonbValue(
                        &mut state,
                        pg_sys::JsonbIteratorToken::WJB_BEGIN_ARRAY,
                        &mut open,
                    );
                    let mut v = scalar_value(scalar);
                    pg_sys::pushJsonbValue(
                        &mut state,
                        pg_sys::JsonbIteratorToken::WJB_ELEM,
                        &mut v,
                    );
                    pg_sys::pushJsonbValue(
                        &mut state,
                        pg_sys::JsonbIteratorToken::WJB_END_ARRAY,
                        std::ptr::null_mut(),
                    )
                }
            };
            JsonbOut(pg_sys::Datum::from(pg_sys::JsonbValueToJsonb(root)))
        }
    }

    /// `[]`
    pub fn empty_array() -> JsonbOut {
        JsonbOut::new(&Value::Array(Vec::new()))
    }
}

/// Pushes an array or object (recursively); returns what the closing push returned
/// (the finished root when this is the outermost container).
unsafe fn push(
    state: &mut *mut pg_sys::JsonbParseState,
    value: &Value,
    token: Option<pg_sys::JsonbIteratorToken::Type>,
) -> *mut pg_sys::JsonbValue {
    use pg_sys::JsonbIteratorToken::*;
    unsafe {
        match value {
            // BEGIN_ARRAY / BEGIN_OBJECT take no value (PostgreSQL asserts it), except
            // the raw-scalar array of a top-level scalar (JsonbOut::new)
            Value::Array(items) => {
                pg_sys::pushJsonbValue(state, WJB_BEGIN_ARRAY, std::ptr::null_mut());
                for item in items {
                    push(state, item, Some(WJB_ELEM));
                }
                pg_sys::pushJsonbValue(state, WJB_END_ARRAY, std::ptr::null_mut())
            }
            Value::Object(map) => {
                pg_sys::pushJsonbValue(state, WJB_BEGIN_OBJECT, std::ptr::null_mut());
                for (key, item) in map {
                    let mut k = string_value(key);
                    pg_sys::pushJsonbValue(state, WJB_KEY, &mut k);
                    push(state, item, Some(WJB_VALUE));
                }
                pg_sys::pushJsonbValue(state, WJB_END_OBJECT, std::ptr::null_mut())
            }
            scalar => {
                let mut v = scalar_value(scalar);
                pg_sys::pushJsonbValue(state, token.unwrap_or(WJB_ELEM), &mut v)
            }
        }
    }
}

fn value_of_kind(kind: pg_sys::jbvType::Type) -> pg_sys::JsonbValue {
    // SAFETY: an all-zero JsonbValue is a valid (empty) value of any kind
    let mut v: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
    v.type_ = kind;
    v
}

fn string_value(s: &str) -> pg_sys::JsonbValue {
    let mut v = value_of_kind(pg_sys::jbvType::jbvString);
    v.val.string = pg_sys::JsonbValue__bindgen_ty_1__bindgen_ty_1 {
        len: s.len() as i32,
        val: s.as_ptr() as *mut std::ffi::c_char,
    };
    v
}

fn scalar_value(value: &Value) -> pg_sys::JsonbValue {
    match value {
        Value::Null => value_of_kind(pg_sys::jbvType::jbvNull),
        Value::Bool(b) => {
            let mut v = value_of_kind(pg_sys::jbvType::jbvBool);
            v.val.boolean = *b;
            v
        }
        Value::Number(n) => {
            let mut v = value_of_kind(pg_sys::jbvType::jbvNumeric);
            v.val.numeric = numeric(n);
            v
        }
        Value::String(s) => string_value(s),
        // containers never reach here (push handles them)
        Value::Array(_) | Value::Object(_) => value_of_kind(pg_sys::jbvType::jbvNull),
    }
}

fn numeric(n: &serde_json::Number) -> pg_sys::Numeric {
    // SAFETY: int64_to_numeric and numeric_in return palloc'd numerics; the text is a
    // JSON number serde_json printed, which numeric_in always accepts.
    unsafe {
        if let Some(i) = n.as_i64() {
            return pg_sys::int64_to_numeric(i);
        }
        let text = CString::new(n.to_string()).unwrap_or_default();
        let datum = pgrx::direct_function_call_as_datum(
            pg_sys::numeric_in,
            &[
                Some(pg_sys::Datum::from(text.as_ptr())),
                pg_sys::Oid::INVALID.into_datum(),
                (-1i32).into_datum(),
            ],
        );
        datum.map_or(pg_sys::int64_to_numeric(0), |d| d.cast_mut_ptr())
    }
}

impl IntoDatum for JsonbOut {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.0)
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

// SAFETY: JsonbOut is always a jsonb datum, declared jsonb.
unsafe impl pgrx::callconv::BoxRet for JsonbOut {
    unsafe fn box_into<'fcx>(
        self,
        fcinfo: &mut pgrx::callconv::FcInfo<'fcx>,
    ) -> pgrx::datum::Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(self.0) }
    }
}

pgrx::impl_sql_translatable!(JsonbOut, "jsonb");
