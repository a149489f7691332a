//! `pgaa timeline`: a per-table Gantt chart of one service (bookings starting on the local
//! day D) as SVG, and an HTML page that embeds it with the bookings still without a table.
//! Reads autoassign.tables / zones / bookings and the view autoassign.service_timeline
//! (allocations and live holds) with SELECTs only.

use crate::db;
use crate::svg::{self, esc, Chart, Item, TableRow};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  pgaa timeline --restaurant 'The White Horse' --day 2026-12-01 -o service.svg\n  (writes service.svg and service.html)"
)]
pub struct TimelineArgs {
    /// Restaurant id or exact name
    #[arg(long)]
    pub restaurant: String,
    /// The service day, YYYY-MM-DD, in the restaurant's time zone
    #[arg(long)]
    pub day: String,
    /// The SVG file to write
    #[arg(short = 'o', long = "output", default_value = "service.svg")]
    pub output: PathBuf,
    /// The HTML page to write [default: the SVG path with .html]
    #[arg(long)]
    pub html: Option<PathBuf>,
}

struct Waiting {
    time: String,
    party: i32,
    outcome: String,
    last_reason: Option<String>,
    id: String,
}

pub fn run(dsn: &str, a: TimelineArgs) -> Result<()> {
    let mut c = db::connect(dsn)?;
    db::extension_version(&mut c)?;
    let r = db::restaurant(&mut c, &a.restaurant)?;
    let day = db::day(&mut c, &a.day)?;
    let (rid, d) = (&r.id, &day);

    let tables: Vec<TableRow> = c
        .query(
            "SELECT z.name, t.id::text, t.name, t.capacity,
                    t.active AND (t.retired_from IS NULL
                                  OR t.retired_from >= ($2::text::date + 1)::timestamptz)
               FROM autoassign.tables t
               JOIN autoassign.zones z ON z.restaurant_id = t.restaurant_id AND z.id = t.zone_id
              WHERE t.restaurant_id = $1::text::uuid
              ORDER BY z.name, t.name",
            &[rid, d],
        )?
        .iter()
        .map(|row| TableRow {
            zone: row.get(0),
            id: row.get(1),
            name: row.get(2),
            capacity: row.get(3),
            in_service: row.get(4),
        })
        .collect();
    let items: Vec<Item> = c
        .query(
            "SELECT s.kind = 'hold', s.table_id::text, s.booking_id::text, s.party_size, s.status,
                    extract(epoch FROM s.starts_at)::float8, extract(epoch FROM s.ends_at)::float8,
                    extract(epoch FROM s.stay_ends_at)::float8, s.tables_in_plan,
                    to_char(s.starts_at, 'HH24:MI'), to_char(s.stay_ends_at, 'HH24:MI')
               FROM autoassign.service_timeline s
              WHERE s.restaurant_id = $1::text::uuid AND s.service_day = $2::text::date
              ORDER BY s.starts_at, s.booking_id, s.table_id",
            &[rid, d],
        )?
        .iter()
        .map(|row| Item {
            hold: row.get(0),
            table_id: row.get(1),
            booking_id: row.get(2),
            party: row.get(3),
            status: row.get(4),
            start: row.get(5),
            end: row.get(6),
            stay_end: row.get(7),
            tables_in_plan: row.get(8),
            start_label: row.get(9),
            end_label: row.get(10),
        })
        .collect();
    // the window: whole hours around what occupies the tables and the day's bookings,
    // else 17:00-23:00 local
    let w = c.query_one(
        "WITH b AS (
             SELECT min(b.start_at) AS lo,
                    max(autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes,
                                            r.buffer_after_minutes)) AS hi
               FROM autoassign.bookings b JOIN autoassign.restaurants r ON r.id = b.restaurant_id
              WHERE b.restaurant_id = $1::text::uuid
                AND (b.start_at AT TIME ZONE r.timezone)::date = $2::text::date),
         s AS (
             SELECT min(s.starts_at) AS lo, max(s.ends_at) AS hi FROM autoassign.service_timeline s
              WHERE s.restaurant_id = $1::text::uuid AND s.service_day = $2::text::date),
         w AS (
             SELECT date_trunc('hour', coalesce(least(s.lo, b.lo), ($2::text::date + time '17:00')::timestamptz)) AS lo,
                    date_trunc('hour', coalesce(greatest(s.hi, b.hi), ($2::text::date + time '23:00')::timestamptz)
                                       - interval '1 microsecond') + interval '1 hour' AS hi
               FROM s, b)
         SELECT extract(epoch FROM w.lo)::float8, extract(epoch FROM w.hi)::float8,
                extract(epoch FROM now())::float8,
                array(SELECT extract(epoch FROM g)::float8 FROM generate_series(w.lo, w.hi, interval '1 hour') g),
                array(SELECT to_char(g, 'HH24:MI') FROM generate_series(w.lo, w.hi, interval '1 hour') g)
           FROM w",
        &[rid, d],
    )?;
    let ticks_at: Vec<f64> = w.get(3);
    let ticks_label: Vec<String> = w.get(4);
    let waiting: Vec<Waiting> = c
        .query(
            "SELECT to_char(b.start_at, 'HH24:MI'), b.party_size, coalesce(b.auto_assign_outcome, 'waiting'),
                    b.auto_assign_last_result ->> 'reason', b.id::text
               FROM autoassign.bookings b JOIN autoassign.restaurants r ON r.id = b.restaurant_id
              WHERE b.restaurant_id = $1::text::uuid AND b.status = 'pending'
                AND (b.start_at AT TIME ZONE r.timezone)::date = $2::text::date
              ORDER BY b.start_at, b.party_size DESC, b.id",
            &[rid, d],
        )?
        .iter()
        .map(|row| Waiting {
            time: row.get(0),
            party: row.get(1),
            outcome: row.get(2),
            last_reason: row.get(3),
            id: row.get(4),
        })
        .collect();

    let bars = items.iter().filter(|i| !i.hold).count();
    let holds = items.iter().filter(|i| i.hold).count();
    let mut seated: Vec<&str> = items
        .iter()
        .filter(|i| !i.hold)
        .map(|i| i.booking_id.as_str())
        .collect();
    seated.sort_unstable();
    seated.dedup();
    let combos = {
        let mut v: Vec<&str> = items
            .iter()
            .filter(|i| !i.hold && i.tables_in_plan > 1)
            .map(|i| i.booking_id.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let chart = Chart {
        title: format!("{} — service of {}", r.name, day),
        subtitle: format!(
            "{} bookings on tables ({} combined), {} allocations, {} live holds, {} bookings without a table · times in {}",
            seated.len(),
            combos,
            bars,
            holds,
            waiting.len(),
            r.timezone
        ),
        tables,
        items,
        from: w.get(0),
        to: w.get(1),
        ticks: ticks_at.into_iter().zip(ticks_label).collect(),
        now: Some(w.get(2)),
    };
    let svg_text = svg::render(&chart);
    write(&a.output, &svg_text)?;
    let html_path = a
        .html
        .clone()
        .unwrap_or_else(|| a.output.with_extension("html"));
    write(&html_path, &html(&chart, &svg_text, &waiting))?;
    println!(
        "pgaa timeline: {} allocations, {} holds, {} bookings without a table\n  SVG:  {}\n  HTML: {}",
        bars,
        holds,
        waiting.len(),
        a.output.display(),
        html_path.display()
    );
    Ok(())
}

fn write(p: &Path, text: &str) -> Result<()> {
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))
}

