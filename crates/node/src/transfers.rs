//! Which attachments to fetch, in what order, from whom: the bookkeeping of transfers,
//! without I/O (the event loop's `fetching.rs` does the sending and storing).
//!
//! * **Order.** Attachments someone asked for (`qoima fetch`) first; then small ones
//!   (photos, thumbnails: up to [`SMALL_BLOB`]) before large media; within a class
//!   those already partly here, then the newest, then the smallest.
//! * **Fairness.** At most [`ACTIVE_MAX`] transfers run at once, and a second transfer
//!   of the same author starts only when no other author's attachment waits, so one
//!   author's hours of video cannot hold the whole window.
//! * **Ranges.** A transfer's missing groups are cut into ranges of [`RANGE_GROUPS`]
//!   groups (1 MiB), handed to peers [`PER_PEER_IN_FLIGHT`] at a time each. A range
//!   that fails (timeout, closed connection, bad bytes) goes back to the queue and is
//!   asked of another peer; a peer that answered "not held" or sent bad bytes is not
//!   asked again for that attachment. When nothing is left to hand out, a range still in
//!   flight at one peer is also asked of an idle one (the end game), so one slow peer
//!   does not hold up the last megabyte.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use qoima_core::BlobHash;
use qoima_net::libp2p::PeerId;
use qoima_store::WantedBlob;

/// Transfers running at once.
pub const ACTIVE_MAX: usize = 4;
/// Groups per range request: 1 MiB.
pub const RANGE_GROUPS: u64 = 64;
/// Ranges one peer is asked for at once, per transfer.
pub const PER_PEER_IN_FLIGHT: usize = 4;
/// Attachments up to this size are "small" and go before large media.
pub const SMALL_BLOB: u64 = 1024 * 1024;
/// Attachments asked for explicitly and remembered until fetched.
pub const ASKED_MAX: usize = 1024;

/// What a node fetches without being asked: saved in the archive, beside the acceptance
/// policy.
pub use qoima_store::BlobPolicy;

/// Sorts candidates into the order they should be fetched.
pub fn order(candidates: &mut [WantedBlob], asked: &HashSet<BlobHash>) {
    candidates.sort_by_key(|c| {
        (
            !asked.contains(&c.hash),
            c.size > SMALL_BLOB,
            c.have == 0,
            std::cmp::Reverse(c.created_ms),
            c.size,
        )
    });
}

/// The next attachment to start: the first in `ordered` that policy allows and is not
/// running, preferring one whose author has nothing running.
pub fn pick<'a>(
    ordered: &'a [WantedBlob],
    running: &HashMap<BlobHash, [u8; 32]>,
    asked: &HashSet<BlobHash>,
    policy: &BlobPolicy,
    held_bytes: u64,
) -> Option<&'a WantedBlob> {
    let allowed = |c: &&WantedBlob| {
        !running.contains_key(&c.hash)
            && (asked.contains(&c.hash) || c.size <= policy.fetch_up_to)
            && policy
                .quota
                .is_none_or(|quota| held_bytes.saturating_add(c.size) <= quota)
    };
    let busy_authors: HashSet<&[u8; 32]> = running.values().collect();
    ordered
        .iter()
        .filter(allowed)
        .find(|c| !busy_authors.contains(&c.author))
        .or_else(|| ordered.iter().find(allowed))
}

/// A range of groups: (first, count).
pub type Range = (u64, u64);

/// One attachment being fetched: which ranges wait, which are out, who lacks it.
#[derive(Debug)]
pub struct Plan {
    pending: VecDeque<Range>,
    in_flight: Vec<(Range, PeerId)>,
    lacking: HashSet<PeerId>,
    /// Bytes received this run, and when: for the rate shown in `qoima status`.
    recent: VecDeque<(Instant, u64)>,
}

impl Plan {
    /// A plan for the missing runs of groups `missing`.
    pub fn new(missing: &[Range]) -> Plan {
        let mut pending = VecDeque::new();
        for &(first, count) in missing {
            let mut at = first;
            while at < first + count {
                let n = RANGE_GROUPS.min(first + count - at);
                pending.push_back((at, n));
                at += n;
            }
        }
        Plan {
            pending,
            in_flight: Vec::new(),
            lacking: HashSet::new(),
            recent: VecDeque::new(),
        }
    }

