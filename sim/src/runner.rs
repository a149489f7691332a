//! Replays one `Day` against a fresh extension under one retry policy, on a
//! simulated clock, and collects what happened.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use postgres::{Client, NoTls, Statement};

use crate::model::{ts, Day, Sec, ARRIVALS_FROM, DAY_END};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Policy {
    /// the old job: retry a failed inline confirm at +5 s, +15 s, +45 s, then give up
    Baseline,
    /// autoassign_sweep() every simulated minute
    Ours,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::Baseline => "baseline",
            Policy::Ours => "ours",
        }
    }
}

/// Retry offsets of the old job, counted from the failed inline confirm.
const BASELINE_RETRIES: [Sec; 3] = [5, 15, 45];
/// restaurants.buffer_after_minutes (left at its default of 5)
const BUFFER: Sec = 300;

/// Baseline only: no row ever enters `autoassign.retry_queue` (see `run`).
const BASELINE_NO_QUEUE: &str = "
CREATE OR REPLACE FUNCTION public.pgaa_sim_no_retry_queue() RETURNS trigger
LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TRIGGER pgaa_sim_no_retry_queue BEFORE INSERT ON autoassign.retry_queue
    FOR EACH ROW EXECUTE FUNCTION public.pgaa_sim_no_retry_queue();";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    Confirmed,
    GaveUp,
    Cutoff,
    Cancelled,
    PendingAtEnd,
}