fn html(ch: &Chart, svg_text: &str, waiting: &[Waiting]) -> String {
    let mut rows = String::new();
    for w in waiting {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            esc(&w.time),
            w.party,
            esc(&w.outcome),
            esc(w.last_reason.as_deref().unwrap_or("-")),
            esc(&w.id)
        ));
    }
    if rows.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"5\">none: every booking of the service has its tables</td></tr>\n",
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 24px; color: #1b2a41; }}
.chart {{ overflow-x: auto; border: 1px solid #ddd; padding: 8px; }}
table {{ border-collapse: collapse; margin-top: 8px; }}
td, th {{ border-bottom: 1px solid #eee; padding: 3px 10px; text-align: left; font-size: 13px; }}
p.note {{ color: #555; font-size: 13px; max-width: 60em; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{subtitle}</p>
<div class="chart">
{svg_text}</div>
<p class="note">Rows are tables grouped by zone. Each bar is one booking on one table, labelled
with the party size and coloured by status; its pale tail is the turnover buffer. Bars of a
booking seated at several combined tables are joined by a dark connector and labelled
"party · N tables". Hatched orange bars are live holds (quotes with hold_seconds). Pale green
stretches are free gaps of 15 minutes or more. Hover a bar for the booking's details.</p>
<h2>Bookings without a table ({n})</h2>
<table><tr><th>time</th><th>party</th><th>auto-assign</th><th>last reason</th><th>booking</th></tr>
{rows}</table>
<p class="note">Written by pgaa timeline from autoassign.service_timeline and autoassign.bookings.</p>
</body></html>
"#,
        title = esc(&ch.title),
        subtitle = esc(&ch.subtitle),
        n = waiting.len(),
    )
}
