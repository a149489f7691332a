//! The SQL surface (SPEC §3): thin `#[pg_extern]` wrappers that check arguments,
//! call `crate::assign`, and shape rows. Errors leave through `crate::error::raise`.

pub mod cancel;
pub mod capacity;
pub mod clock;
pub mod confirm;
pub mod explain;
pub mod jsonb_arg;
pub mod lifecycle;
pub mod one_row;
pub mod quote;
pub mod seating;
pub mod stats;

use crate::error::{raise, AutoassignError, Result};
use crate::strategy::{check_source, Strategy};
use jsonb_arg::StrategyArg;
use pgrx::Uuid;

/// Raises the error with its SQLSTATE and hint instead of returning it.
pub fn or_raise<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| raise(e))
}

/// The checks every planner entry point shares: non-NULL id, valid source and strategy.
pub fn common_args(
    booking_id: Option<Uuid>,
    strategy: Option<StrategyArg>,
    source: Option<&str>,
    default_source: &'static str,
) -> Result<(Uuid, Strategy, String)> {
    let booking_id = booking_id.ok_or(AutoassignError::NullArgument("booking_id"))?;
    let source = source.unwrap_or(default_source);
    check_source(source)?;
    let strategy = Strategy::parse_text(strategy.as_ref().map(|j| j.0.as_str()))?;
    Ok((booking_id, strategy, source.to_string()))
}