#[derive(Default)]
pub struct Collected {
    /// per booking (index into Day::bookings): first outcome and when
    pub outcome: Vec<Option<(Outcome, Sec)>>,
    /// per booking: quote events (planner calls), all sources / inline only
    pub quotes: Vec<u32>,
    pub quotes_inline: Vec<u32>,
    /// bookings with status confirmed at the end of the day, and their covers
    pub confirmed_final: u64,
    pub covers_final: i64,
    /// bookings that were confirmed at some point (outcome confirmed on the booking row)
    pub confirmed_ever: u64,
    pub duplicate_outbox: i64,
    /// bookings with an auto_assign_gave_up message, and of those how many also got a
    /// booking_confirmed message (must be 0)
    pub gave_up_messages: i64,
    pub told_both: i64,
    /// bookings whose row holds no auto-assign outcome at the end of the day
    pub outcome_missing: i64,
    /// bookings whose `auto_assign.summary` events disagree with the row's outcome
    /// (not exactly one summary with that outcome, or a summary without an outcome)
    pub summary_mismatch: i64,
    /// retry_queue rows left at the end of the day, and bookings the database settled
    /// as gave_up/cutoff (both must be 0 for the baseline, which has no queue)
    pub queue_rows_end: i64,
    pub db_gave_up_or_cutoff: i64,
    /// inline failure reasons
    pub inline_failures: Vec<(String, i64)>,
    pub sweeps: u64,
    pub sweep_wall: Duration,
    pub sweep_processed: i64,
    pub wall: Duration,
    pub shortened: u64,
    pub cancelled: u64,
    /// sweep attempts on woken rows / on rows whose timer was due, and their confirms
    pub wake_attempts: u64,
    pub wake_confirms: u64,
    pub timer_attempts: u64,
    pub timer_confirms: u64,
    /// gave_up summaries written right after a failed attempt on a woken row
    pub gave_up_on_wake: u64,
    /// cutoff outcomes: seconds between the cutoff moment and the settling
    pub cutoff_late: Vec<Sec>,
    /// queue rows newly woken by cancels / by shortened stays, and of the latter how
    /// many overlap only the part of the stay that is still occupied (not the freed tail)
    pub woken_by_cancel: u64,
    pub woken_by_shorten: u64,
    pub woken_outside_freed: u64,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Kind {
    // order within one second: arrivals, then changes, then retries, then the sweep
    Arrive = 0,
    Cancel = 1,
    Shorten = 2,
    Retry = 3,
    Sweep = 4,
}

struct Db {
    client: Client,
    clock: Option<Sec>,
    insert: Statement,
    confirm: Statement,
    cancel: Statement,
    shorten: Statement,
    sweep: Statement,
    settled: Statement,
    settled_of: Statement,
    candidates: Statement,
    job_attempts: Statement,
    woken: Statement,
}

impl Db {
    fn woken(&mut self) -> Result<std::collections::HashSet<String>> {
        Ok(self
            .client
            .query(&self.woken, &[])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}

impl Db {
    /// The session's simulated time. Set only when it changed, so it always equals
    /// the simulator's clock before every statement.
    fn at(&mut self, t: Sec) -> Result<()> {
        if self.clock != Some(t) {
            self.client
                .batch_execute(&format!("SET autoassign.simulated_now = '{}'", ts(t)))?;
            self.clock = Some(t);
        }
        Ok(())
    }

    /// (ok, reason)
    fn confirm(&mut self, id: &str, source: &str) -> Result<(bool, Option<String>)> {
        let row = self.client.query_one(&self.confirm, &[&id, &source])?;
        Ok((row.get(0), row.get(1)))
    }
}

pub fn run(
    dsn: &str,
    day: &Day,
    policy: Policy,
    seed: u64,
    ours_setup: Option<&str>,
    deadline: Instant,
) -> Result<Collected> {
    let wall = Instant::now();
    let mut client = Client::connect(dsn, NoTls)
        .with_context(|| format!("cannot connect to {dsn} (is the cluster running?)"))?;
    client
        .batch_execute(
            "SET client_min_messages = warning;
             DROP EXTENSION IF EXISTS pg_autoassign CASCADE;
             CREATE EXTENSION pg_autoassign CASCADE;
             SET autoassign.telemetry = 'on';",
        )
        .context("cannot (re)create the extension")?;
    // 0.1.0 drew the retry jitter from random(), so this made runs replay exactly. Since
    // 0.2.0 the jitter (and telemetry sampling) comes from a per-backend generator seeded
    // from the pid and the wall clock, which SQL cannot seed: runs of ours vary a little
    // (the baseline, which never reaches the retry decision, still replays exactly).
    let pg_seed = (seed % 2000) as f64 / 1000.0 - 1.0;
    client.execute("SELECT setseed($1)", &[&pg_seed])?;
    if policy == Policy::Baseline {
        // The old job kept no queue in the database and wrote no summaries: switch off
        // what a failed confirm does there (since 0.2.0 in Rust, queue::note_failure:
        // queue a sweep attempt, or settle the booking at once as gave_up/cutoff). Every
        // failure starts with an insert into retry_queue and reads that row back; with
        // the insert skipped there is no row, so the failure is neither queued nor
        // settled, whatever its class (a hard reason settles whatever retry_policy
        // says, so the policy rows cannot do this). The trigger goes with the table
        // when the next run drops the extension; the sweep never runs for the baseline.
        client
            .batch_execute(BASELINE_NO_QUEUE)
            .context("cannot switch off the retry queue for the baseline")?;
    }
    if let (Policy::Ours, Some(sql)) = (policy, ours_setup) {
        client
            .batch_execute(sql)
            .with_context(|| format!("--ours-setup failed: {sql}"))?;
    }
    load_floors(&mut client, day)?;

    let insert = client.prepare(
        "INSERT INTO autoassign.bookings (id, restaurant_id, party_size, start_at, end_at, zone_id, created_at)
         VALUES ($1::text::uuid, $2::text::uuid, $3, $4::text::timestamptz, $5::text::timestamptz,
                 $6::text::uuid, $7::text::timestamptz)",
    )?;
    let confirm = client.prepare(
        "SELECT ok, reason FROM autoassign.autoassign_confirm($1::text::uuid, '{}'::jsonb, $2::text)",
    )?;
    let cancel = client.prepare("SELECT ok FROM autoassign.autoassign_cancel($1::text::uuid)")?;
    let shorten = client.prepare(
        "UPDATE autoassign.bookings SET end_at = end_at - interval '30 minutes'
          WHERE id = $1::text::uuid AND status = 'confirmed'",
    )?;
    let sweep = client.prepare(
        "SELECT processed FROM autoassign.autoassign_sweep(200, 2000, now => $1::text::timestamptz)",
    )?;
    // Outcomes settled since the last look, read from the booking row (0.2.0): the
    // outcome is set once per round, at the session's simulated clock, on the row a
    // confirm or cancel updates, or on any row by the sweep. Without a sweep in the
    // second only the bookings the simulator touched are read (the scan is not free).
    let settled = client.prepare(
        "SELECT id::text, auto_assign_outcome FROM autoassign.bookings
          WHERE auto_assign_settled_at > (SELECT $1::text::timestamptz) ORDER BY id",
    )?;
    let settled_of = client.prepare(
        "SELECT id::text, auto_assign_outcome FROM autoassign.bookings
          WHERE id = ANY ($2::text[]::uuid[])
            AND auto_assign_settled_at > (SELECT $1::text::timestamptz) ORDER BY id",
    )?;
    // what the sweep is about to take (diagnostics only: read before each sweep)
    let candidates = client.prepare(
        "SELECT booking_id::text, wake FROM autoassign.retry_queue
          WHERE wake OR next_attempt_at <= $1::text::timestamptz",
    )?;
    let job_attempts = client.prepare(
        "SELECT id, booking_id::text, success FROM autoassign.events
          WHERE event_type = 'auto_assign.attempt' AND source = 'job' AND id > $1",
    )?;
    let woken = client.prepare("SELECT booking_id::text FROM autoassign.retry_queue WHERE wake")?;
    let mut db = Db {
        client,
        clock: None,
        insert,
        confirm,
        cancel,
        shorten,
        sweep,
        settled,
        settled_of,
        candidates,
        job_attempts,
        woken,
    };

    let n = day.bookings.len();
    let index: HashMap<&str, usize> = day
        .bookings
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.as_str(), i))
        .collect();
    let mut out = Collected {
        outcome: vec![None; n],
        ..Collected::default()
    };

