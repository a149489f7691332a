use super::{common_args, or_raise};
use crate::assign;
use pgrx::prelude::*;
use pgrx::Uuid;
use std::time::Instant;

/// Plans and commits the booking's tables atomically in the caller's transaction.
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
    ),
> {
    let started = Instant::now();
    let (booking_id, strategy, source) = or_raise(common_args(booking_id, strategy, source, "api"));
    let r = or_raise(assign::confirm(booking_id, &strategy, &source));
    TableIterator::once((
        r.ok,
        r.reason.map(|x| x.code().to_string()),
        r.reason.map(|x| x.class().to_string()),
        if r.ok { Some(r.table_ids) } else { None },
        r.attempt,
        // the whole call, its writes and events included
        assign::micros_since(started),
    ))
}
