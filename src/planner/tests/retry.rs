//! The retry decisions (`autoassign_planner::retry`): unit tests of the semantics
//! carried over from `sql/sweep.sql`, and properties over random policies and rows.
//! Test names all contain `retry` so `cargo test -p autoassign_planner retry` runs them.

use autoassign_planner::retry::*;

const S: i64 = 1_000_000; // one second in microseconds
const NOW: i64 = 1_000_000 * S;
const HARD: [&str; 5] = [
    "booking_not_found",
    "booking_not_pending",
    "invalid_request",
    "party_exceeds_floor",
    "past_cutoff",
];
const CAPACITY: [&str; 2] = ["no_capacity", "no_fit"];
const TRANSIENT: [&str; 3] = ["conflict", "lock_timeout", "timeout"];

/// A failure well before the cutoff, of a booking queued for the first time.
fn failure(reason: &str) -> Failure<'_> {
    Failure {
        reason,
        attempts_before: 0,
        woken: false,
        was_waiting: false,
        now_us: NOW,
        cutoff_at_us: NOW + 3600 * S,
        waiting_others: 0,
        seated: 0,
    }
}

/// A due queued booking well before the cutoff, never failed yet.
fn queued() -> Queued<'static> {
    Queued {
        last_reason: None,
        class: None,
        attempts: 0,
        woken: false,
        now_us: NOW,
        cutoff_at_us: NOW + 3600 * S,
        next_attempt_us: NOW,
        free_seats_in_best_zone: None,
        party: 4,
        last_max_tables: None,
        remaining_budget_ms: 1500,
    }
}

mod retry_unit {
    use super::*;

    #[test]
    fn retry_classes_of_reason_codes() {
        for (codes, class) in [
            (&HARD[..], RetryClass::Hard),
            (&CAPACITY[..], RetryClass::Capacity),
            (&TRANSIENT[..], RetryClass::Transient),
        ] {
            for c in codes {
                assert_eq!(class_of(c), Some(class), "{c}");
            }
        }
        assert_eq!(class_of("bogus"), None);
        assert_eq!(class_of(""), None);
        assert_eq!(class_of("Timeout"), None);
        for c in RetryClass::ALL {
            assert_eq!(RetryClass::from_code(c.code()), Some(c));
        }
        assert_eq!(RetryClass::Capacity.code(), "capacity");
        assert_eq!(RetryClass::from_code("soft"), None);
        assert_eq!(Settle::GaveUp.code(), "gave_up");
        assert_eq!(Settle::Cutoff.code(), "cutoff");
    }

    #[test]
    fn retry_policy_defaults_are_the_sql_rows() {
        let p = Policies::default();
        assert_eq!(p.get(RetryClass::Hard).max_attempts, 0);
        let t = p.get(RetryClass::Transient);
        assert_eq!(
            (t.max_attempts, t.base_delay_s, t.max_delay_s, t.jitter),
            (5, 10.0, 300.0, 0.2)
        );
        assert!(t.relax_after_timeout);
        assert_eq!((t.max_waiting, t.waiting_per_seated), (None, None));
        let c = p.get(RetryClass::Capacity);
        assert_eq!(
            (c.max_attempts, c.base_delay_s, c.max_delay_s, c.jitter),
            (4, 1800.0, 7200.0, 0.1)
        );
        assert!(!c.relax_after_timeout);
        assert_eq!((c.max_waiting, c.waiting_per_seated), (Some(2), Some(0.04)));
    }

    #[test]
    fn retry_delay_doubles_then_caps() {
        let t = RetryPolicy::TRANSIENT;
        let secs: Vec<i64> = (0..=7).map(|n| retry_delay_us(&t, n, 0.5) / S).collect();
        assert_eq!(secs, [10, 10, 20, 40, 80, 160, 300, 300]);
        let c = RetryPolicy::CAPACITY;
        let secs: Vec<i64> = (1..=4).map(|n| retry_delay_us(&c, n, 0.5) / S).collect();
        assert_eq!(secs, [1800, 3600, 7200, 7200]);
        assert_eq!(retry_delay_us(&t, u32::MAX, 0.5), 300 * S);
        assert_eq!(retry_delay_us(&RetryPolicy::HARD, 3, 0.9), 0);
    }