    // (time, kind, booking, retry number)
    let mut queue: BinaryHeap<Reverse<(Sec, Kind, usize, usize)>> = BinaryHeap::new();
    for (i, b) in day.bookings.iter().enumerate() {
        queue.push(Reverse((b.created, Kind::Arrive, i, 0)));
        if let Some(t) = b.cancel_at {
            queue.push(Reverse((t, Kind::Cancel, i, 0)));
        }
        if let Some(t) = b.shorten_at {
            queue.push(Reverse((t, Kind::Shorten, i, 0)));
        }
    }
    if policy == Policy::Ours {
        let mut t = ARRIVALS_FROM + 60;
        while t <= DAY_END {
            queue.push(Reverse((t, Kind::Sweep, usize::MAX, 0)));
            t += 60;
        }
    }

    // simulated second of the last look at settled outcomes
    let mut settled_after: Sec = 0;
    let mut first_failure: Vec<Option<Sec>> = vec![None; n];
    let mut cancelled = vec![false; n];
    let mut last_event: i64 = 0;
    // booking -> was it woken, for the rows the current sweep may take
    let mut taken: HashMap<String, bool> = HashMap::new();
    while let Some(Reverse((now, _, _, _))) = queue.peek().copied() {
        if now > DAY_END {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "--seconds-budget exceeded during the {} run at simulated {} ({} of {} bookings arrived)",
                policy.name(),
                ts(now),
                day.bookings.iter().filter(|b| b.created <= now).count(),
                n
            );
        }
        db.at(now)?;
        // bookings confirmed or cancelled in this second; None after a sweep (any row)
        let mut touched: Option<Vec<&str>> = Some(Vec::new());
        while let Some(Reverse((t, kind, i, k))) = queue.peek().copied() {
            if t != now {
                break;
            }
            queue.pop();
            match (kind, touched.as_mut()) {
                (Kind::Sweep, _) => touched = None,
                (Kind::Shorten, _) | (_, None) => {}
                (_, Some(ids)) => ids.push(&day.bookings[i].id),
            }
            match kind {
                Kind::Arrive => {
                    let b = &day.bookings[i];
                    let r = &day.restaurants[b.restaurant];
                    db.client.execute(
                        &db.insert,
                        &[
                            &b.id,
                            &r.id,
                            &b.party,
                            &ts(b.start),
                            &ts(b.end),
                            &b.zone_id,
                            &ts(b.created),
                        ],
                    )?;
                    let (ok, _) = db.confirm(&b.id, "inline")?;
                    if !ok && policy == Policy::Baseline {
                        first_failure[i] = Some(now);
                        queue.push(Reverse((now + BASELINE_RETRIES[0], Kind::Retry, i, 0)));
                    }
                }
                Kind::Retry => {
                    if cancelled[i] || out.outcome[i].is_some() {
                        continue;
                    }
                    let (ok, _) = db.confirm(&day.bookings[i].id, "job")?;
                    if !ok {
                        if k + 1 < BASELINE_RETRIES.len() {
                            let t0 = first_failure[i].unwrap_or(now);
                            queue.push(Reverse((
                                t0 + BASELINE_RETRIES[k + 1],
                                Kind::Retry,
                                i,
                                k + 1,
                            )));
                        } else {
                            out.outcome[i] = Some((Outcome::GaveUp, now));
                        }
                    }
                }
                Kind::Cancel => {
                    let before = db.woken()?;
                    db.client.query_one(&db.cancel, &[&day.bookings[i].id])?;
                    out.woken_by_cancel += db.woken()?.difference(&before).count() as u64;
                    cancelled[i] = true;
                    out.cancelled += 1;
                }
                Kind::Shorten => {
                    let before = db.woken()?;
                    let changed = db.client.execute(&db.shorten, &[&day.bookings[i].id])?;
                    out.shortened += changed;
                    if changed > 0 {
                        // the stay gave up [new end, old end) (+ the same turnover buffer)
                        let b = &day.bookings[i];
                        let (freed_from, freed_to) = (b.end - 1800 + BUFFER, b.end + BUFFER);
                        for id in db.woken()?.difference(&before) {
                            out.woken_by_shorten += 1;
                            if let Some(&j) = index.get(id.as_str()) {
                                let w = &day.bookings[j];
                                if !(w.start < freed_to && w.end + BUFFER > freed_from) {
                                    out.woken_outside_freed += 1;
                                }
                            }
                        }
                    }
                }
                Kind::Sweep => {
                    taken.clear();
                    for row in db.client.query(&db.candidates, &[&ts(now)])? {
                        taken.insert(row.get(0), row.get(1));
                    }
                    let started = Instant::now();
                    let row = db.client.query_one(&db.sweep, &[&ts(now)])?;
                    out.sweep_wall += started.elapsed();
                    out.sweeps += 1;
                    out.sweep_processed += i64::from(row.get::<_, i32>(0));
                    for row in db.client.query(&db.job_attempts, &[&last_event])? {
                        last_event = last_event.max(row.get(0));
                        let booking: Option<String> = row.get(1);
                        let ok: bool = row.get(2);
                        let woken = booking
                            .and_then(|b| taken.get(&b).copied())
                            .unwrap_or(false);
                        match (woken, ok) {
                            (true, ok) => {
                                out.wake_attempts += 1;
                                out.wake_confirms += u64::from(ok);
                            }
                            (false, ok) => {
                                out.timer_attempts += 1;
                                out.timer_confirms += u64::from(ok);
                            }
                        }
                    }
                }
            }
        }
        // Outcomes the database reached at this second (confirm, cancel, sweep).
        let since = ts(settled_after);
        let rows = match &touched {
            None => db.client.query(&db.settled, &[&since])?,
            Some(ids) if ids.is_empty() => Vec::new(),
            Some(ids) => db.client.query(&db.settled_of, &[&since, ids])?,
        };
        settled_after = now;
        for row in rows {
            let booking: String = row.get(0);
            let reason: Option<String> = row.get(1);
            let Some(&i) = index.get(booking.as_str()) else {
                continue;
            };
            let outcome = match reason.as_deref() {
                Some("confirmed") => Outcome::Confirmed,
                Some("gave_up") => Outcome::GaveUp,
                Some("cutoff") => Outcome::Cutoff,
                Some("cancelled") => Outcome::Cancelled,
                other => bail!("unexpected auto_assign_outcome {other:?}"),
            };
            if outcome == Outcome::Confirmed {
                out.confirmed_ever += 1;
            }
            if outcome == Outcome::GaveUp && taken.get(&day.bookings[i].id) == Some(&true) {
                out.gave_up_on_wake += 1;
            }
            if outcome == Outcome::Cutoff && day.bookings[i].created < day.bookings[i].start - 600 {
                out.cutoff_late.push(now - (day.bookings[i].start - 600));
            }
            if out.outcome[i].is_none() {
                out.outcome[i] = Some((outcome, now));
            }
        }
    }
    // every outcome the database settled must have been seen above
    for row in db.client.query(&db.settled, &[&ts(0)])? {
        let booking: String = row.get(0);
        if let Some(&i) = index.get(booking.as_str()) {
            if out.outcome[i].is_none() {
                bail!(
                    "booking {booking}: outcome {:?} on its row was missed",
                    row.get::<_, Option<String>>(1)
                );
            }
        }
    }
    for o in &mut out.outcome {
        if o.is_none() {
            *o = Some((Outcome::PendingAtEnd, DAY_END));
        }
    }
    collect(&mut db.client, &index, &mut out)?;
    if policy == Policy::Baseline && (out.queue_rows_end > 0 || out.db_gave_up_or_cutoff > 0) {
        bail!(
            "the baseline must have no database retry queue: {} retry_queue rows, {} bookings \
             settled gave_up/cutoff by the database",
            out.queue_rows_end,
            out.db_gave_up_or_cutoff
        );
    }
    out.wall = wall.elapsed();
    Ok(out)
}