    /// Whether nothing waits and nothing is out.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty() && self.in_flight.is_empty()
    }

    /// Whether `peer` might have the attachment.
    pub fn may_ask(&self, peer: &PeerId) -> bool {
        !self.lacking.contains(peer)
    }

    /// The peers asked for something now.
    pub fn peers(&self) -> HashSet<PeerId> {
        self.in_flight.iter().map(|(_, p)| *p).collect()
    }

    /// The next range to ask `peer` for, if it may be asked and has room.
    pub fn next_for(&mut self, peer: PeerId) -> Option<Range> {
        if self.lacking.contains(&peer) {
            return None;
        }
        let out = self.in_flight.iter().filter(|(_, p)| *p == peer).count();
        if out >= PER_PEER_IN_FLIGHT {
            return None;
        }
        let range = match self.pending.pop_front() {
            Some(range) => range,
            // The end game: a range out at another peer, asked of nobody else yet.
            None if out == 0 => {
                let duplicated =
                    |r: &Range| self.in_flight.iter().filter(|(x, _)| x == r).count() > 1;
                self.in_flight
                    .iter()
                    .map(|(r, _)| *r)
                    .find(|r| !duplicated(r))?
            }
            None => return None,
        };
        self.in_flight.push((range, peer));
        Some(range)
    }

    /// A range came back verified and stored (from whichever peer answered first).
    pub fn done(&mut self, range: Range, new_bytes: u64) {
        self.in_flight.retain(|(r, _)| *r != range);
        self.pending.retain(|r| *r != range);
        let now = Instant::now();
        self.recent.push_back((now, new_bytes));
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// The range `peer` was asked for did not come: back in the queue unless another
    /// peer has it out too. `lacks`: the peer does not have the attachment (or sent
    /// bad bytes), so it is not asked again.
    pub fn failed(&mut self, range: Range, peer: PeerId, lacks: bool) {
        if let Some(at) = self.in_flight.iter().position(|x| *x == (range, peer)) {
            self.in_flight.swap_remove(at);
            let still_out = self.in_flight.iter().any(|(r, _)| *r == range);
            if !still_out && !self.pending.contains(&range) {
                self.pending.push_front(range);
            }
        }
        if lacks {
            self.lacking.insert(peer);
        }
    }

    /// A peer went away: whatever it had out goes back in the queue.
    pub fn forget_peer(&mut self, peer: &PeerId) {
        let lost: Vec<Range> = self
            .in_flight
            .iter()
            .filter(|(_, p)| p == peer)
            .map(|(r, _)| *r)
            .collect();
        for range in lost {
            self.failed(range, *peer, false);
        }
        // It may come back with the attachment; asking again costs one answer.
        self.lacking.remove(peer);
    }

    /// Bytes per second over the last few seconds.
    pub fn rate(&self) -> u64 {
        let bytes: u64 = self.recent.iter().map(|(_, n)| n).sum();
        bytes / RATE_WINDOW.as_secs()
    }
}

const RATE_WINDOW: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(n: u8, size: u64, created_ms: i64, author: u8, have: u64) -> WantedBlob {
        WantedBlob {
            hash: BlobHash([n; 32]),
            size,
            created_ms,
            author: [author; 32],
            have,
        }
    }

    #[test]
    fn asked_then_small_then_partial_then_newest_then_smallest() {
        let mut list = vec![
            wanted(1, 500 << 20, 9, 1, 0), // large, newest
            wanted(2, 10_000, 1, 1, 0),    // small, old
            wanted(3, 20_000, 5, 1, 0),    // small, newer
            wanted(4, 900 << 20, 1, 1, 5), // large, partly here
            wanted(5, 700 << 20, 1, 1, 0), // large, old, asked for
            wanted(6, 5_000, 5, 1, 0),     // small, as new as 3, smaller
        ];
        let asked = HashSet::from([BlobHash([5; 32])]);
        order(&mut list, &asked);
        let order: Vec<u8> = list.iter().map(|c| c.hash.0[0]).collect();
        assert_eq!(order, [5, 6, 3, 2, 4, 1]);
    }

    #[test]
    fn another_author_goes_first_and_policy_holds() {
        let list = vec![
            wanted(1, 1000, 9, 1, 0),
            wanted(2, 1000, 8, 1, 0),
            wanted(3, 1000, 7, 2, 0),
            wanted(4, 10_000, 6, 3, 0),
        ];
        let running = HashMap::from([(BlobHash([1; 32]), [1; 32])]);
        let policy = BlobPolicy::default();
        let none = HashSet::new();
        // Author 1 already has a transfer: author 2's goes first.
        assert_eq!(
            pick(&list, &running, &none, &policy, 0).unwrap().hash.0[0],
            3
        );
        // Over the automatic size: only if asked for.
        let small = BlobPolicy {
            fetch_up_to: 999,
            ..policy
        };
        assert!(pick(&list, &running, &none, &small, 0).is_none());
        let asked = HashSet::from([BlobHash([4; 32])]);
        assert_eq!(
            pick(&list, &running, &asked, &small, 0).unwrap().hash.0[0],
            4
        );
        // The quota stops everything that does not fit.
        let quota = BlobPolicy {
            quota: Some(5_000),
            ..policy
        };
        assert_eq!(
            pick(&list, &running, &none, &quota, 3_500).unwrap().hash.0[0],
            3
        );
        assert!(pick(&list, &running, &none, &quota, 4_500).is_none());
    }

    #[test]
    fn ranges_spread_over_peers_and_come_back_when_they_fail() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut plan = Plan::new(&[(0, 100), (200, 10)]);
        assert_eq!(plan.next_for(a), Some((0, 64)));
        assert_eq!(plan.next_for(b), Some((64, 36)));
        assert_eq!(plan.next_for(a), Some((200, 10)));
        // Nothing pending; a has ranges out, so no end game for it.
        assert_eq!(plan.next_for(a), None);
        // b sent bad bytes: its range goes back, and b is not asked again.
        plan.failed((64, 36), b, true);
        assert_eq!(plan.next_for(b), None);
        assert_eq!(plan.next_for(a), Some((64, 36)));
        plan.done((0, 64), 64 << 14);
        plan.done((200, 10), 10 << 14);
        // a vanished: its range waits for someone else.
        plan.forget_peer(&a);
        let c = PeerId::random();
        assert_eq!(plan.next_for(c), Some((64, 36)));
        // The end game: an idle peer gets the range c has out.
        let d = PeerId::random();
        assert_eq!(plan.next_for(d), Some((64, 36)));
        assert_eq!(
            plan.next_for(PeerId::random()),
            None,
            "asked of two already"
        );
        plan.done((64, 36), 36 << 14);
        assert!(plan.is_done());
    }
}
