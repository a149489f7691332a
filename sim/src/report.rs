//! Turns what each run collected into the comparison table.

use std::fmt::Write as _;

use crate::model::Day;
use crate::runner::{Collected, Outcome};

/// Nearest-rank percentile of an unsorted sample (0 for an empty one).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

pub struct Summary {
    pub calls_mean: f64,
    pub calls_p95: f64,
    pub calls_total: u64,
    pub retry_calls_mean: f64,
    pub confirmed_final: u64,
    pub confirmed_ever: u64,
    pub covers: i64,
    pub tto_p50: f64,
    pub tto_p95: f64,
    pub tto_failed_p50: f64,
    pub tto_failed_p95: f64,
    pub gave_up: usize,
    pub cutoff: usize,
    pub cancelled: usize,
    pub pending_end: usize,
    pub duplicate_outbox: i64,
    pub outcome_missing: i64,
    pub summary_mismatch: i64,
}

pub fn summarise(day: &Day, c: &Collected) -> Summary {
    let calls: Vec<f64> = c.quotes.iter().map(|&q| f64::from(q)).collect();
    let retry: Vec<f64> = c
        .quotes
        .iter()
        .zip(&c.quotes_inline)
        .map(|(&a, &i)| f64::from(a - i.min(a)))
        .collect();
    let mut tto = Vec::new();
    let mut tto_failed = Vec::new();
    let count = |o: Outcome| c.outcome.iter().flatten().filter(|x| x.0 == o).count();
    for (b, o) in day.bookings.iter().zip(&c.outcome) {
        if let Some((outcome, at)) = o {
            let secs = (at - b.created).max(0) as f64;
            tto.push(secs);
            if *outcome != Outcome::Confirmed || secs > 0.0 {
                tto_failed.push(secs);
            }
        }
    }
    Summary {
        calls_mean: mean(&calls),
        calls_p95: percentile(&calls, 0.95),
        calls_total: c.quotes.iter().map(|&q| u64::from(q)).sum(),
        retry_calls_mean: mean(&retry),
        confirmed_final: c.confirmed_final,
        confirmed_ever: c.confirmed_ever,
        covers: c.covers_final,
        tto_p50: percentile(&tto, 0.5),
        tto_p95: percentile(&tto, 0.95),
        tto_failed_p50: percentile(&tto_failed, 0.5),
        tto_failed_p95: percentile(&tto_failed, 0.95),
        gave_up: count(Outcome::GaveUp),
        cutoff: count(Outcome::Cutoff),
        cancelled: count(Outcome::Cancelled),
        pending_end: count(Outcome::PendingAtEnd),
        duplicate_outbox: c.duplicate_outbox,
        outcome_missing: c.outcome_missing,
        summary_mismatch: c.summary_mismatch,
    }
}

fn dur(secs: f64) -> String {
    let s = secs.round() as i64;
    if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{s} s ({}m{:02}s)", s / 60, s % 60)
    } else {
        format!("{s} s ({}h{:02}m)", s / 3600, (s / 60) % 60)
    }
}

/// Reduction of `ours` against `base`: 1 - ours/base (None when base is 0).
fn reduction(base: f64, ours: f64) -> Option<f64> {
    (base > 0.0).then(|| 1.0 - ours / base)
}

pub fn day_table(day: &Day) -> String {
    let mut s = String::new();
    let seats: i32 = day.restaurants.iter().map(|r| r.seats()).sum();
    let tables: usize = day.restaurants.iter().map(|r| r.tables()).sum();
    let covers: i32 = day.bookings.iter().map(|b| b.party).sum();
    let _ = writeln!(
        s,
        "day: {} restaurants, {tables} tables, {seats} seats; {} bookings ({covers} covers), \
         {} cancel later, {} ask to shorten",
        day.restaurants.len(),
        day.bookings.len(),
        day.bookings
            .iter()
            .filter(|b| b.cancel_at.is_some())
            .count(),
        day.bookings
            .iter()
            .filter(|b| b.shorten_at.is_some())
            .count(),
    );
    let _ = writeln!(
        s,
        "{:<24} {:>6} {:>5} {:>6} {:>9} {:>10}",
        "restaurant", "tables", "zones", "seats", "bookings", "peak/seats"
    );
    for (ri, r) in day.restaurants.iter().enumerate() {
        let n = day.bookings.iter().filter(|b| b.restaurant == ri).count();
        let _ = writeln!(
            s,
            "{:<24} {:>6} {:>5} {:>6} {:>9} {:>9.0}%",
            r.name,
            r.tables(),
            r.zones.len(),
            r.seats(),
            n,
            100.0 * f64::from(r.peak_covers) / f64::from(r.seats().max(1)),
        );
    }
    s
}

