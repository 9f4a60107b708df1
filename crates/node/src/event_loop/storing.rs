//! Fetched bundles on their way into the archive. An answered fetch waits here, and
//! whatever has gathered while the archive was busy is stored together, in one
//! transaction: during a catch-up each commit rewrote every index page its records
//! touched, scattered over indexes the size of the archive, and a commit per fetched
//! batch made a full sync three times slower than importing the same records from a
//! file. The fetches go on meanwhile, within [`FETCHED_HELD_MAX`].

use std::collections::VecDeque;

use qoima_core::bundle::BundleReader;
use qoima_store::Source;

use super::*;
use crate::session::FetchOrigin;

/// Fetches asked for or answered and not yet stored, at most. New fetches wait below it
/// and below [`HELD_BYTES_MAX`]: the archive's pace is what reaches the peers.
pub(super) const FETCHED_HELD_MAX: usize = 16;
/// Bytes of answered fetches waiting or being stored, past which no fetch is asked for.
/// The check is made before asking, so answers already on the wire may take the held
/// bytes past it: fetching holds at most this plus `FETCHES_TOTAL_MAX` responses of the
/// protocol's limit (16 MiB each; an honest answer stops near 4 MiB), about 120 MiB for
/// hostile peers, a few MiB in a catch-up from honest ones.
const HELD_BYTES_MAX: usize = 24 * 1024 * 1024;
/// Bytes of fetched bundles stored in one transaction, at most (at least one bundle).
const GROUP_BYTES_MAX: usize = HELD_BYTES_MAX;

/// An answered fetch.
struct Fetched {
    peer: PeerId,
    batch: Batch,
    bytes: Vec<u8>,
}

/// Answered fetches waiting for the archive, and how many it is storing.
#[derive(Default)]
pub(super) struct FetchedQueue {
    waiting: VecDeque<Fetched>,
    storing: usize,
    /// Bytes of the group being stored.
    storing_bytes: usize,
    /// Bytes of the answers waiting and being stored.
    bytes: usize,
}

impl FetchedQueue {
    /// Answered fetches not yet stored.
    pub(super) fn held(&self) -> usize {
        self.waiting.len() + self.storing
    }

    fn push(&mut self, fetched: Fetched) {
        self.bytes += fetched.bytes.len();
        self.waiting.push_back(fetched);
    }

    /// The group being stored is done with.
    fn stored(&mut self) {
        self.bytes = self
            .bytes
            .saturating_sub(std::mem::take(&mut self.storing_bytes));
        self.storing = 0;
    }

    /// The next group to store: the oldest answers, up to [`GROUP_BYTES_MAX`] together;
    /// none while a group is being stored.
    fn next_group(&mut self) -> Vec<Fetched> {
        if self.storing > 0 {
            return Vec::new();
        }
        let mut group = Vec::new();
        let mut bytes = 0;
        while let Some(next) = self.waiting.front() {
            if !group.is_empty() && bytes + next.bytes.len() > GROUP_BYTES_MAX {
                break;
            }
            bytes += next.bytes.len();
            group.extend(self.waiting.pop_front());
        }
        self.storing = group.len();
        self.storing_bytes = bytes;
        group
    }
}

/// What storing one fetched bundle did: its report, and the ids asked for that it did
/// not carry.
pub(super) type Stored = (ImportReport, Vec<[u8; 32]>);

impl EventLoop {
    /// True while nothing is being reconciled, fetched or stored: the time for work that
    /// would hold up a catch-up on the archive's one thread. Between two sessions of a
    /// catch-up nothing is fetched for a moment, but the next session is already
    /// reconciling, and its check of what it found waits on the archive.
    pub(super) fn fetching_paused(&self) -> bool {
        self.nothing_fetched() && !self.sync.values().any(PeerSync::is_busy)
    }

    /// True while no fetch is on the wire or waiting to be stored. Weaker than
    /// [`EventLoop::fetching_paused`]: a peer whose sessions reconcile slowly (a phone
    /// link) or never stop must not keep the archive from being indexed for ever, so the
    /// housekeeping tick indexes on this.
    pub(super) fn nothing_fetched(&self) -> bool {
        self.fetches_in_flight == 0 && self.fetched.held() == 0
    }

    /// Whether another fetch may be asked for now.
    pub(super) fn may_fetch(&self) -> bool {
        self.fetches_in_flight < syncing::FETCHES_TOTAL_MAX
            && self.fetches_in_flight + self.fetched.held() < FETCHED_HELD_MAX
            && self.fetched.bytes < HELD_BYTES_MAX
    }

    /// Queues an answered fetch for the archive.
    pub(super) fn hold_fetched(&mut self, peer: PeerId, batch: Batch, bytes: Vec<u8>) {
        self.fetched.push(Fetched { peer, batch, bytes });
        self.store_fetched();
    }

