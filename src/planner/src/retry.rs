//! Retry decisions of the sweep (SPEC §8), as pure functions.
//!
//! This is the policy that `sql/sweep.sql` (`retry_delay`, `retry_after_failure`,
//! `autoassign_sweep`) implements in plpgsql; the SQL side only reads rows, calls
//! these functions and writes back what they decide. Nothing here reads a clock or a
//! random source: the caller passes `now` and a uniform `unit_random` in `[0, 1)`.
//!
//! Units: times are microseconds ([`Micros`], any epoch, the same for every field
//! of one call), policy delays are seconds (`f64`), budgets are milliseconds.
//!
//! * [`after_failure`]: a confirm attempt failed (any source: inline, api, job,
//!   ops). Counts the attempt against its class and either settles the booking now
//!   or schedules its next sweep attempt (`retry_after_failure`).
//! * [`sweep_action`]: the sweep looks at one queued booking: settle it, defer it
//!   without a planner call, leave it, or attempt a confirm (`autoassign_sweep`).
//! * [`retry_delay_us`], [`waiting_limit`]: the backoff and the capacity waiting
//!   list size they use.

use crate::Micros;

/// Retry class of a reason code (SPEC §8); the `retry_policy.class` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryClass {
    /// Never retried: the booking is settled by the failure itself.
    Hard,
    /// Too few free seats or no valid plan: retried on a wake-up (a cancel, a shorter
    /// stay, a floor edit), else on a long backoff.
    Capacity,
    /// Lost a race or ran out of time: retried soon, with backoff and jitter.
    Transient,
}

impl RetryClass {
    /// All classes, in `retry_policy` order.
    pub const ALL: [RetryClass; 3] = [
        RetryClass::Hard,
        RetryClass::Capacity,
        RetryClass::Transient,
    ];

    /// Parses a class code (`"hard"`, `"capacity"`, `"transient"`).
    pub fn from_code(code: &str) -> Option<Self> {
        RetryClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The class code stored in `retry_queue.last_class` and `retry_policy.class`.
    pub fn code(self) -> &'static str {
        match self {
            RetryClass::Hard => "hard",
            RetryClass::Capacity => "capacity",
            RetryClass::Transient => "transient",
        }
    }
}

/// Class of a reason code; `None` for a code that is not in SPEC §8.
///
/// hard: `booking_not_found`, `booking_not_pending`, `invalid_request`,
/// `party_exceeds_floor`, `past_cutoff`; capacity: `no_capacity`, `no_fit`;
/// transient: `conflict`, `lock_timeout`, `timeout`.
pub fn class_of(reason: &str) -> Option<RetryClass> {
    match reason {
        "booking_not_found"
        | "booking_not_pending"
        | "invalid_request"
        | "party_exceeds_floor"
        | "past_cutoff" => Some(RetryClass::Hard),
        "no_capacity" | "no_fit" => Some(RetryClass::Capacity),
        "conflict" | "lock_timeout" | "timeout" => Some(RetryClass::Transient),
        _ => None,
    }
}

/// One row of `retry_policy`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts of this class after which the booking gives up (`max_attempts`).
    pub max_attempts: u32,
    /// Delay before the 2nd attempt of the class, seconds (`base_delay`).
    pub base_delay_s: f64,
    /// Cap of the doubling delay before jitter, seconds (`max_delay`).
    pub max_delay_s: f64,
    /// Relative jitter in `0..=1`: the delay is scaled by `1 ± jitter` (`jitter`).
    pub jitter: f64,
    /// After a `timeout`, the next attempt may use one more table (`relax_after_timeout`;
    /// only the transient row's value is read).
    pub relax_after_timeout: bool,
    /// Capacity only: most bookings waiting for freed capacity in overlapping stays of
    /// one restaurant (`max_waiting`, `None` = NULL).
    pub max_waiting: Option<u32>,
    /// Capacity only: waiting bookings per seated booking in the stay
    /// (`waiting_per_seated`, `None` = NULL).
    pub waiting_per_seated: Option<f64>,
}

