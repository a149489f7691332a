use super::or_raise;
use crate::assign;
use crate::error::AutoassignError;
use crate::strategy::check_source;
use pgrx::prelude::*;
use pgrx::Uuid;

/// Frees the booking's tables and marks it cancelled. Cancelling twice is harmless.
#[pg_extern(volatile)]
fn autoassign_cancel(
    booking_id: Option<Uuid>,
    source: default!(Option<&str>, "'api'"),
) -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(reason, Option<String>),
        name!(status, Option<String>),
        name!(tables_freed, i64),
    ),
> {
    let booking_id = or_raise(booking_id.ok_or(AutoassignError::NullArgument("booking_id")));
    let source = source.unwrap_or("api");
    or_raise(check_source(source));
    let r = or_raise(assign::cancel(booking_id, source));
    TableIterator::once((
        r.ok,
        r.reason.map(|x| x.code().to_string()),
        r.status,
        r.tables_freed,
    ))
}
