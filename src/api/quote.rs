use super::{common_args, or_raise};
use crate::assign;
use crate::postgres::jsonb_out::JsonbOut;
use crate::reason::Reason;
use pgrx::prelude::*;
use pgrx::Uuid;
use serde_json::{json, Value};
use std::time::Instant;

/// Plans a table assignment without committing it. With `hold_seconds > 0` the best
/// plan is held for this booking: others can't take those tables until it expires
/// (a hold is placed when `ok` is true and `moves` is empty).
/// When no plan is free but moving other confirmed bookings would seat it, `ok` is
/// true, `moves` lists the moves a confirm would make now (nothing is held or moved);
/// a no_capacity or no_fit refusal comes with `alternatives` (see autoassign_confirm).
///
/// `alternates` (the other plans, best first) and `diagnostics` (the planner's counters,
/// `load_us` / `plan_us` / `write_us`, `held`, `score_parts`) are built only with
/// `detail => true`; otherwise they are NULL. `duration_us` is the whole call as the
/// server spent it, in microseconds: arguments, loading, planning, the hold, the result
/// row and the `auto_assign.quote` event (whose own `duration_us` stops just before it
/// is written).
// pgrx needs the row type spelled out inline, hence the long signature.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn autoassign_quote(
    booking_id: Option<Uuid>,
    strategy: default!(Option<super::jsonb_arg::StrategyArg>, "'{}'"),
    source: default!(Option<&str>, "'api'"),
    hold_seconds: default!(Option<i32>, "0"),
    detail: default!(Option<bool>, "false"),
) -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(reason, Option<String>),
        name!(reason_class, Option<String>),
        name!(table_ids, Option<Vec<Uuid>>),
        name!(zone_id, Option<Uuid>),
        name!(seats, Option<i32>),
        name!(score, Option<i64>),
        name!(alternates, Option<JsonbOut>),
        name!(duration_us, i64),
        name!(diagnostics, Option<JsonbOut>),
        name!(moves, JsonbOut),
        name!(alternatives, Option<JsonbOut>),
    ),
> {
    let started = Instant::now();
    let detail = detail.unwrap_or(false);
    let (booking_id, strategy, source) = or_raise(common_args(booking_id, strategy, source, "api"));
    let mut result = or_raise(assign::quote(
        booking_id,
        &strategy,
        &source,
        hold_seconds.unwrap_or(0),
        started,
    ));
    let reason = result.reason;
    let found = result.reassign.as_ref().filter(|rr| rr.found());
    // jsonb is built here, inside the timed call (JsonbOut), and only what was asked for
    let detailed = |value: &dyn Fn() -> Value| detail.then(|| JsonbOut::new(&value()));
    let row = match (&result.run, found) {
        (Some(run), _) if run.best().is_some() => {
            let best = &run.outcome.plans[0];
            (
                reason.is_none(),
                reason.map(|r| r.code().to_string()),
                reason.map(|r| r.class().to_string()),
                Some(run.floor.table_uuids(&best.tables)),
                Some(run.floor.zone_ids[best.zone as usize]),
                Some(best.seats),
                Some(best.score.total),
                detailed(&|| {
                    Value::Array(
                        run.outcome.plans[1..]
                            .iter()
                            .map(|p| run.plan_json(p))
                            .collect(),
                    )
                }),
                0,
                detailed(&|| {
                    let mut diagnostics = run.payload();
                    if let Some(obj) = diagnostics.as_object_mut() {
                        obj.insert("held".into(), json!(result.held));
                        obj.insert("score_parts".into(), json!(best.score));
                    }
                    diagnostics
                }),
                JsonbOut::empty_array(),
                None,
            )
        }
        (Some(run), Some(rr)) => {
            // no free plan, but confirm would seat it by moving other bookings
            let plan = rr.plan.as_ref();
            (
                true,
                None,
                None,
                Some(rr.tables.clone()),
                plan.map(|p| run.floor.zone_ids[p.zone as usize]),
                plan.map(|p| p.seats),
                plan.map(|p| p.score.total),
                detailed(&|| json!([])),
                0,
                detailed(&|| {
                    let mut diagnostics = run.payload();
                    if let Some(obj) = diagnostics.as_object_mut() {
                        obj.insert("held".into(), json!(false));
                        obj.insert(
                            "refused_without_moves".into(),
                            json!(reason.map(Reason::code)),
                        );
                        obj.insert("reassign_us".into(), json!(rr.search_us));
                        obj.insert("score_parts".into(), json!(plan.map(|p| &p.score)));
                    }
                    diagnostics
                }),
                JsonbOut::new(&rr.moves_json()),
                None,
            )
        }
        (run, _) => {
            let alternatives = match reason {
                Some(Reason::NoCapacity | Reason::NoFit) => {
                    or_raise(assign::seating::alternatives_for(booking_id, &strategy))
                }
                _ => None,
            };
            (
                false,
                reason.map(|r| r.code().to_string()),
                reason.map(|r| Reason::class(r).to_string()),
                None,
                None,
                None,
                None,
                detailed(&|| json!([])),
                0,
                run.as_ref().and_then(|r| detailed(&|| r.payload())),
                JsonbOut::empty_array(),
                alternatives.as_ref().map(JsonbOut::new),
            )
        }
    };
    // the event is written last, timed to here; duration_us then adds the write itself
    or_raise(result.finish(&source, started));
    let mut row = row;
    row.8 = assign::micros_since(started);
    TableIterator::once(row)
}