    #[test]
    fn retry_delay_jitter_and_edge_inputs() {
        let t = RetryPolicy::TRANSIENT;
        assert_eq!(retry_delay_us(&t, 1, 0.0), 8 * S);
        assert_eq!(retry_delay_us(&t, 1, 1.0), 12 * S);
        assert_eq!(retry_delay_us(&t, 1, 0.75), 11 * S);
        // out of range and NaN randoms are clamped / neutral
        assert_eq!(retry_delay_us(&t, 1, -5.0), 8 * S);
        assert_eq!(retry_delay_us(&t, 1, 7.0), 12 * S);
        assert_eq!(retry_delay_us(&t, 1, f64::NAN), 10 * S);
        // zero base never turns into NaN; huge delays saturate; negatives clamp to 0
        let zero = RetryPolicy {
            base_delay_s: 0.0,
            max_delay_s: f64::INFINITY,
            ..t
        };
        assert_eq!(retry_delay_us(&zero, u32::MAX, 0.3), 0);
        let huge = RetryPolicy {
            base_delay_s: 1e300,
            max_delay_s: 1e300,
            ..t
        };
        assert_eq!(retry_delay_us(&huge, 1, 0.5), i64::MAX);
        let negative = RetryPolicy {
            base_delay_s: -10.0,
            ..t
        };
        assert_eq!(retry_delay_us(&negative, 1, 0.5), 0);
        let wild_jitter = RetryPolicy { jitter: 3.0, ..t };
        assert_eq!(retry_delay_us(&wild_jitter, 1, 0.0), 0);
        assert_eq!(retry_delay_us(&wild_jitter, 1, 1.0), 20 * S);
    }

    #[test]
    fn retry_waiting_limit_least_of_both_knobs() {
        let c = RetryPolicy::CAPACITY;
        assert_eq!(waiting_limit(&c, 0), Some(1)); // at least one may wait
        assert_eq!(waiting_limit(&c, 25), Some(1));
        assert_eq!(waiting_limit(&c, 26), Some(2));
        assert_eq!(waiting_limit(&c, 1000), Some(2)); // max_waiting caps
        let ratio_only = RetryPolicy {
            max_waiting: None,
            ..c
        };
        assert_eq!(waiting_limit(&ratio_only, 1000), Some(40));
        assert_eq!(waiting_limit(&ratio_only, u32::MAX), Some(171_798_692));
        let cap_only = RetryPolicy {
            waiting_per_seated: None,
            ..c
        };
        assert_eq!(waiting_limit(&cap_only, 1000), Some(2));
        let zero = RetryPolicy {
            max_waiting: Some(0),
            ..c
        };
        assert_eq!(waiting_limit(&zero, 1000), Some(0));
        assert_eq!(waiting_limit(&RetryPolicy::TRANSIENT, 1000), None);
    }

    #[test]
    fn retry_hard_reasons_settle_at_once() {
        let p = Policies::default();
        for r in HARD {
            let f = Failure {
                attempts_before: 2,
                ..failure(r)
            };
            let outcome = if r == "past_cutoff" {
                Settle::Cutoff
            } else {
                Settle::GaveUp
            };
            assert_eq!(
                after_failure(&p, &f, 0.5),
                AfterFailure::Settle {
                    outcome,
                    class: RetryClass::Hard,
                    attempts: 3,
                    why: SettleWhy::Hard
                },
                "{r}"
            );
        }
        assert_eq!(
            after_failure(&p, &failure("bogus"), 0.5),
            AfterFailure::Settle {
                outcome: Settle::GaveUp,
                class: RetryClass::Hard,
                attempts: 1,
                why: SettleWhy::UnknownReason
            }
        );
    }

    #[test]
    fn retry_transient_backs_off_then_gives_up() {
        let p = Policies::default();
        let expect = [10, 20, 40, 80];
        for (before, secs) in expect.into_iter().enumerate() {
            let f = Failure {
                attempts_before: before as u32,
                ..failure("conflict")
            };
            assert_eq!(
                after_failure(&p, &f, 0.5),
                AfterFailure::Retry {
                    class: RetryClass::Transient,
                    attempts: before as u32 + 1,
                    next_attempt_us: NOW + secs * S
                }
            );
        }
        let f = Failure {
            attempts_before: 4,
            ..failure("timeout")
        };
        assert_eq!(
            after_failure(&p, &f, 0.5),
            AfterFailure::Settle {
                outcome: Settle::GaveUp,
                class: RetryClass::Transient,
                attempts: 5,
                why: SettleWhy::AttemptsExhausted
            }
        );
        // a wake-up does not make a transient attempt free
        let f = Failure {
            attempts_before: 4,
            woken: true,
            ..failure("lock_timeout")
        };
        assert!(matches!(
            after_failure(&p, &f, 0.5),
            AfterFailure::Settle { attempts: 5, .. }
        ));
    }

