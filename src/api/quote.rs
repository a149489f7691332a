use super::jsonb_arg::StrategyArg;
use super::one_row::{arg, cell, return_one_row};
use super::{common_args, or_raise};
use crate::assign;
use crate::postgres::jsonb_out::JsonbOut;
use crate::reason::Reason;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::Uuid;
use serde_json::{json, Value};
use std::time::Instant;

// autoassign_quote
//
// The function is declared here and its C entry point is written by hand (below), so the
// result row is formed inside the timed call (`one_row`); pgrx would build it after.
pgrx::extension_sql!(
    r#"
CREATE  FUNCTION "autoassign_quote"(
	"booking_id" uuid,
	"strategy" jsonb DEFAULT '{}',
	"source" TEXT DEFAULT 'api',
	"hold_seconds" INT DEFAULT 0,
	"detail" bool DEFAULT false
) RETURNS TABLE (
	"ok" bool,
	"reason" TEXT,
	"reason_class" TEXT,
	"table_ids" uuid[],
	"zone_id" uuid,
	"seats" INT,
	"score" bigint,
	"alternates" jsonb,
	"duration_us" bigint,
	"diagnostics" jsonb,
	"moves" jsonb,
	"alternatives" jsonb
)
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_quote_wrapper';
"#,
    name = "autoassign_quote",
);

#[no_mangle]
#[doc(hidden)]
pub extern "C" fn pg_finfo_autoassign_quote_wrapper() -> &'static pg_sys::Pg_finfo_record {
    const V1_API: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1_API
}

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
///
/// This is its C entry point (V1 calling convention).
///
/// # Safety
/// Called by PostgreSQL's function manager with the five declared arguments.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn autoassign_quote_wrapper(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    let started = Instant::now();
    // SAFETY: the argument types are the declared ones (above)
    let (booking_id, strategy, source, hold_seconds, detail) = unsafe {
        (
            arg::<Uuid>(fcinfo, 0),
            arg::<StrategyArg>(fcinfo, 1),
            arg::<String>(fcinfo, 2),
            arg::<i32>(fcinfo, 3),
            arg::<bool>(fcinfo, 4),
        )
    };
    let (cells, mut result, source) = quote_cells(
        booking_id,
        strategy,
        source.as_deref(),
        hold_seconds,
        detail,
        started,
    );
    // the event is written last, timed to here; the row then carries the whole call
    or_raise(result.finish(&source, started));
    drop(result);
    let mut cells = cells;
    cells[8] = cell(assign::micros_since(started));
    // SAFETY: twelve cells of the declared types, in order
    unsafe { return_one_row(fcinfo, &cells) }
}

/// The quote and its row (the twelve declared columns; `duration_us` is filled by the
/// caller once the event is written).
fn quote_cells(
    booking_id: Option<Uuid>,
    strategy: Option<StrategyArg>,
    source: Option<&str>,
    hold_seconds: Option<i32>,
    detail: Option<bool>,
    started: Instant,
) -> (Vec<Option<pg_sys::Datum>>, assign::QuoteResult, String) {
    let detail = detail.unwrap_or(false);
    let (booking_id, strategy, source) = or_raise(common_args(booking_id, strategy, source, "api"));
    let mut result = or_raise(assign::quote(
        booking_id,
        &strategy,
        &source,
        hold_seconds.unwrap_or(0),
        started,
    ));
    result.note_write(started);
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
    let cells = vec![
        cell(row.0),
        cell(row.1),
        cell(row.2),
        cell(row.3),
        cell(row.4),
        cell(row.5),
        cell(row.6),
        cell(row.7),
        cell(row.8),
        cell(row.9),
        cell(row.10),
        cell(row.11),
    ];
    (cells, result, source)
}