impl RetryPolicy {
    /// A policy with backoff only: no relaxing, no waiting list.
    pub const fn backoff(
        max_attempts: u32,
        base_delay_s: f64,
        max_delay_s: f64,
        jitter: f64,
    ) -> Self {
        RetryPolicy {
            max_attempts,
            base_delay_s,
            max_delay_s,
            jitter,
            relax_after_timeout: false,
            max_waiting: None,
            waiting_per_seated: None,
        }
    }
    /// `retry_policy` default for `hard`: never retried.
    pub const HARD: RetryPolicy = RetryPolicy::backoff(0, 0.0, 0.0, 0.0);
    /// `retry_policy` default for `transient`: 5 attempts, 10 s doubling to at most
    /// 5 min, jitter 0.2, one more table after a timeout.
    pub const TRANSIENT: RetryPolicy = RetryPolicy {
        relax_after_timeout: true,
        ..RetryPolicy::backoff(5, 10.0, 300.0, 0.2)
    };
    /// `retry_policy` default for `capacity`: 4 attempts, 30 min doubling to at most
    /// 2 h (a backstop: wake-ups do the real work), jitter 0.1, one waiting booking per
    /// 25 seated, at most 2.
    pub const CAPACITY: RetryPolicy = RetryPolicy {
        max_waiting: Some(2),
        waiting_per_seated: Some(0.04),
        ..RetryPolicy::backoff(4, 1800.0, 7200.0, 0.1)
    };
}

/// The `retry_policy` table: one [`RetryPolicy`] per class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policies {
    pub hard: RetryPolicy,
    pub capacity: RetryPolicy,
    pub transient: RetryPolicy,
}

impl Policies {
    /// The policy of `class`.
    pub fn get(&self, class: RetryClass) -> &RetryPolicy {
        match class {
            RetryClass::Hard => &self.hard,
            RetryClass::Capacity => &self.capacity,
            RetryClass::Transient => &self.transient,
        }
    }
}

impl Default for Policies {
    /// The rows `sweep.sql` installs: [`RetryPolicy::HARD`], [`RetryPolicy::CAPACITY`],
    /// [`RetryPolicy::TRANSIENT`].
    fn default() -> Self {
        Policies {
            hard: RetryPolicy::HARD,
            capacity: RetryPolicy::CAPACITY,
            transient: RetryPolicy::TRANSIENT,
        }
    }
}

/// Delay before the next attempt after `attempts` (>= 1; 0 counts as 1) attempts of
/// the policy's class, in microseconds:
/// `min(max_delay, base * 2^(attempts-1)) * (1 + jitter * (2u - 1))`.
///
/// `unit_random` is clamped to `[0, 1]` (NaN: 0.5, no jitter), `jitter` to `[0, 1]`.
/// The result is rounded to the microsecond, never negative, and saturates at
/// `i64::MAX`; with valid policies it lies in `[(1-jitter)*d, (1+jitter)*d]` where
/// `d = min(max_delay, base * 2^(attempts-1))`.
pub fn retry_delay_us(policy: &RetryPolicy, attempts: u32, unit_random: f64) -> Micros {
    // 2^1023 is the largest finite power: beyond it the cap applies anyway, and a
    // zero base must not become 0 * inf = NaN
    let doubling = 2f64.powi(attempts.saturating_sub(1).min(1023) as i32);
    let capped = policy.max_delay_s.min(policy.base_delay_s * doubling);
    let u = clamp_unit(unit_random, 0.5);
    let jitter = clamp_unit(policy.jitter, 0.0);
    let us = (capped * (1.0 + jitter * (2.0 * u - 1.0)) * 1e6).round();
    // `as` saturates and maps NaN to 0
    (us as i64).max(0)
}

/// `x` clamped to `[0, 1]`, `nan` for NaN.
fn clamp_unit(x: f64, nan: f64) -> f64 {
    if x.is_nan() {
        nan
    } else {
        x.clamp(0.0, 1.0)
    }
}

/// Size of the capacity waiting list in a stay with `seated` distinct seated bookings:
/// the least of `max_waiting` and `max(1, ceil(waiting_per_seated * seated))`,
/// skipping the ones that are `None`; `None` (no limit) when both are.
pub fn waiting_limit(policy: &RetryPolicy, seated: u32) -> Option<u32> {
    // `as u32` saturates (NaN and negatives -> 0)
    let per_seated = policy
        .waiting_per_seated
        .map(|r| ((r * f64::from(seated)).ceil() as u32).max(1));
    match (policy.max_waiting, per_seated) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How a queued booking ends without a table; the summary's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settle {
    GaveUp,
    Cutoff,
}

impl Settle {
    /// The outcome code of the summary event (`"gave_up"`, `"cutoff"`).
    pub fn code(self) -> &'static str {
        match self {
            Settle::GaveUp => "gave_up",
            Settle::Cutoff => "cutoff",
        }
    }
}

