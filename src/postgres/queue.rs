//! The retry queue's reads and writes (sql/sweep.sql). Every decision comes from
//! `autoassign_planner::retry`; this module only loads its inputs and applies its answer.

use super::booking::BookingCtx;
use super::{micros_ts, ts_micros};
use crate::error::Result;
use autoassign_planner::retry::{
    self, AfterFailure, Failure, Policies, RetryClass, RetryPolicy, Settle, SettleWhy,
};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::Uuid;
use serde_json::{json, Value};

/// The three policy rows of `autoassign.retry_policy` (a missing row keeps the default).
pub fn policies() -> Result<Policies> {
    let mut out = Policies::default();
    Spi::connect(|client| {
        for row in super::stmt::select(
            client,
            "SELECT class, max_attempts,
                    extract(epoch FROM base_delay)::float8, extract(epoch FROM max_delay)::float8,
                    jitter, relax_after_timeout, max_waiting, waiting_per_seated
               FROM autoassign.retry_policy",
            None,
            &[],
        )? {
            let Some(class) = row
                .get::<String>(1)?
                .and_then(|c| RetryClass::from_code(&c))
            else {
                continue;
            };
            let policy = RetryPolicy {
                max_attempts: row.get::<i32>(2)?.unwrap_or(0).max(0) as u32,
                base_delay_s: row.get::<f64>(3)?.unwrap_or(0.0),
                max_delay_s: row.get::<f64>(4)?.unwrap_or(0.0),
                jitter: row.get::<f64>(5)?.unwrap_or(0.0),
                relax_after_timeout: row.get::<bool>(6)?.unwrap_or(false),
                max_waiting: row.get::<i32>(7)?.map(|n| n.max(0) as u32),
                waiting_per_seated: row.get::<f64>(8)?,
            };
            match class {
                RetryClass::Hard => out.hard = policy,
                RetryClass::Capacity => out.capacity = policy,
                RetryClass::Transient => out.transient = policy,
            }
        }
        Ok(out)
    })
}

fn why_json(why: &SettleWhy) -> Value {
    match why {
        SettleWhy::WaitingListFull {
            waiting,
            limit,
            seated,
        } => json!({"why": "waiting_list_full",
                    "waiting_list": {"waiting": waiting, "limit": limit, "seated": seated}}),
        other => json!({ "why": format!("{other:?}") }),
    }
}

/// After a failed confirm of a pending booking (any caller): counts the attempt against
/// its class and either schedules the next sweep attempt or settles the booking now
/// (hard reason, full waiting list, budget spent, cutoff). A queue row that another
/// sweep holds is left to that sweep. Returns the settled outcome, if any.
pub fn note_failure(ctx: &BookingCtx, reason: &str, source: &str) -> Result<Option<Settle>> {
    let policies = policies()?;
    let class = retry::class_of(reason);
    let ids = [ctx.restaurant_id.into(), ctx.booking_id.into()];
    let state = Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "INSERT INTO autoassign.retry_queue (restaurant_id, booking_id, next_attempt_at)
             VALUES ($1, $2, autoassign.clock_now())
             ON CONFLICT (restaurant_id, booking_id) DO NOTHING",
            None,
            &ids,
        )?;
        let rows = super::stmt::update(
            client,
            "SELECT q.last_class, q.wake,
                    CASE $3 WHEN 'hard' THEN q.attempts_hard WHEN 'transient' THEN q.attempts_transient
                            ELSE q.attempts_capacity END,
                    autoassign.clock_now(), random()
               FROM autoassign.retry_queue q
              WHERE q.restaurant_id = $1 AND q.booking_id = $2
                FOR UPDATE SKIP LOCKED",
            Some(1),
            &[
                ctx.restaurant_id.into(),
                ctx.booking_id.into(),
                class.unwrap_or(RetryClass::Hard).code().into(),
            ],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok::<_, crate::error::AutoassignError>(None);
        };
        Ok(Some((
            row.get::<String>(1)?,
            row.get::<bool>(2)?.unwrap_or(false),
            row.get::<i32>(3)?.unwrap_or(0).max(0) as u32,
            row.get::<TimestampWithTimeZone>(4)?.map_or(0, ts_micros),
            row.get::<f64>(5)?.unwrap_or(0.5),
        )))
    })?;
    // jitter from random(), so setseed() makes a replay exact (the simulator relies on it)
    let Some((last_class, woken, attempts_before, now_us, unit_random)) = state else {
        return Ok(None); // a sweep holds the row and will record this itself
    };
    let was_waiting = last_class.as_deref() == Some("capacity");
    let (waiting_others, seated) = if class == Some(RetryClass::Capacity) && !was_waiting {
        waiting_list(ctx)?
    } else {
        (0, 0)
    };
    let failure = Failure {
        reason,
        attempts_before,
        woken,
        was_waiting,
        now_us,
        cutoff_at_us: ctx.cutoff_at_us,
        waiting_others,
        seated,
    };
    match retry::after_failure(&policies, &failure, unit_random) {
        AfterFailure::Retry {
            class,
            attempts,
            next_attempt_us,
        } => {
            record(ctx, reason, class, attempts, Some(next_attempt_us))?;
            Ok(None)
        }
        AfterFailure::Settle {
            outcome,
            class,
            attempts,
            why,
        } => {
            record(ctx, reason, class, attempts, None)?;
            let mut detail = why_json(&why);
            detail["final_class"] = json!(class.code());
            super::writes::settle(
                ctx.restaurant_id,
                ctx.booking_id,
                outcome.code(),
                detail,
                source,
            )?;
            Ok(Some(outcome))
        }
    }
}

