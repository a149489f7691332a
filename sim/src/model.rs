//! The seeded day: restaurants with their floors, and the bookings that arrive,
//! get cancelled or shorten their stay. Pure data, no database: both policies
//! replay exactly the same `Day`.

use rand::rngs::StdRng;
use rand::Rng;

/// Simulated times are seconds since midnight UTC of [`SERVICE_DATE`].
pub type Sec = i64;

pub const SERVICE_DATE: &str = "2030-06-01";
pub const fn hm(h: i64, m: i64) -> Sec {
    h * 3600 + m * 60
}
/// Bookings arrive from 09:00 to 21:00; service runs 17:00-22:30.
pub const ARRIVALS_FROM: Sec = hm(9, 0);
pub const ARRIVALS_TO: Sec = hm(21, 0);
pub const SERVICE_FROM: Sec = hm(17, 0);
pub const LAST_SEATING: Sec = hm(21, 0);
pub const DAY_END: Sec = hm(22, 30);

/// `2030-06-01 19:15:00+00`
pub fn ts(t: Sec) -> String {
    format!(
        "{SERVICE_DATE} {:02}:{:02}:{:02}+00",
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// A random (version 4 layout) uuid drawn from the seeded RNG, so every run of the
/// same seed has the same ids and the planner's uuid tie-breaks replay identically.
pub fn uuid(rng: &mut StdRng) -> String {
    let mut b: [u8; 16] = rng.gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub struct Table {
    pub id: String,
    pub name: String,
    pub capacity: i32,
    pub min_party: i32,
    pub combinable: bool,
}

pub struct Zone {
    pub id: String,
    pub name: String,
    pub tables: Vec<Table>,
    /// pairs of indexes into `tables`
    pub adjacency: Vec<(usize, usize)>,
}

impl Zone {
    pub fn seats(&self) -> i32 {
        self.tables.iter().map(|t| t.capacity).sum()
    }
}

pub struct Restaurant {
    pub id: String,
    pub name: String,
    pub zones: Vec<Zone>,
    /// peak concurrent demand the generator aimed for, as a share of seats
    pub target_peak: f64,
    /// peak concurrent covers actually requested
    pub peak_covers: i32,
}

impl Restaurant {
    pub fn seats(&self) -> i32 {
        self.zones.iter().map(Zone::seats).sum()
    }
    pub fn tables(&self) -> usize {
        self.zones.iter().map(|z| z.tables.len()).sum()
    }
}

pub struct Booking {
    pub id: String,
    pub restaurant: usize,
    pub party: i32,
    pub created: Sec,
    pub start: Sec,
    pub end: Sec,
    pub zone_id: Option<String>,
    /// the guest cancels at this time
    pub cancel_at: Option<Sec>,
    /// the stay is shortened by 30 minutes at this time (if confirmed then)
    pub shorten_at: Option<Sec>,
}

pub struct Day {
    pub restaurants: Vec<Restaurant>,
    pub bookings: Vec<Booking>,
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (item, w) in items {
        if pick < *w {
            return *item;
        }
        pick -= w;
    }
    items[items.len() - 1].0
}

fn floor(rng: &mut StdRng, index: usize, n_restaurants: usize) -> Restaurant {
    // Spread sizes over 8..80 tables: evenly spaced, with a little noise.
    let span = 72.0 * index as f64 / (n_restaurants.max(2) - 1) as f64;
    let n_tables = (8.0 + span + rng.gen_range(-3.0..3.0))
        .round()
        .clamp(8.0, 80.0) as usize;
    let max_zones = (n_tables / 6).clamp(1, 5);
    let n_zones = rng.gen_range(1..=max_zones);
    let mut zones: Vec<Zone> = (0..n_zones)
        .map(|z| Zone {
            id: uuid(rng),
            name: ["Main", "Terrace", "Bar", "Garden", "Mezzanine"][z].to_string(),
            tables: Vec::new(),
            adjacency: Vec::new(),
        })
        .collect();
    for t in 0..n_tables {
        // the first tables go round-robin so no zone is empty; the rest at random
        let z = if t < n_zones {
            t
        } else {
            rng.gen_range(0..n_zones)
        };
        let capacity = weighted(rng, &[(2, 30), (4, 35), (6, 18), (8, 10), (10, 7)]);
        let min_party = match capacity {
            c if c >= 8 => c / 2,
            6 => 3,
            _ => 1,
        };
        zones[z].tables.push(Table {
            id: uuid(rng),
            name: format!("T{:02}", t + 1),
            capacity,
            min_party,
            combinable: rng.gen_bool(0.9),
        });
    }
    // Adjacency: chains ("rows") of 3..8 tables within each zone.
    for zone in &mut zones {
        let mut i = 0;
        while i < zone.tables.len() {
            let row = rng.gen_range(3..=8usize).min(zone.tables.len() - i);
            for k in i..i + row - 1 {
                zone.adjacency.push((k, k + 1));
            }
            i += row;
        }
    }
    Restaurant {
        id: uuid(rng),
        name: format!("Sim {:02} ({n_tables} tables)", index + 1),
        zones,
        target_peak: rng.gen_range(1.10..1.30),
        peak_covers: 0,
    }
}

/// Start-time weights per 15-minute slot, 17:00..21:00, peaking 19:00-19:30.
const SLOT_WEIGHTS: [u32; 17] = [2, 3, 4, 6, 8, 10, 12, 13, 13, 12, 10, 8, 6, 5, 4, 3, 2];

fn party(rng: &mut StdRng) -> i32 {
    let band = weighted(
        rng,
        &[
            (2, 380),
            (3, 140),
            (4, 240),
            (5, 70),
            (6, 80),
            (7, 40),
            (9, 25),
            (11, 15),
        ],
    );
    match band {
        7 => rng.gen_range(7..=8),
        9 => rng.gen_range(9..=10),
        11 => rng.gen_range(11..=14),
        p => p,
    }
}

fn stay_minutes(rng: &mut StdRng, party: i32) -> i64 {
    let base = match party {
        p if p <= 4 => 90,
        p if p <= 8 => 105,
        _ => 120,
    };
    base + 15 * rng.gen_range(0..=1)
}

pub fn generate(rng: &mut StdRng, n_restaurants: usize) -> Day {
    let mut restaurants: Vec<Restaurant> = (0..n_restaurants)
        .map(|i| floor(rng, i, n_restaurants))
        .collect();
    let mut bookings = Vec::new();
    let slots: Vec<(usize, u32)> = SLOT_WEIGHTS.iter().copied().enumerate().collect();
    for (ri, rest) in restaurants.iter_mut().enumerate() {
        let seats = rest.seats();
        let biggest_zone = rest.zones.iter().map(Zone::seats).max().unwrap_or(0);
        let goal = (rest.target_peak * f64::from(seats)).ceil() as i32;
        // covers seated per minute from 17:00 to 23:30
        let mut load = vec![0i32; 390];
        // never let one booking push the peak past 130% of seats
        let ceiling = (1.30 * f64::from(seats)).floor() as i32;
        let mut peak = 0;
        let mut draws = 0;
        while peak < goal && draws < 100_000 {
            draws += 1;
            let slot = weighted(rng, &slots);
            let start = SERVICE_FROM + 900 * slot as i64;
            // A few requests are larger than any zone can seat: a hard reason.
            let exceeds = rng.gen_bool(0.006);
            let party = if exceeds {
                biggest_zone + rng.gen_range(1..=4)
            } else {
                party(rng)
            };
            let end = start + 60 * stay_minutes(rng, party);
            if !exceeds {
                let from = ((start - SERVICE_FROM) / 60) as usize;
                let to = (((end - SERVICE_FROM) / 60) as usize).min(load.len());
                if load[from..to].iter().any(|m| m + party > ceiling) {
                    continue;
                }
                for m in &mut load[from..to] {
                    *m += party;
                    peak = peak.max(*m);
                }
            }
            // 1% book inside the 10-minute cutoff (past_cutoff); the rest at least
            // 20 minutes ahead, at any second of the booking window.
            let created = if rng.gen_bool(0.01) {
                start - rng.gen_range(60..540)
            } else {
                let latest = (start - 20 * 60).min(ARRIVALS_TO);
                rng.gen_range(ARRIVALS_FROM..=latest)
            };
            let zone_id = if rest.zones.len() > 1 && rng.gen_bool(0.15) {
                Some(rest.zones[rng.gen_range(0..rest.zones.len())].id.clone())
            } else {
                None
            };
            let cancel_at = (rng.gen_bool(0.10) && start - 300 > created + 60)
                .then(|| rng.gen_range(created + 60..start - 300));
            let shorten_at = (cancel_at.is_none() && rng.gen_bool(0.12))
                .then(|| rng.gen_range(created + 60..start + 45 * 60));
            bookings.push(Booking {
                id: uuid(rng),
                restaurant: ri,
                party,
                created,
                start,
                end,
                zone_id,
                cancel_at,
                shorten_at,
            });
        }
        rest.peak_covers = peak;
    }
    debug_assert!(bookings.iter().all(|b| b.start <= LAST_SEATING));
    Day {
        restaurants,
        bookings,
    }
}
