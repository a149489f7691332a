//! `pgaa stress`: synthetic load in a scratch restaurant ('pgaa-stress-<uuid>', created by
//! autoassign.ops_stress_create and removed by autoassign.ops_stress_drop, which refuses
//! any other restaurant). Same rails as `assign`. Each call is a confirm of the next
//! unclaimed booking (share --confirm-share) or a quote of a random unclaimed one, so the
//! floor fills up as it would during a booking rush; the run ends after --seconds or when
//! every booking is claimed.

use crate::db;
use crate::output::{self, JsonOut};
use crate::rails::{self, Job, Kind, RailArgs, RunSummary, Stop};
use crate::Refused;
use anyhow::Result;
use serde::Serialize;
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  pgaa stress --bookings 2000 --clients 4 --seconds 30 --json stress.json\n\nThe scratch restaurant is removed at the end, on Ctrl-C and on SIGTERM (--keep keeps it);\n`pgaa stress --cleanup` removes any left by a killed run."
)]
pub struct StressArgs {
    /// Synthetic pending bookings in the scratch restaurant (one evening)
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub bookings: u32,
    /// Concurrent client sessions (1..=4; the same cap as --concurrency)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4))]
    pub clients: Option<u32>,
    /// How long to run, in seconds
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Tables in the scratch floor [default: about bookings / 3.5, at least 10]
    #[arg(long)]
    pub tables: Option<i32>,
    /// Share of calls that are confirms (the rest are quotes), 0..=1
    #[arg(long, default_value_t = 0.3)]
    pub confirm_share: f64,
    /// Write the report as JSON to PATH (or stdout with --json alone)
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "-")]
    pub json: Option<String>,
    /// Keep the scratch restaurant afterwards (for a look at it)
    #[arg(long)]
    pub keep: bool,
    /// Only remove scratch restaurants left behind by killed runs, then exit
    #[arg(long)]
    pub cleanup: bool,
    #[command(flatten)]
    pub rails: RailArgs,
}

#[derive(Serialize)]
struct StressReport {
    restaurant_id: String,
    restaurant_name: String,
    bookings: u32,
    tables: i64,
    clients: u32,
    seconds: u64,
    confirm_share: f64,
    rate_limit: f64,
    /// calls per second over the run
    throughput: f64,
    removed: bool,
    #[serde(flatten)]
    run: RunSummary,
}

/// Removes the scratch restaurant when dropped (end of run, error, Ctrl-C), through a
/// fresh session so a broken worker session cannot prevent it.
struct Scratch {
    dsn: String,
    id: String,
    keep: bool,
    removed: bool,
}

impl Scratch {
    fn remove(&mut self) -> Result<bool> {
        if self.keep || self.removed {
            return Ok(self.removed);
        }
        let mut c = db::connect(&self.dsn)?;
        // queued planner events of the scratch restaurant first, so they go with it
        db::flush_events(&mut c);
        c.query_one(
            "SELECT autoassign.ops_stress_drop($1::text::uuid)",
            &[&self.id],
        )?;
        self.removed = true;
        Ok(true)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            eprintln!(
                "pgaa: could not remove scratch restaurant {}: {}; run pgaa stress --cleanup",
                self.id,
                db::describe(&e)
            );
        }
    }
}

