//! Seating (issue 13): alternatives for a booking, and re-packing a window.

use super::or_raise;
use crate::assign;
use crate::error::AutoassignError;
use crate::postgres::{booking, micros_ts, ts_micros};
use crate::strategy::{check_source, Strategy};
use pgrx::datum::{Interval, TimestampWithTimeZone};
use pgrx::prelude::*;
use pgrx::Uuid;

fn interval_us(name: &'static str, v: Option<Interval>) -> crate::error::Result<i64> {
    let v = v.ok_or(AutoassignError::NullArgument(name))?;
    if v.months() != 0 {
        return Err(AutoassignError::InvalidArgument(format!(
            "{name} must be given in days, hours or minutes, not months"
        )));
    }
    Ok(i64::from(v.days()) * 86_400_000_000 + v.micros())
}

/// The nearest start times within ±`within` on a `step` grid that have a real plan now
/// (nearest first, earlier first on a tie), then the longest shorter stay (down to half
/// the stay) at the requested start that fits. Starts before now + the restaurant's
/// cutoff are not offered; the booking's own tables never block it, so this also works
/// for a confirmed booking that wants another time. Read-only. `end_at` is the stay end
/// (without the turnover buffer). Raises 22023 for a non-positive step or a negative
/// or month-based interval; a booking that does not exist gives no rows.
#[allow(clippy::type_complexity)]
#[pg_extern(stable)]
fn autoassign_alternatives(
    booking_id: Option<Uuid>,
    within: default!(Option<Interval>, "'90 minutes'"),
    step: default!(Option<Interval>, "'15 minutes'"),
    strategy: default!(Option<super::jsonb_arg::StrategyArg>, "'{}'"),
) -> TableIterator<
    'static,
    (
        name!(start_at, TimestampWithTimeZone),
        name!(end_at, TimestampWithTimeZone),
        name!(offset_minutes, i32),
        name!(shorter_by_minutes, i32),
        name!(table_ids, Vec<Uuid>),
        name!(zone_id, Uuid),
        name!(seats, i32),
        name!(score, i64),
    ),
> {
    let booking_id = or_raise(booking_id.ok_or(AutoassignError::NullArgument("booking_id")));
    let within = or_raise(interval_us("within", within));
    let step = or_raise(interval_us("step", step));
    let strategy = or_raise(Strategy::parse_text(
        strategy.as_ref().map(|j| j.0.as_str()),
    ));
    let Some(ctx) = or_raise(booking::load(booking_id, false)) else {
        return TableIterator::new(Vec::new());
    };
    let rows = or_raise(assign::seating::alternatives(&ctx, &strategy, within, step));
    TableIterator::new(
        rows.into_iter()
            .map(|a| {
                (
                    micros_ts(a.start_us),
                    micros_ts(a.end_us),
                    a.offset_minutes,
                    a.shorter_by_minutes,
                    a.table_ids,
                    a.zone_id,
                    a.seats,
                    a.score,
                )
            })
            .collect::<Vec<_>>(),
    )
}

/// Re-packs the unseated, unpinned confirmed bookings that start in [`from`, `to`) of
/// a restaurant (outside its freeze window) so the most can still be sold: moves that
/// make the largest free table or combination of each 15-minute slot larger, one
/// booking re-planned at a time, until no move helps (strategy `deadline_ms`, default
/// 2 s, bounds it). The moves commit in the caller's transaction, each with a
/// tables_changed outbox message and a booking.lifecycle event; guests' confirmations
/// do not change. Returns one row per moved booking, with the window's objective (sum
/// over slots of the largest free seats) before and after. Schedule it with pg_cron
/// before service. A race with a concurrent writer moves nothing (no rows).
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn autoassign_optimize(
    restaurant_id: Option<Uuid>,
    from: Option<TimestampWithTimeZone>,
    to: Option<TimestampWithTimeZone>,
    strategy: default!(Option<super::jsonb_arg::StrategyArg>, "'{}'"),
    source: default!(Option<&str>, "'job'"),
) -> TableIterator<
    'static,
    (
        name!(booking_id, Uuid),
        name!(from_table_ids, Vec<Uuid>),
        name!(table_ids, Vec<Uuid>),
        name!(largest_free_before, i64),
        name!(largest_free_after, i64),
    ),
> {
    let restaurant = or_raise(restaurant_id.ok_or(AutoassignError::NullArgument("restaurant_id")));
    // another tenant's restaurant reads as one that does not exist (README "Security")
    or_raise(crate::postgres::security::require_restaurant(restaurant));
    let from = or_raise(from.ok_or(AutoassignError::NullArgument("from")));
    let to = or_raise(to.ok_or(AutoassignError::NullArgument("to")));
    let source = source.unwrap_or("job");
    or_raise(check_source(source));
    let strategy = or_raise(Strategy::parse_text(
        strategy.as_ref().map(|j| j.0.as_str()),
    ));
    let r = or_raise(assign::seating::optimize(
        restaurant,
        ts_micros(from),
        ts_micros(to),
        &strategy,
        source,
    ));
    TableIterator::new(
        r.moves
            .into_iter()
            .map(|m| (m.booking_id, m.from, m.to, r.before, r.after))
            .collect::<Vec<_>>(),
    )
}
