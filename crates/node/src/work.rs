//! Bounds on the work other nodes can make this one do. Every message a peer sends may
//! cost a store transaction, a bundle built in memory or a pass over the whole index;
//! without a bound per peer and in total, a flood of valid but useless messages would
//! queue tasks without limit. When a bound is reached the message is not worked on:
//! gossip is ignored (not accepted, not forwarded), a request is answered "busy". That is
//! how back-pressure reaches the sender, and no strike is given: being busy is our state,
//! not the sender's fault.

use std::collections::HashMap;

use qoima_net::libp2p::PeerId;

/// Kinds of work a peer can cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Checking (and storing) a gossip message, or a stem-relayed one.
    Gossip,
    /// Building a bundle to answer a fetch.
    Serve,
    /// Answering a reconciliation message (a pass over the index).
    Reconcile,
    /// Reading, encrypting-off and encoding a range of an attachment (up to 4 MiB).
    ServeBlob,
}

impl Work {
    const ALL: usize = 4;

    fn slot(self) -> usize {
        match self {
            Work::Gossip => 0,
            Work::Serve => 1,
            Work::Reconcile => 2,
            Work::ServeBlob => 3,
        }
    }

    /// At most this many at once from one peer.
    pub const fn per_peer(self) -> u32 {
        match self {
            // An honest node announces a burst of new records as a few messages.
            Work::Gossip => 16,
            // As many as a peer may have in flight (`session::FETCHES_IN_FLIGHT`).
            Work::Serve => 3,
            Work::Reconcile => 1,
            // As many ranges as a peer is asked for at once (`transfers::PER_PEER_IN_FLIGHT`).
            Work::ServeBlob => 4,
        }
    }

    /// At most this many at once from everyone.
    pub const fn total(self) -> u32 {
        match self {
            // Each holds a message of at most 68 KiB.
            Work::Gossip => 64,
            // Each holds a bundle of up to `SERVE_BYTES_TARGET` (twice, while encoding).
            Work::Serve => 6,
            Work::Reconcile => 2,
            // Each holds a range of up to 4 MiB, about three times while it is read,
            // encoded and sent: under 100 MB in all.
            Work::ServeBlob => 8,
        }
    }
}

/// Work in progress, per peer and in total.
#[derive(Debug, Default)]
pub struct WorkLimits {
    per_peer: HashMap<PeerId, [u32; Work::ALL]>,
    total: [u32; Work::ALL],
}

impl WorkLimits {
    /// Takes a slot for `work` caused by `peer`; false (and nothing taken) if a bound is
    /// reached.
    pub fn try_start(&mut self, peer: PeerId, work: Work) -> bool {
        let slot = work.slot();
        if self.total[slot] >= work.total() {
            return false;
        }
        let mine = self.per_peer.entry(peer).or_default();
        if mine[slot] >= work.per_peer() {
            return false;
        }
        mine[slot] += 1;
        self.total[slot] += 1;
        true
    }

    /// Gives the slot back.
    pub fn finish(&mut self, peer: PeerId, work: Work) {
        let slot = work.slot();
        self.total[slot] = self.total[slot].saturating_sub(1);
        if let Some(mine) = self.per_peer.get_mut(&peer) {
            mine[slot] = mine[slot].saturating_sub(1);
            if mine.iter().all(|&n| n == 0) {
                self.per_peer.remove(&peer);
            }
        }
    }

    /// Work in progress of this kind, from everyone.
    #[cfg(test)]
    pub fn running(&self, work: Work) -> u32 {
        self.total[work.slot()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_per_peer_and_in_total() {
        let mut limits = WorkLimits::default();
        let a = PeerId::random();
        for _ in 0..Work::Gossip.per_peer() {
            assert!(limits.try_start(a, Work::Gossip));
        }
        assert!(!limits.try_start(a, Work::Gossip), "per peer");
        assert!(limits.try_start(a, Work::Serve), "other kinds are separate");
        let mut others = 0;
        while limits.try_start(PeerId::random(), Work::Gossip) {
            others += 1;
        }
        assert_eq!(others + Work::Gossip.per_peer(), Work::Gossip.total());
        limits.finish(a, Work::Gossip);
        assert!(limits.try_start(a, Work::Gossip), "a slot came back");
        assert_eq!(limits.running(Work::Gossip), Work::Gossip.total());
    }
}
