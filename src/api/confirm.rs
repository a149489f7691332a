use super::{common_args, or_raise};
use crate::assign;
use crate::postgres::jsonb_out::JsonbOut;
use crate::reason::Reason;
use pgrx::prelude::*;
use pgrx::Uuid;
use std::time::Instant;

/// Plans and commits the booking's tables atomically in the caller's transaction.
/// When no plan is free it may move other confirmed bookings (strategy `reassign`,
/// `max_moves`; `moves` lists them). A no_capacity or no_fit refusal comes with
/// `alternatives`: the nearest start times (±90 minutes, 15-minute grid) and a
/// shorter stay that have a plan now.
// pgrx needs the row type spelled out inline, hence the long signature.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn autoassign_confirm(
    booking_id: Option<Uuid>,
    strategy: default!(Option<super::jsonb_arg::StrategyArg>, "'{}'"),
    source: default!(Option<&str>, "'api'"),
) -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(reason, Option<String>),
        name!(reason_class, Option<String>),
        name!(table_ids, Option<Vec<Uuid>>),
        name!(attempt, i32),
        name!(duration_us, i64),
        name!(moves, JsonbOut),
        name!(alternatives, Option<JsonbOut>),
    ),
> {
    let started = Instant::now();
    let (booking_id, strategy, source) = or_raise(common_args(booking_id, strategy, source, "api"));
    let r = or_raise(assign::confirm(booking_id, &strategy, &source));
    let alternatives = match (r.reason, r.alternatives) {
        // computed on the re-assignment search's state
        (_, Some(alts)) => Some(alts),
        (Some(Reason::NoCapacity | Reason::NoFit), None) => {
            or_raise(assign::seating::alternatives_for(booking_id, &strategy))
        }
        _ => None,
    };
    // jsonb built inside the timed call
    let moves = JsonbOut::new(&r.moves);
    let alternatives = alternatives.as_ref().map(JsonbOut::new);
    TableIterator::once((
        r.ok,
        r.reason.map(|x| x.code().to_string()),
        r.reason.map(|x| x.class().to_string()),
        if r.ok { Some(r.table_ids) } else { None },
        r.attempt,
        // the whole call, its writes, events and result values included
        assign::micros_since(started),
        moves,
        alternatives,
    ))
}
