//! Every parameter of the model, with its default and why it is plausible for a city in
//! Kazakhstan in January 2022 (the internet cut nationwide from 5 January for about
//! five days, restored for an hour or two a day in some places before that; a curfew
//! from 23:00 to 07:00; people meeting at homes, offices, hospitals and courts).

use serde::{Deserialize, Serialize};

use crate::fair_share::QuotaRule;
use crate::fetch::FetchOrder;

/// One millisecond of simulated time is the unit everywhere.
pub const MINUTE_MS: u64 = 60_000;
/// An hour.
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
/// A day.
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// A link: what two devices reach each other over.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Link {
    /// Bits per second one way, sender to receiver (the smaller of the sender's upload
    /// and the receiver's download).
    pub bits_per_second: f64,
    /// Round-trip time.
    pub rtt_ms: u64,
}

impl Link {
    /// Milliseconds `bytes` take on the link, without the round trips.
    pub fn transfer_ms(&self, bytes: u64) -> f64 {
        bytes as f64 * 8.0 * 1000.0 / self.bits_per_second
    }
}

/// The parameters of one run. [`Params::city`] gives the defaults for `nodes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Params {
    /// Nodes in the city, hostile ones included.
    pub nodes: usize,
    /// The seed: the whole run is a function of it and of these parameters.
    pub seed: u64,
    /// Simulated time. A week: the shutdown of January 2022 lasted about five days, and
    /// the week shows what the slowest scenarios reach.
    pub horizon_ms: u64,
    /// Records every node holds at the start (the month's documentation, shared before
    /// the shutdown), their claimed times spread over the 30 days before it.
    pub base_records: usize,
    /// Size of one signed record with its share of a bundle's manifest entry: a text
    /// testimony of about 1 KB signed and encoded (BENCHMARKS.md §1 measures 1,232 bytes
    /// mean for 1,000 characters of text) plus the manifest entry and framing.
    pub record_bytes: u64,
    /// Bytes a fetch request and its answer add besides the ids and the records: the
    /// request's framing, the bundle header and manifest signature, the stream's
    /// framing (Noise and Yamux). Counted once per batch.
    pub fetch_overhead_bytes: u64,
    /// Bytes a gossip message adds around its inline bundle (gossipsub framing,
    /// manifest and signature of the one-record bundle).
    pub gossip_overhead_bytes: u64,
    /// Bytes a reconciliation message adds on the wire besides its own bytes (request
    /// framing of `/qoima/sync/1`, Yamux frame, Noise tag).
    pub message_overhead_bytes: u64,

    // ----- people and places -----------------------------------------------------
    /// People per home: households share a home Wi-Fi (or one phone's hotspot).
    pub home_size: usize,
    /// People per workplace (offices, hospital wards, a court's staff).
    pub workplace_size: usize,
    /// People who frequent one public place (a hospital's waiting room, a court's
    /// corridor, a market, a mosque or church).
    pub public_place_size: usize,
    /// Household gatherings a day (morning and evening at home).
    pub home_meetings_per_day: f64,
    /// Mean length of a gathering at home: devices stay on the home network for hours.
    pub home_meeting_mean_ms: u64,
    /// Meetings a day at a workplace, between 07:00 and 23:00 (offices mostly closed
    /// during the state of emergency; hospitals and courts worked).
    pub workplace_meetings_per_day: f64,
    /// Share of a workplace's people at one of its meetings.
    pub workplace_attendance: f64,
    /// Mean length of a workplace meeting.
    pub workplace_meeting_mean_ms: u64,
    /// Encounters a day at a public place, outside the curfew.
    pub public_meetings_per_day: f64,
    /// Mean length of a public encounter (people sharing a hotspot for a while).
    pub public_meeting_mean_ms: u64,
    /// Most devices on one LAN or hotspot in one meeting (a phone's hotspot takes
    /// about eight clients).
    pub group_max: usize,
    /// Shortest meeting: under this, two phones do not even find each other.
    pub meeting_min_ms: u64,
    /// Share of nodes who are couriers (lawyers, drivers, medics, journalists moving
    /// between districts): they frequent `courier_places` extra places each.
    pub courier_share: f64,
    /// Extra places (workplaces and public places anywhere) a courier frequents.
    pub courier_places: usize,
    /// Curfew: no meetings outside homes from `curfew_start_hour` to `curfew_end_hour`
    /// (23:00 to 07:00 in Almaty in January 2022).
    pub curfew_start_hour: u64,
    /// End of the curfew.
    pub curfew_end_hour: u64,
    /// Hour of the day at simulated time zero, when the testimony is written.
    pub start_hour: u64,
    /// LAN or hotspot between two devices in a meeting: 20 Mbit/s (a phone's hotspot
    /// or a home router shared by a few devices), 5 ms round trip.
    pub lan: Link,

    // ----- the daily window ---------------------------------------------------------
    /// Whether some nodes have internet for a while each day.
    pub window: bool,
    /// Share of nodes with mobile data during the window (those on an operator and in
    /// a district where it was switched back on).
    pub window_share: f64,
    /// Hour of the day the window opens (reports of January 2022 spoke of connectivity
    /// for an hour or two around midday in Almaty).
    pub window_start_hour: u64,
    /// Shortest window a node gets; each node's is uniform up to `window_max_ms`.
    pub window_min_ms: u64,
    /// Longest window.
    pub window_max_ms: u64,
    /// Peers each online node dials during the window (others online at the same
    /// time, found through the peer book of earlier meetings).
    pub window_peers: usize,
    /// A phone on congested mobile data: 1 Mbit/s down, 0.5 up, so 0.5 Mbit/s between
    /// two phones, 100 ms round trip.
    pub mobile: Link,

    // ----- churn ----------------------------------------------------------------------
    /// Times a day a device goes offline (battery, switched off for safety, hidden).
    pub offline_per_day: f64,
    /// Mean length of an offline period.
    pub offline_mean_ms: u64,
    /// Share of nodes whose device is seized or destroyed during the run, each at a
    /// random time: gone for good.
    pub seized_share: f64,

    // ----- records ----------------------------------------------------------------------
    /// New records written in the whole city per day by honest nodes, besides the
    /// tracked testimony (witness statements, lists of the detained).
    pub new_records_per_day: f64,
    /// Bound on new records in a run, so memory stays bounded: writing stops there.
    pub new_records_max: usize,

    // ----- hostile nodes --------------------------------------------------------------
    /// Share of nodes that are hostile.
    pub hostile_share: f64,
    /// Of the hostile nodes, the share that flood; the rest withhold.
    pub flooder_share_of_hostile: f64,
    /// Records a flooder writes per hour, valid and useless, under fresh keys.
    pub flood_records_per_hour: u64,
    /// Records a flooder signs under one key before taking a fresh one: the quota per
    /// unknown author, so that quota alone never stops it.
    pub flood_records_per_key: u64,
    /// How the hourly quota for unknown authors is divided between the peers that
    /// deliver records: `shared` as the store does today, or a share per peer
    /// (`fair_share.rs`). Runs written before the rule existed were `shared`.
    #[serde(default)]
    pub quota_rule: QuotaRule,
    /// The order a node asks for what a session found: drawn afresh per fetch (the
    /// node now, `fetch_order` in `crates/node/src/session.rs`) or by id (the node
    /// before). Runs written before the option existed were by id.
    #[serde(default = "FetchOrder::before_the_option")]
    pub fetch_order: FetchOrder,
    /// Under a per-peer rule, a node does not reconcile with a peer whose share (or
    /// the hour's quota) it has spent until the hour turns: what it would find it could
    /// not keep, and each session lists the flood ids again. Records of vouched
    /// authors (not modelled) would wait up to the hour.
    #[serde(default)]
    pub pause_spent_peers: bool,

    /// Events that may wait in the queue; past it gossip deliveries are dropped (as a
    /// node's bounded queues drop them) and counted.
    pub events_max: usize,
    /// Node indexes kept built between sessions (each about `base_records` × 40
    /// bytes); the cache is emptied when full. Sessions already run are kept up to 256
    /// times this (each a few hundred bytes: message lengths and the ids found).
    pub index_cache: usize,
    /// Split the city into two halves with no place, courier or window in common (the
    /// testimony cannot cross): a control for the tests.
    pub partitioned: bool,
}

