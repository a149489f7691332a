//! `autoassign_cancel`: the same status change a plain `UPDATE ... SET status =
//! 'cancelled'` makes. The lifecycle trigger releases the tables from now on, wakes
//! overlapping waiting bookings, settles the outcome and removes the queue row.

use crate::error::Result;
use crate::postgres::{booking, writes};
use crate::reason::Reason;
use pgrx::Uuid;

pub struct CancelResult {
    pub ok: bool,
    pub reason: Option<Reason>,
    pub status: Option<String>,
    pub tables_freed: i64,
}

/// Cancels a pending or confirmed booking. Idempotent: cancelling a cancelled booking
/// changes nothing and reports success. Seated, completed and no-show bookings are
/// refused with reason booking_not_pending (see autoassign.booking_transitions).
pub fn cancel(booking_id: Uuid, source: &str) -> Result<CancelResult> {
    crate::postgres::standby::refuse_writes("autoassign_cancel");
    let Some(ctx) = booking::load(booking_id, true)? else {
        return Ok(CancelResult {
            ok: false,
            reason: Some(Reason::BookingNotFound),
            status: None,
            tables_freed: 0,
        });
    };
    let refuse = |ok: bool, reason: Option<Reason>| CancelResult {
        ok,
        reason,
        status: Some(ctx.status.clone()),
        tables_freed: 0,
    };
    match ctx.status.as_str() {
        "cancelled" => return Ok(refuse(true, None)),
        "pending" | "confirmed" => {}
        _ => return Ok(refuse(false, Some(Reason::BookingNotPending))),
    }
    let tables_freed = writes::set_status(ctx.restaurant_id, booking_id, "cancelled", source)?;
    Ok(CancelResult {
        ok: true,
        reason: None,
        status: Some("cancelled".into()),
        tables_freed,
    })
}