pub fn comparison(b: &Summary, o: &Summary, cb: &Collected, co: &Collected) -> String {
    let mut s = String::new();
    let row = |s: &mut String, name: &str, base: String, ours: String| {
        let _ = writeln!(s, "| {name:<50} | {base:>22} | {ours:>22} |");
    };
    let _ = writeln!(
        s,
        "| {:<50} | {:>22} | {:>22} |",
        "metric", "baseline (5/15/45 s)", "ours (sweep/minute)"
    );
    let _ = writeln!(s, "|{:-<52}|{:-<24}|{:-<24}|", "", "", "");
    row(
        &mut s,
        "planner calls per booking, mean",
        format!("{:.3}", b.calls_mean),
        format!("{:.3}", o.calls_mean),
    );
    row(
        &mut s,
        "planner calls per booking, p95",
        format!("{:.0}", b.calls_p95),
        format!("{:.0}", o.calls_p95),
    );
    row(
        &mut s,
        "  of which retries (non-inline), mean",
        format!("{:.3}", b.retry_calls_mean),
        format!("{:.3}", o.retry_calls_mean),
    );
    row(
        &mut s,
        "planner calls, total",
        b.calls_total.to_string(),
        o.calls_total.to_string(),
    );
    row(
        &mut s,
        "confirmed bookings (status at end of day)",
        b.confirmed_final.to_string(),
        o.confirmed_final.to_string(),
    );
    row(
        &mut s,
        "  ever confirmed (incl. later cancelled)",
        b.confirmed_ever.to_string(),
        o.confirmed_ever.to_string(),
    );
    row(
        &mut s,
        "covers seated (confirmed at end of day)",
        b.covers.to_string(),
        o.covers.to_string(),
    );
    row(
        &mut s,
        "time to outcome, p50",
        dur(b.tto_p50),
        dur(o.tto_p50),
    );
    row(
        &mut s,
        "time to outcome, p95",
        dur(b.tto_p95),
        dur(o.tto_p95),
    );
    row(
        &mut s,
        "  not confirmed inline: p50",
        dur(b.tto_failed_p50),
        dur(o.tto_failed_p50),
    );
    row(
        &mut s,
        "  not confirmed inline: p95",
        dur(b.tto_failed_p95),
        dur(o.tto_failed_p95),
    );
    row(
        &mut s,
        "given up (retries exhausted)",
        b.gave_up.to_string(),
        o.gave_up.to_string(),
    );
    row(
        &mut s,
        "cutoff (outcome on the booking row)",
        b.cutoff.to_string(),
        o.cutoff.to_string(),
    );
    row(
        &mut s,
        "cancelled before any other outcome",
        b.cancelled.to_string(),
        o.cancelled.to_string(),
    );
    row(
        &mut s,
        "still pending at 22:30 (no outcome)",
        b.pending_end.to_string(),
        o.pending_end.to_string(),
    );
    row(
        &mut s,
        "duplicate confirmation messages (must be 0)",
        b.duplicate_outbox.to_string(),
        o.duplicate_outbox.to_string(),
    );
    row(
        &mut s,
        "gave-up messages / also told confirmed (must be 0)",
        format!("{} / {}", cb.gave_up_messages, cb.told_both),
        format!("{} / {}", co.gave_up_messages, co.told_both),
    );
    row(
        &mut s,
        "no outcome on the booking row (old job set none)",
        b.outcome_missing.to_string(),
        o.outcome_missing.to_string(),
    );
    row(
        &mut s,
        "summary events != booking row outcome (must be 0)",
        b.summary_mismatch.to_string(),
        o.summary_mismatch.to_string(),
    );
    row(
        &mut s,
        "stays shortened / cancels issued",
        format!("{} / {}", cb.shortened, cb.cancelled),
        format!("{} / {}", co.shortened, co.cancelled),
    );
    row(
        &mut s,
        "sweeps run / rows processed / sweep wall",
        "-".into(),
        format!(
            "{} / {} / {:.1} s",
            co.sweeps,
            co.sweep_processed,
            co.sweep_wall.as_secs_f64()
        ),
    );
    row(
        &mut s,
        "  sweep attempts on woken rows / confirmed",
        "-".into(),
        format!("{} / {}", co.wake_attempts, co.wake_confirms),
    );
    row(
        &mut s,
        "  sweep attempts on timer-due rows / confirmed",
        "-".into(),
        format!("{} / {}", co.timer_attempts, co.timer_confirms),
    );
    row(
        &mut s,
        "  gave_up right after a failed wake attempt",
        "-".into(),
        co.gave_up_on_wake.to_string(),
    );
    row(
        &mut s,
        "  rows woken by cancels / by shortened stays",
        "-".into(),
        format!("{} / {}", co.woken_by_cancel, co.woken_by_shorten),
    );
    row(
        &mut s,
        "  woken by a shorten, not overlapping freed tail",
        "-".into(),
        co.woken_outside_freed.to_string(),
    );
    let late: Vec<f64> = co.cutoff_late.iter().map(|&x| x as f64).collect();
    row(
        &mut s,
        "  cutoff outcome late vs cutoff: p50 / max",
        "-".into(),
        format!(
            "{:.0} s / {:.0} s",
            percentile(&late, 0.5),
            late.iter().copied().fold(0.0, f64::max)
        ),
    );
    row(
        &mut s,
        "wall time of the run",
        format!("{:.1} s", cb.wall.as_secs_f64()),
        format!("{:.1} s", co.wall.as_secs_f64()),
    );
    let reasons = |c: &Collected| {
        c.inline_failures
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "\ninline failures (baseline): {}", reasons(cb));
    let _ = writeln!(s, "inline failures (ours):     {}", reasons(co));

    let _ = writeln!(s, "\ntargets (ours vs baseline):");
    let verdict = |met: bool| if met { "MET" } else { "NOT MET" };
    // Both policies make the same inline call per booking, so a cut in all calls is
    // capped at 1 - 1/baseline; the retry calls are what a policy decides.
    for (label, base, ours) in [
        ("planner calls per booking", b.calls_mean, o.calls_mean),
        (
            "  retry calls (non-inline)",
            b.retry_calls_mean,
            o.retry_calls_mean,
        ),
    ] {
        match reduction(base, ours) {
            Some(r) => {
                let _ = writeln!(
                    s,
                    "  {label:<26} >= 75% fewer : {:+.1}% fewer ({:.3} vs {:.3})  {}",
                    100.0 * r,
                    ours,
                    base,
                    verdict(r >= 0.75)
                );
            }
            None => {
                let _ = writeln!(s, "  {label}: baseline made none (n/a)");
            }
        }
    }
    if b.calls_mean > 0.0 {
        let _ = writeln!(
            s,
            "    (one inline call per booking in both: all calls can fall by at most {:.1}%)",
            100.0 * (1.0 - 1.0 / b.calls_mean)
        );
    }
    let _ = writeln!(
        s,
        "  confirmed bookings        no fewer      : {} vs {} ({:+})  {}",
        o.confirmed_final,
        b.confirmed_final,
        o.confirmed_final as i64 - b.confirmed_final as i64,
        verdict(o.confirmed_final >= b.confirmed_final)
    );
    match reduction(b.tto_p95, o.tto_p95) {
        Some(r) => {
            let _ = writeln!(
                s,
                "  p95 time to outcome       >= 50% lower  : {:+.1}% lower ({} vs {})  {}",
                100.0 * r,
                dur(o.tto_p95),
                dur(b.tto_p95),
                verdict(r >= 0.5)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  p95 time to outcome: baseline p95 is 0 s (n/a); ours {}",
                dur(o.tto_p95)
            );
        }
    }
    let _ = writeln!(
        s,
        "  duplicate confirmations   must be 0     : {} / {}  {}",
        b.duplicate_outbox,
        o.duplicate_outbox,
        verdict(b.duplicate_outbox == 0 && o.duplicate_outbox == 0)
    );
    s
}
