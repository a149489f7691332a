//! The safety rails shared by `assign` and `stress`, and the worker loop that applies them:
//! concurrency (1 by default, 4 at most), a rate limit in calls per second shared by all
//! workers, a statement_timeout on every session, a stop when the error rate passes a
//! threshold, a back-off while the database is busy (pg_stat_activity), and Ctrl-C /
//! SIGTERM finishing the call in flight before the summary.

use crate::db;
use crate::limiter::{sleep_until, RateLimiter};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use postgres::Client;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Set by the first SIGINT/SIGTERM; a second one exits at once with 130.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("\npgaa: second interrupt, exiting now");
            std::process::exit(130);
        }
        eprintln!(
            "\npgaa: interrupted: finishing the call in flight (interrupt again to exit at once)"
        );
    });
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The rails' knobs, as command-line flags (flattened into `assign` and `stress`).
#[derive(clap::Args, Debug, Clone)]
pub struct RailArgs {
    /// Parallel sessions, 1..=4
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4))]
    pub concurrency: u32,
    /// Planner calls per second over all sessions; 0 = no limit
    /// [default: 20 for assign, 200 for stress]
    #[arg(long)]
    pub rate: Option<f64>,
    /// statement_timeout of every call, in milliseconds
    #[arg(long, default_value_t = 2000)]
    pub statement_timeout_ms: u64,
    /// Stop when errors / calls passes this fraction (after --min-calls calls). Errors are
    /// SQL errors (statement timeouts included) and planner reasons timeout / lock_timeout
    #[arg(long, default_value_t = 0.2)]
    pub max_error_rate: f64,
    /// Calls before the error-rate rail may stop the run
    #[arg(long, default_value_t = 10)]
    pub min_calls: u64,
    /// Back off while more than this many other client backends are active
    #[arg(long, default_value_t = 8)]
    pub max_active: i64,
    /// Back off while more than this many backends wait for a lock
    #[arg(long, default_value_t = 2)]
    pub max_lock_waits: i64,
    /// How often the busy check reads pg_stat_activity, in milliseconds
    #[arg(long, default_value_t = 500)]
    pub busy_check_ms: u64,
    /// Confirm writes to a database marked as production (pgaa.environment = 'production')
    #[arg(long)]
    pub yes: bool,
    /// No progress bar (it is also hidden when stderr is not a terminal)
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Quote,
    Confirm,
}

/// One planner call to make.
#[derive(Debug, Clone)]
pub struct Job {
    pub kind: Kind,
    pub booking_id: String,
}

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// every job made (assign) or the time is up (stress)
    Done,
    /// Ctrl-C / SIGTERM; the call in flight finished
    Interrupted,
    /// errors / calls passed --max-error-rate
    ErrorRate,
}

/// Client-side wall time (µs) and the planner's own duration_us, per kind of call.
#[derive(Debug, Default, Clone)]
struct Samples {
    client_us: Vec<u64>,
    planner_us: Vec<u64>,
}

#[derive(Debug, Default)]
struct Tally {
    calls: u64,
    ok: u64,
    errors: u64,
    reasons: BTreeMap<String, u64>,
    samples: BTreeMap<&'static str, Samples>,
    error_samples: Vec<String>,
}

/// Percentiles in milliseconds (client) or microseconds (planner), nearest rank.
#[derive(Debug, Serialize, Clone)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn percentiles(values: &mut [u64], scale: f64) -> Percentiles {
    values.sort_unstable();
    let at = |p: f64| -> f64 {
        if values.is_empty() {
            return 0.0;
        }
        let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
        values[rank - 1] as f64 / scale
    };
    Percentiles {
        count: values.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: at(1.0),
    }
}

#[derive(Debug, Serialize, Clone)]
pub struct KindLatency {
    pub kind: String,
    /// wall time of the SQL call seen by pgaa, milliseconds
    pub client_ms: Percentiles,
    /// the planner's own duration_us as the function returned it, microseconds
    pub planner_us: Percentiles,
}

