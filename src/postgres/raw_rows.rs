//! The hot queries' rows decoded in one pass: each result tuple is deformed once
//! (`heap_deform_tuple`) and its int4, timestamptz, uuid and tstzrange values are read
//! straight from the datums.
//!
//! pgrx's row access makes two guarded FFI calls per column per row plus a type check per
//! value; on a 120-table evening (~140 busy and pending rows per quote) that was ~10% of
//! the quote (issue 11). The column types are checked once per result instead.

use crate::error::{AutoassignError, Result};
use pgrx::pg_sys;
use pgrx::spi::SpiTupleTable;
use pgrx::Uuid;

/// Column types the decoder reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Col {
    Int4,
    Timestamptz,
    Uuid,
    Tstzrange,
}

impl Col {
    fn oid(self) -> pg_sys::Oid {
        match self {
            Col::Int4 => pg_sys::INT4OID,
            Col::Timestamptz => pg_sys::TIMESTAMPTZOID,
            Col::Uuid => pg_sys::UUIDOID,
            Col::Tstzrange => pg_sys::TSTZRANGEOID,
        }
    }
}

// The varlena header tests below are the little-endian ones (postgres.h).
const _: () = assert!(cfg!(target_endian = "little"));

/// At most this many columns per row.
const MAX_COLS: usize = 4;

/// The rows of one SPI result whose column types were checked against `cols`.
pub struct RawRows<'conn> {
    _table: SpiTupleTable<'conn>,
    tuptable: *mut pg_sys::SPITupleTable,
    len: usize,
}

/// One deformed row. Its by-reference values point into the SPI result, so it borrows
/// the [`RawRows`] it came from.
pub struct RawRow<'rows> {
    values: [pg_sys::Datum; MAX_COLS],
    nulls: [bool; MAX_COLS],
    _rows: std::marker::PhantomData<&'rows ()>,
}

impl<'conn> RawRows<'conn> {
    /// Wraps the result SPI just produced (`table`, from the query run right before).
    /// Errors when its columns are not exactly `cols`.
    pub fn new(table: SpiTupleTable<'conn>, cols: &[Col]) -> Result<RawRows<'conn>> {
        let len = table.len();
        // SAFETY: pgrx's select leaves SPI_tuptable pointing at the table it wrapped, and
        // no SPI call ran since (we hold the only handle); checked non-null below.
        let tuptable = unsafe { pg_sys::SPI_tuptable };
        if len == 0 || tuptable.is_null() {
            return Ok(RawRows {
                _table: table,
                tuptable: std::ptr::null_mut(),
                len: 0,
            });
        }
        // SAFETY: a non-null SPI_tuptable has a valid tupdesc with natts attributes
        let matches = unsafe {
            let desc = (*tuptable).tupdesc;
            let natts = (*desc).natts as usize;
            natts == cols.len()
                && natts <= MAX_COLS
                && (*tuptable).numvals as usize == len
                && cols.iter().enumerate().all(|(i, c)| {
                    let attr = (*desc).attrs.as_slice(natts)[i];
                    attr.atttypid == c.oid()
                })
        };
        if !matches {
            return Err(AutoassignError::UnexpectedColumns(format!(
                "expected {cols:?}"
            )));
        }
        Ok(RawRows {
            _table: table,
            tuptable,
            len,
        })
    }

    /// How many rows.
    pub fn count(&self) -> usize {
        self.len
    }

    /// Row `i` (0-based), deformed.
    pub fn row(&self, i: usize) -> RawRow<'_> {
        let mut row = RawRow {
            values: [pg_sys::Datum::from(0); MAX_COLS],
            nulls: [true; MAX_COLS],
            _rows: std::marker::PhantomData,
        };
        if i < self.len {
            // SAFETY: i < numvals, so vals[i] is a valid tuple of tupdesc, whose natts
            // (<= MAX_COLS, checked in new) fit the arrays
            unsafe {
                let tup = *(*self.tuptable).vals.add(i);
                pg_sys::heap_deform_tuple(
                    tup,
                    (*self.tuptable).tupdesc,
                    row.values.as_mut_ptr(),
                    row.nulls.as_mut_ptr(),
                );
            }
        }
        row
    }
}

