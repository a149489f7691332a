//! Every error a caller can see, each mapped to one SQLSTATE with a hint.
//!
//! Reasons that describe the booking (no_capacity, booking_not_pending, ...) are not
//! errors: they are returned as rows. Errors are for calls that make no sense.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::PgSqlErrorCode;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AutoassignError {
    #[error("{0} must not be NULL")]
    NullArgument(&'static str),

    #[error("invalid strategy: {0}")]
    InvalidStrategy(String),

    #[error("invalid source {0:?}")]
    InvalidSource(String),

    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    #[error("restaurant {0} does not exist")]
    RestaurantNotFound(String),

    #[error("the floor of restaurant {restaurant} is inconsistent: {detail}")]
    InconsistentFloor { restaurant: String, detail: String },

    #[error("pg_cron is not installed in this database")]
    PgCronMissing,

    #[error("booking {booking}: a party of {party} does not fit ({detail})")]
    PartyDoesNotFit {
        booking: String,
        party: i32,
        detail: String,
    },

    #[error("table {table} is held by seated booking {booking}")]
    TableInUse { table: String, booking: String },

    #[error("table {0} does not exist")]
    TableNotFound(String),

    #[error("permission denied: {0}")]
    NotAllowed(&'static str),

    #[error("internal SPI error: {0}")]
    Spi(#[from] pgrx::spi::Error),

    #[error("a planner query returned unexpected columns: {0}")]
    UnexpectedColumns(String),
}

pub type Result<T> = std::result::Result<T, AutoassignError>;

impl AutoassignError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        use PgSqlErrorCode::*;
        match self {
            Self::NullArgument(_) => ERRCODE_NULL_VALUE_NOT_ALLOWED,
            Self::InvalidStrategy(_) | Self::InvalidSource(_) | Self::InvalidArgument(_) => {
                ERRCODE_INVALID_PARAMETER_VALUE
            }
            Self::RestaurantNotFound(_) => ERRCODE_NO_DATA_FOUND,
            Self::InconsistentFloor { .. } => ERRCODE_DATA_CORRUPTED,
            Self::PgCronMissing => ERRCODE_UNDEFINED_OBJECT,
            Self::PartyDoesNotFit { .. } | Self::TableInUse { .. } => ERRCODE_CHECK_VIOLATION,
            Self::TableNotFound(_) => ERRCODE_NO_DATA_FOUND,
            Self::NotAllowed(_) => ERRCODE_INSUFFICIENT_PRIVILEGE,
            Self::Spi(_) => ERRCODE_INTERNAL_ERROR,
            Self::UnexpectedColumns(_) => ERRCODE_DATA_CORRUPTED,
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Self::NullArgument(_) => "Pass a non-NULL value.",
            Self::InvalidStrategy(_) => {
                "Strategy is a jsonb object with optional keys max_tables (1..6), \
                 require_adjacency (bool), max_overage (>= 0), zone_id (uuid), \
                 avoid_tables (uuid array), deadline_ms (> 0), exhaustive (bool), \
                 lookahead (bool), weights (object of integers: waste, tables, \
                 lookahead, zone, priority)."
            }
            Self::InvalidSource(_) => {
                "source is 1 to 32 characters of a-z and _, for example api, inline, job, ops, manual."
            }
            Self::InvalidArgument(_) => "Check the argument against the function's documentation.",
            Self::RestaurantNotFound(_) => {
                "Pass the id of a row in autoassign.restaurants that your role acts for \
                 (autoassign.restaurant_access; README \"Security\")."
            }
            Self::InconsistentFloor { .. } => {
                "Check autoassign.tables and autoassign.table_adjacency for this restaurant."
            }
            Self::PgCronMissing => {
                "Install pg_cron (Debian: postgresql-15-cron), add it to shared_preload_libraries, \
                 restart, then CREATE EXTENSION pg_cron; or call autoassign.autoassign_sweep() \
                 from any scheduler."
            }
            Self::PartyDoesNotFit { .. } => {
                "Keep the party size, free a table, or set the booking back to pending so \
                 auto-assign retries it; autoassign_explain(booking_id) shows what is free."
            }
            Self::TableInUse { .. } => {
                "Retire the table from when the seated party leaves, or complete the booking first."
            }
            Self::TableNotFound(_) => {
                "Pass the id of a row in autoassign.tables of a restaurant your role acts for."
            }
            Self::NotAllowed(_) => {
                "The README's Security section says which roles may do this (the \
                 simulated clock is for superusers only)."
            }
            Self::Spi(_) => "This is a bug in pg_autoassign; please report it.",
            Self::UnexpectedColumns(_) => {
                "A column of the extension's tables was altered: restore it, or reinstall \
                 pg_autoassign (DROP EXTENSION, CREATE EXTENSION) after a pg_dump."
            }
        }
    }
}

impl From<AutoassignError> for ErrorReport {
    #[track_caller]
    fn from(err: AutoassignError) -> Self {
        ErrorReport::new(err.sqlstate(), clip(err.to_string()), "pg_autoassign")
            .set_hint(err.hint())
    }
}

/// The longest error message we raise, in bytes: a message quoting a caller's value (a
/// strategy, a source) never echoes a huge argument into the reply and the server log.
pub const MAX_MESSAGE_BYTES: usize = 300;

/// Cuts `msg` to [`MAX_MESSAGE_BYTES`] at a character boundary, saying how long it was.
pub fn clip(msg: String) -> String {
    if msg.len() <= MAX_MESSAGE_BYTES {
        return msg;
    }
    let mut cut = MAX_MESSAGE_BYTES;
    while !msg.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes in all)", &msg[..cut], msg.len())
}

/// Raises the error as a PostgreSQL ERROR with its SQLSTATE and hint.
pub fn raise(err: AutoassignError) -> ! {
    let report: ErrorReport = err.into();
    report.report(pgrx::PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}
