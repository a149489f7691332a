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

/// Runs `work` with `autoassign.caller` set to `source`, so the lifecycle trigger names
/// the caller in its events; reset afterwards (a later plain UPDATE is source `sql`).
fn as_caller<R>(
    client: &mut pgrx::spi::SpiClient<'_>,
    source: &str,
    work: impl FnOnce(&mut pgrx::spi::SpiClient<'_>) -> Result<R>,
) -> Result<R> {
    let set = "SELECT set_config('autoassign.caller', $1, true)";
    super::stmt::update(client, set, None, &[source.into()])?;
    let out = work(client)?;
    super::stmt::update(client, set, None, &["".into()])?;
    Ok(out)
}

/// pending -> confirmed with the plan's last result. The allocations are already in;
/// the lifecycle trigger settles the outcome, writes the summary and the one
/// booking_confirmed message, drops holds and the queue row.
pub fn mark_confirmed(
    restaurant: Uuid,
    booking: Uuid,
    last_result: Value,
    source: &str,
) -> Result<()> {
    Spi::connect_mut(|client| {
        as_caller(client, source, |client| {
            super::stmt::update(
                client,
                "UPDATE autoassign.bookings
                    SET status = 'confirmed',
                        auto_assign_last_result = $3 || jsonb_build_object('at', autoassign.clock_now())
                  WHERE restaurant_id = $1 AND id = $2",
                None,
                &[restaurant.into(), booking.into(), JsonB(last_result).into()],
            )?;
            Ok(())
        })
    })
}

/// Whether the booking already has its booking_confirmed message (a repeat confirm,
/// after an un-assign, does not send a second one).
pub fn confirmation_sent(restaurant: Uuid, booking: Uuid) -> Result<bool> {
    Spi::connect(|client| {
        let rows = super::stmt::select(
            client,
            "SELECT 1 FROM autoassign.outbox
              WHERE restaurant_id = $1 AND booking_id = $2 AND kind = 'booking_confirmed'",
            Some(1),
            &[restaurant.into(), booking.into()],
        )?;
        Ok(!rows.is_empty())
    })
}

pub fn set_last_result(restaurant: Uuid, booking: Uuid, last_result: Value) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "UPDATE autoassign.bookings
                SET auto_assign_last_result = $3 || jsonb_build_object('at', autoassign.clock_now())
              WHERE restaurant_id = $1 AND id = $2",
            None,
            &[restaurant.into(), booking.into(), JsonB(last_result).into()],
        )?;
        Ok(())
    })
}

/// Settles a pending booking's outcome (gave_up or cutoff) by the guarded update that
/// makes the summary exactly-once: returns false when it was already settled. `settle`
/// (why, attempts by class) is kept in auto_assign_last_result and the summary.
pub fn settle(
    restaurant: Uuid,
    booking: Uuid,
    outcome: &str,
    settle: Value,
    source: &str,
) -> Result<bool> {
    Spi::connect_mut(|client| {
        as_caller(client, source, |client| {
            let rows = super::stmt::update(
                client,
                "UPDATE autoassign.bookings
                    SET auto_assign_outcome = $3,
                        auto_assign_last_result = coalesce(auto_assign_last_result, '{}')
                                                  || jsonb_build_object('settle', $4::jsonb)
                  WHERE restaurant_id = $1 AND id = $2 AND status = 'pending'
                    AND auto_assign_outcome IS NULL
                 RETURNING 1",
                None,
                &[
                    restaurant.into(),
                    booking.into(),
                    outcome.into(),
                    JsonB(settle).into(),
                ],
            )?;
            Ok(!rows.is_empty())
        })
    })
}

/// Sets a new status through the state machine (the lifecycle trigger releases tables,
/// settles, queues); returns how many tables it freed from now on.
pub fn set_status(restaurant: Uuid, booking: Uuid, status: &str, source: &str) -> Result<i64> {
    Spi::connect_mut(|client| {
        as_caller(client, source, |client| {
            let freed = super::stmt::update(
                client,
                "SELECT count(*) FROM autoassign.allocations
                  WHERE restaurant_id = $1 AND booking_id = $2 AND upper(during) > autoassign.clock_now()",
                None,
                &[restaurant.into(), booking.into()],
            )?
            .first()
            .get_one::<i64>()?
            .unwrap_or(0);
            super::stmt::update(
                client,
                "UPDATE autoassign.bookings SET status = $3 WHERE restaurant_id = $1 AND id = $2",
                None,
                &[restaurant.into(), booking.into(), status.into()],
            )?;
            Ok(freed)
        })
    })
}

/// confirmed -> pending for a booking whose tables were taken away (a retired table
/// with no free alternative): the lifecycle trigger releases its tables and queues it,
/// the queue row records `reason`, and the restaurant gets a tables_lost message.
pub fn unassign(restaurant: Uuid, booking: Uuid, reason: &str, source: &str) -> Result<()> {
    set_status(restaurant, booking, "pending", source)?;
    Spi::connect_mut(|client| {
        let args = [restaurant.into(), booking.into(), reason.into()];
        super::stmt::update(
            client,
            "UPDATE autoassign.retry_queue SET last_reason = $3
              WHERE restaurant_id = $1 AND booking_id = $2",
            None,
            &args,
        )?;
        super::stmt::update(
            client,
            "INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
             VALUES ($1, $2, 'tables_lost', jsonb_build_object('booking_id', $2, 'reason', $3::text))",
            None,
            &args,
        )?;
        Ok(())
    })
}

/// Moves a table-holding booking from its current tables (from now on) to `tables`,
/// and tells the host stand (outbox tables_changed). Raises 23P01 when one of the new
/// tables was taken meanwhile; callers run it in a subtransaction.
pub fn move_allocations(
    restaurant: Uuid,
    booking: Uuid,
    tables: Vec<Uuid>,
    why: &str,
) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "DELETE FROM autoassign.allocations
              WHERE restaurant_id = $1 AND booking_id = $2 AND upper(during) > autoassign.clock_now()",
            None,
            &[restaurant.into(), booking.into()],
        )?;
        Ok::<_, crate::error::AutoassignError>(())
    })?;
    insert_allocations(booking, tables.clone())?;
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
             VALUES ($1, $2, 'tables_changed',
                     jsonb_build_object('booking_id', $2, 'table_ids', to_jsonb($3::uuid[]), 'why', $4::text))",
            None,
            &[restaurant.into(), booking.into(), tables.into(), why.into()],
        )?;
        Ok(())
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
