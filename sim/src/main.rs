//! pgaa-sim: replays a seeded busy day for a set of restaurants against a live
//! pg_autoassign, once per retry policy, and compares them.
//!
//! ```text
//! pgaa-sim [--dsn DSN] [--seed 42] [--restaurants 20] [--seconds-budget 300]
//!          [--policy both|baseline|ours]
//! ```
//! The DSN comes from `--dsn`, else `PGAA_SIM_DSN`. Each run drops and recreates the
//! extension in that database: point it at a throwaway cluster only.

mod model;
mod report;
mod runner;

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;

use runner::Policy;

const USAGE: &str = "\
usage: pgaa-sim [options]

Replays a seeded busy day against pg_autoassign (DROPs and re-CREATEs the extension!)
and compares the old retry job (baseline) with autoassign_sweep() every minute (ours).

options:
  --dsn DSN               libpq-style connection string (default: env PGAA_SIM_DSN)
  --seed N                RNG seed for the day (default 42)
  --restaurants N         number of restaurants, 1..=200 (default 20)
  --seconds-budget N      abort when the whole run takes longer (default 300)
  --policy P              both | baseline | ours (default both)
  --ours-setup SQL        SQL run after CREATE EXTENSION for policy ours only, to try
                          other knobs, e.g. \"UPDATE autoassign.retry_policy SET
                          max_attempts = 2 WHERE class = 'capacity'\"
  -h, --help              this text";

struct Args {
    dsn: String,
    seed: u64,
    restaurants: usize,
    seconds_budget: u64,
    policies: Vec<Policy>,
    ours_setup: Option<String>,
}

fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T> {
    let v = v.ok_or_else(|| anyhow!("{flag} needs a value\n\n{USAGE}"))?;
    v.parse()
        .map_err(|_| anyhow!("{flag}: cannot parse {v:?}\n\n{USAGE}"))
}

fn parse_args() -> Result<Option<Args>> {
    let mut dsn = std::env::var("PGAA_SIM_DSN").ok();
    let mut seed = 42;
    let mut restaurants = 20;
    let mut seconds_budget = 300;
    let mut policies = vec![Policy::Baseline, Policy::Ours];
    let mut ours_setup = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut next = || inline.clone().or_else(|| it.next());
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--dsn" => dsn = Some(value(&flag, next())?),
            "--seed" => seed = value(&flag, next())?,
            "--restaurants" => restaurants = value(&flag, next())?,
            "--seconds-budget" => seconds_budget = value(&flag, next())?,
            "--ours-setup" => ours_setup = Some(value::<String>(&flag, next())?),
            "--policy" => {
                policies = match value::<String>(&flag, next())?.as_str() {
                    "both" => vec![Policy::Baseline, Policy::Ours],
                    "baseline" => vec![Policy::Baseline],
                    "ours" => vec![Policy::Ours],
                    other => bail!("--policy: expected both, baseline or ours, got {other:?}"),
                }
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    if !(1..=200).contains(&restaurants) {
        bail!("--restaurants must be between 1 and 200, got {restaurants}");
    }
    if seconds_budget == 0 {
        bail!("--seconds-budget must be positive");
    }
    let dsn = dsn.ok_or_else(|| {
        anyhow!(
            "no database: pass --dsn or set PGAA_SIM_DSN, e.g. \
             --dsn 'host=127.0.0.1 port=54332 user=postgres dbname=pg_autoassign'"
        )
    })?;
    Ok(Some(Args {
        dsn,
        seed,
        restaurants,
        seconds_budget,
        policies,
        ours_setup,
    }))
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("pgaa-sim: error: {e:#}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<()> {
    let Some(args) = parse_args()? else {
        println!("{USAGE}");
        return Ok(());
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds_budget);
    let mut rng = StdRng::seed_from_u64(args.seed);
    let day = model::generate(&mut rng, args.restaurants);
    println!(
        "pgaa-sim seed={} restaurants={} service {} 17:00-22:30 UTC, arrivals 09:00-21:00",
        args.seed,
        args.restaurants,
        model::SERVICE_DATE
    );
    print!("{}", report::day_table(&day));
    if let Some(sql) = &args.ours_setup {
        println!("ours-setup: {sql}");
    }

    let mut runs = Vec::new();
    for &policy in &args.policies {
        eprintln!("running policy {} ...", policy.name());
        let collected = runner::run(
            &args.dsn,
            &day,
            policy,
            args.seed,
            args.ours_setup.as_deref(),
            deadline,
        )
        .with_context(|| format!("policy {}", policy.name()))?;
        eprintln!(
            "policy {} done in {:.1} s",
            policy.name(),
            collected.wall.as_secs_f64()
        );
        runs.push((policy, collected));
    }
    println!();
    match runs.as_slice() {
        [(Policy::Baseline, cb), (Policy::Ours, co)] => {
            let b = report::summarise(&day, cb);
            let o = report::summarise(&day, co);
            print!("{}", report::comparison(&b, &o, cb, co));
        }
        _ => {
            for (policy, c) in &runs {
                let s = report::summarise(&day, c);
                println!(
                    "{}: planner calls/booking mean {:.3} p95 {:.0} (total {}), confirmed {}, covers {}, \
                     time to outcome p50 {:.0} s p95 {:.0} s, gave up {}, cutoff {}, pending at end {}, \
                     duplicate outbox {}, gave-up messages {} (also told confirmed {}), \
                     no outcome on the row {}, summary events != row outcome {}",
                    policy.name(),
                    s.calls_mean,
                    s.calls_p95,
                    s.calls_total,
                    s.confirmed_final,
                    s.covers,
                    s.tto_p50,
                    s.tto_p95,
                    s.gave_up,
                    s.cutoff,
                    s.pending_end,
                    s.duplicate_outbox,
                    c.gave_up_messages,
                    c.told_both,
                    s.outcome_missing,
                    s.summary_mismatch
                );
            }
        }
    }
    println!("\ntotal wall time {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
