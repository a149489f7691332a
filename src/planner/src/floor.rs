//! The immutable floor: tables, zones and the undirected adjacency graph.

use serde::Serialize;
use thiserror::Error;

/// One table as the planner sees it. `max_party` is already resolved
/// (`NULL` in SQL means `capacity`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableSpec {
    pub zone: u32,
    pub capacity: i32,
    pub min_party: i32,
    pub max_party: i32,
    pub active: bool,
    pub combinable: bool,
    pub priority: i32,
}

/// Why a floor could not be built.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FloorError {
    #[error("table {table} has zone {zone}, but there are only {zone_count} zones")]
    ZoneOutOfRange {
        table: usize,
        zone: u32,
        zone_count: u32,
    },
    #[error("table {table} has non-positive capacity {capacity}")]
    NonPositiveCapacity { table: usize, capacity: i32 },
    #[error("too many zones: {0} (at most {MAX_ZONES})")]
    TooManyZones(u32),
    #[error("too many tables: {0} (at most {MAX_TABLES})")]
    TooManyTables(usize),
    #[error("adjacency edge ({0},{0}) is a self-loop")]
    SelfLoop(u32),
    #[error("adjacency edge ({a},{b}) refers to a table outside 0..{table_count}")]
    EdgeOutOfRange { a: u32, b: u32, table_count: usize },
    #[error("adjacency edge ({a},{b}) joins tables in different zones")]
    CrossZoneEdge { a: u32, b: u32 },
}

/// Largest zone count accepted by [`Floor::new`].
pub const MAX_ZONES: u32 = 1 << 16;
/// Largest table count accepted by [`Floor::new`].
pub const MAX_TABLES: usize = 1 << 20;

/// An immutable, validated floor. Build once, reuse for many plans.
#[derive(Clone, Debug)]
pub struct Floor {
    tables: Vec<TableSpec>,
    zone_count: u32,
    /// Sorted, deduplicated neighbour lists.
    adj: Vec<Vec<u32>>,
    edge_count: usize,
    /// Table indices per zone, ascending.
    zone_tables: Vec<Vec<u32>>,
    /// Sum of capacities of active tables per zone.
    zone_active_seats: Vec<i64>,
}

impl Floor {
    /// Validates and builds a floor. Edges are undirected indices into `tables`;
    /// `(a,b)` and `(b,a)` (and repeats) are merged.
    pub fn new(
        tables: Vec<TableSpec>,
        zone_count: u32,
        edges: &[(u32, u32)],
    ) -> Result<Floor, FloorError> {
        if zone_count > MAX_ZONES {
            return Err(FloorError::TooManyZones(zone_count));
        }
        if tables.len() > MAX_TABLES {
            return Err(FloorError::TooManyTables(tables.len()));
        }
        let mut zone_tables = vec![Vec::new(); zone_count as usize];
        let mut zone_active_seats = vec![0i64; zone_count as usize];
        for (i, t) in tables.iter().enumerate() {
            if t.zone >= zone_count {
                return Err(FloorError::ZoneOutOfRange {
                    table: i,
                    zone: t.zone,
                    zone_count,
                });
            }
            if t.capacity <= 0 {
                return Err(FloorError::NonPositiveCapacity {
                    table: i,
                    capacity: t.capacity,
                });
            }
            let z = t.zone as usize;
            if let Some(list) = zone_tables.get_mut(z) {
                list.push(i as u32);
            }
            if t.active {
                if let Some(s) = zone_active_seats.get_mut(z) {
                    *s += i64::from(t.capacity);
                }
            }
        }
        let n = tables.len();
        let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(a, b) in edges {
            if a == b {
                return Err(FloorError::SelfLoop(a));
            }
            let (ta, tb) = match (tables.get(a as usize), tables.get(b as usize)) {
                (Some(x), Some(y)) => (x, y),
                _ => {
                    return Err(FloorError::EdgeOutOfRange {
                        a,
                        b,
                        table_count: n,
                    })
                }
            };
            if ta.zone != tb.zone {
                return Err(FloorError::CrossZoneEdge { a, b });
            }
            if let Some(l) = adj.get_mut(a as usize) {
                l.push(b);
            }
            if let Some(l) = adj.get_mut(b as usize) {
                l.push(a);
            }
        }
        let mut degree_sum = 0usize;
        for l in &mut adj {
            l.sort_unstable();
            l.dedup();
            degree_sum += l.len();
        }
        Ok(Floor {
            tables,
            zone_count,
            adj,
            edge_count: degree_sum / 2,
            zone_tables,
            zone_active_seats,
        })
    }

