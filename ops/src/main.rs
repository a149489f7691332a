//! pgaa: the operator's tool for pg_autoassign.
//!
//! Talks to the database only through the extension's SQL surface (schema `autoassign`):
//! `autoassign_quote` / `autoassign_confirm` with `source => 'ops'`, SELECTs of its tables
//! and views, and the scratch-restaurant functions of `sql/ops.sql`. See ops/README.md.
//!
//! Exit codes: 0 done, 1 error, 2 refused (bad arguments, production without `--yes`),
//! 3 stopped by the error-rate rail, 130 interrupted (Ctrl-C / SIGTERM).

mod assign;
mod db;
mod limiter;
mod output;
mod rails;
mod report;
mod stress;
mod svg;
mod timeline;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pgaa",
    version,
    about = "The operator's tool for pg_autoassign: bulk auto-assign and stress runs with safety rails, service report, timeline picture",
    long_about = None
)]
struct Cli {
    /// libpq-style connection string, e.g. "host=127.0.0.1 port=5432 user=postgres dbname=app"
    #[arg(long, env = "PGAA_DSN", global = true, hide_env_values = true)]
    dsn: Option<String>,

    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Auto-assign the pending bookings of one service (a dry run of quotes unless --apply)
    Assign(assign::AssignArgs),
    /// Synthetic load in a scratch restaurant that pgaa creates and removes
    Stress(stress::StressArgs),
    /// A service as a manager or DBA wants it: latency, reasons, outcomes, retries
    Report(report::ReportArgs),
    /// Per-table Gantt chart of a service as SVG plus an HTML page that embeds it
    Timeline(timeline::TimelineArgs),
}

/// An error with its exit code: 2 for refusals, 1 otherwise.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

fn main() -> ExitCode {
    // `pgaa report | head` should end quietly when head has read enough, like other
    // command-line tools, instead of panicking on the closed pipe
    // SAFETY: resetting a signal's disposition at startup, before any thread exists
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    rails::install_interrupt_handler();
    let Some(dsn) = cli.dsn else {
        eprintln!(
            "pgaa: no database: pass --dsn or set PGAA_DSN, e.g. \
             --dsn 'host=127.0.0.1 port=5432 user=postgres dbname=pg_autoassign'"
        );
        return ExitCode::from(2);
    };
    let result = match cli.cmd {
        Cmd::Assign(a) => assign::run(&dsn, a),
        Cmd::Stress(a) => stress::run(&dsn, a),
        Cmd::Report(a) => report::run(&dsn, a).map(|()| 0),
        Cmd::Timeline(a) => timeline::run(&dsn, a).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.downcast_ref::<Refused>().is_some() {
                eprintln!("pgaa: refused: {e}");
                return ExitCode::from(2);
            }
            eprintln!("pgaa: error: {}", db::describe(&e));
            ExitCode::from(1)
        }
    }
}
