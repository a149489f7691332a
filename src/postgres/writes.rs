//! The writes of confirm, cancel and holds. Each is one statement with bound values;
//! stay windows are computed in SQL from the booking row, never rebuilt in Rust.

use super::jsonb_out::JsonbOut;
use crate::error::Result;
use pgrx::prelude::*;
use pgrx::Uuid;
use serde_json::Value;

/// Takes the tables' transaction advisory locks in one global order
/// (`autoassign.lock_tables`, sql/lifecycle.sql): the locks confirm, floor edits,
/// retirements and stay moves all take, so they serialise per table.
pub fn lock_tables(tables: &[Uuid]) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "SELECT autoassign.lock_tables($1)",
            None,
            &[tables.to_vec().into()],
        )?;
        Ok(())
    })
}

/// The floor as the allocation INSERT saw it: the restaurant's floor version, and
/// whether a table is retired before the stay ends.
pub struct FloorSeen {
    pub floor_version: i64,
    pub retired: bool,
}

/// One allocation per table for the booking's stay. Raises 23P01 (exclusion violation)
/// when another transaction holds an overlapping allocation.
///
/// Two transactions inserting overlapping rows under an exclusion constraint both insert
/// first and then wait for each other: a deadlock, found only after deadlock_timeout.
/// Taking a transaction advisory lock per table first, in one global order, makes the
/// second wait for the first to finish and then fail fast with 23P01. Floor edits and
/// retirements take the same locks. Called inside a subtransaction, so a lost attempt
/// releases its locks. Returns the floor as the INSERT saw it (a statement after the
/// locks: READ COMMITTED sees what committed while we waited), for the caller to check
/// its plan against.
pub fn insert_allocations(booking: Uuid, tables: Vec<Uuid>) -> Result<FloorSeen> {
    lock_tables(&tables)?;
    Spi::connect_mut(|client| {
        let rows = super::stmt::update(
            client,
            "INSERT INTO autoassign.allocations AS a (restaurant_id, booking_id, table_id, during)
             SELECT b.restaurant_id, b.id, t.id, autoassign.stay_range(b, r)
               FROM autoassign.bookings b
               JOIN autoassign.restaurants r ON r.id = b.restaurant_id
               CROSS JOIN unnest($2::uuid[]) AS t(id)
              WHERE b.id = $1
             RETURNING (SELECT r.floor_version FROM autoassign.restaurants r WHERE r.id = a.restaurant_id),
                       EXISTS (SELECT 1 FROM autoassign.tables t
                                WHERE t.restaurant_id = a.restaurant_id AND t.id = a.table_id
                                  AND t.retired_from < upper(a.during))",
            None,
            &[booking.into(), tables.into()],
        )?;
        let mut seen = FloorSeen {
            floor_version: 0,
            retired: false,
        };
        for row in rows {
            seen.floor_version = seen.floor_version.max(row.get::<i64>(1)?.unwrap_or(0));
            seen.retired |= row.get::<bool>(2)?.unwrap_or(false);
        }
        Ok(seen)
    })
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
    // autoassign.caller names the caller in the trigger's events; set in the same
    // statement (before any row changes) and reset by the trigger
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "UPDATE autoassign.bookings b
                SET status = 'confirmed',
                    auto_assign_last_result = $3 || jsonb_build_object('at', autoassign.clock_now())
               FROM (SELECT set_config('autoassign.caller', $4, true)) AS caller
              WHERE b.restaurant_id = $1 AND b.id = $2",
            None,
            &[
                restaurant.into(),
                booking.into(),
                JsonbOut::new(&last_result).into(),
                source.into(),
            ],
        )?;
        Ok(())
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
            &[
                restaurant.into(),
                booking.into(),
                JsonbOut::new(&last_result).into(),
            ],
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
        let rows = super::stmt::update(
            client,
            "UPDATE autoassign.bookings b
                SET auto_assign_outcome = $3,
                    auto_assign_last_result = coalesce(b.auto_assign_last_result, '{}')
                                              || jsonb_build_object('settle', $4::jsonb)
               FROM (SELECT set_config('autoassign.caller', $5, true)) AS caller
              WHERE b.restaurant_id = $1 AND b.id = $2 AND b.status = 'pending'
                AND b.auto_assign_outcome IS NULL
             RETURNING 1",
            None,
            &[
                restaurant.into(),
                booking.into(),
                outcome.into(),
                JsonbOut::new(&settle).into(),
                source.into(),
            ],
        )?;
        if rows.is_empty() {
            // already settled: no trigger ran to reset the caller
            super::stmt::update(
                client,
                "SELECT set_config('autoassign.caller', '', true)",
                None,
                &[],
            )?;
            return Ok(false);
        }
        Ok(true)
    })
}

/// Sets a new status through the state machine (the lifecycle trigger releases tables,
/// settles, queues); returns how many tables it freed from now on.
pub fn set_status(restaurant: Uuid, booking: Uuid, status: &str, source: &str) -> Result<i64> {
    Spi::connect_mut(|client| {
        let freed = super::stmt::update(
            client,
            "UPDATE autoassign.bookings b SET status = $3
               FROM (SELECT set_config('autoassign.caller', $4, true),
                            (SELECT count(*) FROM autoassign.allocations a
                              WHERE a.restaurant_id = $1 AND a.booking_id = $2
                                AND upper(a.during) > autoassign.clock_now()) AS freed) AS x
              WHERE b.restaurant_id = $1 AND b.id = $2
             RETURNING x.freed",
            None,
            &[
                restaurant.into(),
                booking.into(),
                status.into(),
                source.into(),
            ],
        )?;
        Ok(super::stmt::first_col::<i64>(freed, 1)?.unwrap_or(0))
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
) -> Result<FloorSeen> {
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
    let seen = insert_allocations(booking, tables.clone())?;
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
             VALUES ($1, $2, 'tables_changed',
                     jsonb_build_object('booking_id', $2, 'table_ids', to_jsonb($3::uuid[]), 'why', $4::text))",
            None,
            &[restaurant.into(), booking.into(), tables.into(), why.into()],
        )?;
        Ok::<_, crate::error::AutoassignError>(())
    })?;
    Ok(seen)
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

/// Drops the booking's holds before a new hold replaces them (the lifecycle trigger drops
/// them when the booking leaves pending, settles or changes).
fn release_holds(client: &mut pgrx::spi::SpiClient<'_>, booking: Uuid) -> Result<()> {
    super::stmt::update(
        client,
        "DELETE FROM autoassign.holds WHERE booking_id = $1",
        None,
        &[booking.into()],
    )?;
    Ok(())
}
