//! `pgaa report`: one service as a manager or DBA wants it, read from the extension's
//! tables and views only (no planner call):
//! - the service = bookings starting on the local day D (restaurants.timezone): counts by
//!   status, covers;
//! - planner latency and reasons of the quotes about those bookings
//!   (autoassign.service_quotes, whenever the calls were made);
//! - outcomes and retries (autoassign.booking_outcomes: attempts per booking);
//! - the planner's activity on the UTC day D from the telemetry dashboards
//!   (autoassign.quote_latency per hour and source, autoassign.reason_breakdown).

use crate::db;
use crate::output::{self, JsonOut};
use anyhow::Result;
use serde::Serialize;

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Restaurant id or exact name
    #[arg(long)]
    pub restaurant: String,
    /// The service day, YYYY-MM-DD, in the restaurant's time zone
    #[arg(long)]
    pub day: String,
    /// Print the report as JSON to stdout, or write it to PATH
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<String>,
}

#[derive(Serialize, Default)]
pub struct StatusRow {
    pub status: String,
    pub bookings: i64,
    pub covers: i64,
}

#[derive(Serialize)]
pub struct LatencyRow {
    /// planner caller (api, inline, job, ops, ...), or "all"
    pub source: String,
    pub calls: i64,
    pub p50_us: Option<f64>,
    pub p95_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub max_us: Option<i64>,
}

#[derive(Serialize)]
pub struct ReasonRow {
    pub reason: String,
    pub calls: i64,
    pub share: f64,
}

#[derive(Serialize)]
pub struct OutcomeRow {
    /// confirmed, gave_up, cutoff, cancelled; "waiting" = not settled yet
    pub outcome: String,
    pub bookings: i64,
    pub covers: i64,
    /// bookings that needed more than one confirm attempt
    pub retried: i64,
    pub attempts_total: i64,
    pub attempts_max: i32,
    /// median time from the first event to the outcome, seconds
    pub p50_time_to_outcome_s: Option<f64>,
}

#[derive(Serialize)]
pub struct HourRow {
    pub hour: String,
    pub source: String,
    pub calls: i64,
    pub p50_us: Option<f64>,
    pub p95_us: Option<f64>,
    pub p99_us: Option<f64>,
}

#[derive(Serialize)]
pub struct Report {
    pub restaurant: db::Restaurant,
    pub day: String,
    pub bookings: Vec<StatusRow>,
    pub latency: Vec<LatencyRow>,
    pub reasons: Vec<ReasonRow>,
    pub outcomes: Vec<OutcomeRow>,
    /// why bookings that did not get a table ended so (final_reason), with counts
    pub unseated_reasons: Vec<ReasonRow>,
    /// quote_latency rows of the UTC day D for this restaurant
    pub activity_by_hour: Vec<HourRow>,
    /// reason_breakdown rows of the UTC day D for this restaurant
    pub activity_reasons: Vec<ReasonRow>,
}

pub fn run(dsn: &str, a: ReportArgs) -> Result<()> {
    let mut c = db::connect(dsn)?;
    db::extension_version(&mut c)?;
    let r = db::restaurant(&mut c, &a.restaurant)?;
    let day = db::day(&mut c, &a.day)?;
    db::flush_events(&mut c);
    let rep = collect(&mut c, r, day)?;
    match JsonOut::from_arg(a.json.as_deref()) {
        Some(out) => out.write(&rep)?,
        None => print_human(&rep),
    }
    Ok(())
}

