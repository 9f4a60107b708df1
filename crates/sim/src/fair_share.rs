//! A proposed change to the acceptance policy, evaluated here and not (yet) in the
//! store: each peer that delivers records gets a fair share of the hour's quota for
//! unknown authors, so a flooder spends its own share and no more, and an honest peer
//! can still deliver a testimony by an author nobody knows.
//!
//! The rules ([`QuotaRule`]):
//!
//! * `shared` (the store today, `crates/store/src/acceptance.rs`): 50,000 records an
//!   hour from all unknown authors together, whoever delivers them.
//! * `per-peer`: the same 50,000 an hour in all, and besides at most
//!   [`PEER_SHARE_PER_HOUR`] (an eighth of it) from any one delivering peer. A node
//!   asks a peer for no more than it may keep from it, so nothing it fetches is
//!   declined for a share: what is left waits for another peer or the next hour,
//!   instead of being remembered as declined for an hour. A push over the pusher's
//!   share is dropped without being remembered as declined for the same reason.
//! * `per-peer-gossip-first`: `per-peer`, and the last [`GOSSIP_RESERVE_DIVISOR`]th of
//!   each share and of the hour's quota is left to records pushed by gossip as new: a
//!   sync's bulk stops short of it. New honest records travel by push first, and the
//!   flood (in this model) by sync.
//!
//! Memory stays bounded: a node counts at most [`PEERS_PER_HOUR_MAX`] peers an hour by
//! name, and the peers past them share one share between them (so a node that meets
//! many peers, or a flooder with many peer ids, gets one share for the rest).

use serde::{Deserialize, Serialize};

use crate::node_rules::{HOUR_MS, RECORDS_PER_HOUR_ALL_UNKNOWN};

/// How the hour's quota for unknown authors is divided between delivering peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaRule {
    /// One quota for all unknown authors, whoever delivers (the store today).
    #[default]
    Shared,
    /// The same quota, and a share of it per delivering peer.
    PerPeer,
    /// Per peer, with the last part of each share kept for gossip pushes.
    PerPeerGossipFirst,
}

impl QuotaRule {
    /// Its name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            QuotaRule::Shared => "shared",
            QuotaRule::PerPeer => "per-peer",
            QuotaRule::PerPeerGossipFirst => "per-peer-gossip-first",
        }
    }

    /// Whether records are counted per delivering peer.
    pub fn per_peer(self) -> bool {
        self != QuotaRule::Shared
    }
}

/// Shares of the hour's quota: a peer may fill this many of the records kept from
/// unknown authors per hour. An eighth: a flooder takes an eighth of a node's hour at
/// most, and a node meeting up to eight peers in an hour can still take the whole
/// quota, as it can today.
pub const PEER_SHARES_PER_HOUR: u64 = 8;

/// Records of unknown authors one peer may deliver per hour.
pub const PEER_SHARE_PER_HOUR: u64 = RECORDS_PER_HOUR_ALL_UNKNOWN / PEER_SHARES_PER_HOUR;

/// Peers counted by name per hour; past them, the rest share one share. A node meets
/// a few dozen peers an hour at most (a courier at a market); 64 of 12 bytes each.
pub const PEERS_PER_HOUR_MAX: usize = 64;

/// Under `per-peer-gossip-first`, a sync's bulk leaves this fraction (1 / divisor) of
/// each limit to gossip pushes: honest new records are a few hundred a day, so an
/// eighth (781 a peer, 6,250 in all) is more than they need.
pub const GOSSIP_RESERVE_DIVISOR: u64 = 8;

/// How records arrive: the same share is counted either way, the reserve is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Fetched after a reconciliation.
    Sync,
    /// Pushed inline by gossip as new.
    Gossip,
}

/// What each delivering peer filled of this hour's quota; starts again each hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerShares {
    hour: u64,
    /// `(peer, records kept from it)` this hour, in the order first met; at most
    /// [`PEERS_PER_HOUR_MAX`].
    peers: Vec<(u32, u64)>,
    /// Records kept this hour from the peers past the table, together.
    others: u64,
}

impl PeerShares {
    /// Records `peer` may still deliver this hour (the hour of `now`).
    pub fn room(&mut self, peer: u32, now: u64) -> u64 {
        self.start_hour(now);
        PEER_SHARE_PER_HOUR.saturating_sub(self.used(peer))
    }