impl RawRow<'_> {
    fn datum(&self, n: usize) -> Option<pg_sys::Datum> {
        ((1..=MAX_COLS).contains(&n) && !self.nulls[n - 1]).then(|| self.values[n - 1])
    }

    /// Column `n` (1-based), an int4.
    pub fn int4(&self, n: usize) -> Option<i32> {
        self.datum(n).map(|d| d.value() as i32)
    }

    /// Column `n`, a timestamptz: microseconds since 2000-01-01 UTC.
    pub fn timestamptz(&self, n: usize) -> Option<i64> {
        self.datum(n).map(|d| d.value() as i64)
    }

    /// Column `n`, a uuid.
    pub fn uuid(&self, n: usize) -> Option<Uuid> {
        // SAFETY: a uuid datum points at its 16 bytes (fixed length, by reference)
        self.datum(n).map(|d| {
            Uuid::from_bytes(unsafe { std::ptr::read_unaligned(d.cast_mut_ptr::<[u8; 16]>()) })
        })
    }

    /// Column `n`, a tstzrange: `Some((lower, upper))` in microseconds, an unbounded side
    /// as `i64::MIN` / `i64::MAX`; `None` for NULL or empty. Bound inclusivity is not
    /// read: stored stays are canonical `[)`.
    pub fn tstzrange(&self, n: usize) -> Option<(i64, i64)> {
        let d = self.datum(n)?;
        // SAFETY: a tstzrange datum is a varlena RangeType: header, rangetypid (4 bytes),
        // the present bounds as 8-byte values, and a flags byte last. An inline value has a
        // 1-byte (short) or 4-byte header; anything else (compressed, external) is
        // detoasted first. The bounds sit right after rangetypid (the 8-byte header plus
        // rangetypid of the in-memory form keeps them aligned without padding), so in
        // both inline forms they start 4 bytes into the payload.
        unsafe {
            let mut ptr = d.cast_mut_ptr::<u8>();
            let inline =
                |first: u8| (first & 0x01 == 0x01 && first != 0x01) || first & 0x03 == 0x00;
            if !inline(*ptr) {
                // compressed or external: detoasted into a plain 4-byte-header value
                ptr = pg_sys::pg_detoast_datum(ptr.cast()).cast();
            }
            let first = *ptr;
            let (payload, total) = if first & 0x01 == 0x01 {
                // short header: length in the high 7 bits, header included
                (ptr.add(1), (first >> 1) as usize - 1)
            } else {
                // 4-byte uncompressed header: length in the high 30 bits, header included
                let header = std::ptr::read_unaligned(ptr.cast::<u32>());
                (ptr.add(4), ((header >> 2) as usize).saturating_sub(4))
            };
            decode_range_payload(std::slice::from_raw_parts(payload, total))
        }
    }
}

/// Bounds from a range payload (after the varlena header): rangetypid, bounds, flags.
fn decode_range_payload(payload: &[u8]) -> Option<(i64, i64)> {
    const EMPTY: u8 = 0x01;
    // a bound that is infinite (or NULL, unused) has no value stored
    const LB_INF: u8 = 0x08 | 0x20;
    const UB_INF: u8 = 0x10 | 0x40;
    let (&flags, body) = payload.split_last()?;
    if flags & EMPTY != 0 {
        return None;
    }
    let mut at = 4; // after rangetypid
    let mut next = || {
        let bytes: [u8; 8] = body.get(at..at + 8)?.try_into().ok()?;
        at += 8;
        Some(i64::from_ne_bytes(bytes))
    };
    let lower = if flags & LB_INF != 0 {
        i64::MIN
    } else {
        next()?
    };
    let upper = if flags & UB_INF != 0 {
        i64::MAX
    } else {
        next()?
    };
    Some((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::decode_range_payload;

    fn payload(bounds: &[i64], flags: u8) -> Vec<u8> {
        let mut p = 3910u32.to_ne_bytes().to_vec(); // tstzrange's oid
        for b in bounds {
            p.extend_from_slice(&b.to_ne_bytes());
        }
        p.push(flags);
        p
    }

    #[test]
    fn decodes_bounded_unbounded_and_empty_ranges() {
        assert_eq!(
            decode_range_payload(&payload(&[10, 20], 0x02)),
            Some((10, 20))
        );
        assert_eq!(
            decode_range_payload(&payload(&[10], 0x02 | 0x10)),
            Some((10, i64::MAX))
        );
        assert_eq!(
            decode_range_payload(&payload(&[20], 0x08)),
            Some((i64::MIN, 20))
        );
        assert_eq!(decode_range_payload(&payload(&[], 0x01)), None);
        // truncated: no panic, no value
        assert_eq!(decode_range_payload(&payload(&[10], 0x02)), None);
        assert_eq!(decode_range_payload(&[]), None);
    }
}
