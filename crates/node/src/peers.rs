//! What the node remembers about peers while it runs: addresses to redial with backoff,
//! strikes for invalid data (which decay), and a budget for valid but useless gossip.
//! Everything here is bounded: a hostile network can mint peer ids and addresses for
//! free, so the book evicts rather than grows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use qoima_net::libp2p::{Multiaddr, PeerId};

/// Invalid messages a peer may send (net of decay) before it is cut off.
pub const STRIKES_MAX: u32 = 3;
/// One strike is forgiven per this much time without a new one: an honest node whose
/// disk flipped a bit once a month is never banned for it.
pub const STRIKE_DECAY: Duration = Duration::from_secs(10 * 60);
/// Peers the book keeps; beyond, the one idle longest (and not connected) is forgotten.
pub const PEERS_MAX: usize = 1024;
/// Addresses redialed per peer (the newest kept).
pub const ADDRS_PER_PEER_MAX: usize = 4;
/// Addresses redialed in all.
pub const REDIALS_MAX: usize = 512;
/// Useless gossip messages (valid, but bringing nothing new) a peer may send in a burst…
pub const USELESS_BURST: f64 = 20.0;
/// …and per second after that. Past it, the peer's gossip is ignored unread until the
/// budget refills: no strike, since such messages are valid, only wasteful.
pub const USELESS_PER_SECOND: f64 = 0.5;
const BACKOFF_MIN: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Per-peer bookkeeping.
#[derive(Debug)]
pub struct PeerInfo {
    pub strikes: u32,
    last_strike: Instant,
    pub received: u64,
    /// Valid records from it that the acceptance policy did not keep (no blame).
    pub declined: u64,
    /// Reconciliations with it that found a scattered difference with the sketch.
    pub sketched: u64,
    pub last_sync_ms: i64,
    pub last_sync_new: u64,
    /// The IP this peer was last connected from: the yardstick for the addresses it
    /// claims.
    pub observed_ip: Option<IpAddr>,
    pub connected: bool,
    /// Its identify lists the stem protocol.
    pub speaks_stem: bool,
    last_active: Instant,
    useless_budget: f64,
    budget_at: Instant,
    /// Messages from it ignored because its budget was spent.
    pub throttled: u64,
    /// Attachment bytes received from it (encoded ranges) and sent to it.
    pub blob_bytes_received: u64,
    pub blob_bytes_sent: u64,
}

impl PeerInfo {
    fn new(now: Instant) -> PeerInfo {
        PeerInfo {
            strikes: 0,
            last_strike: now,
            received: 0,
            declined: 0,
            sketched: 0,
            last_sync_ms: 0,
            last_sync_new: 0,
            observed_ip: None,
            connected: false,
            speaks_stem: false,
            last_active: now,
            useless_budget: USELESS_BURST,
            budget_at: now,
            throttled: 0,
            blob_bytes_received: 0,
            blob_bytes_sent: 0,
        }
    }

    fn decay_strikes(&mut self, now: Instant) {
        let forgiven = (now.duration_since(self.last_strike).as_secs() / STRIKE_DECAY.as_secs())
            .min(u64::from(u32::MAX)) as u32;
        if forgiven > 0 {
            self.strikes = self.strikes.saturating_sub(forgiven);
            self.last_strike = now;
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.budget_at).as_secs_f64();
        self.useless_budget =
            (self.useless_budget + elapsed * USELESS_PER_SECOND).min(USELESS_BURST);
        self.budget_at = now;
    }
}

/// An address to keep dialing while not connected.
#[derive(Debug)]
struct Redial {
    addr: Multiaddr,
    peer: Option<PeerId>,
    /// Given by the user (`--peer`, a dial request): never evicted.
    explicit: bool,
    next_attempt: Instant,
    backoff: Duration,
    added: Instant,
}

/// The node's view of its peers.
#[derive(Debug, Default)]
pub struct PeerBook {
    peers: HashMap<PeerId, PeerInfo>,
    redials: Vec<Redial>,
}

impl PeerBook {
    /// Adds an address the user gave (`--peer`, or a dial request): redialed until the
    /// node stops, never evicted.
    pub fn keep_dialing(&mut self, addr: Multiaddr, peer: Option<PeerId>) {
        self.add_redial(addr, peer, true);
    }

