//! pg_autoassign: assigns restaurant tables to bookings inside PostgreSQL.
//!
//! Layout: `planner` (separate pure-Rust crate in src/planner) decides; `postgres/`
//! loads and writes through SPI; `assign` orchestrates one booking; `api/` is the SQL
//! surface; `error` maps every failure to a SQLSTATE.

use pgrx::prelude::*;

mod api;
mod assign;
mod error;
mod gucs;
mod postgres;
mod reason;
mod strategy;

::pgrx::pg_module_magic!(name, version);

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!(
    "../sql/demo/white_horse.sql",
    name = "demo",
    requires = ["schema"]
);
extension_sql_file!(
    "../sql/telemetry.sql",
    name = "telemetry",
    requires = ["schema"]
);
extension_sql_file!("../sql/sweep.sql", name = "sweep", requires = ["schema"]);
extension_sql_file!(
    "../sql/lifecycle.sql",
    name = "lifecycle",
    requires = ["schema", "sweep"]
);
extension_sql_file!(
    "../sql/seating.sql",
    name = "seating",
    requires = ["lifecycle"]
);
extension_sql_file!(
    "../sql/telemetry_async.sql",
    name = "telemetry_async",
    requires = [
        "telemetry",
        autoassign_event_queue_stats,
        autoassign_flush_events
    ]
);
extension_sql_file!(
    "../sql/ops.sql",
    name = "ops",
    requires = ["schema", "telemetry"]
);
extension_sql_file!(
    "../sql/api.sql",
    name = "api_sql",
    requires = [
        "schema",
        "telemetry",
        "telemetry_async",
        "sweep",
        "lifecycle",
        "seating",
        api::capacity::free_capacity_ts,
        api::lifecycle::retire_table_at,
        api::stats::autoassign_stats
    ]
);
// Roles, grants, row-level security, SECURITY DEFINER and pinned search_path for every
// object above: loaded last.
extension_sql_file!("../sql/security.sql", name = "security", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // A user must never see a Rust backtrace in an error's DETAIL, even when the server
    // was started with RUST_BACKTRACE=1. Setting RUST_LIB_BACKTRACE explicitly opts back in.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    gucs::init();
    // telemetry queue, writer and statistics settings; shared memory when preloading
    postgres::telemetry_settings::init();
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    include!("pg_tests.rs");
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        // shared memory statistics need the library preloaded
        vec!["shared_preload_libraries = 'pg_autoassign'"]
    }
}