/// Why [`after_failure`] settled the booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettleWhy {
    /// A hard reason: never retried (`past_cutoff` settles as [`Settle::Cutoff`]).
    Hard,
    /// A reason code [`class_of`] does not know; treated as hard.
    UnknownReason,
    /// A capacity failure of a booking not yet waiting, behind a full waiting list
    /// (the summary's `waiting_list` object).
    WaitingListFull {
        waiting: u32,
        limit: u32,
        seated: u32,
    },
    /// The failure happened at or after the cutoff: the booking can no longer be
    /// seated by the sweep, which would settle it as cutoff on its next pass.
    CutoffReached,
    /// The class budget is spent (`attempts >= max_attempts`, and the attempt was not a
    /// free one after a wake-up).
    AttemptsExhausted,
}

/// What is known when a confirm attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure<'a> {
    /// The reason code of the failure.
    pub reason: &'a str,
    /// Attempts of the reason's class counted before this one
    /// (`retry_queue.attempts_<class>`; 0 for a new queue row).
    pub attempts_before: u32,
    /// The queue row was woken (`retry_queue.wake`): a capacity failure after a
    /// wake-up does not count against the capacity budget.
    pub woken: bool,
    /// The booking already waits for capacity (`retry_queue.last_class = 'capacity'`
    /// before this failure); such a booking is never pushed out by the waiting list.
    pub was_waiting: bool,
    /// Now, microseconds.
    pub now_us: Micros,
    /// `start_at - cutoff_minutes`, microseconds.
    pub cutoff_at_us: Micros,
    /// Other pending bookings of the restaurant whose last class is capacity and whose
    /// stay overlaps this one's. Only read for a capacity failure with `!was_waiting`.
    pub waiting_others: u32,
    /// Distinct bookings holding tables (allocations) in this booking's stay. Only
    /// read with `waiting_others`.
    pub seated: u32,
}

/// The decision after a failed confirm. `class` is the column to update
/// (`attempts_<class>`, `last_class`; an unknown reason counts as hard) and `attempts`
/// its new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Settle now: write the summary with `outcome` and drop the queue row.
    Settle {
        outcome: Settle,
        class: RetryClass,
        attempts: u32,
        why: SettleWhy,
    },
    /// Stay queued (`wake = false`); the next sweep attempt is due at `next_attempt_us`.
    Retry {
        class: RetryClass,
        attempts: u32,
        next_attempt_us: Micros,
    },
}

/// Counts a failed attempt against its class and decides, in this order:
///
/// 1. hard (or unknown) reason: settle, [`Settle::Cutoff`] for `past_cutoff`, else
///    [`Settle::GaveUp`]; never retried;
/// 2. capacity failure of a booking not already waiting, with
///    `waiting_others >= waiting_limit(capacity, seated)`: settle gave_up;
/// 3. `now_us >= cutoff_at_us`: settle cutoff;
/// 4. class budget spent (`attempts >= max_attempts`, not a free attempt): gave_up;
/// 5. else retry at `now_us + retry_delay_us(class policy, attempts, unit_random)`.
///
/// The attempt counts (+1) except a capacity failure after a wake-up, which is free:
/// only one of the woken bookings can take the freed table, and the others should
/// not lose their budget for trying.
pub fn after_failure(policies: &Policies, f: &Failure, unit_random: f64) -> AfterFailure {
    let known = class_of(f.reason);
    let free = known == Some(RetryClass::Capacity) && f.woken;
    let attempts = f.attempts_before.saturating_add(u32::from(!free));
    let class = known.unwrap_or(RetryClass::Hard);
    let settle = |outcome, why| AfterFailure::Settle {
        outcome,
        class,
        attempts,
        why,
    };
    if known.is_none() {
        return settle(Settle::GaveUp, SettleWhy::UnknownReason);
    }
    let policy = policies.get(class);

    if class == RetryClass::Hard {
        let outcome = if f.reason == "past_cutoff" {
            Settle::Cutoff
        } else {
            Settle::GaveUp
        };
        return settle(outcome, SettleWhy::Hard);
    }
    if class == RetryClass::Capacity && !f.was_waiting {
        if let Some(limit) = waiting_limit(policy, f.seated) {
            if f.waiting_others >= limit {
                let why = SettleWhy::WaitingListFull {
                    waiting: f.waiting_others,
                    limit,
                    seated: f.seated,
                };
                return settle(Settle::GaveUp, why);
            }
        }
    }
    if f.now_us >= f.cutoff_at_us {
        return settle(Settle::Cutoff, SettleWhy::CutoffReached);
    }
    if !free && attempts >= policy.max_attempts {
        return settle(Settle::GaveUp, SettleWhy::AttemptsExhausted);
    }
    let delay = retry_delay_us(policy, attempts, unit_random);
    AfterFailure::Retry {
        class,
        attempts,
        next_attempt_us: f.now_us.saturating_add(delay),
    }
}