    #[test]
    fn retry_capacity_after_wake_up_is_free() {
        let p = Policies::default();
        let f = Failure {
            attempts_before: 4,
            woken: true,
            was_waiting: true,
            ..failure("no_fit")
        };
        assert_eq!(
            after_failure(&p, &f, 0.5),
            AfterFailure::Retry {
                class: RetryClass::Capacity,
                attempts: 4,
                next_attempt_us: NOW + 7200 * S
            }
        );
        let f = Failure { woken: false, ..f };
        assert_eq!(
            after_failure(&p, &f, 0.5),
            AfterFailure::Settle {
                outcome: Settle::GaveUp,
                class: RetryClass::Capacity,
                attempts: 5,
                why: SettleWhy::AttemptsExhausted
            }
        );
    }

    #[test]
    fn retry_waiting_list_full_gives_up_newcomers_only() {
        let p = Policies::default();
        // 10 seated: limit 1; one other is waiting already
        let f = Failure {
            waiting_others: 1,
            seated: 10,
            ..failure("no_capacity")
        };
        assert_eq!(
            after_failure(&p, &f, 0.5),
            AfterFailure::Settle {
                outcome: Settle::GaveUp,
                class: RetryClass::Capacity,
                attempts: 1,
                why: SettleWhy::WaitingListFull {
                    waiting: 1,
                    limit: 1,
                    seated: 10
                }
            }
        );
        // 26 seated: limit 2, so a second one may wait
        let f2 = Failure { seated: 26, ..f };
        assert!(matches!(
            after_failure(&p, &f2, 0.5),
            AfterFailure::Retry { attempts: 1, .. }
        ));
        // one already waiting stays, however long the list
        let waiting = Failure {
            was_waiting: true,
            waiting_others: 50,
            attempts_before: 1,
            ..f
        };
        assert!(matches!(
            after_failure(&p, &waiting, 0.5),
            AfterFailure::Retry { attempts: 2, .. }
        ));
        // the waiting list does not apply to transient failures
        let t = Failure {
            waiting_others: 50,
            ..failure("conflict")
        };
        assert!(matches!(
            after_failure(&p, &t, 0.5),
            AfterFailure::Retry { .. }
        ));
        // no limit configured: nobody is turned away
        let mut open = p;
        open.capacity.max_waiting = None;
        open.capacity.waiting_per_seated = None;
        let f3 = Failure {
            waiting_others: 1000,
            ..f
        };
        assert!(matches!(
            after_failure(&open, &f3, 0.5),
            AfterFailure::Retry { .. }
        ));
    }

    #[test]
    fn retry_failure_at_cutoff_settles_cutoff() {
        let p = Policies::default();
        for r in ["no_fit", "conflict"] {
            let f = Failure {
                cutoff_at_us: NOW,
                ..failure(r)
            };
            assert!(matches!(
                after_failure(&p, &f, 0.5),
                AfterFailure::Settle {
                    outcome: Settle::Cutoff,
                    why: SettleWhy::CutoffReached,
                    ..
                }
            ));
        }
        // one microsecond before: still retried
        let f = Failure {
            cutoff_at_us: NOW + 1,
            ..failure("conflict")
        };
        assert!(matches!(
            after_failure(&p, &f, 0.5),
            AfterFailure::Retry { .. }
        ));
    }

