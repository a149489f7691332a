//! Every setting of pg_autoassign, defined once from `_PG_init`.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum TelemetryMode {
    #[name = c"on"]
    On,
    #[name = c"off"]
    Off,
    #[name = c"sample"]
    Sample,
}

pub static TELEMETRY: GucSetting<TelemetryMode> =
    GucSetting::<TelemetryMode>::new(TelemetryMode::On);
pub static TELEMETRY_SAMPLE_RATE: GucSetting<f64> = GucSetting::<f64>::new(0.1);
pub static LOOKAHEAD_MINUTES: GucSetting<i32> = GucSetting::<i32>::new(180);
pub static CONFIRM_MAX_CONFLICTS: GucSetting<i32> = GucSetting::<i32>::new(3);
pub static FLOOR_CACHE_SIZE: GucSetting<i32> = GucSetting::<i32>::new(256);
pub static MAX_PLANNER_MS: GucSetting<i32> = GucSetting::<i32>::new(250);
pub static MAX_HOLD_SECONDS: GucSetting<i32> = GucSetting::<i32>::new(1800);
pub static MAX_STAY_MINUTES: GucSetting<i32> = GucSetting::<i32>::new(720);
pub static SIMULATED_NOW: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(None);
pub static CALLER: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(None);

pub fn init() {
    GucRegistry::define_enum_guc(
        c"autoassign.telemetry",
        c"Which planner events are written to autoassign.events.",
        c"on writes every quote and attempt event, off writes none, sample writes a \
          fraction (autoassign.telemetry_sample_rate). Summaries and timeouts are always written.",
        &TELEMETRY,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"autoassign.telemetry_sample_rate",
        c"Fraction of quote and attempt events written when autoassign.telemetry = sample.",
        c"",
        &TELEMETRY_SAMPLE_RATE,
        0.0,
        1.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"autoassign.lookahead_minutes",
        c"How far back from a request's start the planner looks for pending bookings whose stays overlap it.",
        c"The lookahead protects the pending bookings (nearest 32) whose stays overlap the request; \
          it reads back no further than the restaurant's longest stay or this many minutes. \
          0 disables the lookahead.",
        &LOOKAHEAD_MINUTES,
        0,
        24 * 60,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"autoassign.floor_cache_size",
        c"How many restaurants' floors each backend keeps cached (least recently used evicted).",
        c"A cached floor saves three queries and the adjacency build per planner call; a \
          pooled backend serving many restaurants wants this at least its hot restaurant count.",
        &FLOOR_CACHE_SIZE,
        1,
        1_000_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"autoassign.confirm_max_conflicts",
        c"How many plans autoassign_confirm tries after losing races before it returns conflict.",
        c"",
        &CONFIRM_MAX_CONFLICTS,
        1,
        20,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"autoassign.max_planner_ms",
        c"The longest one planner run may take, in milliseconds (server-side cap).",
        c"Applies when a strategy has no deadline_ms and clamps a larger one. A run that \
          reaches it returns reason timeout and no plan.",
        &MAX_PLANNER_MS,
        1,
        600_000,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"autoassign.max_hold_seconds",
        c"The longest hold autoassign_quote(hold_seconds => ...) may place, in seconds.",
        c"A larger hold_seconds is refused with 22023.",
        &MAX_HOLD_SECONDS,
        0,
        86_400,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"autoassign.max_stay_minutes",
        c"The longest stay the planner accepts, in minutes (start to end, before the turnover buffer).",
        c"A longer stay is refused with reason invalid_request (a hard reason: never retried).",
        &MAX_STAY_MINUTES,
        1,
        7 * 24 * 60,
        GucContext::Suset,
        GucFlags::UNIT_MIN,
    );
    GucRegistry::define_string_guc(
        c"autoassign.simulated_now",
        c"Replaces now() in pg_autoassign's time decisions (cutoff, holds, sweep). Simulation only.",
        c"Empty means the real clock. Tests and the simulator set it to replay a day quickly. \
          Superuser only: moving the clock makes past bookings confirmable.",
        &SIMULATED_NOW,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"autoassign.caller",
        c"Names the caller in booking.lifecycle and auto_assign.summary events.",
        c"Set by pg_autoassign's own functions for the status changes they make (api, job, \
          ops, ...); empty means a plain SQL UPDATE (source sql). Telemetry only.",
        &CALLER,
        GucContext::Userset,
        GucFlags::NO_SHOW_ALL,
    );
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"autoassign".as_ptr()) };
}