    /// Stores what has gathered, unless a group is being stored already.
    fn store_fetched(&mut self) {
        let group = self.fetched.next_group();
        if group.is_empty() {
            return;
        }
        let mut asked = Vec::with_capacity(group.len());
        let mut bundles = Vec::with_capacity(group.len());
        for Fetched { peer, batch, bytes } in group {
            bundles.push((bytes, Source::Peer(peer.to_string()), batch.ids.clone()));
            asked.push((peer, batch));
        }
        self.spawn_store(
            move |s| {
                let started = std::time::Instant::now();
                let leftovers: Vec<Vec<[u8; 32]>> = bundles
                    .iter()
                    .map(|(bytes, _, ids)| not_carried(bytes, ids))
                    .collect();
                let reports = s.import_network_bundles(
                    bundles
                        .iter()
                        .map(|(bytes, source, _)| (&bytes[..], source.clone()))
                        .collect(),
                )?;
                debug!(
                    bundles = reports.len(),
                    new = reports.iter().map(|r| r.records_new).sum::<u64>(),
                    took_ms = started.elapsed().as_millis() as u64,
                    "fetched records stored"
                );
                Ok(reports.into_iter().zip(leftovers).collect())
            },
            move |result| Internal::Stored { asked, result },
        );
    }

    pub(super) fn on_stored(
        &mut self,
        asked: Vec<(PeerId, Batch)>,
        result: Result<Vec<Stored>, StoreError>,
    ) {
        self.fetched.stored();
        match result {
            Ok(stored) => {
                for ((peer, batch), stored) in asked.into_iter().zip(stored) {
                    self.on_imported(peer, batch, stored);
                }
            }
            Err(e) => {
                // This node's failure, not the peers': no strike.
                warn!("storing fetched records failed: {e}");
                for (peer, batch) in asked {
                    if let Some(sync) = self.sync.get_mut(&peer) {
                        sync.import_failed(batch.origin);
                    }
                }
            }
        }
        self.store_fetched();
        self.pump_fetches();
    }

    fn on_imported(&mut self, peer: PeerId, batch: Batch, (report, leftover): Stored) {
        let new_records = report.records_new;
        self.book.info(peer).received += new_records;
        self.book.info(peer).declined += report.declined_ids.len() as u64;
        if let Some(fault) = report.sender_fault() {
            self.strike(
                peer,
                &format!("sent a bundle that failed verification: {fault}"),
            );
        }
        if new_records > 0 {
            self.poll_store();
        }
        if batch.origin == FetchOrigin::Announcement {
            if new_records == 0 && report.declined_ids.is_empty() {
                self.book.useless(peer);
            } else {
                // Pass the news on, as ids of records this node now holds and verified.
                let not_passed_on: HashSet<[u8; 32]> = leftover
                    .iter()
                    .copied()
                    .chain(report.declined_ids.iter().map(|id| id.0))
                    .collect();
                let ids: Vec<[u8; 32]> = batch
                    .ids
                    .iter()
                    .filter(|id| !not_passed_on.contains(*id))
                    .copied()
                    .collect();
                self.publish(vec![GossipMessage::Announce { ids }]);
            }
        }
        // Progress is an id asked for that came: a peer answering with records nobody
        // asked for would otherwise be asked the same ids for ever.
        let progressed = leftover.len() < batch.ids.len();
        if let Some(sync) = self.sync.get_mut(&peer) {
            sync.fetched(batch.origin, new_records, progressed, leftover);
        }
    }
}

/// The ids asked for that the bundle does not list, to be asked for again: the responder
/// stops at a size target.
fn not_carried(bundle: &[u8], asked: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let listed: HashSet<[u8; 32]> = match BundleReader::open(bundle) {
        Ok(reader) => reader.manifest().items.iter().map(|i| i.hash).collect(),
        Err(_) => HashSet::new(),
    };
    asked
        .iter()
        .filter(|id| !listed.contains(*id))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(bytes: usize) -> Fetched {
        Fetched {
            peer: PeerId::random(),
            batch: Batch {
                origin: FetchOrigin::Session(1),
                ids: Vec::new(),
                refusals: 0,
                asked_at: None,
            },
            bytes: vec![0; bytes],
        }
    }

    #[test]
    fn a_group_takes_what_waits_up_to_its_byte_bound_and_one_group_at_a_time() {
        let mut queue = FetchedQueue::default();
        assert!(queue.next_group().is_empty(), "nothing waits");
        for _ in 0..5 {
            queue.push(fetched(GROUP_BYTES_MAX / 4));
        }
        assert_eq!(queue.next_group().len(), 4, "four fit the bound");
        assert_eq!(queue.held(), 5);
        assert!(
            queue.next_group().is_empty(),
            "none while a group is stored"
        );
        queue.stored();
        assert_eq!(queue.bytes, GROUP_BYTES_MAX / 4);
        assert_eq!(queue.next_group().len(), 1);
        queue.stored();
        assert_eq!((queue.held(), queue.bytes), (0, 0));
        queue.push(fetched(GROUP_BYTES_MAX * 2));
        queue.push(fetched(1));
        assert_eq!(
            queue.next_group().len(),
            1,
            "a bundle over the bound goes alone"
        );
    }
}