fn collect(c: &mut postgres::Client, r: db::Restaurant, day: String) -> Result<Report> {
    let (rid, d) = (&r.id, &day);
    let bookings = c
        .query(
            "SELECT b.status, count(*), coalesce(sum(b.party_size), 0)::bigint
               FROM autoassign.bookings b JOIN autoassign.restaurants r ON r.id = b.restaurant_id
              WHERE b.restaurant_id = $1::text::uuid
                AND (b.start_at AT TIME ZONE r.timezone)::date = $2::text::date
              GROUP BY b.status ORDER BY count(*) DESC, b.status",
            &[rid, d],
        )?
        .iter()
        .map(|row| StatusRow {
            status: row.get(0),
            bookings: row.get(1),
            covers: row.get(2),
        })
        .collect();
    let latency = c
        .query(
            "SELECT coalesce(q.source::text, 'all'), count(*),
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY q.duration_us::float8),
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY q.duration_us::float8),
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY q.duration_us::float8),
                    max(q.duration_us)
               FROM autoassign.service_quotes q
              WHERE q.restaurant_id = $1::text::uuid AND q.service_day = $2::text::date
              GROUP BY ROLLUP (q.source::text)
              ORDER BY q.source::text NULLS LAST",
            &[rid, d],
        )?
        .iter()
        .map(|row| LatencyRow {
            source: row.get(0),
            calls: row.get(1),
            p50_us: row.get(2),
            p95_us: row.get(3),
            p99_us: row.get(4),
            max_us: row.get(5),
        })
        .collect();
    let reasons = reason_rows(
        c,
        "SELECT q.reason, count(*),
                round(count(*)::numeric / sum(count(*)) OVER (), 4)::float8
           FROM autoassign.service_quotes q
          WHERE q.restaurant_id = $1::text::uuid AND q.service_day = $2::text::date
          GROUP BY q.reason ORDER BY count(*) DESC, q.reason",
        rid,
        d,
    )?;
    let outcomes = c
        .query(
            "SELECT coalesce(o.outcome, 'waiting'), count(*), coalesce(sum(b.party_size), 0)::bigint,
                    count(*) FILTER (WHERE o.attempts > 1),
                    coalesce(sum(o.attempts), 0)::bigint, coalesce(max(o.attempts), 0)::int,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.time_to_outcome)::float8)
               FROM autoassign.bookings b
               JOIN autoassign.restaurants r ON r.id = b.restaurant_id
               LEFT JOIN autoassign.booking_outcomes o ON o.booking_id = b.id
              WHERE b.restaurant_id = $1::text::uuid
                AND (b.start_at AT TIME ZONE r.timezone)::date = $2::text::date
              GROUP BY 1 ORDER BY count(*) DESC, 1",
            &[rid, d],
        )?
        .iter()
        .map(|row| OutcomeRow {
            outcome: row.get(0),
            bookings: row.get(1),
            covers: row.get(2),
            retried: row.get(3),
            attempts_total: row.get(4),
            attempts_max: row.get(5),
            p50_time_to_outcome_s: row.get(6),
        })
        .collect();
    let unseated_reasons = reason_rows(
        c,
        "SELECT o.final_reason, count(*),
                round(count(*)::numeric / sum(count(*)) OVER (), 4)::float8
           FROM autoassign.booking_outcomes o
           JOIN autoassign.bookings b ON b.id = o.booking_id AND b.restaurant_id = o.restaurant_id
           JOIN autoassign.restaurants r ON r.id = b.restaurant_id
          WHERE b.restaurant_id = $1::text::uuid
            AND (b.start_at AT TIME ZONE r.timezone)::date = $2::text::date
            AND o.outcome <> 'confirmed'
          GROUP BY 1 ORDER BY count(*) DESC, 1",
        rid,
        d,
    )?;
    let activity_by_hour = c
        .query(
            "SELECT to_char(l.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00 \"UTC\"'), l.source::text,
                    l.calls, l.p50_us, l.p95_us, l.p99_us
               FROM autoassign.quote_latency l
              WHERE l.restaurant_id = $1::text::uuid
                AND l.hour >= ($2::text::date)::timestamp AT TIME ZONE 'UTC'
                AND l.hour < ($2::text::date + 1)::timestamp AT TIME ZONE 'UTC'
              ORDER BY l.hour, l.source",
            &[rid, d],
        )?
        .iter()
        .map(|row| HourRow {
            hour: row.get(0),
            source: row.get(1),
            calls: row.get(2),
            p50_us: row.get(3),
            p95_us: row.get(4),
            p99_us: row.get(5),
        })
        .collect();
    let activity_reasons = reason_rows(
        c,
        "SELECT b.reason, b.calls, b.share::float8
           FROM autoassign.reason_breakdown b
          WHERE b.restaurant_id = $1::text::uuid
            AND b.day = ($2::text::date)::timestamp AT TIME ZONE 'UTC'
          ORDER BY b.calls DESC, b.reason",
        rid,
        d,
    )?;
    Ok(Report {
        restaurant: r,
        day,
        bookings,
        latency,
        reasons,
        outcomes,
        unseated_reasons,
        activity_by_hour,
        activity_reasons,
    })
}

