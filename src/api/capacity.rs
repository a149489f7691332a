use super::or_raise;
use crate::error::{AutoassignError, Result};
use crate::postgres::busy;
use crate::postgres::floor_cache::floor_for;
use crate::postgres::ts_micros;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::Uuid;

/// Per zone: active tables free for the whole window. The SQL wrapper
/// `autoassign_free_capacity(restaurant_id, from, to)` gives the arguments their
/// SPEC names (`from` and `to` are reserved words in Rust and SQL).
#[pg_extern(stable, name = "autoassign_free_capacity_ts")]
fn free_capacity_ts(
    restaurant_id: Option<Uuid>,
    window_start: Option<TimestampWithTimeZone>,
    window_end: Option<TimestampWithTimeZone>,
) -> TableIterator<
    'static,
    (
        name!(zone_id, Uuid),
        name!(zone, String),
        name!(free_tables, i32),
        name!(free_seats, i64),
        name!(largest_free_table, Option<i32>),
    ),
> {
    TableIterator::new(or_raise(free_capacity_rows(
        restaurant_id,
        window_start,
        window_end,
    )))
}

/// zone id, zone name, free tables, free seats, largest free table
type CapacityRow = (Uuid, String, i32, i64, Option<i32>);

fn free_capacity_rows(
    restaurant_id: Option<Uuid>,
    window_start: Option<TimestampWithTimeZone>,
    window_end: Option<TimestampWithTimeZone>,
) -> Result<Vec<CapacityRow>> {
    let restaurant = restaurant_id.ok_or(AutoassignError::NullArgument("restaurant_id"))?;
    crate::postgres::security::require_restaurant(restaurant)?;
    let from_us = ts_micros(window_start.ok_or(AutoassignError::NullArgument("from"))?);
    let to_us = ts_micros(window_end.ok_or(AutoassignError::NullArgument("to"))?);
    if to_us <= from_us {
        return Err(AutoassignError::InvalidArgument(
            "the window must end after it starts".into(),
        ));
    }
    let version = Spi::connect(|c| {
        c.select(
            "SELECT floor_version FROM autoassign.restaurants WHERE id = $1",
            Some(1),
            &[restaurant.into()],
        )?
        .next()
        .map(|row| row.get::<i64>(1))
        .transpose()
    })?
    .flatten()
    .ok_or_else(|| AutoassignError::RestaurantNotFound(restaurant.to_string()))?;
    let (floor, _) = floor_for(restaurant, version, false)?;
    let busy = busy::busy(&floor, restaurant, None, from_us, to_us)?;
    Ok(
        autoassign_planner::free_capacity(&floor.floor, &busy, from_us, to_us)
            .into_iter()
            .map(|z| {
                (
                    floor.zone_ids[z.zone as usize],
                    floor.zone_names[z.zone as usize].clone(),
                    z.free_tables as i32,
                    z.free_seats,
                    (z.free_tables > 0).then_some(z.largest_free),
                )
            })
            .collect(),
    )
}
