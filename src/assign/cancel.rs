//! `autoassign_cancel`: free the tables, mark cancelled, write the summary once.

use super::confirm::next_attempt;
use crate::error::Result;
use crate::postgres::booking;
use crate::postgres::{events, writes};
use crate::reason::Reason;
use pgrx::Uuid;
use serde_json::{json, Value};

pub struct CancelResult {
    pub ok: bool,
    pub reason: Option<Reason>,
    pub status: Option<String>,
    pub tables_freed: i64,
}

/// Frees the tables and marks the booking cancelled. Idempotent: cancelling a
/// cancelled booking changes nothing and reports success.
pub fn cancel(booking_id: Uuid, source: &str) -> Result<CancelResult> {
    let Some(ctx) = booking::load(booking_id, true)? else {
        return Ok(CancelResult {
            ok: false,
            reason: Some(Reason::BookingNotFound),
            status: None,
            tables_freed: 0,
        });
    };
    match ctx.status.as_str() {
        "cancelled" => {
            return Ok(CancelResult {
                ok: true,
                reason: None,
                status: Some(ctx.status),
                tables_freed: 0,
            })
        }
        "pending" | "confirmed" => {}
        _ => {
            return Ok(CancelResult {
                ok: false,
                reason: Some(Reason::BookingNotPending),
                status: Some(ctx.status),
                tables_freed: 0,
            })
        }
    }
    let tables_freed = writes::cancel(booking_id)?;
    // A booking that never reached an outcome gets its one summary now.
    events::summary(
        ctx.restaurant_id,
        booking_id,
        source,
        "cancelled",
        ctx.last_result
            .as_ref()
            .and_then(|r| r.get("reason"))
            .and_then(Value::as_str),
        next_attempt(&ctx) - 1,
        json!({"tables_freed": tables_freed, "previous_status": ctx.status}),
    )?;
    Ok(CancelResult {
        ok: true,
        reason: None,
        status: Some("cancelled".into()),
        tables_freed,
    })
}
