//! `pgaa assign`: the bulk loop over the pending bookings of one service. A dry run
//! (autoassign_quote, no hold: writes nothing but telemetry) unless `--apply`
//! (autoassign_confirm). Every call has source 'ops' and goes through the rails.

use crate::db;
use crate::output::{self, JsonOut};
use crate::rails::{self, Job, Kind, RailArgs, RunSummary, Stop};
use crate::Refused;
use anyhow::Result;
use serde::Serialize;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  pgaa assign --restaurant 'The White Horse' --day 2026-12-01            # dry run\n  pgaa assign --restaurant <uuid> --from '2026-12-01 17:00' --to '2026-12-01 23:00' --apply --rate 10\n\nTimes without an offset are in the restaurant's time zone."
)]
pub struct AssignArgs {
    /// Restaurant id or exact name
    #[arg(long)]
    pub restaurant: String,
    /// Start of the window (bookings starting at or after), e.g. '2026-12-01 17:00'
    #[arg(long, required_unless_present = "day", requires = "to")]
    pub from: Option<String>,
    /// End of the window (bookings starting before)
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Shorthand for the whole local day: --from D --to D+1
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub day: Option<String>,
    /// Confirm (autoassign_confirm) instead of the default dry run (autoassign_quote)
    #[arg(long)]
    pub apply: bool,
    /// Strategy knobs passed to every call, a jsonb object
    #[arg(long, default_value = "{}")]
    pub strategy: String,
    /// Print the summary as JSON to stdout, or write it to PATH
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<String>,
    #[command(flatten)]
    pub rails: RailArgs,
}

#[derive(Serialize)]
struct AssignSummary {
    mode: &'static str,
    restaurant: db::Restaurant,
    from: String,
    to: String,
    bookings_pending: u64,
    #[serde(flatten)]
    run: RunSummary,
}

/// Runs the loop; returns the exit code (0 done, 3 error-rate stop, 130 interrupted).
pub fn run(dsn: &str, a: AssignArgs) -> Result<u8> {
    let mut c = db::connect(dsn)?;
    db::extension_version(&mut c)?;
    let r = db::restaurant(&mut c, &a.restaurant)?;
    if a.apply {
        db::require_yes_on_production(&mut c, a.rails.yes, "assign --apply")?;
    }
    let (from, to) = match (&a.day, &a.from, &a.to) {
        (Some(d), _, _) => {
            let d = db::day(&mut c, d)?;
            (d.clone(), format!("{d} 24:00"))
        }
        (None, Some(f), Some(t)) => (f.clone(), t.clone()),
        _ => return Err(Refused("pass --from and --to, or --day".into()).into()),
    };
    let window = c
        .query_one(
            "SELECT $1::text::timestamptz::text, $2::text::timestamptz::text,
                    $1::text::timestamptz < $2::text::timestamptz",
            &[&from, &to],
        )
        .map_err(|e| Refused(format!("bad --from/--to: {e}")))?;
    let (from, to): (String, String) = (window.get(0), window.get(1));
    if !window.get::<_, bool>(2) {
        return Err(Refused(format!("--from {from} is not before --to {to}")).into());
    }
    // the strategy is checked by the extension on the first call; refuse bad JSON here
    c.query_one("SELECT $1::text::jsonb", &[&a.strategy])
        .map_err(|e| Refused(format!("--strategy is not JSON: {e}")))?;

    // the service's bookings still waiting for auto-assign, in the demo's booking order
    let ids: Vec<String> = c
        .query(
            "SELECT id::text FROM autoassign.bookings
              WHERE restaurant_id = $1::text::uuid AND status = 'pending'
                AND auto_assign_outcome IS NULL
                AND start_at >= $2::text::timestamptz AND start_at < $3::text::timestamptz
              ORDER BY start_at, party_size DESC, id",
            &[&r.id, &from, &to],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let n = ids.len() as u64;
    let mode = if a.apply { "apply" } else { "dry_run" };
    eprintln!(
        "pgaa assign: {} — {} ({}), {} .. {}: {} pending bookings",
        if a.apply {
            "APPLY: confirming through autoassign_confirm"
        } else {
            "dry run: quotes only, nothing written but telemetry"
        },
        r.name,
        r.id,
        from,
        to,
        n
    );
    let kind = if a.apply { Kind::Confirm } else { Kind::Quote };
    let mut it = ids.into_iter();
    let source: rails::Source =
        Box::new(move || it.next().map(|booking_id| Job { kind, booking_id }));
    let plan = rails::Plan {
        total: Some(n),
        deadline: None,
        rate: a.rails.rate.unwrap_or(20.0),
        strategy: a.strategy.clone(),
        label: "assign".into(),
    };
    let run = rails::run(dsn, &a.rails, plan, source)?;
    db::flush_events(&mut c);
    let code = match run.stop {
        Stop::Done => 0,
        Stop::ErrorRate => 3,
        Stop::Interrupted => 130,
    };
    let summary = AssignSummary {
        mode,
        restaurant: r,
        from,
        to,
        bookings_pending: n,
        run,
    };
    match JsonOut::from_arg(a.json.as_deref()) {
        Some(out) => out.write(&summary)?,
        None => print_human(&summary, a.apply),
    }
    Ok(code)
}

fn print_human(s: &AssignSummary, apply: bool) {
    let r = &s.run;
    println!(
        "pgaa assign ({}): {} [{}], {} .. {}",
        if apply { "applied" } else { "dry run" },
        s.restaurant.name,
        s.restaurant.id,
        s.from,
        s.to
    );
    println!(
        "  stopped: {}; {} of {} pending bookings processed in {:.1} s ({:.1} calls/s)",
        output::stop_text(&r.stop),
        r.calls,
        s.bookings_pending,
        r.elapsed_s,
        r.calls_per_s
    );
    println!(
        "  {} {} ({:.1}%), errors {} ({:.1}%)",
        if apply { "confirmed" } else { "would seat" },
        r.ok,
        100.0 * r.success_rate,
        r.errors,
        100.0 * r.error_rate
    );
    output::print_run_details(r);
    if !apply {
        println!("  nothing was written but telemetry; run again with --apply to confirm");
    }
}
