//! Reason codes and their retry classes (SPEC §8). Codes, never English to parse.

use autoassign_planner::Reason as PlannerReason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    BookingNotFound,
    BookingNotPending,
    InvalidRequest,
    PartyExceedsFloor,
    PastCutoff,
    NoCapacity,
    NoFit,
    Conflict,
    LockTimeout,
    Timeout,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::BookingNotFound => "booking_not_found",
            Reason::BookingNotPending => "booking_not_pending",
            Reason::InvalidRequest => "invalid_request",
            Reason::PartyExceedsFloor => "party_exceeds_floor",
            Reason::PastCutoff => "past_cutoff",
            Reason::NoCapacity => "no_capacity",
            Reason::NoFit => "no_fit",
            Reason::Conflict => "conflict",
            Reason::LockTimeout => "lock_timeout",
            Reason::Timeout => "timeout",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Reason::BookingNotFound
            | Reason::BookingNotPending
            | Reason::InvalidRequest
            | Reason::PartyExceedsFloor
            | Reason::PastCutoff => "hard",
            Reason::NoCapacity | Reason::NoFit => "capacity",
            Reason::Conflict | Reason::LockTimeout | Reason::Timeout => "transient",
        }
    }

    #[cfg(test)]
    pub fn from_code(code: &str) -> Option<Reason> {
        ALL.iter().copied().find(|r| r.code() == code)
    }
}

#[cfg(test)]
pub const ALL: [Reason; 10] = [
    Reason::BookingNotFound,
    Reason::BookingNotPending,
    Reason::InvalidRequest,
    Reason::PartyExceedsFloor,
    Reason::PastCutoff,
    Reason::NoCapacity,
    Reason::NoFit,
    Reason::Conflict,
    Reason::LockTimeout,
    Reason::Timeout,
];

impl From<PlannerReason> for Reason {
    fn from(r: PlannerReason) -> Self {
        match r {
            PlannerReason::NoCapacity => Reason::NoCapacity,
            PlannerReason::NoFit => Reason::NoFit,
            PlannerReason::Timeout => Reason::Timeout,
            PlannerReason::PartyExceedsFloor => Reason::PartyExceedsFloor,
            PlannerReason::InvalidRequest => Reason::InvalidRequest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_classes_match_spec() {
        for r in ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        let hard = [
            "booking_not_found",
            "booking_not_pending",
            "invalid_request",
            "party_exceeds_floor",
            "past_cutoff",
        ];
        let capacity = ["no_capacity", "no_fit"];
        let transient = ["conflict", "lock_timeout", "timeout"];
        for (codes, class) in [
            (&hard[..], "hard"),
            (&capacity[..], "capacity"),
            (&transient[..], "transient"),
        ] {
            for c in codes {
                assert_eq!(Reason::from_code(c).map(Reason::class), Some(class), "{c}");
            }
        }
    }
}
