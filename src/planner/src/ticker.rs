//! Cooperative cancellation: calls the interrupt hook and checks the deadline
//! every 1024 ticks.

use std::time::{Duration, Instant};

/// Ticks between interrupt/deadline checks (a power of two).
pub(crate) const TICK_EVERY: u64 = 1024;

pub(crate) struct Ticker<'a> {
    interrupt: &'a mut dyn FnMut(),
    deadline: Option<Instant>,
    n: u64,
    timed_out: bool,
}

impl<'a> Ticker<'a> {
    pub(crate) fn new(interrupt: &'a mut dyn FnMut(), budget: Option<Duration>) -> Self {
        let deadline = budget.and_then(|d| Instant::now().checked_add(d));
        // A budget too large to represent is treated as "no deadline"; a zero budget
        // is already expired.
        let timed_out = budget == Some(Duration::ZERO);
        Ticker {
            interrupt,
            deadline,
            n: 0,
            timed_out,
        }
    }

    /// One unit of work; returns false once the deadline has passed.
    #[inline]
    pub(crate) fn tick(&mut self) -> bool {
        self.n = self.n.wrapping_add(1);
        if self.n & (TICK_EVERY - 1) == 0 {
            self.check_now()
        } else {
            !self.timed_out
        }
    }

    /// Calls the interrupt hook and checks the deadline now.
    pub(crate) fn check_now(&mut self) -> bool {
        (self.interrupt)();
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                self.timed_out = true;
            }
        }
        !self.timed_out
    }

    #[cfg(test)]
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_interrupt_every_1024_ticks() {
        let mut calls = 0u32;
        {
            let mut hook = || calls += 1;
            let mut t = Ticker::new(&mut hook, None);
            for _ in 0..4096 {
                assert!(t.tick());
            }
        }
        assert_eq!(calls, 4);
    }

    #[test]
    fn zero_budget_is_expired() {
        let mut hook = || {};
        let mut t = Ticker::new(&mut hook, Some(Duration::ZERO));
        assert!(t.timed_out());
        assert!(!t.tick());
        let mut hook2 = || {};
        let mut t2 = Ticker::new(&mut hook2, Some(Duration::from_secs(3600)));
        assert!(t2.check_now());
        let mut hook3 = || {};
        let mut t3 = Ticker::new(&mut hook3, Some(Duration::MAX));
        assert!(t3.check_now());
    }
}
