//! The writes of confirm, cancel and holds. Each is one statement with bound values;
//! stay windows are computed in SQL from the booking row, never rebuilt in Rust.

use crate::error::Result;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::Value;

/// One allocation per table for the booking's stay. Raises 23P01 (exclusion violation)
/// when another transaction holds an overlapping allocation.
///
/// Two transactions inserting overlapping rows under an exclusion constraint both insert
/// first and then wait for each other: a deadlock, found only after deadlock_timeout.
/// Taking a transaction advisory lock per table first, in one global order, makes the
/// second wait for the first to finish and then fail fast with 23P01. Called inside a
/// subtransaction, so a lost attempt releases its locks.
pub fn insert_allocations(booking: Uuid, tables: Vec<Uuid>) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "SELECT pg_advisory_xact_lock(hashtext('pg_autoassign.table'), k)
               FROM (SELECT DISTINCT hashtext(t::text) AS k FROM unnest($1::uuid[]) AS t
                      ORDER BY 1 OFFSET 0) AS keys",
            None,
            &[tables.clone().into()],
        )?;
        super::stmt::update(
            client,
            "INSERT INTO autoassign.allocations (restaurant_id, booking_id, table_id, during)
             SELECT b.restaurant_id, b.id, t.id, autoassign.stay_range(b, r)
               FROM autoassign.bookings b
               JOIN autoassign.restaurants r ON r.id = b.restaurant_id
               CROSS JOIN unnest($2::uuid[]) AS t(id)
              WHERE b.id = $1",
            None,
            &[booking.into(), tables.into()],
        )?;
        Ok(())
    })
}

pub fn mark_confirmed(booking: Uuid, last_result: Value) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "UPDATE autoassign.bookings
                SET status = 'confirmed', updated_at = now(),
                    auto_assign_last_result = $2 || jsonb_build_object('at', autoassign.clock_now())
              WHERE id = $1",
            None,
            &[booking.into(), JsonB(last_result).into()],
        )?;
        release_holds(client, booking)?;
        Ok(())
    })
}

pub fn set_last_result(booking: Uuid, last_result: Value) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(client,
            "UPDATE autoassign.bookings
                SET auto_assign_last_result = $2 || jsonb_build_object('at', autoassign.clock_now()),
                    updated_at = now()
              WHERE id = $1",
            None,
            &[booking.into(), JsonB(last_result).into()],
        )?;
        Ok(())
    })
}

/// Enqueues the confirmation message; returns false when the booking already had one.
pub fn enqueue_confirmation(restaurant: Uuid, booking: Uuid, payload: Value) -> Result<bool> {
    Spi::connect_mut(|client| {
        let inserted = super::stmt::update(
            client,
            "INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
             VALUES ($1, $2, 'booking_confirmed', $3)
             ON CONFLICT (restaurant_id, booking_id, kind) DO NOTHING
             RETURNING id",
            None,
            &[restaurant.into(), booking.into(), JsonB(payload).into()],
        )?;
        Ok(!inserted.is_empty())
    })
}

/// Replaces the booking's holds with a hold on `tables` for `seconds`.
pub fn place_hold(booking: Uuid, tables: Vec<Uuid>, seconds: i32) -> Result<()> {
    Spi::connect_mut(|client| {
        release_holds(client, booking)?;
        super::stmt::update(
            client,
            "INSERT INTO autoassign.holds (restaurant_id, booking_id, table_id, during, expires_at)
             SELECT b.restaurant_id, b.id, t.id, autoassign.stay_range(b, r),
                    autoassign.clock_now() + make_interval(secs => $3)
               FROM autoassign.bookings b
               JOIN autoassign.restaurants r ON r.id = b.restaurant_id
               CROSS JOIN unnest($2::uuid[]) AS t(id)
              WHERE b.id = $1",
            None,
            &[booking.into(), tables.into(), (seconds as f64).into()],
        )?;
        Ok(())
    })
}

/// The tables of the booking's live hold, if it has one.
pub fn live_hold(booking: Uuid) -> Result<Vec<Uuid>> {
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in super::stmt::select(
            client,
            "SELECT table_id FROM autoassign.holds
              WHERE booking_id = $1 AND expires_at > autoassign.clock_now()
              ORDER BY table_id",
            None,
            &[booking.into()],
        )? {
            if let Some(t) = row.get::<Uuid>(1)? {
                out.push(t);
            }
        }
        Ok(out)
    })
}

/// Frees the booking's tables and marks it cancelled; returns how many tables were freed.
pub fn cancel(booking: Uuid) -> Result<i64> {
    Spi::connect_mut(|client| {
        let freed = super::stmt::update(
            client,
            "DELETE FROM autoassign.allocations WHERE booking_id = $1 RETURNING table_id",
            None,
            &[booking.into()],
        )?;
        let freed = freed.len() as i64;
        release_holds(client, booking)?;
        super::stmt::update(
            client,
            "UPDATE autoassign.bookings SET status = 'cancelled', updated_at = now() WHERE id = $1",
            None,
            &[booking.into()],
        )?;
        Ok(freed)
    })
}

/// Counts a failed confirm against its retry class and schedules the next sweep attempt,
/// or writes the summary now when the failure settles the booking (see sweep.sql).
pub fn note_failure(booking: Uuid, reason: &str, class: &str, source: &str) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "SELECT autoassign.retry_after_failure($1, $2, $3, $4)",
            None,
            &[booking.into(), reason.into(), class.into(), source.into()],
        )?;
        Ok(())
    })
}

/// Drops the booking's holds (confirmed, cancelled, or replaced by a new hold).
fn release_holds(client: &mut pgrx::spi::SpiClient<'_>, booking: Uuid) -> Result<()> {
    super::stmt::update(
        client,
        "DELETE FROM autoassign.holds WHERE booking_id = $1",
        None,
        &[booking.into()],
    )?;
    Ok(())
}
