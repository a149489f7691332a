use super::{common_args, or_raise};
use crate::assign;
use crate::postgres::booking;
use crate::reason::Reason;
use pgrx::prelude::*;
use pgrx::Uuid;
use std::time::Instant;

/// EXPLAIN for the planner: each stage in order with what it kept, what it pruned and
/// why. Plans like a quote (and writes its quote event, source `ops` by default) but
/// changes nothing else.
#[pg_extern(volatile)]
fn autoassign_explain(
    booking_id: Option<Uuid>,
    strategy: default!(Option<super::jsonb_arg::StrategyArg>, "'{}'"),
    source: default!(Option<&str>, "'ops'"),
) -> TableIterator<
    'static,
    (
        name!(step, i32),
        name!(stage, String),
        name!(kept, i64),
        name!(pruned, i64),
        name!(detail, String),
    ),
> {
    let (booking_id, strategy, source) = or_raise(common_args(booking_id, strategy, source, "ops"));
    let started = Instant::now();
    let mut rows: Vec<(String, i64, i64, String)> = Vec::new();
    let ctx = or_raise(booking::load(booking_id, false));
    let Some(ctx) = ctx else {
        rows.push((
            "booking".into(),
            0,
            1,
            format!("booking {booking_id} not found: booking_not_found (hard)"),
        ));
        return numbered(rows);
    };
    rows.push((
        "booking".into(),
        1,
        0,
        format!(
            "party {} at {}, tables blocked until {} (stay + buffer), status {}{}",
            ctx.party,
            utc(ctx.start_us),
            utc(ctx.end_us),
            ctx.status,
            if ctx.past_cutoff {
                ", past the cutoff"
            } else {
                ""
            }
        ),
    ));
    if ctx.status != "pending" {
        rows.push((
            "result".into(),
            0,
            0,
            "booking_not_pending (hard): only pending bookings are planned".into(),
        ));
        return numbered(rows);
    }
    let run = or_raise(assign::plan_booking(&ctx, &strategy, &source, started));
    let floor = &run.floor.floor;
    rows.push((
        "floor".into(),
        floor.tables().len() as i64,
        0,
        format!(
            "{} tables in {} zones, {} adjacency edges, floor version {} ({})",
            floor.tables().len(),
            floor.zone_count(),
            floor.edge_count(),
            run.floor.version,
            if run.cache_hit { "cache hit" } else { "loaded" }
        ),
    ));
    rows.push((
        "window".into(),
        run.busy_intervals as i64,
        0,
        format!(
            "{} busy intervals (allocations and live holds of other bookings), {} pending bookings for the lookahead",
            run.busy_intervals, run.pending_bookings
        ),
    ));
    for stage in &run.outcome.stages {
        rows.push((
            stage.name.to_string(),
            stage.kept as i64,
            stage.pruned as i64,
            stage.note.clone(),
        ));
    }
    if assign::reassign::applies(&run, &strategy) {
        // what confirm would do now: the fewest moves of other bookings that seat it
        let rr = or_raise(assign::reassign::search(&ctx, &run, &strategy, started));
        rows.push((
            "reassign".into(),
            rr.moves.len() as i64,
            0,
            rr.describe(&run),
        ));
    }
    let result = match (run.best(), run.reason) {
        (Some(best), reason) => {
            let names: Vec<&str> = best
                .tables
                .iter()
                .map(|&t| run.floor.table_names[t as usize].as_str())
                .collect();
            format!(
                "{}plan {} in {}: {} seats for {}, score {} (wasted {}, tables {}, lookahead {}, zone miss {}, priority {}); {} alternates",
                reason.map_or(String::new(), |r| format!("{} (best so far): ", r.code())),
                names.join(" + "),
                run.floor.zone_names[best.zone as usize],
                best.seats,
                ctx.party,
                best.score.total,
                best.score.wasted,
                best.score.table_count,
                best.score.lookahead,
                best.score.zone_miss,
                best.score.priority,
                run.outcome.plans.len() - 1
            )
        }
        (None, reason) => {
            let reason = reason.unwrap_or(Reason::NoFit);
            let why = match reason {
                Reason::NoCapacity => format!(
                    "only {} free seats in the eligible zones for a party of {}",
                    run.outcome.free_seats, ctx.party
                ),
                Reason::NoFit => format!(
                    "{} free seats, but no free table or connected combination fits a party of {}",
                    run.outcome.free_seats, ctx.party
                ),
                Reason::PartyExceedsFloor => {
                    "no zone could seat this party even on an empty floor".to_string()
                }
                Reason::Timeout => "deadline_ms reached before any plan was found".to_string(),
                _ => String::new(),
            };
            format!("{} ({}): {}", reason.code(), reason.class(), why)
        }
    };
    rows.push(("result".into(), run.outcome.plans.len() as i64, 0, result));
    numbered(rows)
}

/// Rows as (step, stage, kept, pruned, detail); the names live on `autoassign_explain`.
fn numbered(
    rows: Vec<(String, i64, i64, String)>,
) -> TableIterator<'static, (i32, String, i64, i64, String)> {
    TableIterator::new(
        rows.into_iter()
            .enumerate()
            .map(|(i, (stage, kept, pruned, detail))| (i as i32 + 1, stage, kept, pruned, detail)),
    )
}

/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_UNIX_SECS: i64 = 946_684_800;

/// Formats a timestamptz in microseconds (PostgreSQL epoch) as "YYYY-MM-DD HH:MM UTC".
pub fn utc(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000) + PG_EPOCH_UNIX_SECS;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(super::utc(0), "2000-01-01 00:00 UTC");
        assert_eq!(super::utc(-946_684_800_000_000), "1970-01-01 00:00 UTC");
        // 2026-12-01 19:30:00 UTC
        assert_eq!(
            super::utc(1_796_153_400_000_000 - 946_684_800_000_000),
            "2026-12-01 19:30 UTC"
        );
        assert_eq!(super::utc(5_097_600_000_000), "2000-02-29 00:00 UTC");
    }
}