    /// Adds an address learned for `peer` (remembered, or a plausible identify claim):
    /// the peer keeps its newest few, and the whole list stays bounded. True if the
    /// address was new.
    pub fn learn_address(&mut self, addr: Multiaddr, peer: PeerId) -> bool {
        if !self.add_redial(addr, Some(peer), false) {
            return false;
        }
        let mine: Vec<usize> = (0..self.redials.len())
            .filter(|&i| self.redials[i].peer == Some(peer) && !self.redials[i].explicit)
            .collect();
        if mine.len() > ADDRS_PER_PEER_MAX {
            let oldest = mine.into_iter().min_by_key(|&i| self.redials[i].added);
            if let Some(i) = oldest {
                self.redials.remove(i);
            }
        }
        if self.redials.len() > REDIALS_MAX
            && let Some(i) = (0..self.redials.len())
                .filter(|&i| !self.redials[i].explicit)
                .min_by_key(|&i| self.redials[i].added)
        {
            self.redials.remove(i);
        }
        true
    }

    /// Adds or refreshes a redial; true if it was new.
    fn add_redial(&mut self, addr: Multiaddr, peer: Option<PeerId>, explicit: bool) -> bool {
        let now = Instant::now();
        if let Some(known) = self.redials.iter_mut().find(|r| r.addr == addr) {
            known.explicit |= explicit;
            known.added = now;
            return false;
        }
        self.redials.push(Redial {
            addr,
            peer,
            explicit,
            next_attempt: now,
            backoff: BACKOFF_MIN,
            added: now,
        });
        true
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

    /// A connection to `peer` is up, from `remote` (the far end's address); `dialed` is
    /// the address we dialed, if we did.
    pub fn connected(&mut self, peer: PeerId, remote: &Multiaddr, dialed: Option<&Multiaddr>) {
        for redial in &mut self.redials {
            if redial.peer == Some(peer) || Some(&redial.addr) == dialed {
                redial.peer = Some(peer);
                redial.backoff = BACKOFF_MIN;
            }
        }
        let info = self.info(peer);
        info.connected = true;
        info.observed_ip = crate::addresses::remote_ip(remote);
    }

    /// Retry soon after a disconnection: the network may only have blinked.
    pub fn disconnected(&mut self, peer: PeerId) {
        for redial in &mut self.redials {
            if redial.peer == Some(peer) {
                redial.next_attempt = Instant::now() + BACKOFF_MIN;
            }
        }
        if let Some(info) = self.peers.get_mut(&peer) {
            info.connected = false;
            info.last_active = Instant::now();
        }
    }

    /// Records a strike (after forgiving old ones); returns true when the peer is past
    /// the bound.
    pub fn strike(&mut self, peer: PeerId) -> bool {
        let now = Instant::now();
        let info = self.info(peer);
        info.decay_strikes(now);
        info.strikes += 1;
        info.last_strike = now;
        info.strikes >= STRIKES_MAX
    }

    /// The peer's current strikes, after decay.
    #[cfg(test)]
    pub fn strikes(&mut self, peer: PeerId) -> u32 {
        let now = Instant::now();
        match self.peers.get_mut(&peer) {
            Some(info) => {
                info.decay_strikes(now);
                info.strikes
            }
            None => 0,
        }
    }

    /// True if `peer` has spent its budget of useless gossip: ignore its messages unread.
    pub fn throttled(&mut self, peer: PeerId) -> bool {
        let now = Instant::now();
        let info = self.info(peer);
        info.refill(now);
        let throttled = info.useless_budget < 1.0;
        if throttled {
            info.throttled += 1;
        }
        throttled
    }

    /// A gossip message from `peer` was valid but brought nothing new.
    pub fn useless(&mut self, peer: PeerId) {
        let now = Instant::now();
        let info = self.info(peer);
        info.refill(now);
        info.useless_budget = (info.useless_budget - 1.0).max(0.0);
    }

    /// Forgets redials for a peer that was cut off.
    pub fn ban(&mut self, peer: PeerId) {
        self.redials.retain(|r| r.peer != Some(peer));
    }

    /// This peer's bookkeeping, made if new (evicting the longest idle disconnected peer
    /// when the book is full).
    pub fn info(&mut self, peer: PeerId) -> &mut PeerInfo {
        let now = Instant::now();
        if !self.peers.contains_key(&peer) && self.peers.len() >= PEERS_MAX {
            let idle = self
                .peers
                .iter()
                .filter(|(_, info)| !info.connected)
                .min_by_key(|(_, info)| info.last_active)
                .map(|(id, _)| *id);
            if let Some(idle) = idle {
                self.peers.remove(&idle);
            }
        }
        let info = self.peers.entry(peer).or_insert_with(|| PeerInfo::new(now));
        info.last_active = now;
        info
    }

    /// The peer's bookkeeping if the book has it, without touching it.
    pub fn get(&self, peer: &PeerId) -> Option<&PeerInfo> {
        self.peers.get(peer)
    }

    /// Every peer in the book with its strikes (after decay).
    pub fn all_strikes(&mut self) -> HashMap<PeerId, u32> {
        let now = Instant::now();
        self.peers
            .iter_mut()
            .map(|(id, info)| {
                info.decay_strikes(now);
                (*id, info.strikes)
            })
            .collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.peers.len()
    }

    #[cfg(test)]
    fn redial_count(&self) -> usize {
        self.redials.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

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
        book.connected(peer, &addr, Some(&addr));
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

    #[test]
    fn strikes_decay() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        book.strike(peer);
        book.strike(peer);
        // Pretend the last strike was two decay periods ago.
        let info = book.peers.get_mut(&peer).unwrap();
        info.last_strike = Instant::now() - 2 * STRIKE_DECAY - Duration::from_secs(1);
        assert_eq!(book.strikes(peer), 0);
        assert!(!book.strike(peer), "one fresh strike is not a ban");
        assert_eq!(book.strikes(peer), 1);
    }

    #[test]
    fn addresses_per_peer_are_bounded_newest_kept() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        for port in 1..=10u16 {
            book.learn_address(format!("/ip4/10.0.0.1/tcp/{port}").parse().unwrap(), peer);
        }
        assert_eq!(book.redial_count(), ADDRS_PER_PEER_MAX);
        let kept: Vec<String> = book.redials.iter().map(|r| r.addr.to_string()).collect();
        assert!(
            kept.contains(&"/ip4/10.0.0.1/tcp/10".to_owned()),
            "{kept:?}"
        );
        assert!(
            !kept.contains(&"/ip4/10.0.0.1/tcp/1".to_owned()),
            "{kept:?}"
        );
        // Repeating an address adds nothing.
        assert!(!book.learn_address("/ip4/10.0.0.1/tcp/10".parse().unwrap(), peer));
        assert_eq!(book.redial_count(), ADDRS_PER_PEER_MAX);
    }