/// Other capacity-waiting pending bookings whose stay overlaps this one, and the
/// bookings holding tables in the stay: the inputs of the waiting-list limit.
fn waiting_list(ctx: &BookingCtx) -> Result<(u32, u32)> {
    Spi::connect(|client| {
        let row = super::stmt::select(
            client,
            "SELECT (SELECT count(*) FROM autoassign.retry_queue q
                       JOIN autoassign.bookings b ON b.restaurant_id = q.restaurant_id AND b.id = q.booking_id
                      WHERE q.restaurant_id = $1 AND q.booking_id <> $2 AND q.last_class = 'capacity'
                        AND b.status = 'pending' AND b.auto_assign_outcome IS NULL
                        AND tstzrange(b.start_at, autoassign.stay_end(b.start_at, b.end_at, $5, $6)) && tstzrange($3, $4)),
                    (SELECT count(DISTINCT a.booking_id) FROM autoassign.allocations a
                      WHERE a.restaurant_id = $1 AND a.during && tstzrange($3, $4))",
            Some(1),
            &[
                ctx.restaurant_id.into(),
                ctx.booking_id.into(),
                micros_ts(ctx.start_us).into(),
                micros_ts(ctx.end_us).into(),
                ((ctx.default_duration_us / 60_000_000) as i32).into(),
                ((ctx.buffer_us / 60_000_000) as i32).into(),
            ],
        )?;
        let (waiting, seated) = row.first().get_two::<i64, i64>()?;
        Ok((
            waiting.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
            seated.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
        ))
    })
}

/// Writes the counted attempt (and the next due time while it stays queued).
fn record(
    ctx: &BookingCtx,
    reason: &str,
    class: RetryClass,
    attempts: u32,
    next_attempt_us: Option<i64>,
) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "UPDATE autoassign.retry_queue q SET
                 attempts_hard = CASE WHEN $4 = 'hard' THEN $5 ELSE attempts_hard END,
                 attempts_transient = CASE WHEN $4 = 'transient' THEN $5 ELSE attempts_transient END,
                 attempts_capacity = CASE WHEN $4 = 'capacity' THEN $5 ELSE attempts_capacity END,
                 last_reason = $3, last_class = $4, wake = false, updated_at = now(),
                 next_attempt_at = coalesce($6, next_attempt_at)
              WHERE q.restaurant_id = $1 AND q.booking_id = $2",
            None,
            &[
                ctx.restaurant_id.into(),
                ctx.booking_id.into(),
                reason.into(),
                class.code().into(),
                (attempts.min(i32::MAX as u32) as i32).into(),
                super::opt_arg(next_attempt_us.map(micros_ts)),
            ],
        )?;
        Ok(())
    })
}

/// A capacity booking with no zone able to seat it: no planner call, next attempt later.
pub fn defer(restaurant: Uuid, booking: Uuid, next_attempt_us: i64) -> Result<()> {
    Spi::connect_mut(|client| {
        super::stmt::update(
            client,
            "UPDATE autoassign.retry_queue
                SET wake = false, updated_at = now(), next_attempt_at = $3
              WHERE restaurant_id = $1 AND booking_id = $2",
            None,
            &[
                restaurant.into(),
                booking.into(),
                micros_ts(next_attempt_us).into(),
            ],
        )?;
        Ok(())
    })
}
