//! Re-planning a table-holding booking when its party or the floor changes under it.
//! The state machine itself lives in sql/lifecycle.sql; these are the steps that plan.

use super::plan_booking;
use crate::error::{AutoassignError, Result};
use crate::postgres::booking::{self, BookingCtx};
use crate::postgres::floor_cache::{floor_for, CachedFloor};
use crate::postgres::{subxact, writes};
use crate::strategy::Strategy;
use autoassign_planner::check_seating;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use std::time::Instant;

/// The tables a booking holds from now on.
fn current_tables(ctx: &BookingCtx) -> Result<Vec<Uuid>> {
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in crate::postgres::stmt::select(
            client,
            "SELECT DISTINCT table_id FROM autoassign.allocations
              WHERE restaurant_id = $1 AND booking_id = $2 AND upper(during) > autoassign.clock_now()
              ORDER BY 1",
            None,
            &[ctx.restaurant_id.into(), ctx.booking_id.into()],
        )? {
            if let Some(t) = row.get::<Uuid>(1)? {
                out.push(t);
            }
        }
        Ok(out)
    })
}

/// `require_adjacency` of the strategy the booking was confirmed with (default true).
fn confirmed_with_adjacency(ctx: &BookingCtx) -> bool {
    ctx.last_result
        .as_ref()
        .and_then(|r| r.pointer("/strategy/require_adjacency"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true)
}

/// Why the booking's tables (from now on) no longer seat it, or None when they do.
/// Tables that left the floor count as a problem.
fn seating_problem(ctx: &BookingCtx, floor: &CachedFloor) -> Result<Option<&'static str>> {
    let tables = current_tables(ctx)?;
    if tables.is_empty() {
        return Ok(None); // nothing held from now on: nothing to strand
    }
    let Some(indices) = tables
        .iter()
        .map(|t| floor.table_index(*t))
        .collect::<Option<Vec<u32>>>()
    else {
        return Ok(Some("unknown_table"));
    };
    Ok(check_seating(
        &floor.floor,
        &indices,
        ctx.party,
        confirmed_with_adjacency(ctx),
    )
    .err()
    .map(|p| p.code()))
}

/// For the floor guards: why a table-holding booking's tables no longer seat it under
/// the floor as it is now in this transaction, or None.
pub fn plan_problem(booking_id: Uuid) -> Result<Option<&'static str>> {
    let Some(ctx) = booking::load(booking_id, false)? else {
        return Ok(None);
    };
    if !matches!(ctx.status.as_str(), "confirmed" | "seated") {
        return Ok(None);
    }
    let (floor, _) = floor_for(ctx.restaurant_id, ctx.floor_version, false)?;
    seating_problem(&ctx, &floor)
}

/// The check after a plan's allocations are in. They were inserted holding the tables'
/// advisory locks (`writes::insert_allocations`), which floor edits and retirements
/// take too, so anything that changed the floor meanwhile has committed, and the
/// INSERT (READ COMMITTED: a fresh snapshot) saw it in `seen`. When the floor version moved
/// since planning, the tables must still seat the party and not be retired before the
/// stay ends; else this raises 23P01, as a lost race does, inside the caller's
/// subtransaction, and the caller re-plans on the new floor.
pub(crate) fn revalidate(
    ctx: &BookingCtx,
    tables: &[Uuid],
    require_adjacency: bool,
    seen: &writes::FloorSeen,
) -> Result<()> {
    if seen.floor_version == ctx.floor_version && !seen.retired {
        return Ok(()); // nothing on the floor changed since the plan was made
    }
    let problem = if seen.retired {
        Some("retired_table")
    } else {
        let (floor, _) = floor_for(ctx.restaurant_id, seen.floor_version, false)?;
        match tables
            .iter()
            .map(|t| floor.table_index(*t))
            .collect::<Option<Vec<u32>>>()
        {
            None => Some("unknown_table"),
            Some(indices) => check_seating(&floor.floor, &indices, ctx.party, require_adjacency)
                .err()
                .map(|p| p.code()),
        }
    };
    if let Some(problem) = problem {
        pgrx::pg_sys::panic::ErrorReport::new(
            PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION,
            format!(
                "booking {}: the floor changed while planning ({problem})",
                ctx.booking_id
            ),
            "pg_autoassign",
        )
        .report(pgrx::PgLogLevel::ERROR);
    }
    Ok(())
}

/// Tries the run's plans in order, moving the booking onto the first one still free.
fn move_to_best(
    ctx: &BookingCtx,
    strategy: &Strategy,
    source: &str,
    why: &str,
) -> Result<Option<Vec<Uuid>>> {
    let run = plan_booking(ctx, strategy, source, Instant::now())?;
    for plan in &run.outcome.plans {
        let tables = run.floor.table_uuids(&plan.tables);
        let moved = subxact::try_in_subxact(&[PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION], || {
            let seen =
                writes::move_allocations(ctx.restaurant_id, ctx.booking_id, tables.clone(), why)?;
            revalidate(ctx, &tables, strategy.require_adjacency, &seen)
        });
        if let Ok(done) = moved {
            done?;
            return Ok(Some(tables));
        }
    }
    Ok(None)
}