impl Params {
    /// The defaults for a city of `nodes`, with or without the window and hostile
    /// nodes.
    pub fn city(nodes: usize, window: bool, hostile: bool, seed: u64) -> Params {
        Params {
            nodes,
            seed,
            horizon_ms: 7 * DAY_MS,
            base_records: 20_000,
            record_bytes: 1_500,
            fetch_overhead_bytes: 400,
            gossip_overhead_bytes: 300,
            message_overhead_bytes: 64,
            home_size: 4,
            workplace_size: 20,
            public_place_size: 100,
            home_meetings_per_day: 2.0,
            home_meeting_mean_ms: 3 * HOUR_MS,
            workplace_meetings_per_day: 3.0,
            workplace_attendance: 0.3,
            workplace_meeting_mean_ms: 45 * MINUTE_MS,
            public_meetings_per_day: 8.0,
            public_meeting_mean_ms: 20 * MINUTE_MS,
            group_max: 8,
            meeting_min_ms: 2 * MINUTE_MS,
            courier_share: 0.02,
            courier_places: 10,
            curfew_start_hour: 23,
            curfew_end_hour: 7,
            start_hour: 10,
            lan: Link {
                bits_per_second: 20e6,
                rtt_ms: 5,
            },
            window,
            window_share: 0.3,
            window_start_hour: 13,
            window_min_ms: HOUR_MS,
            window_max_ms: 2 * HOUR_MS,
            window_peers: 4,
            mobile: Link {
                bits_per_second: 0.5e6,
                rtt_ms: 100,
            },
            offline_per_day: 1.0,
            offline_mean_ms: 4 * HOUR_MS,
            seized_share: 0.03,
            new_records_per_day: 300.0,
            new_records_max: 200_000,
            hostile_share: if hostile { 0.10 } else { 0.0 },
            flooder_share_of_hostile: 0.5,
            flood_records_per_hour: 20_000,
            flood_records_per_key: 10_000,
            quota_rule: QuotaRule::Shared,
            fetch_order: FetchOrder::Random,
            pause_spent_peers: false,
            events_max: 4_000_000,
            index_cache: 256,
            partitioned: false,
        }
    }

