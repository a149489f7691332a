//! Alternatives instead of a bare refusal: the nearest start times that have a plan
//! now, and a shorter stay at the requested start that fits.

use crate::floor::Floor;
use crate::outcome::Plan;
use crate::planner::plan;
use crate::request::{Busy, Micros, Request};

/// One offer: the stay `[start, end)` (turnover included, as in the request) and its
/// best plan. `offset` is `start - request.start`; `shorter_by` is how much shorter
/// than the requested stay it is (0 for a moved start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
    pub start: Micros,
    pub end: Micros,
    pub offset: Micros,
    pub shorter_by: Micros,
    pub plan: Plan,
}

/// Options of [`alternatives`], all in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltOptions {
    /// Offsets tried: `±step, ±2·step, …` up to `±within`.
    pub within: Micros,
    pub step: Micros,
    /// No start before this (now, or the cutoff: a start that is already past it
    /// could not be booked).
    pub earliest_start: Micros,
    /// The shortest stay (turnover included) offered at the requested start; the
    /// stay is shortened by `step` at a time down to it. `>= end - start`: none offered.
    pub min_stay: Micros,
}

/// Start times on the grid `request.start ± k·step` (`0 < k·step <= within`) that
/// have a plan on `busy` now, nearest first (earlier first on a tie), then the
/// longest shorter stay at the requested start that fits, if any. `busy` must cover
/// `[start - within, end + within)`. Each candidate is planned with the request's
/// knobs (no lookahead), so an offer is a real plan now, not a promise.
pub fn alternatives(
    floor: &Floor,
    busy: &[Busy],
    req: &Request,
    opts: AltOptions,
    interrupt: &mut dyn FnMut(),
) -> Vec<Alternative> {
    let mut out = Vec::new();
    if opts.step <= 0 || opts.within <= 0 {
        return out;
    }
    let stay = req.end - req.start;
    let mut try_window = |start: Micros, end: Micros| -> Option<Plan> {
        let mut r = req.clone();
        r.start = start;
        r.end = end;
        r.knobs.max_alternates = 0;
        let o = plan(floor, busy, &r, &[], interrupt);
        if o.reason.is_none() {
            o.plans.into_iter().next()
        } else {
            None
        }
    };
    let mut k: i64 = 1;
    while k.saturating_mul(opts.step) <= opts.within {
        let d = k * opts.step;
        for off in [-d, d] {
            let start = req.start + off;
            if start < opts.earliest_start {
                continue;
            }
            if let Some(p) = try_window(start, start + stay) {
                out.push(Alternative {
                    start,
                    end: start + stay,
                    offset: off,
                    shorter_by: 0,
                    plan: p,
                });
            }
        }
        k += 1;
    }
    if req.start >= opts.earliest_start {
        let mut end = req.end - opts.step;
        while end - req.start >= opts.min_stay && end > req.start {
            if let Some(p) = try_window(req.start, end) {
                out.push(Alternative {
                    start: req.start,
                    end,
                    offset: 0,
                    shorter_by: req.end - end,
                    plan: p,
                });
                break;
            }
            end -= opts.step;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::TableSpec;
    use crate::request::Knobs;

    #[test]
    fn nearest_starts_and_a_shorter_stay() {
        let t = TableSpec {
            zone: 0,
            capacity: 4,
            min_party: 1,
            max_party: 4,
            active: true,
            combinable: true,
            priority: 0,
        };
        let f = match Floor::new(vec![t], 1, &[]) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        // busy 100..200 and 260..400; request 150..250 (stay 100)
        let busy = [
            Busy {
                table: 0,
                start: 100,
                end: 200,
            },
            Busy {
                table: 0,
                start: 260,
                end: 400,
            },
        ];
        let req = Request {
            party: 2,
            start: 150,
            end: 250,
            requested_zone: None,
            knobs: Knobs::default(),
        };
        let opts = AltOptions {
            within: 150,
            step: 50,
            earliest_start: 0,
            min_stay: 50,
        };
        let alts = alternatives(&f, &busy, &req, opts, &mut || {});
        let got: Vec<(i64, i64)> = alts.iter().map(|a| (a.start, a.end)).collect();
        // 0..100 fits (offset -150); 200..300 collides at 260; nothing else; no
        // shorter stay at 150 (table busy until 200)
        assert_eq!(got, vec![(0, 100)]);
        let req2 = Request {
            start: 200,
            end: 300,
            ..req.clone()
        };
        let alts = alternatives(&f, &busy, &req2, opts, &mut || {});
        let shorter: Vec<_> = alts.iter().filter(|a| a.shorter_by > 0).collect();
        assert_eq!(shorter.len(), 1);
        assert_eq!((shorter[0].start, shorter[0].end), (200, 250));
        let early = AltOptions {
            earliest_start: 120,
            ..opts
        };
        assert!(alternatives(&f, &busy, &req, early, &mut || {}).is_empty());
    }
}