    #[test]
    fn retry_sweep_budget_cutoff_and_timer() {
        let p = Policies::default();
        let q = Queued {
            remaining_budget_ms: 0,
            cutoff_at_us: NOW,
            ..queued()
        };
        assert_eq!(sweep_action(&p, &q, 0.5), SweepAction::OutOfBudget);
        // cutoff wins over a timer far in the future
        let q = Queued {
            cutoff_at_us: NOW,
            next_attempt_us: NOW + 3600 * S,
            ..queued()
        };
        assert_eq!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Settle {
                outcome: Settle::Cutoff
            }
        );
        let q = Queued {
            next_attempt_us: NOW + 1,
            ..queued()
        };
        assert_eq!(sweep_action(&p, &q, 0.5), SweepAction::Wait);
        let q = Queued { woken: true, ..q };
        assert_eq!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Attempt {
                max_tables: None,
                deadline_ms: 1500
            }
        );
        assert_eq!(
            sweep_action(&p, &queued(), 0.5),
            SweepAction::Attempt {
                max_tables: None,
                deadline_ms: 1500
            }
        );
    }

    #[test]
    fn retry_sweep_gives_up_when_budget_spent_unless_woken() {
        let p = Policies::default();
        let q = Queued {
            last_reason: Some("conflict"),
            class: Some(RetryClass::Transient),
            attempts: 5,
            ..queued()
        };
        assert_eq!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Settle {
                outcome: Settle::GaveUp
            }
        );
        let q = Queued { attempts: 4, ..q };
        assert!(matches!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Attempt { .. }
        ));
        let q = Queued {
            last_reason: Some("no_fit"),
            class: Some(RetryClass::Capacity),
            attempts: 4,
            ..queued()
        };
        assert_eq!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Settle {
                outcome: Settle::GaveUp
            }
        );
        let q = Queued { woken: true, ..q };
        assert!(matches!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Attempt { .. }
        ));
    }

    #[test]
    fn retry_sweep_defers_capacity_without_seats() {
        let p = Policies::default();
        let q = Queued {
            last_reason: Some("no_capacity"),
            class: Some(RetryClass::Capacity),
            attempts: 0,
            woken: true,
            free_seats_in_best_zone: Some(3),
            ..queued()
        };
        // attempts 0 is delayed like attempt 1
        assert_eq!(
            sweep_action(&p, &q, 0.5),
            SweepAction::Defer {
                next_attempt_us: NOW + 1800 * S
            }
        );
        let q2 = Queued { attempts: 2, ..q };
        assert_eq!(
            sweep_action(&p, &q2, 0.5),
            SweepAction::Defer {
                next_attempt_us: NOW + 3600 * S
            }
        );
        // a later timer is kept
        let q3 = Queued {
            next_attempt_us: NOW + 5 * 3600 * S,
            ..q
        };
        assert_eq!(
            sweep_action(&p, &q3, 0.5),
            SweepAction::Defer {
                next_attempt_us: NOW + 5 * 3600 * S
            }
        );
        // enough seats, or not checked: plan
        for free in [Some(4), Some(40), None] {
            let q = Queued {
                free_seats_in_best_zone: free,
                ..q
            };
            assert!(
                matches!(sweep_action(&p, &q, 0.5), SweepAction::Attempt { .. }),
                "{free:?}"
            );
        }
        // the seat check is for the capacity class only
        let t = Queued {
            class: Some(RetryClass::Transient),
            last_reason: Some("conflict"),
            ..q
        };
        assert!(matches!(
            sweep_action(&p, &t, 0.5),
            SweepAction::Attempt { .. }
        ));
    }

    #[test]
    fn retry_sweep_relaxes_max_tables_after_timeout() {
        let p = Policies::default();
        let q = Queued {
            last_reason: Some("timeout"),
            class: Some(RetryClass::Transient),
            attempts: 1,
            ..queued()
        };
        for (last, next) in [
            (None, 4),
            (Some(1), 2),
            (Some(3), 4),
            (Some(5), 6),
            (Some(6), 6),
            (Some(255), 6),
        ] {
            let q = Queued {
                last_max_tables: last,
                ..q
            };
            assert_eq!(
                sweep_action(&p, &q, 0.5),
                SweepAction::Attempt {
                    max_tables: Some(next),
                    deadline_ms: 1500
                },
                "{last:?}"
            );
        }
        let conflict = Queued {
            last_reason: Some("conflict"),
            last_max_tables: Some(3),
            ..q
        };
        assert_eq!(
            sweep_action(&p, &conflict, 0.5),
            SweepAction::Attempt {
                max_tables: None,
                deadline_ms: 1500
            }
        );
        let mut strict = p;
        strict.transient.relax_after_timeout = false;
        // only the transient row's flag counts
        let mut cap_flag = strict;
        cap_flag.capacity.relax_after_timeout = true;
        for pol in [strict, cap_flag] {
            assert_eq!(
                sweep_action(&pol, &q, 0.5),
                SweepAction::Attempt {
                    max_tables: None,
                    deadline_ms: 1500
                }
            );
        }
    }
}

mod retry_props {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> impl Strategy<Value = RetryPolicy> {
        (
            0u32..8,
            0.0f64..1e5,
            0.0f64..1e6,
            0.0f64..=1.0,
            any::<bool>(),
            proptest::option::of(0u32..10),
            proptest::option::of(0.0f64..2.0),
        )
            .prop_map(
                |(max_attempts, base, max, jitter, relax, max_waiting, wps)| RetryPolicy {
                    max_attempts,
                    base_delay_s: base,
                    max_delay_s: max,
                    jitter,
                    relax_after_timeout: relax,
                    max_waiting,
                    waiting_per_seated: wps,
                },
            )
    }

