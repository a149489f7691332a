//! `autoassign_sweep`: one pass of the retry policy (SPEC §8), a thin loop. Per
//! restaurant it takes due work with FOR UPDATE SKIP LOCKED (so two sweeps never fight
//! and an API call is never waited for), asks `autoassign_planner::retry::sweep_action`
//! what to do, and does it: settle, defer, or confirm through the API's own code path
//! (source job) with the remaining budget as the planner deadline.

use super::confirm;
use crate::error::{AutoassignError, Result};
use crate::postgres::{micros_ts, queue, stmt, ts_micros, writes};
use crate::strategy::Strategy;
use autoassign_planner::retry::{self, Queued, RetryClass, Settle, SweepAction};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::Uuid;
use serde_json::json;
use std::time::Instant;

#[derive(Default)]
pub struct SweepCounts {
    pub processed: i32,
    pub confirmed: i32,
    pub deferred: i32,
    pub gave_up: i32,
    pub cutoff: i32,
}

/// One unit of due work: a queue row, or a pending booking never attempted (no queue
/// row, no last result) that has waited at least 30 s for its inline confirm or reached
/// its cutoff.
struct Due {
    booking_id: Uuid,
    last_reason: Option<String>,
    class: Option<RetryClass>,
    attempts: u32,
    woken: bool,
    now_us: i64,
    cutoff_at_us: i64,
    next_attempt_us: i64,
    party: i32,
    last_max_tables: Option<u8>,
    stay: (i64, i64),
    /// random() for the backoff jitter: setseed() makes a replay exact
    unit_random: f64,
}

const DUE: &str = "
SELECT b.id, q.last_reason, q.last_class,
       CASE q.last_class WHEN 'hard' THEN q.attempts_hard WHEN 'transient' THEN q.attempts_transient
                         ELSE q.attempts_capacity END,
       coalesce(q.wake, false), autoassign.clock_now(),
       b.start_at - make_interval(mins => r.cutoff_minutes),
       coalesce(q.next_attempt_at, autoassign.clock_now()),
       b.party_size, (b.auto_assign_last_result->'strategy'->>'max_tables')::int,
       b.start_at, autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes, r.buffer_after_minutes),
       random()
  FROM autoassign.bookings b
  JOIN autoassign.restaurants r ON r.id = b.restaurant_id
  LEFT JOIN autoassign.retry_queue q ON q.restaurant_id = b.restaurant_id AND q.booking_id = b.id
 WHERE b.restaurant_id = $1 AND b.id = $2 AND b.status = 'pending' AND b.auto_assign_outcome IS NULL
   FOR UPDATE OF b SKIP LOCKED";

/// What `next_due` found.
enum Next {
    Nothing,
    /// Due, but an API call holds the booking right now: skip it, never wait.
    Locked(Uuid),
    Due(Box<Due>),
}

/// The next due booking of one restaurant, earliest service first, skipping `done`.
fn next_due(restaurant: Uuid, done: &[Uuid]) -> Result<Next> {
    Spi::connect_mut(|client| {
        let ids = [restaurant.into(), done.to_vec().into()];
        // queued and due (timer, wake-up or cutoff), else never attempted
        let picked = stmt::first_col::<Uuid>(stmt::update(
            client,
            "SELECT q.booking_id
               FROM autoassign.retry_queue q
               JOIN autoassign.bookings b ON b.restaurant_id = q.restaurant_id AND b.id = q.booking_id
               JOIN autoassign.restaurants r ON r.id = q.restaurant_id
              WHERE q.restaurant_id = $1 AND q.booking_id <> ALL ($2)
                AND b.status = 'pending' AND b.auto_assign_outcome IS NULL
                AND (q.next_attempt_at <= autoassign.clock_now() OR q.wake
                     OR b.start_at - make_interval(mins => r.cutoff_minutes) <= autoassign.clock_now())
              ORDER BY b.start_at, q.booking_id
              LIMIT 1
                FOR UPDATE OF q SKIP LOCKED",
            None,
            &ids,
        )?, 1)?;
        let picked = match picked {
            Some(id) => Some(id),
            None => stmt::first_col::<Uuid>(stmt::update(
                client,
                "SELECT b.id FROM autoassign.bookings b
                   JOIN autoassign.restaurants r ON r.id = b.restaurant_id
                  WHERE b.restaurant_id = $1 AND b.id <> ALL ($2)
                    AND b.status = 'pending' AND b.auto_assign_outcome IS NULL
                    AND b.auto_assign_last_result IS NULL
                    AND (b.created_at <= autoassign.clock_now() - interval '30 seconds'
                         OR b.start_at - make_interval(mins => r.cutoff_minutes) <= autoassign.clock_now())
                    AND NOT EXISTS (SELECT 1 FROM autoassign.retry_queue q
                                     WHERE q.restaurant_id = b.restaurant_id AND q.booking_id = b.id)
                  ORDER BY b.start_at, b.id
                  LIMIT 1",
                None,
                &ids,
            )?, 1)?,
        };
        let Some(booking_id) = picked else {
            return Ok(Next::Nothing);
        };
        let rows = stmt::update(
            client,
            DUE,
            Some(1),
            &[restaurant.into(), booking_id.into()],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(Next::Locked(booking_id));
        };
        let ts =
            |n| -> Result<i64> { Ok(row.get::<TimestampWithTimeZone>(n)?.map_or(0, ts_micros)) };
        Ok(Next::Due(Box::new(Due {
            booking_id,
            last_reason: row.get::<String>(2)?,
            class: row
                .get::<String>(3)?
                .and_then(|c| RetryClass::from_code(&c)),
            attempts: row.get::<i32>(4)?.unwrap_or(0).max(0) as u32,
            woken: row.get::<bool>(5)?.unwrap_or(false),
            now_us: ts(6)?,
            cutoff_at_us: ts(7)?,
            next_attempt_us: ts(8)?,
            party: row.get::<i32>(9)?.unwrap_or(1),
            last_max_tables: row.get::<i32>(10)?.map(|n| n.clamp(1, 6) as u8),
            stay: (ts(11)?, ts(12)?),
            unit_random: row.get::<f64>(13)?.unwrap_or(0.5),
        })))
    })
}

