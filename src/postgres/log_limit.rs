//! Rate-limited server-log lines from the planner path ("no log storms"): at most one
//! line per reason per minute per backend; every line written or suppressed is counted
//! in the current database's queue counters (`autoassign.event_queue`: log_lines,
//! log_suppressed).

use super::event_queue;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Lines of one reason closer together than this are suppressed (per backend).
pub const INTERVAL: Duration = Duration::from_secs(60);

thread_local! {
    static LAST: RefCell<HashMap<&'static str, (Instant, u64)>> = RefCell::new(HashMap::new());
}

/// Decides for a line of `reason` at `now`: `Some(suppressed since the last line)` when
/// it may be written, `None` when it is suppressed.
fn admit(reason: &'static str, now: Instant) -> Option<u64> {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.get_mut(reason) {
            Some((at, suppressed)) if now.duration_since(*at) < INTERVAL => {
                *suppressed += 1;
                None
            }
            Some((at, suppressed)) => {
                let n = *suppressed;
                *at = now;
                *suppressed = 0;
                Some(n)
            }
            None => {
                last.insert(reason, (now, 0));
                Some(0)
            }
        }
    })
}

/// Writes `line()` to the server log at LOG level unless a line of the same reason was
/// written by this backend in the last minute. `line` is only built when written.
pub fn log(reason: &'static str, line: impl FnOnce() -> String) {
    match admit(reason, Instant::now()) {
        Some(suppressed) => {
            event_queue::count(|l| l.log_lines += 1);
            let text = line();
            if suppressed > 0 {
                pgrx::log!("{text} ({suppressed} similar lines suppressed in the last minute)");
            } else {
                pgrx::log!("{text}");
            }
        }
        None => event_queue::count(|l| l.log_suppressed += 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_reason_per_interval() {
        let t0 = Instant::now();
        assert_eq!(admit("a", t0), Some(0));
        assert_eq!(admit("a", t0 + Duration::from_secs(1)), None);
        assert_eq!(admit("a", t0 + Duration::from_secs(59)), None);
        assert_eq!(admit("b", t0 + Duration::from_secs(2)), Some(0));
        assert_eq!(admit("a", t0 + INTERVAL), Some(2));
        assert_eq!(admit("a", t0 + INTERVAL + Duration::from_secs(1)), None);
    }
}
