//! What the node remembers about peers while it runs: addresses to redial with backoff,
//! and strikes for invalid data.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use qoima_net::libp2p::{Multiaddr, PeerId};

/// Invalid messages a peer may send before it is cut off.
pub const STRIKES_MAX: u32 = 3;
const BACKOFF_MIN: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Per-peer bookkeeping.
#[derive(Debug, Default)]
pub struct PeerInfo {
    pub strikes: u32,
    pub received: u64,
    pub last_sync_ms: i64,
    pub last_sync_new: u64,
}

/// An address to keep dialing while not connected.
#[derive(Debug)]
struct Redial {
    addr: Multiaddr,
    peer: Option<PeerId>,
    next_attempt: Instant,
    backoff: Duration,
}

/// The node's view of its peers.
#[derive(Debug, Default)]
pub struct PeerBook {
    pub peers: HashMap<PeerId, PeerInfo>,
    redials: Vec<Redial>,
}

impl PeerBook {
    /// Adds an address to keep redialing (explicit `--peer`, or remembered).
    pub fn keep_dialing(&mut self, addr: Multiaddr, peer: Option<PeerId>) {
        if self.redials.iter().any(|r| r.addr == addr) {
            return;
        }
        self.redials.push(Redial {
            addr,
            peer,
            next_attempt: Instant::now(),
            backoff: BACKOFF_MIN,
        });
    }

    /// Addresses due for a dial now, skipping peers already connected; each is pushed
    /// back by its (doubling) backoff.
    pub fn due(&mut self, now: Instant, connected: impl Fn(&PeerId) -> bool) -> Vec<Multiaddr> {
        let mut due = Vec::new();
        for redial in &mut self.redials {
            if redial.peer.as_ref().is_some_and(&connected) || redial.next_attempt > now {
                continue;
            }
            due.push(redial.addr.clone());
            redial.next_attempt = now + redial.backoff;
            redial.backoff = (redial.backoff * 2).min(BACKOFF_MAX);
        }
        due
    }

    /// A connection to `peer` over `addr` worked: reset that address's backoff.
    pub fn connected(&mut self, peer: PeerId, addr: Option<&Multiaddr>) {
        for redial in &mut self.redials {
            if redial.peer == Some(peer) || Some(&redial.addr) == addr {
                redial.peer = Some(peer);
                redial.backoff = BACKOFF_MIN;
            }
        }
    }

    /// Retry soon after a disconnection: the network may only have blinked.
    pub fn disconnected(&mut self, peer: PeerId) {
        for redial in &mut self.redials {
            if redial.peer == Some(peer) {
                redial.next_attempt = Instant::now() + BACKOFF_MIN;
            }
        }
    }

    /// Records a strike; returns true when the peer is past the bound.
    pub fn strike(&mut self, peer: PeerId) -> bool {
        let info = self.peers.entry(peer).or_default();
        info.strikes += 1;
        info.strikes >= STRIKES_MAX
    }

    /// Forgets redials for a peer that was cut off.
    pub fn ban(&mut self, peer: PeerId) {
        self.redials.retain(|r| r.peer != Some(peer));
    }

    pub fn info(&mut self, peer: PeerId) -> &mut PeerInfo {
        self.peers.entry(peer).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_resets_on_connection() {
        let mut book = PeerBook::default();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        book.keep_dialing(addr.clone(), None);
        let t0 = Instant::now();
        assert_eq!(book.due(t0, |_| false), vec![addr.clone()]);
        assert!(book.due(t0 + Duration::from_secs(1), |_| false).is_empty());
        assert_eq!(book.due(t0 + Duration::from_secs(3), |_| false).len(), 1);
        assert!(
            book.due(t0 + Duration::from_secs(5), |_| false).is_empty(),
            "backoff now 4 s"
        );
        let peer = PeerId::random();
        book.connected(peer, Some(&addr));
        assert!(
            book.due(t0 + Duration::from_secs(60), |p| *p == peer)
                .is_empty(),
            "connected"
        );
    }

    #[test]
    fn three_strikes() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        assert!(!book.strike(peer));
        assert!(!book.strike(peer));
        assert!(book.strike(peer));
    }
}