    fn policies() -> impl Strategy<Value = Policies> {
        (policy(), policy(), policy()).prop_map(|(hard, capacity, transient)| Policies {
            hard,
            capacity,
            transient,
        })
    }

    const REASONS: [&str; 11] = [
        "booking_not_found",
        "booking_not_pending",
        "invalid_request",
        "party_exceeds_floor",
        "past_cutoff",
        "no_capacity",
        "no_fit",
        "conflict",
        "lock_timeout",
        "timeout",
        "bogus",
    ];

    fn failure_strategy() -> impl Strategy<Value = Failure<'static>> {
        (
            proptest::sample::select(&REASONS[..]),
            0u32..10,
            any::<bool>(),
            any::<bool>(),
            -1_000_000i64..1_000_000,
            0u32..20,
            0u32..200,
        )
            .prop_map(
                |(
                    reason,
                    attempts_before,
                    woken,
                    was_waiting,
                    cutoff_off,
                    waiting_others,
                    seated,
                )| {
                    Failure {
                        reason,
                        attempts_before,
                        woken,
                        was_waiting,
                        now_us: NOW,
                        cutoff_at_us: NOW + cutoff_off * S,
                        waiting_others,
                        seated,
                    }
                },
            )
    }

    fn queued_strategy() -> impl Strategy<Value = Queued<'static>> {
        (
            proptest::option::of(proptest::sample::select(&REASONS[..10])),
            0u32..10,
            any::<bool>(),
            -100_000i64..100_000,
            -100_000i64..100_000,
            proptest::option::of(-5i64..40),
            1i32..30,
            proptest::option::of(1u8..=6),
            -100i64..5000,
        )
            .prop_map(
                |(
                    last_reason,
                    attempts,
                    woken,
                    cutoff_off,
                    next_off,
                    free,
                    party,
                    last_mt,
                    budget,
                )| {
                    Queued {
                        last_reason,
                        class: last_reason.and_then(class_of),
                        attempts,
                        woken,
                        now_us: NOW,
                        cutoff_at_us: NOW + cutoff_off * S,
                        next_attempt_us: NOW + next_off * S,
                        free_seats_in_best_zone: free,
                        party,
                        last_max_tables: last_mt,
                        remaining_budget_ms: budget,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn retry_delay_within_jitter_bounds_and_capped(p in policy(), n in 0u32..80, u in 0.0f64..1.0) {
            let d = p.max_delay_s.min(p.base_delay_s * 2f64.powi(n.saturating_sub(1) as i32));
            let us = retry_delay_us(&p, n, u) as f64;
            prop_assert!(us >= 0.0);
            prop_assert!(us >= (1.0 - p.jitter) * d * 1e6 - 1.0, "{us} < lower bound");
            prop_assert!(us <= (1.0 + p.jitter) * d * 1e6 + 1.0, "{us} > upper bound");
            prop_assert!(us <= (1.0 + p.jitter) * p.max_delay_s * 1e6 + 1.0, "{us} above cap");
        }

        #[test]
        fn retry_delay_monotone_without_jitter(p in policy(), n in 0u32..80, u in 0.0f64..1.0) {
            let flat = RetryPolicy { jitter: 0.0, ..p };
            prop_assert!(retry_delay_us(&flat, n, u) <= retry_delay_us(&flat, n + 1, u));
            // with jitter, the same random draw keeps the order too
            prop_assert!(retry_delay_us(&p, n, u) <= retry_delay_us(&p, n + 1, u));
        }

        #[test]
        fn retry_hard_never_retried(p in policies(), f in failure_strategy(), u in 0.0f64..1.0) {
            let hard = matches!(class_of(f.reason), Some(RetryClass::Hard) | None);
            let r = after_failure(&p, &f, u);
            if hard {
                let is_hard_settle = matches!(
                    r,
                    AfterFailure::Settle { class: RetryClass::Hard, why: SettleWhy::Hard | SettleWhy::UnknownReason, .. }
                );
                prop_assert!(is_hard_settle, "{r:?}");
            }
            if let AfterFailure::Retry { class, attempts, next_attempt_us } = r {
                prop_assert_ne!(class, RetryClass::Hard);
                prop_assert!(next_attempt_us >= f.now_us);
                prop_assert!(f.now_us < f.cutoff_at_us);
                let free = class == RetryClass::Capacity && f.woken;
                prop_assert!(free || attempts < p.get(class).max_attempts);
            }
        }

        #[test]
        fn retry_attempt_counts_except_free_capacity(p in policies(), f in failure_strategy(), u in 0.0f64..1.0) {
            let attempts = match after_failure(&p, &f, u) {
                AfterFailure::Settle { attempts, .. } | AfterFailure::Retry { attempts, .. } => attempts,
            };
            let free = class_of(f.reason) == Some(RetryClass::Capacity) && f.woken;
            prop_assert_eq!(attempts, f.attempts_before + u32::from(!free));
        }

        #[test]
        fn retry_waiting_list_never_evicts_a_waiting_booking(p in policies(), f in failure_strategy(), u in 0.0f64..1.0) {
            let f = Failure { was_waiting: true, ..f };
            let r = after_failure(&p, &f, u);
            let evicted = matches!(r, AfterFailure::Settle { why: SettleWhy::WaitingListFull { .. }, .. });
            prop_assert!(!evicted);
            // a waiting capacity booking before the cutoff with budget left stays queued
            let free_or_budget = f.woken || f.attempts_before + 1 < p.capacity.max_attempts;
            if class_of(f.reason) == Some(RetryClass::Capacity) && f.now_us < f.cutoff_at_us && free_or_budget {
                prop_assert!(matches!(r, AfterFailure::Retry { .. }), "{r:?}");
            }
        }

        #[test]
        fn retry_settles_when_attempts_exhausted(p in policies(), f in failure_strategy(), u in 0.0f64..1.0) {
            let Some(class) = class_of(f.reason) else { return Ok(()) };
            let free = class == RetryClass::Capacity && f.woken;
            let f = Failure { attempts_before: p.get(class).max_attempts.saturating_sub(1), was_waiting: true, ..f };
            let r = after_failure(&p, &f, u);
            if !free {
                prop_assert!(matches!(r, AfterFailure::Settle { .. }), "{r:?}");
            }
        }

        #[test]
        fn retry_sweep_gives_up_when_exhausted_and_not_woken(p in policies(), q in queued_strategy(), u in 0.0f64..1.0) {
            let Some(class) = q.class else { return Ok(()) };
            let q = Queued { woken: false, attempts: q.attempts.max(p.get(class).max_attempts), ..q };
            let due = q.remaining_budget_ms > 0 && q.now_us < q.cutoff_at_us && q.now_us >= q.next_attempt_us;
            if due {
                prop_assert_eq!(sweep_action(&p, &q, u), SweepAction::Settle { outcome: Settle::GaveUp });
            }
        }

        #[test]
        fn retry_sweep_cutoff_always_wins(p in policies(), q in queued_strategy(), u in 0.0f64..1.0) {
            let a = sweep_action(&p, &q, u);
            if q.remaining_budget_ms > 0 && q.now_us >= q.cutoff_at_us {
                prop_assert_eq!(a, SweepAction::Settle { outcome: Settle::Cutoff });
            } else {
                prop_assert_ne!(a, SweepAction::Settle { outcome: Settle::Cutoff });
            }
        }

        #[test]
        fn retry_sweep_attempt_deadline_within_budget(p in policies(), q in queued_strategy(), u in 0.0f64..1.0) {
            match sweep_action(&p, &q, u) {
                SweepAction::Attempt { max_tables, deadline_ms } => {
                    prop_assert!(deadline_ms >= 1 && deadline_ms <= q.remaining_budget_ms);
                    prop_assert!(q.woken || q.now_us >= q.next_attempt_us);
                    if let Some(k) = max_tables {
                        prop_assert!((1..=6).contains(&k));
                        prop_assert_eq!(q.last_reason, Some("timeout"));
                    }
                }
                SweepAction::OutOfBudget => prop_assert!(q.remaining_budget_ms <= 0),
                SweepAction::Defer { next_attempt_us } => {
                    prop_assert_eq!(q.class, Some(RetryClass::Capacity));
                    prop_assert!(next_attempt_us >= q.next_attempt_us && next_attempt_us >= q.now_us);
                    prop_assert!(q.free_seats_in_best_zone.unwrap() < i64::from(q.party));
                }
                SweepAction::Wait => prop_assert!(!q.woken && q.now_us < q.next_attempt_us),
                SweepAction::Settle { .. } => {}
            }
        }
    }
}