/// One queued booking, as the sweep sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued<'a> {
    /// `retry_queue.last_reason` (`None` before any failure).
    pub last_reason: Option<&'a str>,
    /// `retry_queue.last_class` (`None` before any failure).
    pub class: Option<RetryClass>,
    /// `retry_queue.attempts_<class>` of `class` (ignored when `class` is `None`).
    pub attempts: u32,
    /// `retry_queue.wake`: capacity may have freed since the last failure.
    pub woken: bool,
    /// Now, microseconds.
    pub now_us: Micros,
    /// `start_at - cutoff_minutes`, microseconds.
    pub cutoff_at_us: Micros,
    /// `retry_queue.next_attempt_at`, microseconds.
    pub next_attempt_us: Micros,
    /// The most free seats of any zone over the whole stay
    /// (`max(autoassign_free_capacity(..).free_seats)`, 0 when there are no zones);
    /// `None` when not checked, e.g. when some table has `max_party > capacity`.
    /// Only read for the capacity class.
    pub free_seats_in_best_zone: Option<i64>,
    /// `bookings.party_size`.
    pub party: i32,
    /// `max_tables` of the last attempt's strategy (`auto_assign_last_result`), if any.
    pub last_max_tables: Option<u8>,
    /// Milliseconds left of the sweep's time budget.
    pub remaining_budget_ms: i64,
}

/// What the sweep does with one queued booking now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepAction {
    /// The time budget is spent: stop the sweep (checked before anything else).
    OutOfBudget,
    /// Write the summary and drop the queue row: cutoff reached (always wins), or the
    /// class budget is spent and the booking was not woken.
    Settle { outcome: Settle },
    /// Capacity class and no zone has the seats for the party: no planner call. Set
    /// `next_attempt_at` to `next_attempt_us` and `wake = false`.
    Defer { next_attempt_us: Micros },
    /// Not due, not woken, cutoff not reached: leave the row alone.
    Wait,
    /// Run a confirm (source `job`). `max_tables` overrides the strategy after a
    /// `timeout` when the transient policy relaxes: `min(6, last + 1)`, last defaulting
    /// to 3. `deadline_ms` is the remaining budget (at least 1).
    Attempt {
        max_tables: Option<u8>,
        deadline_ms: i64,
    },
}

/// Decides, in this order: [`SweepAction::OutOfBudget`] when
/// `remaining_budget_ms <= 0`; settle cutoff when `now_us >= cutoff_at_us`;
/// [`SweepAction::Wait`] when not woken and `now_us < next_attempt_us`; settle gave_up
/// when a class is known, not woken, and `attempts >= max_attempts`; defer a capacity
/// booking when `free_seats_in_best_zone < party`, to
/// `max(next_attempt_us, now_us + retry_delay_us(capacity, max(attempts, 1)))`;
/// else attempt.
pub fn sweep_action(policies: &Policies, q: &Queued, unit_random: f64) -> SweepAction {
    if q.remaining_budget_ms <= 0 {
        return SweepAction::OutOfBudget;
    }
    if q.now_us >= q.cutoff_at_us {
        return SweepAction::Settle {
            outcome: Settle::Cutoff,
        };
    }
    if !q.woken && q.now_us < q.next_attempt_us {
        return SweepAction::Wait;
    }
    if let Some(class) = q.class {
        if !q.woken && q.attempts >= policies.get(class).max_attempts {
            return SweepAction::Settle {
                outcome: Settle::GaveUp,
            };
        }
        if class == RetryClass::Capacity {
            if let Some(free) = q.free_seats_in_best_zone {
                if free < i64::from(q.party) {
                    let delay = retry_delay_us(&policies.capacity, q.attempts.max(1), unit_random);
                    let next = q.next_attempt_us.max(q.now_us.saturating_add(delay));
                    return SweepAction::Defer {
                        next_attempt_us: next,
                    };
                }
            }
        }
    }
    let relax = q.last_reason == Some("timeout") && policies.transient.relax_after_timeout;
    let max_tables = relax.then(|| q.last_max_tables.unwrap_or(3).saturating_add(1).min(6));
    SweepAction::Attempt {
        max_tables,
        deadline_ms: q.remaining_budget_ms.max(1),
    }
}