/// What a run did, for the summaries and `--json`.
#[derive(Debug, Serialize, Clone)]
pub struct RunSummary {
    pub stop: Stop,
    pub calls: u64,
    pub ok: u64,
    pub errors: u64,
    pub success_rate: f64,
    pub error_rate: f64,
    pub elapsed_s: f64,
    pub calls_per_s: f64,
    /// result of each call: the planner reason, "ok" (quote) / "confirmed", or error:SQLSTATE
    pub reasons: BTreeMap<String, u64>,
    pub latency: Vec<KindLatency>,
    pub backoffs: u64,
    pub backoff_ms: u64,
    pub error_samples: Vec<String>,
}

/// Shared state of one run.
struct Shared {
    stop: AtomicBool,
    stop_reason: Mutex<Option<Stop>>,
    busy: AtomicBool,
    busy_note: Mutex<String>,
    own_pids: Mutex<Vec<i32>>,
    tally: Mutex<Tally>,
    backoffs: AtomicU64,
    backoff_ms: AtomicU64,
    /// the bar counts calls (assign); else its position is the elapsed seconds (stress)
    count_steps: bool,
}

impl Shared {
    fn halt(&self, why: Stop) {
        let mut r = self.stop_reason.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_none() {
            *r = Some(why);
        }
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The jobs of a run: called under a lock, returns None when there is nothing left.
pub type Source = Box<dyn FnMut() -> Option<Job> + Send>;

/// How long a run may last and how to show it.
pub struct Plan {
    /// number of jobs when known (assign), for the progress bar and its ETA
    pub total: Option<u64>,
    /// wall-clock limit (stress)
    pub deadline: Option<Duration>,
    pub rate: f64,
    pub strategy: String,
    pub label: String,
}

/// Runs `source`'s jobs through `rails.concurrency` sessions under every rail, then
/// returns the summary. Connection failures of a worker count as errors.
pub fn run(dsn: &str, rails: &RailArgs, plan: Plan, source: Source) -> Result<RunSummary> {
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        stop_reason: Mutex::new(None),
        busy: AtomicBool::new(false),
        busy_note: Mutex::new(String::new()),
        own_pids: Mutex::new(Vec::new()),
        tally: Mutex::new(Tally::default()),
        backoffs: AtomicU64::new(0),
        backoff_ms: AtomicU64::new(0),
        count_steps: plan.total.is_some(),
    });
    // connect every worker first: a bad DSN fails before any call
    let mut clients = Vec::new();
    for _ in 0..rails.concurrency {
        let mut c = db::connect(dsn)?;
        // an integer of milliseconds, bound: set_config takes text
        c.execute(
            "SELECT set_config('statement_timeout', $1, false)",
            &[&rails.statement_timeout_ms.to_string()],
        )?;
        let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[])?.get(0);
        shared
            .own_pids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pid);
        clients.push(c);
    }
    let mut monitor_client = db::connect(dsn)?;
    // the first look before any call, so a run never starts into a busy database
    check_busy(&mut monitor_client, rails, &shared);
    let limiter = Arc::new(RateLimiter::new(plan.rate));
    let source = Arc::new(Mutex::new(source));
    let pb = progress_bar(rails, &plan);
    let start = Instant::now();

    std::thread::scope(|s| {
        let monitor_shared = Arc::clone(&shared);
        let monitor = s.spawn(move || busy_monitor(monitor_client, rails, &monitor_shared));
        let mut workers = Vec::new();
        for client in clients {
            let shared = Arc::clone(&shared);
            let limiter = Arc::clone(&limiter);
            let source = Arc::clone(&source);
            let pb = pb.clone();
            let plan = &plan;
            workers.push(s.spawn(move || {
                worker(
                    client, dsn, rails, plan, &shared, &limiter, &source, &pb, start,
                )
            }));
        }
        for w in workers {
            let _ = w.join();
        }
        shared.stop.store(true, Ordering::SeqCst);
        let _ = monitor.join();
    });
    pb.finish_and_clear();

    let elapsed = start.elapsed().as_secs_f64();
    let stop = if interrupted() {
        Stop::Interrupted
    } else {
        shared
            .stop_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or(Stop::Done)
    };
    let mut t = std::mem::take(&mut *shared.tally.lock().unwrap_or_else(|p| p.into_inner()));
    let latency = t
        .samples
        .iter_mut()
        .map(|(k, s)| KindLatency {
            kind: (*k).to_string(),
            client_ms: percentiles(&mut s.client_us, 1000.0),
            planner_us: percentiles(&mut s.planner_us, 1.0),
        })
        .collect();
    let ratio = |n: u64| {
        if t.calls == 0 {
            0.0
        } else {
            n as f64 / t.calls as f64
        }
    };
    Ok(RunSummary {
        stop,
        calls: t.calls,
        ok: t.ok,
        errors: t.errors,
        success_rate: ratio(t.ok),
        error_rate: ratio(t.errors),
        elapsed_s: elapsed,
        calls_per_s: if elapsed > 0.0 {
            t.calls as f64 / elapsed
        } else {
            0.0
        },
        reasons: t.reasons,
        latency,
        backoffs: shared.backoffs.load(Ordering::SeqCst),
        backoff_ms: shared.backoff_ms.load(Ordering::SeqCst),
        error_samples: t.error_samples,
    })
}