    #[test]
    fn redials_are_bounded_and_explicit_ones_stay() {
        let mut book = PeerBook::default();
        let explicit: Multiaddr = "/ip4/10.9.9.9/tcp/4270".parse().unwrap();
        book.keep_dialing(explicit.clone(), None);
        for i in 0..(REDIALS_MAX as u32 * 2) {
            let addr = format!("/ip4/10.{}.{}.1/tcp/4270", i / 256, i % 256);
            book.learn_address(addr.parse().unwrap(), PeerId::random());
        }
        assert!(book.redial_count() <= REDIALS_MAX);
        assert!(book.redials.iter().any(|r| r.addr == explicit));
    }

    #[test]
    fn the_book_evicts_idle_peers() {
        let mut book = PeerBook::default();
        let connected = PeerId::random();
        let addr: Multiaddr = "/ip4/10.0.0.1/tcp/1".parse().unwrap();
        book.connected(connected, &addr, None);
        for _ in 0..PEERS_MAX * 2 {
            book.info(PeerId::random());
        }
        assert_eq!(book.len(), PEERS_MAX);
        assert!(book.get(&connected).is_some(), "a connected peer is kept");
    }

    #[test]
    fn useless_gossip_spends_a_budget_that_refills() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        for _ in 0..USELESS_BURST as usize {
            assert!(!book.throttled(peer));
            book.useless(peer);
        }
        assert!(book.throttled(peer));
        let info = book.peers.get_mut(&peer).unwrap();
        info.budget_at = Instant::now() - Duration::from_secs_f64(2.0 / USELESS_PER_SECOND);
        assert!(!book.throttled(peer), "refilled after a pause");
    }
}