fn load_floors(client: &mut Client, day: &Day) -> Result<()> {
    let mut tx = client.transaction()?;
    let rest = tx.prepare(
        "INSERT INTO autoassign.restaurants (id, name, created_at)
         VALUES ($1::text::uuid, $2, $3::text::timestamptz)",
    )?;
    let zone = tx.prepare(
        "INSERT INTO autoassign.zones (id, restaurant_id, name) VALUES ($1::text::uuid, $2::text::uuid, $3)",
    )?;
    let table = tx.prepare(
        "INSERT INTO autoassign.tables (id, restaurant_id, zone_id, name, capacity, min_party, combinable)
         VALUES ($1::text::uuid, $2::text::uuid, $3::text::uuid, $4, $5, $6, $7)",
    )?;
    let edge = tx.prepare(
        "INSERT INTO autoassign.table_adjacency (restaurant_id, table_a, table_b)
         VALUES ($1::text::uuid, $2::text::uuid, $3::text::uuid)",
    )?;
    for r in &day.restaurants {
        tx.execute(&rest, &[&r.id, &r.name, &ts(0)])?;
        for z in &r.zones {
            tx.execute(&zone, &[&z.id, &r.id, &z.name])?;
            for t in &z.tables {
                tx.execute(
                    &table,
                    &[
                        &t.id,
                        &r.id,
                        &z.id,
                        &t.name,
                        &t.capacity,
                        &t.min_party,
                        &t.combinable,
                    ],
                )?;
            }
            for &(a, b) in &z.adjacency {
                tx.execute(&edge, &[&r.id, &z.tables[a].id, &z.tables[b].id])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// End-of-day numbers read from the database.
fn collect(client: &mut Client, index: &HashMap<&str, usize>, out: &mut Collected) -> Result<()> {
    let n = out.outcome.len();
    out.quotes = vec![0; n];
    out.quotes_inline = vec![0; n];
    for row in client.query(
        "SELECT booking_id::text, count(*), count(*) FILTER (WHERE source = 'inline')
           FROM autoassign.events WHERE event_type = 'auto_assign.quote'
          GROUP BY booking_id",
        &[],
    )? {
        let booking: Option<String> = row.get(0);
        if let Some(&i) = booking.as_deref().and_then(|b| index.get(b)) {
            out.quotes[i] = row.get::<_, i64>(1) as u32;
            out.quotes_inline[i] = row.get::<_, i64>(2) as u32;
        }
    }
    let row = client.query_one(
        "SELECT count(*), coalesce(sum(party_size), 0)::int8
           FROM autoassign.bookings WHERE status = 'confirmed'",
        &[],
    )?;
    out.confirmed_final = row.get::<_, i64>(0) as u64;
    out.covers_final = row.get(1);
    // since 0.2.0 the outbox also carries auto_assign_gave_up (and floor-edit) messages
    let row = client.query_one(
        "SELECT count(*) FILTER (WHERE confirmed > 1),
                count(*) FILTER (WHERE gave_up > 0),
                count(*) FILTER (WHERE confirmed > 0 AND gave_up > 0)
           FROM (SELECT booking_id,
                        count(*) FILTER (WHERE kind = 'booking_confirmed') AS confirmed,
                        count(*) FILTER (WHERE kind = 'auto_assign_gave_up') AS gave_up
                   FROM autoassign.outbox GROUP BY booking_id) m",
        &[],
    )?;
    out.duplicate_outbox = row.get(0);
    out.gave_up_messages = row.get(1);
    out.told_both = row.get(2);
    // bookings whose story in the database never reached an outcome (booking row)
    let row = client.query_one(
        "SELECT count(*) FILTER (WHERE auto_assign_outcome IS NULL),
                count(*) FILTER (WHERE auto_assign_outcome IN ('gave_up', 'cutoff')),
                (SELECT count(*) FROM autoassign.retry_queue)
           FROM autoassign.bookings",
        &[],
    )?;
    out.outcome_missing = row.get(0);
    out.db_gave_up_or_cutoff = row.get(1);
    out.queue_rows_end = row.get(2);
    // the trigger writes one summary event per settled round (telemetry is on)
    out.summary_mismatch = client
        .query_one(
            "SELECT count(*) FROM autoassign.bookings b
               LEFT JOIN LATERAL (
                    SELECT count(*) AS n, count(*) FILTER (WHERE e.reason = b.auto_assign_outcome) AS same
                      FROM autoassign.events e
                     WHERE e.event_type = 'auto_assign.summary' AND e.booking_id = b.id) s ON true
              WHERE (b.auto_assign_outcome IS NULL AND s.n > 0)
                 OR (b.auto_assign_outcome IS NOT NULL AND (s.n <> 1 OR s.same <> 1))",
            &[],
        )?
        .get(0);
    out.inline_failures = client
        .query(
            "SELECT coalesce(reason, '?'), count(*) FROM autoassign.events
              WHERE event_type = 'auto_assign.attempt' AND source = 'inline' AND NOT success
              GROUP BY 1 ORDER BY 2 DESC, 1",
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(())
}
