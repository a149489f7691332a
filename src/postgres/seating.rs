//! SPI glue of re-assignment (issue 13): the state around a stay split into what may
//! move and what may not, the party-size mix, and the writes that move bookings.
//! Movability has one definition, `autoassign.booking_movable` (sql/seating.sql).

use super::booking::BookingCtx;
use super::floor_cache::CachedFloor;
use super::jsonb_out::JsonbOut;
use super::{micros_ts, ts_micros};
use crate::error::{AutoassignError, Result};
use autoassign_planner::reassign::Movable;
use autoassign_planner::Busy;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, Uuid};
use serde_json::json;
use smallvec::SmallVec;
use std::collections::HashMap;

/// A movable booking with its id.
pub struct MovableRow {
    pub booking_id: Uuid,
    pub movable: Movable,
}

/// What one [`state`] load saw over [start_us, end_us).
pub struct State {
    /// What never moves: seated, pinned, frozen bookings' allocations, live holds of
    /// other bookings, retired tables.
    pub fixed: Vec<Busy>,
    /// The movable bookings, in (start, id) order.
    pub movable: Vec<MovableRow>,
    /// Every row as a busy interval (fixed and movable allocations alike): what
    /// `busy::busy` returns for the same window and booking, so the alternatives of a
    /// refusal can plan on it without loading again.
    pub busy: Vec<Busy>,
}

/// What never moves and the movable bookings ([`State`]), overlapping
/// [start_us, end_us), the booking `exclude` left out. `longest_us` is the longest stay
/// with turnover a booking of the restaurant can have (`BookingCtx::longest_stay_us`):
/// every booking holding a table in the window starts at most that long before it.
///
/// Two single-table queries, joined here by booking id: the busy rows (allocations,
/// live holds, retired tables: ~350 on a 120-table floor over an evening) and the
/// movable bookings starting in the window (`autoassign.booking_movable`, one
/// definition). An allocation whose booking is not among them never moves. No join
/// for the planner to get wrong: with one, statistics that predate a restaurant's
/// bookings (a new restaurant before autovacuum analyzes) led to a nested loop that
/// re-scanned the restaurant's bookings per allocation, 10-30 ms instead of about 1 ms
/// (bench/seating_busy.sql, seeds 2 and 3).
pub fn state(
    floor: &CachedFloor,
    restaurant: Uuid,
    exclude: Uuid,
    start_us: i64,
    end_us: i64,
    longest_us: i64,
) -> Result<State> {
    let rows_query = "SELECT a.table_id, lower(a.during), upper(a.during), a.booking_id
           FROM autoassign.allocations a
          WHERE a.restaurant_id = $1 AND a.during && tstzrange($2, $3) AND a.booking_id <> $4
         UNION ALL
         SELECT h.table_id, lower(h.during), upper(h.during), NULL
           FROM autoassign.holds h
          WHERE h.restaurant_id = $1 AND h.during && tstzrange($2, $3)
            AND h.expires_at > autoassign.clock_now() AND h.booking_id <> $4
         UNION ALL
         SELECT t.id, t.retired_from, 'infinity'::timestamptz, NULL
           FROM autoassign.tables t
          WHERE t.restaurant_id = $1 AND t.retired_from < $3";
    // the restaurant's freeze window is read once (an initplan), not joined per row
    let movable_query = "SELECT b.id, b.party_size, b.zone_id
           FROM autoassign.bookings b
          WHERE b.restaurant_id = $1 AND b.start_at >= $2 AND b.start_at < $3 AND b.id <> $4
            AND autoassign.booking_movable(b.status, b.pinned, b.start_at,
                    (SELECT r.freeze_minutes FROM autoassign.restaurants r WHERE r.id = $1))";
    let args = [
        restaurant.into(),
        micros_ts(start_us).into(),
        micros_ts(end_us).into(),
        exclude.into(),
    ];
    let movable_args = [
        restaurant.into(),
        micros_ts(start_us.saturating_sub(longest_us)).into(),
        micros_ts(end_us).into(),
        exclude.into(),
    ];
    Spi::connect(|client| {
        // movable booking id -> (party, requested zone)
        let mut who: HashMap<Uuid, (i32, Option<u32>)> = HashMap::new();
        for row in super::stmt::select(client, movable_query, None, &movable_args)? {
            if let Some(id) = row.get::<Uuid>(1)? {
                let party = row.get::<i32>(2)?.unwrap_or(1);
                let zone = row.get::<Uuid>(3)?.and_then(|z| floor.zone_index(z));
                who.insert(id, (party, zone));
            }
        }
        let mut fixed = Vec::new();
        let mut movable: Vec<MovableRow> = Vec::new();
        // booking id -> index in `movable` (a booking on a combination has one row per table)
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        let rows = super::stmt::select(client, rows_query, None, &args)?;
        let mut busy = Vec::with_capacity(rows.len());
        for row in rows {
            let (Some(table), Some(start), Some(end)) = (
                row.get::<Uuid>(1)?,
                row.get::<TimestampWithTimeZone>(2)?,
                row.get::<TimestampWithTimeZone>(3)?,
            ) else {
                continue;
            };
            let Some(table) = floor.table_index(table) else {
                continue;
            };
            let (start, end) = (ts_micros(start), ts_micros(end));
            busy.push(Busy { table, start, end });
            let booking = row
                .get::<Uuid>(4)?
                .and_then(|id| who.get(&id).map(|w| (id, *w)));
            match booking {
                Some((id, (party, zone))) => {
                    match index.get(&id).and_then(|&i| movable.get_mut(i)) {
                        Some(m) => {
                            m.movable.tables.push(table);
                            m.movable.tables.sort_unstable();
                            m.movable.start = m.movable.start.min(start);
                            m.movable.end = m.movable.end.max(end);
                        }
                        None => {
                            index.insert(id, movable.len());
                            movable.push(MovableRow {
                                booking_id: id,
                                movable: Movable {
                                    party,
                                    start,
                                    end,
                                    tables: SmallVec::from_slice(&[table]),
                                    requested_zone: zone,
                                },
                            });
                        }
                    }
                }
                None => fixed.push(Busy { table, start, end }),
            }
        }
        movable.sort_by_key(|m| (m.movable.start, m.booking_id));
        Ok(State {
            fixed,
            movable,
            busy,
        })
    })
}