fn progress_bar(rails: &RailArgs, plan: &Plan) -> ProgressBar {
    let pb = match (plan.total, plan.deadline) {
        (Some(n), _) => {
            let pb = ProgressBar::new(n);
            pb.set_style(
                ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} ETA {eta} · {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb
        }
        (None, Some(d)) => {
            let pb = ProgressBar::new(d.as_secs().max(1));
            pb.set_style(
                ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} s ETA {eta} · {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb
        }
        (None, None) => ProgressBar::new_spinner(),
    };
    pb.set_prefix(plan.label.clone());
    if rails.no_progress {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb
}

const BUSY_SQL: &str = "SELECT count(*) FILTER (WHERE state = 'active' AND NOT (pid = ANY ($1))),
                count(*) FILTER (WHERE wait_event_type = 'Lock')
           FROM pg_catalog.pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";

/// One look at pg_stat_activity: raises `busy` while other client backends are too many
/// or lock waits pile up. pgaa's own sessions are not counted as active load (their lock
/// waits are: they are contention all the same). A failed look changes nothing.
fn check_busy(c: &mut Client, rails: &RailArgs, shared: &Shared) {
    let pids = shared
        .own_pids
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Ok(row) = c.query_one(BUSY_SQL, &[&pids]) {
        let active: i64 = row.get(0);
        let waits: i64 = row.get(1);
        let busy = active > rails.max_active || waits > rails.max_lock_waits;
        if busy {
            *shared.busy_note.lock().unwrap_or_else(|p| p.into_inner()) =
                format!("database busy ({active} active, {waits} lock waits): backing off");
        }
        shared.busy.store(busy, Ordering::SeqCst);
    }
}

/// Checks every busy_check_ms until the run stops.
fn busy_monitor(mut c: Client, rails: &RailArgs, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) && !interrupted() {
        let until = Instant::now() + Duration::from_millis(rails.busy_check_ms.max(50));
        sleep_until(until, &shared.stop);
        check_busy(&mut c, rails, shared);
    }
}

#[allow(clippy::too_many_arguments)]
fn worker(
    mut client: Client,
    dsn: &str,
    rails: &RailArgs,
    plan: &Plan,
    shared: &Shared,
    limiter: &RateLimiter,
    source: &Mutex<Source>,
    pb: &ProgressBar,
    start: Instant,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if shared.stop.load(Ordering::SeqCst) || interrupted() {
            return;
        }
        if let Some(d) = plan.deadline {
            if start.elapsed() >= d {
                shared.halt(Stop::Done);
                return;
            }
            pb.set_position(start.elapsed().as_secs());
        }
        // back off while the database is busy: 100 ms doubling to 5 s
        if shared.busy.load(Ordering::SeqCst) {
            shared.backoffs.fetch_add(1, Ordering::SeqCst);
            let note = shared
                .busy_note
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            pb.set_message(note);
            let t0 = Instant::now();
            sleep_until(Instant::now() + backoff, &shared.stop);
            shared
                .backoff_ms
                .fetch_add(t0.elapsed().as_millis() as u64, Ordering::SeqCst);
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        }
        backoff = Duration::from_millis(100);
        if !limiter.wait(&shared.stop) {
            return;
        }
        if shared.stop.load(Ordering::SeqCst) || interrupted() {
            return;
        }
        let job = {
            let mut src = source.lock().unwrap_or_else(|p| p.into_inner());
            (src)()
        };
        let Some(job) = job else {
            shared.halt(Stop::Done);
            return;
        };
        let outcome = call(&mut client, &job, &plan.strategy);
        if client.is_closed() {
            match db::connect(dsn).and_then(|mut c| {
                c.execute(
                    "SELECT set_config('statement_timeout', $1, false)",
                    &[&rails.statement_timeout_ms.to_string()],
                )?;
                Ok(c)
            }) {
                Ok(c) => client = c,
                Err(_) => {
                    record(shared, rails, pb, &job, outcome);
                    return;
                }
            }
        }
        record(shared, rails, pb, &job, outcome);
    }
}

/// The result of one call.
struct Outcome {
    ok: bool,
    error: Option<String>,
    reason: String,
    client_us: u64,
    planner_us: Option<i64>,
}

/// One planner call through the extension's SQL surface, source 'ops', autocommit: a
/// confirm commits or rolls back as a whole, so an interrupt never leaves half of one.
fn call(c: &mut Client, job: &Job, strategy: &str) -> Outcome {
    let sql = match job.kind {
        Kind::Quote => {
            "SELECT ok, reason, duration_us FROM autoassign.autoassign_quote(
                 $1::text::uuid, $2::text::jsonb, source => 'ops')"
        }
        Kind::Confirm => {
            "SELECT ok, reason, duration_us FROM autoassign.autoassign_confirm(
                 $1::text::uuid, $2::text::jsonb, source => 'ops')"
        }
    };
    let t0 = Instant::now();
    let r = c.query_one(sql, &[&job.booking_id, &strategy]);
    let client_us = t0.elapsed().as_micros() as u64;
    match r {
        Ok(row) => {
            let ok: bool = row.get(0);
            let reason: Option<String> = row.get(1);
            let reason = match (ok, job.kind) {
                (true, Kind::Quote) => "ok".to_string(),
                (true, Kind::Confirm) => "confirmed".to_string(),
                (false, _) => reason.unwrap_or_else(|| "unknown".into()),
            };
            Outcome {
                ok,
                error: None,
                reason,
                client_us,
                planner_us: row.get(2),
            }
        }
        Err(e) => {
            let code = e
                .code()
                .map(|c| c.code().to_string())
                .unwrap_or_else(|| "connection".into());
            let msg = e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string());
            Outcome {
                ok: false,
                error: Some(format!("{code}: {msg}")),
                reason: format!("error:{code}"),
                client_us,
                planner_us: None,
            }
        }
    }
}

