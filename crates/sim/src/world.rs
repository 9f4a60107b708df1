//! The city as it is set up before the run: who is hostile, where each person goes,
//! when each device is offline, who has the daily window. Everything here is drawn from
//! the seed before the first event.

use crate::params::{DAY_MS, Params};
use crate::rng::Rng;

/// What a node does with records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// Follows the node's rules.
    Honest,
    /// Writes valid, useless records at a high rate under fresh keys (see `flood.rs`);
    /// takes nothing.
    Flooder,
    /// Takes part in reconciliation and takes records, but never serves a record and
    /// never forwards gossip.
    Withholder,
}

/// Kinds of places, for their meeting rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// A household: everyone present meets, at any hour.
    Home,
    /// An office, ward or court: some of its people meet, outside the curfew.
    Workplace,
    /// A waiting room, market, corridor: a few strangers meet, outside the curfew.
    Public,
}

/// A place and the people who frequent it.
#[derive(Debug, Clone)]
pub struct Place {
    /// Its kind.
    pub kind: PlaceKind,
    /// Who goes there (bounded by the place sizes, plus couriers).
    pub regulars: Vec<u32>,
}

/// A person and their device, as fixed at the start.
#[derive(Debug, Clone)]
pub struct Person {
    /// Honest or hostile.
    pub role: Role,
    /// Periods offline, sorted, not overlapping.
    pub offline: Vec<(u64, u64)>,
    /// When the device is seized, `u64::MAX` if never.
    pub seized_at: u64,
    /// Length of this person's daily window, if they have one.
    pub window_ms: Option<u64>,
    /// The half of a partitioned city they live in (0 otherwise).
    pub half: u8,
}

impl Person {
    /// Whether the device is on at `t`.
    pub fn online(&self, t: u64) -> bool {
        t < self.seized_at && !self.offline.iter().any(|&(from, to)| from <= t && t < to)
    }

    /// Whether the device still exists at `t`.
    pub fn present(&self, t: u64) -> bool {
        t < self.seized_at
    }
}

/// The city.
#[derive(Debug, Clone)]
pub struct World {
    /// Everyone, by node number.
    pub people: Vec<Person>,
    /// Every place.
    pub places: Vec<Place>,
    /// Who writes the testimony at time zero: an honest node.
    pub writer: u32,
}

impl World {
    /// Draws a city from `params` and `rng`.
    pub fn new(params: &Params, rng: &mut Rng) -> World {
        let n = params.nodes;
        let mut order: Vec<u32> = (0..n as u32).collect();
        rng.shuffle(&mut order);
        let hostile = (params.hostile_share * n as f64).round() as usize;
        let flooders = (hostile as f64 * params.flooder_share_of_hostile).round() as usize;
        let mut roles = vec![Role::Honest; n];
        for (k, &node) in order.iter().take(hostile.min(n - 1)).enumerate() {
            roles[node as usize] = if k < flooders {
                Role::Flooder
            } else {
                Role::Withholder
            };
        }
        let writer = order[hostile.min(n - 1)];
        let people: Vec<Person> = (0..n)
            .map(|node| {
                let half = if params.partitioned {
                    u8::from(node >= n / 2)
                } else {
                    0
                };
                Person {
                    role: roles[node],
                    offline: offline_periods(params, rng),
                    seized_at: if rng.chance(params.seized_share) {
                        (rng.unit() * params.horizon_ms as f64) as u64
                    } else {
                        u64::MAX
                    },
                    window_ms: (params.window && rng.chance(params.window_share)).then(|| {
                        params.window_min_ms
                            + (rng.unit() * (params.window_max_ms - params.window_min_ms) as f64)
                                as u64
                    }),
                    half,
                }
            })
            .collect();
        let places = places(params, &people, rng);
        World {
            people,
            places,
            writer,
        }
    }
}

/// Offline periods over the horizon: a Poisson number a day, exponential lengths.
fn offline_periods(params: &Params, rng: &mut Rng) -> Vec<(u64, u64)> {
    let mut periods = Vec::new();
    if params.offline_per_day <= 0.0 {
        return periods;
    }
    let mut t = rng.exponential(DAY_MS as f64 / params.offline_per_day);
    while t < params.horizon_ms as f64 {
        let length = rng.exponential(params.offline_mean_ms as f64);
        periods.push((t as u64, (t + length) as u64));
        t += length + rng.exponential(DAY_MS as f64 / params.offline_per_day);
    }
    periods
}

/// Homes, workplaces and public places, each filled from a shuffled order of the
/// people (of one half, in a partitioned city); couriers add themselves to extra
/// workplaces and public places.
fn places(params: &Params, people: &[Person], rng: &mut Rng) -> Vec<Place> {
    let halves: u8 = if params.partitioned { 2 } else { 1 };
    let mut places = Vec::new();
    for half in 0..halves {
        let mut members: Vec<u32> = (0..people.len() as u32)
            .filter(|&p| people[p as usize].half == half)
            .collect();
        let first_shared = {
            for (kind, size) in [
                (PlaceKind::Home, params.home_size),
                (PlaceKind::Workplace, params.workplace_size),
                (PlaceKind::Public, params.public_place_size),
            ] {
                rng.shuffle(&mut members);
                for chunk in members.chunks(size.max(1)) {
                    places.push(Place {
                        kind,
                        regulars: chunk.to_vec(),
                    });
                }
            }
            places.len()
        };
        let shared: Vec<usize> = (0..first_shared)
            .filter(|&p| {
                places[p].kind != PlaceKind::Home
                    && places[p]
                        .regulars
                        .first()
                        .is_some_and(|&r| people[r as usize].half == half)
            })
            .collect();
        for &person in &members {
            if !rng.chance(params.courier_share) || shared.is_empty() {
                continue;
            }
            for _ in 0..params.courier_places {
                let place = shared[rng.below(shared.len())];
                if !places[place].regulars.contains(&person) {
                    places[place].regulars.push(person);
                }
            }
        }
    }
    places
}
