//! Connections and the few look-ups every subcommand shares. Every value is bound; uuids
//! travel as text (`$1::text::uuid`) so no uuid crate is needed.

use crate::Refused;
use anyhow::{anyhow, bail, Context, Result};
use postgres::{Client, NoTls};

/// The production marker: `ALTER DATABASE d SET pgaa.environment = 'production'` (or
/// `ALTER ROLE r SET ...`, or `SET` in the session). Writes need `--yes` where it is set.
pub const ENVIRONMENT_GUC: &str = "pgaa.environment";

/// Opens a session named `pgaa` (application_name), so DBAs can spot it in pg_stat_activity.
pub fn connect(dsn: &str) -> Result<Client> {
    let mut c = Client::connect(dsn, NoTls).with_context(|| "cannot connect (check --dsn)")?;
    c.batch_execute("SET application_name = 'pgaa'")?;
    Ok(c)
}

/// One line for an error: the server's SQLSTATE, message, detail and hint when it is one.
pub fn describe(e: &anyhow::Error) -> String {
    for cause in e.chain() {
        if let Some(pe) = cause.downcast_ref::<postgres::Error>() {
            if let Some(db) = pe.as_db_error() {
                let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
                if let Some(d) = db.detail() {
                    s.push_str(&format!("; detail: {d}"));
                }
                if let Some(h) = db.hint() {
                    s.push_str(&format!("; hint: {h}"));
                }
                return format!("{e}: {s}");
            }
        }
    }
    format!("{e:#}")
}

/// The installed extension version; an error with a hint when pg_autoassign is missing.
pub fn extension_version(c: &mut Client) -> Result<String> {
    let row = c.query_opt(
        "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign'",
        &[],
    )?;
    match row {
        Some(r) => Ok(r.get(0)),
        None => bail!("pg_autoassign is not installed in this database (CREATE EXTENSION pg_autoassign CASCADE)"),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Restaurant {
    pub id: String,
    pub name: String,
    pub timezone: String,
}

/// Finds a restaurant by id or by exact name; a name shared by several restaurants is
/// refused with their ids. Sets the session's TimeZone to the restaurant's, so times the
/// user types (`--from 18:00`-style timestamps) and times printed are local.
pub fn restaurant(c: &mut Client, key: &str) -> Result<Restaurant> {
    let rows = c.query(
        "SELECT id::text, name, timezone FROM autoassign.restaurants
          WHERE id::text = lower($1) OR name = $1 ORDER BY created_at, id",
        &[&key],
    )?;
    let r = match rows.len() {
        0 => return Err(Refused(format!("no restaurant with id or name {key:?}")).into()),
        1 => Restaurant {
            id: rows[0].get(0),
            name: rows[0].get(1),
            timezone: rows[0].get(2),
        },
        _ => {
            let ids: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
            return Err(Refused(format!(
                "{} restaurants are named {key:?}; pass one id: {}",
                rows.len(),
                ids.join(", ")
            ))
            .into());
        }
    };
    c.execute("SELECT set_config('TimeZone', $1, false)", &[&r.timezone])
        .with_context(|| format!("restaurant time zone {:?}", r.timezone))?;
    Ok(r)
}

/// The value of the production marker for this session (database/role settings included).
pub fn environment(c: &mut Client) -> Result<Option<String>> {
    let v: Option<String> = c
        .query_one("SELECT current_setting($1, true)", &[&ENVIRONMENT_GUC])?
        .get(0);
    Ok(v.filter(|s| !s.is_empty()))
}

/// Refuses a write to a production-marked database unless `yes` was given.
pub fn require_yes_on_production(c: &mut Client, yes: bool, what: &str) -> Result<()> {
    let env = environment(c)?;
    if env.as_deref().map(|e| e.eq_ignore_ascii_case("production")) == Some(true) && !yes {
        return Err(Refused(format!(
            "this database is marked as production ({ENVIRONMENT_GUC} = 'production'); \
             {what} writes to it: run again with --yes to confirm"
        ))
        .into());
    }
    Ok(())
}

/// Validates a day argument (YYYY-MM-DD) on the server.
pub fn day(c: &mut Client, d: &str) -> Result<String> {
    let row = c
        .query_one("SELECT $1::text::date::text", &[&d])
        .map_err(|e| anyhow!(Refused(format!("bad day {d:?}: {e}"))))?;
    Ok(row.get(0))
}

/// Best effort: asks the extension to write its queued planner events now and waits for
/// them (`autoassign_flush_events`, the asynchronous telemetry path), so what pgaa caused
/// is in `autoassign.events` when it reads or exits. A role without the grant, or an
/// extension without the function, just skips it: the background writer commits the
/// queue within `autoassign.event_flush_ms` anyway. Returns the rows written.
pub fn flush_events(c: &mut Client) -> Option<i64> {
    c.query_one("SELECT autoassign.autoassign_flush_events()::bigint", &[])
        .ok()
        .map(|r| r.get(0))
}
