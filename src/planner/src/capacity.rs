//! Busy masks and the per-zone free-capacity report.

use serde::Serialize;

use crate::floor::Floor;
use crate::request::{Busy, Micros};

/// Free capacity of one zone for a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneCapacity {
    pub zone: u32,
    pub free_tables: u32,
    pub free_seats: i64,
    /// Capacity of the largest free table (0 if none).
    pub largest_free: i32,
}

/// `mask[t]` is true when some busy interval of table `t` overlaps `[start, end)`.
/// Busy rows naming tables outside the floor are ignored.
pub(crate) fn busy_mask(floor: &Floor, busy: &[Busy], start: Micros, end: Micros) -> Vec<bool> {
    let mut mask = vec![false; floor.tables().len()];
    for b in busy {
        if b.overlaps(start, end) {
            if let Some(m) = mask.get_mut(b.table as usize) {
                *m = true;
            }
        }
    }
    mask
}

/// Active tables free for the whole window `[start, end)`, per zone (every zone,
/// including empty ones), ordered by zone.
pub fn free_capacity(
    floor: &Floor,
    busy: &[Busy],
    start: Micros,
    end: Micros,
) -> Vec<ZoneCapacity> {
    let mask = busy_mask(floor, busy, start, end);
    let mut out: Vec<ZoneCapacity> = (0..floor.zone_count())
        .map(|zone| ZoneCapacity {
            zone,
            free_tables: 0,
            free_seats: 0,
            largest_free: 0,
        })
        .collect();
    for (t, spec) in floor.tables().iter().enumerate() {
        if !spec.active || mask.get(t).copied().unwrap_or(true) {
            continue;
        }
        if let Some(z) = out.get_mut(spec.zone as usize) {
            z.free_tables += 1;
            z.free_seats += i64::from(spec.capacity);
            z.largest_free = z.largest_free.max(spec.capacity);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::floor::TableSpec;

    #[test]
    fn per_zone_report() {
        let t = |zone: u32, c: i32, active: bool| TableSpec {
            zone,
            capacity: c,
            min_party: 1,
            max_party: c,
            active,
            combinable: true,
            priority: 0,
        };
        let f = match Floor::new(
            vec![t(0, 4, true), t(0, 6, true), t(0, 8, false), t(1, 2, true)],
            3,
            &[],
        ) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let busy = [
            Busy {
                table: 1,
                start: 100,
                end: 200,
            },
            Busy {
                table: 3,
                start: 0,
                end: 100, // touches the window: still free
            },
            Busy {
                table: 77,
                start: 0,
                end: 1000,
            },
        ];
        let caps = free_capacity(&f, &busy, 100, 200);
        assert_eq!(
            caps,
            vec![
                ZoneCapacity {
                    zone: 0,
                    free_tables: 1,
                    free_seats: 4,
                    largest_free: 4
                },
                ZoneCapacity {
                    zone: 1,
                    free_tables: 1,
                    free_seats: 2,
                    largest_free: 2
                },
                ZoneCapacity {
                    zone: 2,
                    free_tables: 0,
                    free_seats: 0,
                    largest_free: 0
                },
            ]
        );
    }
}