    pub fn tables(&self) -> &[TableSpec] {
        &self.tables
    }

    pub fn zone_count(&self) -> u32 {
        self.zone_count
    }

    /// Number of distinct undirected edges.
    pub fn edge_count(&self) -> usize {
        self.edge_count
    }

    /// Neighbours of table `t`, ascending (empty for an out-of-range `t`).
    pub fn neighbours(&self, t: usize) -> impl Iterator<Item = usize> + '_ {
        self.adj
            .get(t)
            .map(|l| l.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&x| x as usize)
    }

    /// True when `a` and `b` are adjacent.
    pub fn adjacent(&self, a: usize, b: usize) -> bool {
        self.adj
            .get(a)
            .is_some_and(|l| l.binary_search(&(b as u32)).is_ok())
    }

    /// Table indices of zone `z`, ascending.
    pub fn zone_tables(&self, z: u32) -> &[u32] {
        self.zone_tables
            .get(z as usize)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// Sum of capacities of the active tables of zone `z`.
    pub fn zone_active_seats(&self, z: u32) -> i64 {
        self.zone_active_seats.get(z as usize).copied().unwrap_or(0)
    }

    pub(crate) fn table(&self, t: usize) -> Option<&TableSpec> {
        self.tables.get(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(zone: u32, cap: i32) -> TableSpec {
        TableSpec {
            zone,
            capacity: cap,
            min_party: 1,
            max_party: cap,
            active: true,
            combinable: true,
            priority: 0,
        }
    }

    #[test]
    fn builds_and_merges_duplicate_edges() {
        let f = Floor::new(
            vec![t(0, 2), t(0, 4), t(1, 6)],
            3,
            &[(0, 1), (1, 0), (0, 1)],
        );
        let f = match f {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(f.edge_count(), 1);
        assert_eq!(f.neighbours(0).collect::<Vec<_>>(), vec![1]);
        assert_eq!(f.neighbours(1).collect::<Vec<_>>(), vec![0]);
        assert_eq!(f.neighbours(2).count(), 0);
        assert_eq!(f.neighbours(99).count(), 0);
        assert!(f.adjacent(1, 0) && !f.adjacent(0, 2));
        assert_eq!(f.zone_count(), 3);
        assert_eq!(f.zone_tables(0), &[0, 1]);
        assert_eq!(f.zone_tables(2), &[] as &[u32]);
        assert_eq!(f.zone_active_seats(0), 6);
    }

    #[test]
    fn rejects_bad_edges_and_tables() {
        let tabs = vec![t(0, 2), t(0, 4), t(1, 6)];
        assert_eq!(
            Floor::new(tabs.clone(), 2, &[(1, 1)]).err(),
            Some(FloorError::SelfLoop(1))
        );
        assert_eq!(
            Floor::new(tabs.clone(), 2, &[(0, 3)]).err(),
            Some(FloorError::EdgeOutOfRange {
                a: 0,
                b: 3,
                table_count: 3
            })
        );
        assert_eq!(
            Floor::new(tabs.clone(), 2, &[(0, 2)]).err(),
            Some(FloorError::CrossZoneEdge { a: 0, b: 2 })
        );
        assert_eq!(
            Floor::new(tabs.clone(), 1, &[]).err(),
            Some(FloorError::ZoneOutOfRange {
                table: 2,
                zone: 1,
                zone_count: 1
            })
        );
        assert_eq!(
            Floor::new(vec![t(0, 0)], 1, &[]).err(),
            Some(FloorError::NonPositiveCapacity {
                table: 0,
                capacity: 0
            })
        );
        assert_eq!(
            Floor::new(vec![], u32::MAX, &[]).err(),
            Some(FloorError::TooManyZones(u32::MAX))
        );
    }

    #[test]
    fn large_floor() {
        let tabs: Vec<_> = (0..1500).map(|i| t(i % 3, 4)).collect();
        let edges: Vec<(u32, u32)> = (0..1497).map(|i| (i, i + 3)).collect();
        let f = Floor::new(tabs, 3, &edges);
        assert_eq!(f.map(|f| f.edge_count()).ok(), Some(1497));
    }
}
