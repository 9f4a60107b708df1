//! Peers banned for sending invalid data, until when. Bans are kept in the archive so a
//! restart does not forgive them, and expire, so an honest node that once misbehaved
//! (a bug, a flipped bit) is not shut out for ever. Bounded: peer ids cost nothing to
//! make, so past [`BANS_MAX`] the ban closest to expiry is dropped first.

use std::collections::HashMap;
use std::time::Duration;

use qoima_net::libp2p::PeerId;

/// How long a ban lasts.
pub const BAN_DURATION: Duration = Duration::from_secs(24 * 60 * 60);
/// Bans held at once.
pub const BANS_MAX: usize = 4096;

/// Banned peers and the time (ms since the epoch) each ban ends.
#[derive(Debug, Default)]
pub struct Bans {
    until_ms: HashMap<PeerId, i64>,
}

impl Bans {
    /// Bans `peer` until `until_ms`. Returns a peer whose ban was dropped to make room.
    pub fn insert(&mut self, peer: PeerId, until_ms: i64) -> Option<PeerId> {
        let mut dropped = None;
        if !self.until_ms.contains_key(&peer) && self.until_ms.len() >= BANS_MAX {
            dropped = self
                .until_ms
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(p, _)| *p);
            if let Some(p) = dropped {
                self.until_ms.remove(&p);
            }
        }
        let until = self.until_ms.entry(peer).or_insert(until_ms);
        *until = (*until).max(until_ms);
        dropped
    }

    /// True if `peer` is banned now.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.until_ms.contains_key(peer)
    }

    /// Removes and returns the bans that ended by `now_ms`.
    pub fn expired(&mut self, now_ms: i64) -> Vec<PeerId> {
        let ended: Vec<PeerId> = self
            .until_ms
            .iter()
            .filter(|(_, until)| **until <= now_ms)
            .map(|(p, _)| *p)
            .collect();
        for peer in &ended {
            self.until_ms.remove(peer);
        }
        ended
    }

    /// Every ban.
    pub fn iter(&self) -> impl Iterator<Item = (PeerId, i64)> + '_ {
        self.until_ms.iter().map(|(p, until)| (*p, *until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_expire() {
        let mut bans = Bans::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        bans.insert(a, 100);
        bans.insert(b, 200);
        assert_eq!(bans.expired(150), vec![a]);
        assert!(!bans.is_banned(&a));
        assert!(bans.is_banned(&b));
    }

    #[test]
    fn bans_are_bounded_dropping_the_soonest_to_end() {
        let mut bans = Bans::default();
        let first = PeerId::random();
        bans.insert(first, 1);
        for i in 0..BANS_MAX as i64 - 1 {
            assert_eq!(bans.insert(PeerId::random(), 1000 + i), None);
        }
        assert_eq!(bans.insert(PeerId::random(), 5000), Some(first));
        assert_eq!(bans.iter().count(), BANS_MAX);
    }
}