/// xorshift64*: enough randomness to pick bookings, no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn run(dsn: &str, a: StressArgs) -> Result<u8> {
    let mut c = db::connect(dsn)?;
    db::extension_version(&mut c)?;
    db::require_yes_on_production(&mut c, a.rails.yes, "stress (a scratch restaurant)")?;
    if a.cleanup {
        let rows = c.query(
            "SELECT id::text, autoassign.ops_stress_drop(id) FROM autoassign.restaurants
              WHERE name LIKE 'pgaa-stress-%'",
            &[],
        )?;
        println!(
            "pgaa stress --cleanup: removed {} scratch restaurants",
            rows.len()
        );
        return Ok(0);
    }
    if !(0.0..=1.0).contains(&a.confirm_share) {
        return Err(Refused("--confirm-share must be between 0 and 1".into()).into());
    }
    let clients = a.clients.unwrap_or(a.rails.concurrency);
    let id: String = c
        .query_one(
            "SELECT autoassign.ops_stress_create($1, $2)::text",
            &[&(a.bookings as i32), &a.tables],
        )?
        .get(0);
    let mut scratch = Scratch {
        dsn: dsn.to_string(),
        id,
        keep: a.keep,
        removed: false,
    };
    let row = c.query_one(
        "SELECT r.name, (SELECT count(*) FROM autoassign.tables t WHERE t.restaurant_id = r.id)
           FROM autoassign.restaurants r WHERE r.id = $1::text::uuid",
        &[&scratch.id],
    )?;
    let name: String = row.get(0);
    let tables: i64 = row.get(1);
    eprintln!(
        "pgaa stress: scratch restaurant {name} ({}): {tables} tables, {} bookings; {clients} clients for {} s",
        scratch.id, a.bookings, a.seconds
    );
    let mut ids: Vec<String> = c
        .query(
            "SELECT id::text FROM autoassign.bookings WHERE restaurant_id = $1::text::uuid
              ORDER BY start_at, id",
            &[&scratch.id],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    drop(c);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(42)
        | 1;
    let mut rng = Rng(seed);
    // shuffle, so confirms arrive in booking-request order rather than by start time
    for i in (1..ids.len()).rev() {
        ids.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let share = a.confirm_share;
    let mut next = 0usize;
    let source: rails::Source = Box::new(move || {
        if next >= ids.len() {
            return None;
        }
        if rng.unit() < share {
            next += 1;
            Some(Job {
                kind: Kind::Confirm,
                booking_id: ids[next - 1].clone(),
            })
        } else {
            let i = next + (rng.next() % (ids.len() - next) as u64) as usize;
            Some(Job {
                kind: Kind::Quote,
                booking_id: ids[i].clone(),
            })
        }
    });
    let mut rails_args = a.rails.clone();
    rails_args.concurrency = clients;
    let rate = a.rails.rate.unwrap_or(200.0);
    let plan = rails::Plan {
        total: None,
        deadline: Some(Duration::from_secs(a.seconds)),
        rate,
        strategy: "{}".into(),
        label: "stress".into(),
    };
    let run = rails::run(dsn, &rails_args, plan, source);
    let removed = scratch.remove();
    let run = run?;
    let removed = removed?;
    let code = match run.stop {
        Stop::Done => 0,
        Stop::ErrorRate => 3,
        Stop::Interrupted => 130,
    };
    let report = StressReport {
        restaurant_id: scratch.id.clone(),
        restaurant_name: name,
        bookings: a.bookings,
        tables,
        clients,
        seconds: a.seconds,
        confirm_share: share,
        rate_limit: rate,
        throughput: run.calls_per_s,
        removed,
        run,
    };
    let json = JsonOut::from_arg(a.json.as_deref());
    if matches!(json, Some(JsonOut::Stdout)) {
        print_human(&report, &mut std::io::stderr());
    } else {
        print_human(&report, &mut std::io::stdout());
    }
    if let Some(out) = json {
        out.write(&report)?;
    }
    Ok(code)
}

/// The human summary; it goes to stderr when the JSON report goes to stdout.
fn print_human(s: &StressReport, out: &mut dyn std::io::Write) {
    let r = &s.run;
    let _ = writeln!(
        out,
        "pgaa stress: {} clients, {:.1} s, {} calls: throughput {:.1} calls/s (rate limit {}), stopped: {}",
        s.clients,
        r.elapsed_s,
        r.calls,
        s.throughput,
        if s.rate_limit > 0.0 {
            format!("{}/s", s.rate_limit)
        } else {
            "none".into()
        },
        output::stop_text(&r.stop)
    );
    let _ = writeln!(
        out,
        "  ok {} ({:.1}%), errors {} ({:.1}%)",
        r.ok,
        100.0 * r.success_rate,
        r.errors,
        100.0 * r.error_rate
    );
    output::print_run_details_to(r, out);
    let _ = writeln!(
        out,
        "  scratch restaurant {} {}",
        s.restaurant_id,
        if s.removed {
            "removed"
        } else {
            "kept (--keep)"
        }
    );
}
