//! One reconciliation, message by message, and the batching of what it finds.

use negentropy::{Id, Negentropy};

use crate::ArchiveIndex;

/// The largest reconciliation message either side sends. Bigger differences take more
/// round trips instead of bigger messages, so a peer can never make us buffer more.
pub const FRAME_BYTES_MAX: usize = 1_000_000;

/// Why a reconciliation cannot go on. Every message comes from a peer: a malformed one
/// is an error, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The message is not valid negentropy (or not the version we speak).
    #[error("malformed reconciliation message: {0}")]
    Malformed(String),
    /// The message is over [`FRAME_BYTES_MAX`].
    #[error("reconciliation message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The exchange did not finish within the round limit.
    #[error("reconciliation did not converge within {0} rounds")]
    TooManyRounds(u32),
}

/// The result of a finished reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Ids the other side holds and we lack: to fetch.
    pub need: Vec<[u8; 32]>,
    /// Ids we hold and the other side lacks.
    pub have: Vec<[u8; 32]>,
    /// Messages we sent.
    pub rounds: u32,
}

/// What to do after a reply.
#[derive(Debug)]
pub enum Step {
    /// Send this message and wait for the reply.
    Send(Vec<u8>),
    /// Reconciliation is complete.
    Done(Outcome),
}

/// The side that starts and drives a reconciliation. Holds no borrow of the index
/// between messages, so the index can change (records arriving) while replies are
/// awaited; the next fingerprint simply reflects the newer set.
#[derive(Debug, Default)]
pub struct Initiator {
    outcome: Outcome,
    rounds_max: u32,
}

impl Initiator {
    /// Starts a reconciliation of `index`; returns the initiator and the first message.
    pub fn start(index: &ArchiveIndex, rounds_max: u32) -> Result<(Initiator, Vec<u8>), SyncError> {
        let mut negentropy = engine(index)?;
        let first = negentropy.initiate().map_err(malformed)?;
        let initiator = Initiator {
            outcome: Outcome {
                rounds: 1,
                ..Outcome::default()
            },
            rounds_max,
        };
        Ok((initiator, first))
    }

    /// Takes the other side's reply.
    pub fn step(&mut self, index: &ArchiveIndex, reply: &[u8]) -> Result<Step, SyncError> {
        if reply.len() > FRAME_BYTES_MAX {
            return Err(SyncError::TooLarge(reply.len()));
        }
        let mut negentropy = engine(index)?;
        negentropy.set_initiator();
        let mut have: Vec<Id> = Vec::new();
        let mut need: Vec<Id> = Vec::new();
        let next = negentropy
            .reconcile_with_ids(reply, &mut have, &mut need)
            .map_err(malformed)?;
        self.outcome
            .have
            .extend(have.iter().map(|id| id.to_bytes()));
        self.outcome
            .need
            .extend(need.iter().map(|id| id.to_bytes()));
        match next {
            Some(message) => {
                if self.outcome.rounds >= self.rounds_max {
                    return Err(SyncError::TooManyRounds(self.rounds_max));
                }
                self.outcome.rounds += 1;
                Ok(Step::Send(message))
            }
            None => {
                let mut outcome = std::mem::take(&mut self.outcome);
                // With a frame limit, an id can be reported in two rounds.
                outcome.need.sort_unstable();
                outcome.need.dedup();
                outcome.have.sort_unstable();
                outcome.have.dedup();
                Ok(Step::Done(outcome))
            }
        }
    }
}

/// Answers one reconciliation message about `index`.
pub fn respond(index: &ArchiveIndex, query: &[u8]) -> Result<Vec<u8>, SyncError> {
    if query.len() > FRAME_BYTES_MAX {
        return Err(SyncError::TooLarge(query.len()));
    }
    engine(index)?.reconcile(query).map_err(malformed)
}

/// Cuts `ids` into batches of at most `batch` ids, in order.
pub fn fetch_batches(ids: &[[u8; 32]], batch: usize) -> Vec<Vec<[u8; 32]>> {
    ids.chunks(batch.max(1)).map(<[_]>::to_vec).collect()
}

fn engine(index: &ArchiveIndex) -> Result<Negentropy<'_, ArchiveIndex>, SyncError> {
    Negentropy::borrowed(index, FRAME_BYTES_MAX as u64).map_err(malformed)
}

fn malformed(error: negentropy::Error) -> SyncError {
    SyncError::Malformed(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// Runs a whole reconciliation in memory; returns the outcome and the bytes sent
    /// each way.
    fn reconcile(a: &ArchiveIndex, b: &ArchiveIndex) -> (Outcome, usize) {
        let (mut initiator, mut message) = Initiator::start(a, 64).unwrap();
        let mut bytes = message.len();
        loop {
            let reply = respond(b, &message).unwrap();
            bytes += reply.len();
            match initiator.step(a, &reply).unwrap() {
                Step::Send(next) => {
                    bytes += next.len();
                    message = next;
                }
                Step::Done(outcome) => return (outcome, bytes),
            }
        }
    }

    fn id(n: u32) -> [u8; 32] {
        *blake3::hash(&n.to_le_bytes()).as_bytes()
    }

    fn index_of(set: &BTreeSet<u32>) -> ArchiveIndex {
        ArchiveIndex::from_entries(set.iter().map(|&n| (i64::from(n % 1000) * 1000, id(n))))
    }

    proptest! {
        #[test]
        fn always_finds_exactly_the_difference(
            common in proptest::collection::btree_set(0u32..100_000, 0..2000),
            only_a in proptest::collection::btree_set(100_000u32..200_000, 0..300),
            only_b in proptest::collection::btree_set(200_000u32..300_000, 0..300),
        ) {
            let a: BTreeSet<u32> = common.union(&only_a).copied().collect();
            let b: BTreeSet<u32> = common.union(&only_b).copied().collect();
            let (outcome, _) = reconcile(&index_of(&a), &index_of(&b));
            let mut need: Vec<[u8; 32]> = only_b.iter().map(|&n| id(n)).collect();
            let mut have: Vec<[u8; 32]> = only_a.iter().map(|&n| id(n)).collect();
            need.sort_unstable();
            have.sort_unstable();
            prop_assert_eq!(outcome.need, need);
            prop_assert_eq!(outcome.have, have);
        }

        #[test]
        fn garbage_from_a_peer_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let index = ArchiveIndex::from_entries((0..100u32).map(|n| (i64::from(n), id(n))));
            let _ = respond(&index, &bytes);
            let (mut initiator, _) = Initiator::start(&index, 8).unwrap();
            let _ = initiator.step(&index, &bytes);
        }
    }

    #[test]
    fn identical_archives_agree_in_one_round() {
        let set: BTreeSet<u32> = (0..50_000).collect();
        let (outcome, bytes) = reconcile(&index_of(&set), &index_of(&set));
        assert_eq!(
            outcome,
            Outcome {
                rounds: 1,
                ..Outcome::default()
            }
        );
        assert!(bytes < 2_000, "{bytes} bytes to learn nothing differs");
    }

    #[test]
    fn index_insert_and_extend_keep_order_without_duplicates() {
        let mut index = ArchiveIndex::new();
        assert!(index.insert(5, id(1)));
        assert!(!index.insert(5, id(1)));
        index.extend((0..200u32).map(|n| (i64::from(n), id(n))));
        index.extend([(5, id(1)), (-7, id(999))]);
        assert_eq!(index.len(), 202);
        assert!(index.contains(-7, &id(999)));
    }
}
