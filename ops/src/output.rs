//! Printing: `--json [PATH]` and the human summaries' shared parts.

use crate::rails::{RunSummary, Stop};
use anyhow::{Context, Result};
use serde::Serialize;

/// Where `--json` goes: stdout (`--json` alone or `--json -`) or a file.
pub enum JsonOut {
    Stdout,
    File(String),
}

impl JsonOut {
    pub fn from_arg(arg: Option<&str>) -> Option<JsonOut> {
        match arg {
            None => None,
            Some("-") => Some(JsonOut::Stdout),
            Some(p) => Some(JsonOut::File(p.to_string())),
        }
    }

    pub fn write<T: Serialize>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        match self {
            JsonOut::Stdout => println!("{text}"),
            JsonOut::File(p) => {
                std::fs::write(p, text + "\n").with_context(|| format!("writing {p}"))?;
                eprintln!("pgaa: wrote {p}");
            }
        }
        Ok(())
    }
}

pub fn stop_text(s: &Stop) -> &'static str {
    match s {
        Stop::Done => "done",
        Stop::Interrupted => {
            "interrupted (Ctrl-C): the call in flight finished, nothing is half-done"
        }
        Stop::ErrorRate => "error rate over --max-error-rate",
    }
}

/// Reasons, latency, back-offs and sample errors of a run, to stdout.
pub fn print_run_details(r: &RunSummary) {
    print_run_details_to(r, &mut std::io::stdout());
}

/// The same, to any writer (stress prints to stderr when its JSON goes to stdout).
pub fn print_run_details_to(r: &RunSummary, out: &mut dyn std::io::Write) {
    if !r.reasons.is_empty() {
        let mut v: Vec<_> = r.reasons.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = v
            .iter()
            .map(|(k, n)| {
                format!(
                    "{k} {n} ({:.1}%)",
                    100.0 * **n as f64 / r.calls.max(1) as f64
                )
            })
            .collect();
        let _ = writeln!(out, "  results: {}", parts.join(", "));
    }
    for l in &r.latency {
        let _ = writeln!(
            out,
            "  {:<7} latency ms  p50 {:>7.2}  p95 {:>7.2}  p99 {:>7.2}  max {:>7.2}   (n={})",
            l.kind,
            l.client_ms.p50,
            l.client_ms.p95,
            l.client_ms.p99,
            l.client_ms.max,
            l.client_ms.count
        );
        let _ = writeln!(
            out,
            "  {:<7} planner us  p50 {:>7.0}  p95 {:>7.0}  p99 {:>7.0}  max {:>7.0}",
            "", l.planner_us.p50, l.planner_us.p95, l.planner_us.p99, l.planner_us.max
        );
    }
    if r.backoffs > 0 {
        let _ = writeln!(
            out,
            "  backed off {} times ({} ms) while the database was busy",
            r.backoffs, r.backoff_ms
        );
    }
    for e in &r.error_samples {
        let _ = writeln!(out, "  error: {e}");
    }
}

/// A plain text table: header, rows, columns padded to the widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < w.len() {
                w[i] = w[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<width$}", c, width = w.get(i).copied().unwrap_or(0)))
            .collect();
        println!("  {}", parts.join("  ").trim_end());
    };
    line(header.iter().map(|s| s.to_string()).collect());
    line(w.iter().map(|n| "-".repeat(*n)).collect());
    if rows.is_empty() {
        println!("  (none)");
    }
    for r in rows {
        line(r.clone());
    }
}