    /// Checks what the model needs.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let share = |name: &'static str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(ParamsError::NotAShare { name, value })
            }
        };
        share("hostile_share", self.hostile_share)?;
        share("flooder_share_of_hostile", self.flooder_share_of_hostile)?;
        share("window_share", self.window_share)?;
        share("seized_share", self.seized_share)?;
        share("courier_share", self.courier_share)?;
        share("workplace_attendance", self.workplace_attendance)?;
        if self.nodes < 2 {
            return Err(ParamsError::TooFewNodes(self.nodes));
        }
        if self.nodes > u32::MAX as usize / 2 {
            return Err(ParamsError::TooManyNodes(self.nodes));
        }
        if self.group_max < 2 || self.home_size < 1 || self.workplace_size < 1 {
            return Err(ParamsError::Groups);
        }
        if self.window_min_ms > self.window_max_ms {
            return Err(ParamsError::Window);
        }
        if self.lan.bits_per_second <= 0.0 || self.mobile.bits_per_second <= 0.0 {
            return Err(ParamsError::Link);
        }
        Ok(())
    }
}

/// Parameters the model cannot run with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    /// A share outside 0..=1.
    #[error("{name} must be between 0 and 1, not {value}")]
    NotAShare {
        /// Which parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// Fewer than two nodes.
    #[error("a city needs at least 2 nodes, not {0}")]
    TooFewNodes(usize),
    /// More nodes than ids fit.
    #[error("{0} nodes are more than the simulator indexes")]
    TooManyNodes(usize),
    /// Groups that cannot meet.
    #[error("groups need room for two and places at least one person")]
    Groups,
    /// A window that ends before it begins.
    #[error("the shortest window is longer than the longest")]
    Window,
    /// A link that carries nothing.
    #[error("links need a positive bandwidth")]
    Link,
}
