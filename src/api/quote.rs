use super::{common_args, or_raise};
use crate::assign;
use crate::reason::Reason;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::json;
use std::time::Instant;

/// Plans a table assignment without committing it. With `hold_seconds > 0` the best
/// plan is held for this booking: others can't take those tables until it expires.
/// When no plan is free but moving other confirmed bookings would seat it, `ok` is
/// true, `moves` lists the moves a confirm would make now (nothing is held or moved);
/// a no_capacity or no_fit refusal comes with `alternatives` (see autoassign_confirm).
// pgrx needs the row type spelled out inline, hence the long signature.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn autoassign_quote(
    booking_id: Option<Uuid>,
    strategy: default!(Option<super::jsonb_arg::StrategyArg>, "'{}'"),
    source: default!(Option<&str>, "'api'"),
    hold_seconds: default!(Option<i32>, "0"),
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
        name!(alternates, Option<JsonB>),
        name!(duration_us, i64),
        name!(diagnostics, Option<JsonB>),
        name!(moves, JsonB),
        name!(alternatives, Option<JsonB>),
    ),
> {
    let started = Instant::now();
    let (booking_id, strategy, source) = or_raise(common_args(booking_id, strategy, source, "api"));
    let result = or_raise(assign::quote(
        booking_id,
        &strategy,
        &source,
        hold_seconds.unwrap_or(0),
        started,
    ));
    let reason = result.reason;
    let found = result.reassign.as_ref().filter(|rr| rr.found());
    let row = match (&result.run, found) {
        (Some(run), _) if run.best().is_some() => {
            let best = &run.outcome.plans[0];
            let alternates: Vec<_> = run.outcome.plans[1..]
                .iter()
                .map(|p| run.plan_json(p))
                .collect();
            let mut diagnostics = run.payload();
            if let Some(obj) = diagnostics.as_object_mut() {
                obj.insert("held".into(), json!(result.held));
                obj.insert("score_parts".into(), json!(best.score));
            }
            (
                reason.is_none(),
                reason.map(|r| r.code().to_string()),
                reason.map(|r| r.class().to_string()),
                Some(run.floor.table_uuids(&best.tables)),
                Some(run.floor.zone_ids[best.zone as usize]),
                Some(best.seats),
                Some(best.score.total),
                Some(JsonB(json!(alternates))),
                0,
                Some(JsonB(diagnostics)),
                JsonB(json!([])),
                None,
            )
        }
        (Some(run), Some(rr)) => {
            // no free plan, but confirm would seat it by moving other bookings
            let mut diagnostics = run.payload();
            let plan = rr.plan.as_ref();
            if let Some(obj) = diagnostics.as_object_mut() {
                obj.insert("held".into(), json!(false));
                obj.insert(
                    "refused_without_moves".into(),
                    json!(reason.map(Reason::code)),
                );
                obj.insert("reassign_us".into(), json!(rr.search_us));
                obj.insert("score_parts".into(), json!(plan.map(|p| &p.score)));
            }
            (
                true,
                None,
                None,
                Some(rr.tables.clone()),
                plan.map(|p| run.floor.zone_ids[p.zone as usize]),
                plan.map(|p| p.seats),
                plan.map(|p| p.score.total),
                Some(JsonB(json!([]))),
                0,
                Some(JsonB(diagnostics)),
                JsonB(rr.moves_json()),
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
                Some(JsonB(json!([]))),
                0,
                run.as_ref().map(|r| JsonB(r.payload())),
                JsonB(json!([])),
                alternatives.map(JsonB),
            )
        }
    };
    // the whole call as the server spent it: arguments, loading, planning, the event
    // write and this result row (the event's own duration_us stops before its INSERT)
    let mut row = row;
    row.8 = assign::micros_since(started);
    TableIterator::once(row)
}