/// A party-size change on a confirmed or seated booking (the bookings_lifecycle
/// trigger calls this after the row changed): keep the tables if they still seat the
/// party, else move a confirmed booking to the best free plan, else refuse with 23514.
/// Seated bookings never move. Returns "kept" or "moved".
pub fn replan_party(booking_id: Uuid, source: &str) -> Result<&'static str> {
    let Some(ctx) = booking::load(booking_id, false)? else {
        return Ok("kept");
    };
    // the tables' advisory locks first (as floor edits take them), then the booking and
    // its restaurant's floor version read again: a capacity cut that committed while we
    // waited is seen, and one that comes later waits for us and sees the new party
    writes::lock_tables(&current_tables(&ctx)?)?;
    let Some(ctx) = booking::load(booking_id, false)? else {
        return Ok("kept");
    };
    let (floor, _) = floor_for(ctx.restaurant_id, ctx.floor_version, false)?;
    let Some(problem) = seating_problem(&ctx, &floor)? else {
        return Ok("kept");
    };
    if ctx.status == "seated" {
        return Err(AutoassignError::PartyDoesNotFit {
            booking: booking_id.to_string(),
            party: ctx.party,
            detail: format!("{problem}; a seated booking never moves"),
        });
    }
    let strategy = Strategy {
        require_adjacency: confirmed_with_adjacency(&ctx),
        ..Strategy::default()
    };
    match move_to_best(&ctx, &strategy, source, "party_size_changed")? {
        Some(_) => Ok("moved"),
        None => Err(AutoassignError::PartyDoesNotFit {
            booking: booking_id.to_string(),
            party: ctx.party,
            detail: format!("{problem}, and no other free plan for the stay"),
        }),
    }
}

/// One booking `retire_table` dealt with.
pub struct Retired {
    pub booking_id: Uuid,
    pub action: &'static str,
    pub table_ids: Option<Vec<Uuid>>,
}

/// Takes a table out of service from `from` (clamped to now): every confirmed booking
/// holding it after that is re-planned onto other tables in this transaction, or, when
/// none is free, goes back to pending, is queued with reason table_retired and the
/// restaurant gets a tables_lost outbox message. Refused (23514) while a seated party
/// holds it. Then `tables.retired_from` is set; the planner treats the table as busy
/// from then on.
pub fn retire_table(
    table_id: Uuid,
    from: TimestampWithTimeZone,
    source: &str,
) -> Result<Vec<Retired>> {
    crate::postgres::standby::refuse_writes("autoassign_retire_table");
    // the table's advisory lock first, the one confirm takes before it inserts on this
    // table: a confirm that got there first has committed when we look for the bookings
    // holding it, and one that comes later waits and then sees retired_from
    writes::lock_tables(&[table_id])?;
    let found = Spi::connect_mut(|client| {
        let rows = crate::postgres::stmt::update(
            client,
            "SELECT t.restaurant_id FROM autoassign.tables t WHERE t.id = $1 FOR UPDATE",
            Some(1),
            &[table_id.into()],
        )?;
        let restaurant = crate::postgres::stmt::first_col::<Uuid>(rows, 1)?;
        Ok::<_, AutoassignError>(restaurant)
    })?;
    let from = Spi::connect(|client| {
        let rows = crate::postgres::stmt::select(
            client,
            "SELECT greatest($1, autoassign.clock_now())",
            Some(1),
            &[from.into()],
        )?;
        Ok::<_, AutoassignError>(crate::postgres::stmt::first_col::<TimestampWithTimeZone>(
            rows, 1,
        )?)
    })?;
    let (Some(restaurant), Some(from)) = (found, from) else {
        return Err(AutoassignError::TableNotFound(table_id.to_string()));
    };
    if !crate::postgres::security::may_act_for(restaurant)? {
        return Err(AutoassignError::TableNotFound(table_id.to_string()));
    }
    let affected: Vec<(Uuid, String)> = Spi::connect(|client| {
        let mut out = Vec::new();
        for row in crate::postgres::stmt::select(
            client,
            "SELECT b.id, b.status FROM autoassign.bookings b
              WHERE b.restaurant_id = $1 AND b.status IN ('confirmed', 'seated')
                AND b.id IN (SELECT a.booking_id FROM autoassign.allocations a
                              WHERE a.restaurant_id = $1 AND a.table_id = $2 AND upper(a.during) > $3)
              ORDER BY b.start_at, b.id",
            None,
            &[restaurant.into(), table_id.into(), from.into()],
        )? {
            if let (Some(id), Some(status)) = (row.get::<Uuid>(1)?, row.get::<String>(2)?) {
                out.push((id, status));
            }
        }
        Ok::<_, AutoassignError>(out)
    })?;
    if let Some((seated, _)) = affected.iter().find(|(_, s)| s == "seated") {
        return Err(AutoassignError::TableInUse {
            table: table_id.to_string(),
            booking: seated.to_string(),
        });
    }
    let mut done = Vec::new();
    for (booking_id, _) in affected {
        let Some(ctx) = booking::load(booking_id, true)? else {
            continue;
        };
        let strategy = Strategy {
            require_adjacency: confirmed_with_adjacency(&ctx),
            avoid_tables: vec![table_id],
            ..Strategy::default()
        };
        match move_to_best(&ctx, &strategy, source, "table_retired")? {
            Some(tables) => done.push(Retired {
                booking_id,
                action: "moved",
                table_ids: Some(tables),
            }),
            None => {
                writes::unassign(restaurant, booking_id, "table_retired", source)?;
                done.push(Retired {
                    booking_id,
                    action: "unassigned",
                    table_ids: None,
                });
            }
        }
    }
    Spi::connect_mut(|client| {
        crate::postgres::stmt::update(
            client,
            "UPDATE autoassign.tables SET retired_from = $3 WHERE restaurant_id = $1 AND id = $2",
            None,
            &[restaurant.into(), table_id.into(), from.into()],
        )?;
        Ok::<_, AutoassignError>(())
    })?;
    Ok(done)
}