/// The restaurant's bookings with tables in the last 90 days by party size
/// (`autoassign.party_mix`).
pub fn party_counts(restaurant: Uuid) -> Result<Vec<(i32, i64)>> {
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in super::stmt::select(
            client,
            "SELECT party_size, bookings FROM autoassign.party_mix($1)",
            None,
            &[restaurant.into()],
        )? {
            if let (Some(p), Some(n)) = (row.get::<i32>(1)?, row.get::<i64>(2)?) {
                out.push((p, n));
            }
        }
        Ok(out)
    })
}

/// One booking to move: from its tables to new ones.
pub struct MoveRow {
    pub booking_id: Uuid,
    pub from: Vec<Uuid>,
    pub to: Vec<Uuid>,
}

pub fn lost_race(msg: String) -> ! {
    // reported as an exclusion violation, as a lost race is: the caller's
    // subtransaction rolls back and the confirm answers conflict
    pgrx::pg_sys::panic::ErrorReport::new(
        PgSqlErrorCode::ERRCODE_EXCLUSION_VIOLATION,
        msg,
        "pg_autoassign",
    )
    .report(pgrx::PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// Moves `moves` in the caller's (sub)transaction: locks the moved bookings' rows and
/// re-checks that each is still movable, takes every touched table's advisory lock in
/// one `autoassign.lock_tables` call (the one global order), deletes the moved
/// bookings' allocations, inserts their new ones, and writes one tables_changed
/// outbox message and one booking.lifecycle event per moved booking. Raises 23P01
/// when a booking changed meanwhile or a table was taken (run it in a
/// subtransaction). `extra_tables` are locked too (the booking being confirmed).
/// Returns the restaurant's floor version as the inserts saw it.
pub fn apply_moves(
    restaurant: Uuid,
    moves: &[MoveRow],
    extra_tables: &[Uuid],
    for_booking: Uuid,
    why: &str,
    source: &str,
) -> Result<i64> {
    if moves.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = moves.iter().map(|m| m.booking_id).collect();
    let n_ok = Spi::connect_mut(|client| {
        let rows = super::stmt::update(
            client,
            "SELECT b.id FROM autoassign.bookings b
               JOIN autoassign.restaurants r ON r.id = b.restaurant_id
              WHERE b.restaurant_id = $1 AND b.id = ANY($2)
                AND autoassign.booking_movable(b.status, b.pinned, b.start_at, r.freeze_minutes)
              ORDER BY b.id
                FOR UPDATE OF b",
            None,
            &[restaurant.into(), ids.clone().into()],
        )?;
        Ok::<_, AutoassignError>(rows.len())
    })?;
    if n_ok != moves.len() {
        lost_race(format!(
            "re-assignment for booking {for_booking}: a booking to move changed meanwhile"
        ));
    }
    let mut all: Vec<Uuid> = extra_tables.to_vec();
    for m in moves {
        all.extend(m.from.iter().copied());
        all.extend(m.to.iter().copied());
    }
    super::writes::lock_tables(&all)?;
    let mut version = 0i64;
    Spi::connect_mut(|client| {
        for m in moves {
            let gone = super::stmt::update(
                client,
                "DELETE FROM autoassign.allocations
                  WHERE restaurant_id = $1 AND booking_id = $2 AND table_id = ANY($3)
                    AND upper(during) > autoassign.clock_now()
                 RETURNING 1",
                None,
                &[
                    restaurant.into(),
                    m.booking_id.into(),
                    m.from.clone().into(),
                ],
            )?;
            if gone.len() != m.from.len() {
                lost_race(format!(
                    "re-assignment for booking {for_booking}: booking {} no longer holds the tables it was planned from",
                    m.booking_id
                ));
            }
        }
        for m in moves {
            let rows = super::stmt::update(
                client,
                "INSERT INTO autoassign.allocations AS a (restaurant_id, booking_id, table_id, during)
                 SELECT b.restaurant_id, b.id, t.id, autoassign.stay_range(b, r)
                   FROM autoassign.bookings b
                   JOIN autoassign.restaurants r ON r.id = b.restaurant_id
                   CROSS JOIN unnest($3::uuid[]) AS t(id)
                  WHERE b.restaurant_id = $1 AND b.id = $2
                 RETURNING (SELECT r.floor_version FROM autoassign.restaurants r WHERE r.id = a.restaurant_id)",
                None,
                &[restaurant.into(), m.booking_id.into(), m.to.clone().into()],
            )?;
            for row in rows {
                version = version.max(row.get::<i64>(1)?.unwrap_or(0));
            }
            let payload = json!({
                "booking_id": m.booking_id.to_string(),
                "table_ids": m.to.iter().map(Uuid::to_string).collect::<Vec<_>>(),
                "from_table_ids": m.from.iter().map(Uuid::to_string).collect::<Vec<_>>(),
                "why": why,
                "for_booking": for_booking.to_string(),
            });
            super::stmt::update(
                client,
                "INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
                 VALUES ($1, $2, 'tables_changed', $3)",
                None,
                &[
                    restaurant.into(),
                    m.booking_id.into(),
                    JsonbOut::new(&payload).into(),
                ],
            )?;
            super::stmt::update(
                client,
                "INSERT INTO autoassign.events (event_type, restaurant_id, booking_id, source, success, reason, payload)
                 VALUES ('booking.lifecycle', $1, $2, $3, true, 'tables_changed', $4)",
                None,
                &[
                    restaurant.into(),
                    m.booking_id.into(),
                    source.into(),
                    JsonbOut::new(&payload).into(),
                ],
            )?;
        }
        Ok::<_, AutoassignError>(())
    })?;
    Ok(version)
}

/// `clock_now()` in microseconds.
pub fn now_us() -> Result<i64> {
    Spi::connect(|client| {
        let rows = super::stmt::select(client, "SELECT autoassign.clock_now()", Some(1), &[])?;
        Ok(super::stmt::first_col::<TimestampWithTimeZone>(rows, 1)?.map_or(0, ts_micros))
    })
}

/// The window a re-assignment of `ctx` with at most `max_moves` moves loads: a booking
/// moved k steps down a chain overlaps a stay within k longest stays of the request,
/// so `max_moves` longest stays each side hold every booking that can move. Its own
/// neighbours further out are not loaded: a plan that would collide with one fails at
/// the INSERT (23P01) and the confirm answers conflict.
pub fn span(ctx: &BookingCtx, max_moves: u8) -> (i64, i64) {
    let reach = ctx.longest_stay_us.max(ctx.end_us - ctx.start_us) * i64::from(max_moves.max(1));
    (ctx.start_us - reach, ctx.end_us + reach)
}