fn reason_rows(c: &mut postgres::Client, sql: &str, rid: &str, d: &str) -> Result<Vec<ReasonRow>> {
    Ok(c.query(sql, &[&rid, &d])?
        .iter()
        .map(|row| ReasonRow {
            reason: row
                .get::<_, Option<String>>(0)
                .unwrap_or_else(|| "unknown".into()),
            calls: row.get(1),
            share: row.get(2),
        })
        .collect())
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into())
}

fn print_human(rep: &Report) {
    println!(
        "Service report: {} [{}], {} ({})",
        rep.restaurant.name, rep.restaurant.id, rep.day, rep.restaurant.timezone
    );
    println!(
        "\nBookings of the service (starting on {} local time)",
        rep.day
    );
    let rows: Vec<Vec<String>> = rep
        .bookings
        .iter()
        .map(|b| {
            vec![
                b.status.clone(),
                b.bookings.to_string(),
                b.covers.to_string(),
            ]
        })
        .collect();
    output::table(&["status", "bookings", "covers"], &rows);

    println!("\nPlanner latency of the quotes about these bookings (µs)");
    let rows: Vec<Vec<String>> = rep
        .latency
        .iter()
        .map(|l| {
            vec![
                l.source.clone(),
                l.calls.to_string(),
                opt(l.p50_us),
                opt(l.p95_us),
                opt(l.p99_us),
                l.max_us
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    output::table(&["source", "calls", "p50", "p95", "p99", "max"], &rows);

    println!("\nReasons (quotes about these bookings)");
    print_reasons(&rep.reasons);

    println!("\nOutcomes and retries");
    let rows: Vec<Vec<String>> = rep
        .outcomes
        .iter()
        .map(|o| {
            vec![
                o.outcome.clone(),
                o.bookings.to_string(),
                o.covers.to_string(),
                o.retried.to_string(),
                o.attempts_total.to_string(),
                o.attempts_max.to_string(),
                o.p50_time_to_outcome_s
                    .map(|s| format!("{s:.1}"))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    output::table(
        &[
            "outcome",
            "bookings",
            "covers",
            "retried",
            "attempts",
            "max attempts",
            "p50 time to outcome s",
        ],
        &rows,
    );
    if !rep.unseated_reasons.is_empty() {
        println!("\nWhy bookings got no table (final reason)");
        print_reasons(&rep.unseated_reasons);
    }

    println!(
        "\nPlanner activity on {} (UTC), quote_latency by hour (µs)",
        rep.day
    );
    let rows: Vec<Vec<String>> = rep
        .activity_by_hour
        .iter()
        .map(|h| {
            vec![
                h.hour.clone(),
                h.source.clone(),
                h.calls.to_string(),
                opt(h.p50_us),
                opt(h.p95_us),
                opt(h.p99_us),
            ]
        })
        .collect();
    output::table(&["hour", "source", "calls", "p50", "p95", "p99"], &rows);
    println!("\nPlanner activity on {} (UTC), reason_breakdown", rep.day);
    print_reasons(&rep.activity_reasons);
}

fn print_reasons(v: &[ReasonRow]) {
    let rows: Vec<Vec<String>> = v
        .iter()
        .map(|r| {
            vec![
                r.reason.clone(),
                r.calls.to_string(),
                format!("{:.1}%", 100.0 * r.share),
            ]
        })
        .collect();
    output::table(&["reason", "calls", "share"], &rows);
}
