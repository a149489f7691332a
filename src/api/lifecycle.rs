//! The lifecycle's Rust entry points: two internal helpers the triggers in
//! sql/lifecycle.sql call, the table retirement, and the sweep.

use super::or_raise;
use crate::assign::{self, lifecycle};
use crate::error::AutoassignError;
use crate::strategy::check_source;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::Uuid;

/// Internal (bookings_lifecycle trigger): a party-size change on a confirmed or seated
/// booking keeps its tables if they still seat the party ("kept"), else moves it to the
/// best free plan ("moved"), else raises 23514 with a hint. Seated bookings never move.
#[pg_extern(volatile)]
fn replan_booking(booking_id: Option<Uuid>, source: default!(Option<&str>, "'sql'")) -> String {
    let booking_id = or_raise(booking_id.ok_or(AutoassignError::NullArgument("booking_id")));
    let source = source.unwrap_or("sql");
    or_raise(check_source(source));
    or_raise(lifecycle::replan_party(booking_id, source)).to_string()
}

/// Internal (floor guards): why a confirmed or seated booking's tables from now on no
/// longer seat it under the current floor (a code such as `party_outside_table`,
/// `too_few_seats`, `not_connected`, `inactive_table`), or NULL when they do.
#[pg_extern(stable)]
fn booking_plan_problem(booking_id: Option<Uuid>) -> Option<String> {
    let booking_id = booking_id?;
    or_raise(lifecycle::plan_problem(booking_id)).map(str::to_string)
}

/// Rust side of `autoassign_retire_table(table_id, from)` (the SQL wrapper names the
/// argument `from`, a reserved word).
#[pg_extern(volatile, name = "autoassign_retire_table_at")]
fn retire_table_at(
    table_id: Option<Uuid>,
    retire_from: Option<TimestampWithTimeZone>,
    source: default!(Option<&str>, "'ops'"),
) -> TableIterator<
    'static,
    (
        name!(booking_id, Uuid),
        name!(action, String),
        name!(table_ids, Option<Vec<Uuid>>),
    ),
> {
    let table_id = or_raise(table_id.ok_or(AutoassignError::NullArgument("table_id")));
    let from = or_raise(retire_from.ok_or(AutoassignError::NullArgument("from")));
    let source = source.unwrap_or("ops");
    or_raise(check_source(source));
    let done = or_raise(lifecycle::retire_table(table_id, from, source));
    TableIterator::new(
        done.into_iter()
            .map(|r| (r.booking_id, r.action.to_string(), r.table_ids)),
    )
}

/// One pass of the retry policy (SPEC §8) for one restaurant, or every restaurant when
/// `restaurant_id` is NULL: confirms due or woken pending bookings (source job), defers
/// hopeless capacity retries, settles gave_up and cutoff. Counts are of this call.
/// `now` replaces the clock for this transaction (tests, simulator).
#[pg_extern(volatile)]
fn autoassign_sweep(
    max_bookings: default!(Option<i32>, "200"),
    time_budget_ms: default!(Option<i32>, "2000"),
    restaurant_id: default!(Option<Uuid>, "NULL"),
    now: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(processed, i32),
        name!(confirmed, i32),
        name!(deferred, i32),
        name!(gave_up, i32),
        name!(cutoff, i32),
    ),
> {
    let max_bookings = or_raise(max_bookings.ok_or(AutoassignError::NullArgument("max_bookings")));
    let budget = or_raise(time_budget_ms.ok_or(AutoassignError::NullArgument("time_budget_ms")));
    use crate::postgres::security;
    or_raise(match restaurant_id {
        Some(r) => security::require_restaurant(r),
        None => security::authorize_all("sweeping every restaurant at once"),
    });
    if let Some(now) = now {
        or_raise(security::require_superuser(
            "moving the sweep's clock (now)",
        ));
        or_raise(crate::postgres::set_simulated_now(now));
    }
    let c = or_raise(assign::sweep(max_bookings, budget, restaurant_id));
    TableIterator::once((c.processed, c.confirmed, c.deferred, c.gave_up, c.cutoff))
}