fn record(shared: &Shared, rails: &RailArgs, pb: &ProgressBar, job: &Job, o: Outcome) {
    let is_error = o.error.is_some() || o.reason == "timeout" || o.reason == "lock_timeout";
    let (calls, ok, errors) = {
        let mut t = shared.tally.lock().unwrap_or_else(|p| p.into_inner());
        t.calls += 1;
        if o.ok {
            t.ok += 1;
        }
        if is_error {
            t.errors += 1;
        }
        *t.reasons.entry(o.reason.clone()).or_default() += 1;
        let kind = match job.kind {
            Kind::Quote => "quote",
            Kind::Confirm => "confirm",
        };
        let s = t.samples.entry(kind).or_default();
        s.client_us.push(o.client_us);
        if let Some(p) = o.planner_us {
            s.planner_us.push(p.max(0) as u64);
        }
        if let Some(e) = &o.error {
            if t.error_samples.len() < 5 {
                t.error_samples
                    .push(format!("booking {}: {e}", job.booking_id));
            }
        }
        (t.calls, t.ok, t.errors)
    };
    if errors as f64 / calls as f64 > rails.max_error_rate && calls >= rails.min_calls {
        shared.halt(Stop::ErrorRate);
    }
    if shared.count_steps {
        pb.inc(1);
    }
    pb.set_message(format!(
        "ok {:.1}% · errors {}",
        100.0 * ok as f64 / calls as f64,
        errors
    ));
}