    /// Counts `count` records kept from `peer` at `now`.
    pub fn charge(&mut self, peer: u32, count: u64, now: u64) {
        self.start_hour(now);
        if count == 0 {
            return;
        }
        if let Some(entry) = self.peers.iter_mut().find(|(p, _)| *p == peer) {
            entry.1 += count;
        } else if self.peers.len() < PEERS_PER_HOUR_MAX {
            self.peers.push((peer, count));
        } else {
            self.others += count;
        }
    }

    /// Peers counted by name this hour.
    pub fn peers_counted(&self) -> usize {
        self.peers.len()
    }

    fn used(&self, peer: u32) -> u64 {
        match self.peers.iter().find(|(p, _)| *p == peer) {
            Some(&(_, used)) => used,
            // A peer not in the table: a new one while there is room has used nothing;
            // past the table it shares what the others used.
            None if self.peers.len() < PEERS_PER_HOUR_MAX => 0,
            None => self.others,
        }
    }

    fn start_hour(&mut self, now: u64) {
        let hour = now / HOUR_MS;
        if hour != self.hour {
            self.hour = hour;
            self.peers.clear();
            self.others = 0;
        }
    }
}

/// What a sync's bulk may fill of `room` (a share's or the hour's quota left, out of
/// `limit`) under `rule`: all of it, or all but the gossip reserve.
pub fn room_for(rule: QuotaRule, delivery: Delivery, room: u64, limit: u64) -> u64 {
    if rule == QuotaRule::PerPeerGossipFirst && delivery == Delivery::Sync {
        room.saturating_sub(limit / GOSSIP_RESERVE_DIVISOR)
    } else {
        room
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_fills_only_its_own_share() {
        let mut shares = PeerShares::default();
        assert_eq!(shares.room(7, 0), PEER_SHARE_PER_HOUR);
        shares.charge(7, PEER_SHARE_PER_HOUR - 10, 5);
        assert_eq!(shares.room(7, 6), 10);
        assert_eq!(
            shares.room(8, 6),
            PEER_SHARE_PER_HOUR,
            "another peer's share"
        );
        shares.charge(7, 10, 7);
        assert_eq!(shares.room(7, 8), 0);
    }

    #[test]
    fn shares_start_again_each_hour() {
        let mut shares = PeerShares::default();
        shares.charge(3, PEER_SHARE_PER_HOUR, HOUR_MS - 1);
        assert_eq!(shares.room(3, HOUR_MS - 1), 0);
        assert_eq!(shares.room(3, HOUR_MS), PEER_SHARE_PER_HOUR);
        assert_eq!(shares.peers_counted(), 0);
    }

    #[test]
    fn peers_past_the_table_share_one_share() {
        let mut shares = PeerShares::default();
        for peer in 0..PEERS_PER_HOUR_MAX as u32 {
            shares.charge(peer, 1, 0);
        }
        assert_eq!(shares.peers_counted(), PEERS_PER_HOUR_MAX);
        let (late, later) = (1_000, 1_001);
        shares.charge(late, PEER_SHARE_PER_HOUR - 1, 0);
        shares.charge(later, 1, 0);
        assert_eq!(shares.peers_counted(), PEERS_PER_HOUR_MAX, "bounded");
        assert_eq!(shares.room(late, 0), 0);
        assert_eq!(shares.room(5_000, 0), 0, "any peer past the table");
        assert_eq!(shares.room(0, 0), PEER_SHARE_PER_HOUR - 1, "a counted peer");
    }

    #[test]
    fn a_sync_leaves_the_gossip_reserve_only_when_asked() {
        let limit = PEER_SHARE_PER_HOUR;
        let reserve = limit / GOSSIP_RESERVE_DIVISOR;
        let rule = QuotaRule::PerPeerGossipFirst;
        assert_eq!(
            room_for(rule, Delivery::Sync, limit, limit),
            limit - reserve
        );
        assert_eq!(room_for(rule, Delivery::Gossip, limit, limit), limit);
        assert_eq!(room_for(rule, Delivery::Sync, reserve, limit), 0);
        assert_eq!(
            room_for(QuotaRule::PerPeer, Delivery::Sync, limit, limit),
            limit
        );
    }
}