/// The most free seats of any zone over the stay, or None when a table may seat more
/// than its capacity (then seats say nothing about fit).
fn best_zone_seats(restaurant: Uuid, stay: (i64, i64)) -> Result<Option<i64>> {
    Spi::connect(|client| {
        let row = stmt::select(
            client,
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM autoassign.tables t
                                       WHERE t.restaurant_id = $1 AND t.max_party > t.capacity)
                         THEN NULL
                         ELSE coalesce((SELECT max(f.free_seats)
                                          FROM autoassign.autoassign_free_capacity($1, $2, $3) f), 0) END",
            Some(1),
            &[
                restaurant.into(),
                micros_ts(stay.0).into(),
                micros_ts(stay.1).into(),
            ],
        )?;
        Ok(row.first().get_one::<i64>()?)
    })
}

fn restaurants(only: Option<Uuid>) -> Result<Vec<Uuid>> {
    if let Some(r) = only {
        return Ok(vec![r]);
    }
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in stmt::select(
            client,
            "SELECT id FROM autoassign.restaurants ORDER BY id",
            None,
            &[],
        )? {
            if let Some(id) = row.get::<Uuid>(1)? {
                out.push(id);
            }
        }
        Ok(out)
    })
}

fn count_settled(counts: &mut SweepCounts, outcome: Settle) {
    match outcome {
        Settle::Cutoff => counts.cutoff += 1,
        Settle::GaveUp => counts.gave_up += 1,
    }
}

/// One pass over one restaurant (`Some`) or every restaurant (`None`, each through its
/// own per-tenant queries). Stops after `max_bookings` processed or `time_budget_ms`.
pub fn sweep(
    max_bookings: i32,
    time_budget_ms: i32,
    restaurant: Option<Uuid>,
) -> Result<SweepCounts> {
    crate::postgres::standby::refuse_writes("autoassign_sweep");
    if max_bookings < 1 || time_budget_ms < 1 {
        return Err(AutoassignError::InvalidArgument(format!(
            "max_bookings ({max_bookings}) and time_budget_ms ({time_budget_ms}) must be positive"
        )));
    }
    let started = Instant::now();
    let policies = queue::policies()?;
    let mut counts = SweepCounts::default();
    let remaining = || i64::from(time_budget_ms) - started.elapsed().as_millis() as i64;
    'tenants: for rid in restaurants(restaurant)? {
        let mut done: Vec<Uuid> = Vec::new();
        while counts.processed < max_bookings {
            let budget = remaining();
            if budget <= 0 {
                break 'tenants;
            }
            let due = match next_due(rid, &done)? {
                Next::Nothing => break,
                Next::Locked(id) => {
                    done.push(id);
                    continue;
                }
                Next::Due(due) => due,
            };
            done.push(due.booking_id);
            let free_seats = if due.class == Some(RetryClass::Capacity) {
                best_zone_seats(rid, due.stay)?
            } else {
                None
            };
            let queued = Queued {
                last_reason: due.last_reason.as_deref(),
                class: due.class,
                attempts: due.attempts,
                woken: due.woken,
                now_us: due.now_us,
                cutoff_at_us: due.cutoff_at_us,
                next_attempt_us: due.next_attempt_us,
                free_seats_in_best_zone: free_seats,
                party: due.party,
                last_max_tables: due.last_max_tables,
                remaining_budget_ms: budget,
            };
            match retry::sweep_action(&policies, &queued, due.unit_random) {
                SweepAction::OutOfBudget => break 'tenants,
                SweepAction::Wait => continue,
                SweepAction::Settle { outcome } => {
                    counts.processed += 1;
                    let detail =
                        json!({"why": "sweep", "final_class": due.class.map(RetryClass::code)});
                    if writes::settle(rid, due.booking_id, outcome.code(), detail, "job")? {
                        count_settled(&mut counts, outcome);
                    }
                }
                SweepAction::Defer { next_attempt_us } => {
                    counts.processed += 1;
                    counts.deferred += 1;
                    queue::defer(rid, due.booking_id, next_attempt_us)?;
                }
                SweepAction::Attempt {
                    max_tables,
                    deadline_ms,
                } => {
                    counts.processed += 1;
                    let strategy = Strategy {
                        max_tables: max_tables.unwrap_or(Strategy::default().max_tables),
                        relaxed: max_tables.map(|_| {
                            "after timeout: max_tables + 1 (retry_policy.relax_after_timeout)"
                                .to_string()
                        }),
                        deadline_ms: Some(deadline_ms.clamp(1, i64::from(u32::MAX)) as u32),
                        ..Strategy::default()
                    };
                    let result = confirm(due.booking_id, &strategy, "job")?;
                    if result.ok {
                        counts.confirmed += 1;
                        continue;
                    }
                    // the failed confirm recorded the retry, or settled the booking
                    match result.settled {
                        Some(outcome) => count_settled(&mut counts, outcome),
                        None => counts.deferred += 1,
                    }
                }
            }
        }
    }
    Ok(counts)
}
