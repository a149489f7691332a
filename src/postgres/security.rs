//! Who is calling, and whether they may act for a restaurant (README "Security").
//!
//! The booking functions run as SECURITY DEFINER (sql/security.sql), so inside them the
//! current user is the owner of pg_autoassign's tables. The caller is the session's
//! *outer* user: the role `SET ROLE` chose, or the login role. SECURITY DEFINER changes
//! the current user, never that one, so it names the caller in every function here.
//! Every booking, restaurant and table the Rust code acts on is checked with
//! [`may_act_for`]: `postgres::booking::load` asks it for each booking it reads. Another
//! tenant's booking, restaurant or table looks exactly like one that does not exist (no
//! message names it), so a caller learns nothing about rows it may not see.

use crate::error::{AutoassignError, Result};
use pgrx::prelude::*;
use pgrx::{pg_sys, Uuid};

/// The role the session acts as (`SET ROLE`, else the login role).
pub fn acting_role() -> pg_sys::Oid {
    // SAFETY: a read of a backend-global set at login and by SET ROLE.
    unsafe { pg_sys::GetOuterUserId() }
}

/// Whether the acting role is a superuser.
pub fn acting_superuser() -> bool {
    // SAFETY: a syscache lookup of an existing role.
    unsafe { pg_sys::superuser_arg(acting_role()) }
}

/// Whether the acting role may act for `restaurant`: a superuser, a member of the role
/// owning pg_autoassign's tables, or a role that `autoassign.restaurant_access` grants the
/// restaurant (directly or through role membership).
pub fn may_act_for(restaurant: Uuid) -> Result<bool> {
    may_access(Some(restaurant))
}

/// Whether the acting role acts for every restaurant (a superuser, or a member of the
/// owner of pg_autoassign's tables).
pub fn sees_all() -> Result<bool> {
    may_access(None)
}

/// `autoassign.may_access` for the acting role (NULL restaurant: every restaurant), with
/// the superuser answered without a query.
fn may_access(restaurant: Option<Uuid>) -> Result<bool> {
    if acting_superuser() {
        return Ok(true);
    }
    let ok = Spi::get_one_with_args::<bool>(
        "SELECT autoassign.may_access($1, $2)",
        &[super::opt_arg(restaurant), acting_role().into()],
    )?;
    Ok(ok == Some(true))
}

/// Ok when the acting role may act for `restaurant`; another tenant's restaurant is
/// reported exactly like one that does not exist.
pub fn require_restaurant(restaurant: Uuid) -> Result<()> {
    if may_act_for(restaurant)? {
        Ok(())
    } else {
        Err(AutoassignError::RestaurantNotFound(restaurant.to_string()))
    }
}

/// Ok when the acting role acts for every restaurant (a superuser, or a member of the
/// owner of pg_autoassign's tables): needed to sweep all restaurants at once.
pub fn authorize_all(what: &'static str) -> Result<()> {
    if sees_all()? {
        Ok(())
    } else {
        Err(AutoassignError::NotAllowed(what))
    }
}

/// Ok for a superuser only (the simulated clock).
pub fn require_superuser(what: &'static str) -> Result<()> {
    if acting_superuser() {
        Ok(())
    } else {
        Err(AutoassignError::NotAllowed(what))
    }
}
