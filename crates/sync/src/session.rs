//! One reconciliation, message by message, and the batching of what it finds.
//!
//! How a large difference is split into sessions, and why that converges, is told in the
//! crate docs.

use negentropy::{FINGERPRINT_SIZE, ID_SIZE, Id, Negentropy, NegentropyStorageBase};

use crate::extension::{
    self, EXTENSION_BYTES_MAX, EstimateReply, Request, SYMBOLS_MAX, SYMBOLS_PER_REPLY_MAX,
};
use crate::sketch::{self, Decoder, Hashed, SALT_BYTES, SKETCH_ITEMS_MAX, SYMBOL_BYTES, Salt};
use crate::{ArchiveIndex, Position, estimate, spread};

/// The largest reconciliation message either side sends. Bigger differences take more
/// round trips instead of bigger messages, so a peer can never make us buffer more.
pub const FRAME_BYTES_MAX: usize = 1_000_000;

// negentropy refuses frame limits under 4096 bytes; the engine is built with this one.
const _: () = assert!(FRAME_BYTES_MAX >= 4096);

/// The most ids one reply can list: every listed id takes 32 bytes of the frame. One
/// reply adds at most this many ids to [`Outcome::need`].
pub const IDS_PER_REPLY_MAX: usize = FRAME_BYTES_MAX / ID_SIZE;

/// Why a peer's message cannot be used. Every variant is a fault of the bytes the peer
/// sent, never of the size of its archive: any `SyncError` is a fair reason to strike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The message is not valid negentropy (or not the version we speak).
    #[error("malformed reconciliation message: {0}")]
    Malformed(String),
    /// The message is over [`FRAME_BYTES_MAX`].
    #[error("reconciliation message of {0} bytes exceeds the limit")]
    TooLarge(usize),
}

/// How much one session may do before it stops and reports what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Messages the initiator sends (at least one). See the [crate docs](crate) for how
    /// many a session needs to make progress.
    pub rounds_max: u32,
    /// Ids to fetch a session may report: once one more reply could take
    /// [`Outcome::need`] past this, the session stops (if it has found anything). So
    /// `need` holds at most `max(need_max, IDS_PER_REPLY_MAX)` ids.
    pub need_max: usize,
}

/// The result of a session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Ids the other side holds and we lack: to fetch. Sorted, without duplicates.
    pub need: Vec<[u8; 32]>,
    /// Ids we hold and the other side lacks (as far as the session got). Sorted,
    /// without duplicates.
    pub have: Vec<[u8; 32]>,
    /// Messages we sent.
    pub rounds: u32,
    /// True when everything from the session's start position up was reconciled: once
    /// `need` (and that of the sessions of this pass before it) is fetched, we hold all
    /// the other side held. False when the session stopped at a limit, which is no
    /// fault of the peer: fetch `need`, then start another session from `resume`.
    pub complete: bool,
    /// Where the next session starts: [`Position::START`] after a complete session (a
    /// new pass), else the end of what this pass has settled. Never below the session's
    /// own start.
    pub resume: Position,
    /// True when a sketch found the difference (it was scattered over the archive).
    pub sketched: bool,
}

/// What to do after a reply.
#[derive(Debug)]
pub enum Step {
    /// Send this message and wait for the reply.
    Send(Vec<u8>),
    /// The session is over; the initiator is spent.
    Done(Outcome),
}

/// The side that starts and drives a session. Holds no borrow of the index between
/// messages, so the index can change (records arriving) while replies are awaited; the
/// next fingerprint simply reflects the newer set (a sketch works on the snapshot it
/// took, which is consistent in itself).
#[derive(Debug)]
pub struct Initiator {
    outcome: Outcome,
    from: Position,
    limits: Limits,
    /// Ids reported as needed, before removing those reported twice.
    need_reported: usize,
    /// [`FRAME_BYTES_MAX`], but for tests that need many small rounds.
    frame: usize,
    salt: Salt,
    stage: Stage,
}

/// Where a session is.
#[derive(Debug)]
enum Stage {
    /// The first message is out; its reply carries the estimate.
    AwaitingEstimate,
    /// Range-based reconciliation (negentropy).
    Ranges,
    /// Asking for coded symbols until the difference decodes.
    Sketch(Box<SketchRun>),
}

impl Initiator {
    /// Starts a session over `index` from `from` (everything below it is taken as
    /// settled: pass [`Position::START`], or the [`Outcome::resume`] of the session
    /// before); returns the initiator and the first message. The sketch's salt is
    /// derived from the index and `from`, so anyone who knows the archive can predict
    /// it (and prepare ids whose 64-bit checksums collide, with about 2^32 work, to make
    /// sketches fail over to ranges); a node passes a random one
    /// ([`Initiator::start_salted`]).
    pub fn start(index: &ArchiveIndex, from: &Position, limits: Limits) -> (Initiator, Vec<u8>) {
        Self::start_salted(index, from, limits, derived_salt(index, from))
    }

    /// As [`Initiator::start`], with the salt every hash of the session's sketch is
    /// keyed by.
    pub fn start_salted(
        index: &ArchiveIndex,
        from: &Position,
        limits: Limits,
        salt: Salt,
    ) -> (Initiator, Vec<u8>) {
        Self::start_framed(index, from, limits, FRAME_BYTES_MAX, salt)
    }

    fn start_framed(
        index: &ArchiveIndex,
        from: &Position,
        limits: Limits,
        frame: usize,
        salt: Salt,
    ) -> (Initiator, Vec<u8>) {
        // Building a resuming first message fails only on a bug in this crate; a
        // whole-index reconciliation is always right, merely slower.
        let first = Some(from)
            .filter(|from| **from != Position::START)
            .and_then(|from| first_message_from(index, from, frame))
            .unwrap_or_else(|| engine_initiated(index, frame));
        let initiator = Initiator {
            outcome: Outcome {
                rounds: 1,
                ..Outcome::default()
            },
            from: *from,
            limits,
            need_reported: 0,
            frame,
            salt,
            stage: Stage::AwaitingEstimate,
        };
        (initiator, extension::estimate_request(&salt, from, &first))
    }

    /// Takes the other side's reply.
    pub fn step(&mut self, index: &ArchiveIndex, reply: &[u8]) -> Result<Step, SyncError> {
        if reply.len() > self.frame + EXTENSION_BYTES_MAX {
            return Err(SyncError::TooLarge(reply.len()));
        }
        match std::mem::replace(&mut self.stage, Stage::Ranges) {
            Stage::AwaitingEstimate => {
                let estimate = extension::parse_estimate_reply(reply)?;
                let Some(next) = self.ranges_step(index, estimate.negentropy)? else {
                    return Ok(Step::Done(self.finish(true, Position::START)));
                };
                match self.plan_sketch(index, &estimate, next) {
                    Ok(run) => self.ask_symbols(run),
                    Err(next) => self.send_ranges(next),
                }
            }
            Stage::Ranges => match self.ranges_step(index, reply)? {
                None => Ok(Step::Done(self.finish(true, Position::START))),
                Some(next) => self.send_ranges(next),
            },
            Stage::Sketch(mut run) => {
                let Some(symbols) = extension::parse_symbols_reply(reply, run.asked)? else {
                    // The responder declined (its archive grew past what it sketches):
                    // no fault; ranges take over.
                    return self.send_ranges(run.fallback);
                };
                run.decoder.receive(&symbols);
                if run.decoder.is_decoded() {
                    return Ok(Step::Done(self.finish_sketch(&run)));
                }
                if run.decoder.received() >= run.cap || run.decoder.is_inconsistent() {
                    // Not decodable within what an honest peer needs (the estimate was
                    // far off, or the responder's archive changed between requests):
                    // range-based reconciliation takes it from the reply to the first
                    // message, as if the sketch had not been tried.
                    return self.send_ranges(run.fallback);
                }
                self.ask_symbols(run)
            }
        }
    }

    /// Feeds a negentropy reply to the engine; returns its next message, if any.
    fn ranges_step(
        &mut self,
        index: &ArchiveIndex,
        reply: &[u8],
    ) -> Result<Option<Vec<u8>>, SyncError> {
        if reply.len() > self.frame {
            return Err(SyncError::TooLarge(reply.len()));
        }
        let mut negentropy = engine(index, self.frame);
        negentropy.set_initiator();
        let mut have: Vec<Id> = Vec::new();
        let mut need: Vec<Id> = Vec::new();
        let next = negentropy
            .reconcile_with_ids(reply, &mut have, &mut need)
            .map_err(malformed)?;
        self.need_reported += need.len();
        self.outcome
            .have
            .extend(have.iter().map(|id| id.to_bytes()));
        self.outcome
            .need
            .extend(need.iter().map(|id| id.to_bytes()));
        Ok(next)
    }

    /// Sends the next negentropy message, or stops at a limit.
    fn send_ranges(&mut self, message: Vec<u8>) -> Result<Step, SyncError> {
        self.stage = Stage::Ranges;
        let out_of_rounds = self.outcome.rounds >= self.limits.rounds_max;
        // Stop only once something was found, so a session that finds nothing still
        // uses its rounds to move the position forward.
        let out_of_room = self.need_reported > 0
            && self.need_reported.saturating_add(self.frame / ID_SIZE) > self.limits.need_max;
        if out_of_rounds || out_of_room {
            // The message we will not send skips what is settled; a message that starts
            // with an open range settles nothing new.
            let settled = Position::settled_by(&message).unwrap_or(self.from);
            return Ok(Step::Done(self.finish(false, settled.max(self.from))));
        }
        self.outcome.rounds += 1;
        Ok(Step::Send(message))
    }

    /// Decides from the first reply whether a sketch is worth it; gives the negentropy
    /// message back when it is not. See [`crate::spread`] and [`crate::estimate`].
    fn plan_sketch(
        &self,
        index: &ArchiveIndex,
        estimate: &EstimateReply<'_>,
        next: Vec<u8>,
    ) -> Result<Box<SketchRun>, Vec<u8>> {
        // Cheap checks first: the sizes, then the rounds, then the spread; only then
        // is anything hashed.
        let records = index.count_from(&self.from);
        if records > SKETCH_ITEMS_MAX || estimate.count > SKETCH_ITEMS_MAX as u64 {
            return Err(next);
        }
        // A sketch needs a round for its symbols and one to spare if the estimate was
        // low, and must leave ranges enough rounds to settle something should it not
        // decode; with fewer, the session could end where it began, and the next the same.
        if self.limits.rounds_max < self.outcome.rounds + 2 + ranges_rounds(records) {
            return Err(next);
        }
        let spread = spread::differing_ranges(index, estimate.negentropy).unwrap_or(0);
        if spread < SPREAD_MIN {
            return Err(next);
        }
        let local = hashed_from(index, &self.from, &self.salt);
        let difference = estimate::difference(&estimate::sums(&local), &estimate.sums);
        // Ranges list whole small ranges: near the difference's size when it is most
        // of the archive (a node far behind), about twenty ids per differing id when it
        // is sparse. A sketch costs about 1.4 symbols of 42 bytes per differing id
        // wherever they are: the cheaper one while the difference is under about half
        // the records.
        let records = records.max(estimate.count as usize) as f64;
        if difference > f64::from(SKETCH_DIFFERENCE_MAX) || difference > SKETCH_SHARE_MAX * records
        {
            return Err(next);
        }
        let first = (1.5 * difference).ceil() as u64 + 32;
        Ok(Box::new(SketchRun {
            decoder: Decoder::new(sketch::session_key(&self.salt), local),
            fallback: next,
            cap: (4.0 * difference).ceil() as u64 + 1024,
            next: first,
            asked: 0,
        }))
    }

    /// Asks for the next symbols (`run.next` of them), or stops at the round limit.
    fn ask_symbols(&mut self, mut run: Box<SketchRun>) -> Result<Step, SyncError> {
        // Ranges must keep the rounds to settle something if the sketch fails.
        let left = self.limits.rounds_max.saturating_sub(self.outcome.rounds);
        if left < 1 + ranges_rounds(run.decoder.local_len()) {
            return self.send_ranges(run.fallback);
        }
        let first = run.decoder.received();
        let per_reply = (self.frame / SYMBOL_BYTES).min(SYMBOLS_PER_REPLY_MAX) as u64;
        // Never past SYMBOLS_MAX: the cap stays far below it (asserted below).
        let count = run
            .next
            .min(per_reply)
            .min(SYMBOLS_MAX.saturating_sub(first))
            .max(1) as usize;
        let message = extension::symbols_request(&self.salt, &self.from, first, count);
        run.asked = count;
        // Each later request adds a quarter of what came before: a low estimate costs a
        // round trip more, not twice the bytes.
        run.next = (first + count as u64).div_ceil(4).max(64);
        self.stage = Stage::Sketch(run);
        self.outcome.rounds += 1;
        Ok(Step::Send(message))
    }

    fn finish_sketch(&mut self, run: &SketchRun) -> Outcome {
        let (theirs, ours) = run.decoder.difference();
        // Only a responder that makes symbols up can name an id we hold as one we lack
        // (or the reverse); such ids are dropped, not fetched or offered.
        let mut local: Vec<[u8; 32]> = run.decoder.local_ids().collect();
        local.sort_unstable();
        let held = |id: &[u8; 32]| local.binary_search(id).is_ok();
        self.outcome
            .need
            .extend(theirs.into_iter().filter(|id| !held(id)));
        self.outcome.have.extend(ours.into_iter().filter(held));
        self.outcome.sketched = true;
        let mut outcome = self.finish(true, Position::START);
        // A difference larger than one session may report (only when the estimate was
        // far off): the rest is found by the next session.
        if outcome.need.len() > self.limits.need_max.max(IDS_PER_REPLY_MAX) {
            outcome
                .need
                .truncate(self.limits.need_max.max(IDS_PER_REPLY_MAX));
            outcome.complete = false;
            outcome.resume = self.from;
        }
        outcome
    }

    fn finish(&mut self, complete: bool, resume: Position) -> Outcome {
        let mut outcome = std::mem::take(&mut self.outcome);
        // With a frame limit, an id can be reported in two rounds; the sketch reports
        // again what the first reply listed.
        outcome.need.sort_unstable();
        outcome.need.dedup();
        outcome.have.sort_unstable();
        outcome.have.dedup();
        outcome.complete = complete;
        outcome.resume = resume;
        outcome
    }
}

/// A sketch in progress.
#[derive(Debug)]
struct SketchRun {
    decoder: Decoder,
    /// The negentropy message to go on with if the sketch does not decode.
    fallback: Vec<u8>,
    /// Symbols after which the sketch is given up.
    cap: u64,
    /// Symbols to ask for next.
    next: u64,
    /// Symbols asked for in the request in flight.
    asked: usize,
}

/// Rounds range-based reconciliation needs to settle at least its first range over
/// `records` (the crate docs): `2 + log16(records)`.
fn ranges_rounds(records: usize) -> u32 {
    let mut rounds = 2;
    let mut reach = 16usize;
    while reach < records {
        reach = reach.saturating_mul(16);
        rounds += 1;
    }
    rounds
}

/// The largest cap a sketch can have, plus one reply: within [`SYMBOLS_MAX`], so an
/// honest initiator never asks past it.
const _: () =
    assert!(4 * SKETCH_DIFFERENCE_MAX as u64 + 1024 + SYMBOLS_PER_REPLY_MAX as u64 <= SYMBOLS_MAX);

/// Differing ranges in the first reply from which a difference counts as scattered: with
/// 16 top-level ranges split 16 ways, an eighth of the second level.
const SPREAD_MIN: usize = 32;
/// The share of the records above which a difference is listed by ranges rather than
/// sketched (see `plan_sketch`).
const SKETCH_SHARE_MAX: f64 = 0.5;
/// Estimated differences up to which a sketch is tried: about 28,000 symbols (1.2 MB).
/// Bigger ones take several sessions anyway, which only range-based reconciliation can
/// resume.
const SKETCH_DIFFERENCE_MAX: u32 = 20_000;

/// The salt of a session started without one: a hash of the index's size, its last
/// record and `from`, so it changes as the archive does.
fn derived_salt(index: &ArchiveIndex, from: &Position) -> Salt {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(index.len() as u64).to_le_bytes());
    if let Some(last) = index.ids_from(&Position::START).last() {
        hasher.update(last);
    }
    let mut bound = Vec::new();
    from.write(&mut bound);
    hasher.update(&bound);
    let mut salt = [0; SALT_BYTES];
    salt.copy_from_slice(&hasher.finalize().as_bytes()[..SALT_BYTES]);
    salt
}

/// The first message of a session that skips what lies below `from`. negentropy's own
/// first message always covers the whole index, so the initiator is handed a made-up
/// reply saying "below `from` is settled, above it differs", and answers it with exactly
/// such a message: a skip, then its split of the rest.
fn first_message_from(index: &ArchiveIndex, from: &Position, frame: usize) -> Option<Vec<u8>> {
    let size = index.len();
    let lower = index.find_lower_bound(0, size, &from.bound());
    let mut not_ours: [u8; FINGERPRINT_SIZE] = index.fingerprint(lower, size).ok()?.to_bytes();
    not_ours[0] ^= 1;
    let mut negentropy = engine(index, frame);
    negentropy.set_initiator();
    let (mut have, mut need) = (Vec::new(), Vec::new());
    negentropy
        .reconcile_with_ids(&from.skip_to_then_differ(&not_ours), &mut have, &mut need)
        .ok()
        .flatten()
}

/// A negentropy engine over `index` cutting messages at `frame` bytes: [`FRAME_BYTES_MAX`]
/// (checked at compile time) or a test's smaller frame, never under 4096.
fn engine(index: &ArchiveIndex, frame: usize) -> Negentropy<'_, ArchiveIndex> {
    Negentropy::borrowed(index, frame as u64)
        .expect("negentropy accepts any frame limit from 4096 bytes")
}

fn engine_initiated(index: &ArchiveIndex, frame: usize) -> Vec<u8> {
    engine(index, frame)
        .initiate()
        .expect("a new engine has not initiated yet")
}

/// Answers one reconciliation message about `index`.
pub fn respond(index: &ArchiveIndex, query: &[u8]) -> Result<Vec<u8>, SyncError> {
    respond_framed(index, query, FRAME_BYTES_MAX)
}

fn respond_framed(index: &ArchiveIndex, query: &[u8], frame: usize) -> Result<Vec<u8>, SyncError> {
    if query.len() > frame + EXTENSION_BYTES_MAX {
        return Err(SyncError::TooLarge(query.len()));
    }
    match extension::parse_request(query)? {
        Request::Negentropy(message) => ranges_reply(index, message, frame),
        Request::Estimate {
            salt,
            from,
            negentropy,
        } => {
            let reply = ranges_reply(index, negentropy, frame)?;
            let count = index.count_from(&from);
            // The sums serve only a sketch, and an initiator sketches only when this
            // reply describes at least SPREAD_MIN ranges by fingerprint and neither
            // side holds more than SKETCH_ITEMS_MAX records; otherwise they are zeros,
            // which costs nothing to compute.
            let worth_it = count <= SKETCH_ITEMS_MAX
                && spread::fingerprint_ranges(&reply).is_some_and(|n| n >= SPREAD_MIN);
            let sums = if worth_it {
                estimate::sums(&hashed_from(index, &from, &salt))
            } else {
                [0; estimate::SUMS]
            };
            Ok(extension::estimate_reply(count, &sums, &reply))
        }
        Request::Symbols {
            salt,
            from,
            first,
            count,
        } => {
            // Bounded work: past SKETCH_ITEMS_MAX records the request is declined with
            // an empty reply (an honest initiator may ask just as records arrive here).
            if index.count_from(&from) > SKETCH_ITEMS_MAX {
                return Ok(extension::symbols_reply(&[]));
            }
            let items = hashed_from(index, &from, &salt);
            Ok(extension::symbols_reply(&sketch::encode(
                &items, first, count,
            )))
        }
    }
}

fn ranges_reply(index: &ArchiveIndex, message: &[u8], frame: usize) -> Result<Vec<u8>, SyncError> {
    if message.len() > frame {
        return Err(SyncError::TooLarge(message.len()));
    }
    engine(index, frame).reconcile(message).map_err(malformed)
}

/// The records at `from` and above, hashed under the session's salt.
fn hashed_from(index: &ArchiveIndex, from: &Position, salt: &Salt) -> Vec<Hashed> {
    let key = sketch::session_key(salt);
    index
        .ids_from(from)
        .map(|id| Hashed::new(id, &key))
        .collect()
}

/// Cuts `ids` into batches of at most `batch` ids, in order.
pub fn fetch_batches(ids: &[[u8; 32]], batch: usize) -> Vec<Vec<[u8; 32]>> {
    ids.chunks(batch.max(1)).map(<[_]>::to_vec).collect()
}

fn malformed(error: negentropy::Error) -> SyncError {
    SyncError::Malformed(error.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    const UNLIMITED: Limits = Limits {
        rounds_max: u32::MAX,
        need_max: usize::MAX,
    };
    /// The smallest frame negentropy allows: many rounds from small sets.
    const SMALL_FRAME: usize = 4096;
    /// Ids in a full message of `SMALL_FRAME` bytes (negentropy keeps 200 spare).
    const IDS_PER_SMALL_FRAME: usize = (SMALL_FRAME - 200) / ID_SIZE;

    /// Runs one session of `a` against `b` in memory, with a frame of `frame` bytes on
    /// both sides; returns the outcome and the bytes sent each way.
    fn session(
        a: &ArchiveIndex,
        b: &ArchiveIndex,
        from: &Position,
        limits: Limits,
        frame: usize,
    ) -> (Outcome, usize) {
        let (mut initiator, mut message) =
            Initiator::start_framed(a, from, limits, frame, derived_salt(a, from));
        let mut bytes = message.len();
        loop {
            assert!(
                message.len() <= frame + EXTENSION_BYTES_MAX,
                "{} bytes sent",
                message.len()
            );
            let reply = respond_framed(b, &message, frame).unwrap();
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

    fn reconcile(a: &ArchiveIndex, b: &ArchiveIndex) -> (Outcome, usize) {
        session(a, b, &Position::START, UNLIMITED, FRAME_BYTES_MAX)
    }

    /// One pass of `a` pulling from `b`: sessions from where the last one stopped,
    /// each followed by fetching its `need` into `a` (`created_ms` gives a fetched
    /// record's time), until one is complete. Returns every session's outcome.
    fn pull(
        a: &mut ArchiveIndex,
        b: &ArchiveIndex,
        limits: Limits,
        frame: usize,
        created_ms: impl Fn(&[u8; 32]) -> i64,
        sessions_max: usize,
    ) -> Vec<Outcome> {
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut from = Position::START;
        loop {
            assert!(
                outcomes.len() < sessions_max,
                "no convergence in {sessions_max} sessions"
            );
            let (outcome, _) = session(a, b, &from, limits, frame);
            assert!(outcome.resume >= from || outcome.complete, "went backwards");
            a.extend(outcome.need.iter().map(|id| (created_ms(id), *id)));
            from = outcome.resume;
            let complete = outcome.complete;
            outcomes.push(outcome);
            if complete {
                assert_eq!(from, Position::START);
                return outcomes;
            }
        }
    }

    fn id(n: u32) -> [u8; 32] {
        *blake3::hash(&n.to_le_bytes()).as_bytes()
    }

    /// Few distinct times, so ranges are often cut inside one millisecond.
    fn created_ms(n: u32) -> i64 {
        i64::from(n % 1000) * 1000
    }

    fn index_of(set: &BTreeSet<u32>) -> ArchiveIndex {
        ArchiveIndex::from_entries(set.iter().map(|&n| (created_ms(n), id(n))))
    }

    fn ids_of(set: &BTreeSet<u32>) -> Vec<[u8; 32]> {
        let mut ids: Vec<[u8; 32]> = set.iter().map(|&n| id(n)).collect();
        ids.sort_unstable();
        ids
    }

    fn union_of(lists: impl Iterator<Item = Vec<[u8; 32]>>) -> Vec<[u8; 32]> {
        let set: BTreeSet<[u8; 32]> = lists.flatten().collect();
        set.into_iter().collect()
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
            prop_assert_eq!(outcome.need, ids_of(&only_b));
            prop_assert_eq!(outcome.have, ids_of(&only_a));
            prop_assert!(outcome.complete);
        }

        /// Two rounds of 4 KiB per session: most differences take several sessions, and
        /// each must resume where the last stopped, or the pass never ends.
        #[test]
        fn any_difference_converges_over_sessions_of_two_rounds(
            common in proptest::collection::btree_set(0u32..100_000, 0..3000),
            only_a in proptest::collection::btree_set(100_000u32..200_000, 0..1500),
            only_b in proptest::collection::btree_set(200_000u32..300_000, 0..1500),
            need_max in prop_oneof![Just(usize::MAX), 1usize..300],
        ) {
            let a_set: BTreeSet<u32> = common.union(&only_a).copied().collect();
            let b_set: BTreeSet<u32> = common.union(&only_b).copied().collect();
            let times: BTreeMap<[u8; 32], i64> =
                b_set.iter().map(|&n| (id(n), created_ms(n))).collect();
            let mut a = index_of(&a_set);
            let b = index_of(&b_set);
            let limits = Limits { rounds_max: 2, need_max };
            let outcomes = pull(&mut a, &b, limits, SMALL_FRAME, |id| times[id], 10_000);
            let all: BTreeSet<u32> = a_set.union(&b_set).copied().collect();
            prop_assert_eq!(a.len(), all.len());
            prop_assert!(all.iter().all(|&n| a.contains(created_ms(n), &id(n))));
            // Across the pass, exactly the difference was reported, each way.
            prop_assert_eq!(union_of(outcomes.iter().map(|o| o.need.clone())), ids_of(&only_b));
            prop_assert_eq!(union_of(outcomes.iter().map(|o| o.have.clone())), ids_of(&only_a));
            // A session that stops at its round limit has filled a reply or a message
            // with ids of ranges it settles; one that stops at its budget has found at
            // least one record to fetch.
            let listed = a_set.len() + b_set.len();
            let mut bound = listed.div_ceil(IDS_PER_SMALL_FRAME) + 1;
            if need_max != usize::MAX {
                bound += only_b.len();
            }
            prop_assert!(outcomes.len() <= bound, "{} sessions", outcomes.len());
        }

        /// Scattered differences with few rounds per session, where the sketch is
        /// tried and may not finish: every pass still converges, exactly.
        #[test]
        fn scattered_differences_converge_with_the_sketch_and_few_rounds(
            common in 2_000u32..6_000,
            only_a in proptest::collection::btree_set(100_000u32..200_000, 0..400),
            only_b in proptest::collection::btree_set(200_000u32..300_000, 0..400),
            rounds_max in 3u32..12,
            frame in prop_oneof![Just(SMALL_FRAME), Just(FRAME_BYTES_MAX)],
        ) {
            let common: BTreeSet<u32> = (0..common).collect();
            let a_set: BTreeSet<u32> = common.union(&only_a).copied().collect();
            let b_set: BTreeSet<u32> = common.union(&only_b).copied().collect();
            let times: BTreeMap<[u8; 32], i64> =
                b_set.iter().map(|&n| (id(n), created_ms(n))).collect();
            let mut a = index_of(&a_set);
            let b = index_of(&b_set);
            let limits = Limits { rounds_max, need_max: usize::MAX };
            let outcomes = pull(&mut a, &b, limits, frame, |id| times[id], 1_000);
            prop_assert_eq!(union_of(outcomes.iter().map(|o| o.need.clone())), ids_of(&only_b));
            prop_assert_eq!(union_of(outcomes.iter().map(|o| o.have.clone())), ids_of(&only_a));
            prop_assert_eq!(a.len(), a_set.union(&b_set).count());
        }

        #[test]
        fn garbage_from_a_peer_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let index = ArchiveIndex::from_entries((0..100u32).map(|n| (i64::from(n), id(n))));
            let _ = respond(&index, &bytes);
            let limits = Limits { rounds_max: 8, need_max: usize::MAX };
            let (mut initiator, _) = Initiator::start(&index, &Position::START, limits);
            let _ = initiator.step(&index, &bytes);
            // A session resumed from anywhere, even a position no honest reply gives.
            let mut skip = vec![0x61];
            skip.extend(&bytes);
            let from = Position::settled_by(&skip).unwrap_or_default();
            let (mut initiator, _) = Initiator::start(&index, &from, limits);
            let _ = initiator.step(&index, &bytes);
        }
    }

    /// The node's round limit.
    const ROUNDS_MAX: u32 = 32;

    /// Ids the responder lists in a reply that lists nothing else: negentropy stops
    /// adding ids once the message would pass `FRAME_BYTES_MAX - 200` bytes, counting
    /// the version byte.
    const IDS_PER_FULL_REPLY: usize = (FRAME_BYTES_MAX - 200 - 1) / ID_SIZE + 1;

    /// Fewer ids than one session of `ROUNDS_MAX` rounds settles, counted in the
    /// responder's ids listed. After the first four rounds (16, 256, 4,096, 65,536 ranges:
    /// fewer than 32 records per range for up to 2 million), a reply cut at the frame
    /// limit folds the rest of the order into one range, which four rounds split again;
    /// so at least one reply in five is full of ids.
    const IDS_PER_SESSION_MIN: usize = (ROUNDS_MAX as usize - 4) / 5 * IDS_PER_FULL_REPLY;

    /// A claimed time that follows from the id, spread over ten years, so fetching a
    /// needed id needs no lookup.
    fn spread_ms(id: &[u8; 32]) -> i64 {
        let mut low = [0; 8];
        low.copy_from_slice(&id[..8]);
        1_500_000_000_000 + (u64::from_le_bytes(low) % 315_000_000_000) as i64
    }

    fn spread_index(numbers: std::ops::Range<u32>) -> ArchiveIndex {
        ArchiveIndex::from_entries(numbers.map(|n| {
            let id = id(n);
            (spread_ms(&id), id)
        }))
    }

    fn node_limits() -> Limits {
        Limits {
            rounds_max: ROUNDS_MAX,
            need_max: usize::MAX,
        }
    }

    fn assert_identical(a: &ArchiveIndex, b: &ArchiveIndex) {
        assert_eq!(a.len(), b.len());
        let (outcome, bytes) = reconcile(a, b);
        assert_eq!((outcome.rounds, outcome.complete), (1, true));
        assert!(outcome.need.is_empty() && outcome.have.is_empty());
        assert!(bytes < 2_000, "{bytes} bytes to learn nothing differs");
    }

    #[test]
    fn a_full_initiator_learns_in_one_round_that_an_empty_peer_lacks_everything() {
        let a = spread_index(0..1_100_000);
        let b = ArchiveIndex::new();
        let (outcome, _) = session(&a, &b, &Position::START, node_limits(), FRAME_BYTES_MAX);
        assert_eq!((outcome.rounds, outcome.complete), (1, true));
        assert!(outcome.need.is_empty());
        assert_eq!(outcome.have.len(), 1_100_000);
    }

    #[test]
    fn an_empty_initiator_fetches_1_1_million_records_in_two_sessions() {
        let mut a = ArchiveIndex::new();
        let b = spread_index(0..1_100_000);
        let outcomes = pull(&mut a, &b, node_limits(), FRAME_BYTES_MAX, spread_ms, 10);
        // Each reply lists a full frame of ids; 32 replies are not enough, 36 are.
        let first = ROUNDS_MAX as usize * IDS_PER_FULL_REPLY;
        let summary: Vec<(u32, bool, usize)> = outcomes
            .iter()
            .map(|o| (o.rounds, o.complete, o.need.len()))
            .collect();
        let rest = 1_100_000 - first;
        let rounds_rest = rest.div_ceil(IDS_PER_FULL_REPLY) as u32;
        assert_eq!(
            summary,
            [(ROUNDS_MAX, false, first), (rounds_rest, true, rest)]
        );
        assert_identical(&a, &b);
    }

    #[test]
    fn two_archives_of_600_thousand_records_each_the_other_lacks_converge() {
        let common = 0..100_000;
        let mut a = spread_index(common.clone());
        a.extend((1_000_000..1_600_000).map(|n| (spread_ms(&id(n)), id(n))));
        let mut b = spread_index(common);
        b.extend((2_000_000..2_600_000).map(|n| (spread_ms(&id(n)), id(n))));
        // Every record of the responder in a range that differs is listed in a reply.
        let a_pulls = pull(&mut a, &b, node_limits(), FRAME_BYTES_MAX, spread_ms, 100);
        assert!(a_pulls.len() <= 700_000_usize.div_ceil(IDS_PER_SESSION_MIN));
        assert_eq!(
            union_of(a_pulls.iter().map(|o| o.need.clone())).len(),
            600_000
        );
        assert_eq!(a.len(), 1_300_000);
        let b_pulls = pull(&mut b, &a, node_limits(), FRAME_BYTES_MAX, spread_ms, 100);
        assert!(b_pulls.len() <= 1_300_000_usize.div_ceil(IDS_PER_SESSION_MIN));
        assert_eq!(
            union_of(b_pulls.iter().map(|o| o.need.clone())).len(),
            600_000
        );
        assert!(b_pulls.iter().all(|o| o.have.is_empty()));
        assert_identical(&a, &b);
    }

    /// The node's budget of ids to fetch per session: each session stops once another
    /// reply could overflow it, here after two full replies.
    #[test]
    fn a_budget_of_ids_to_fetch_splits_a_catch_up_into_fetchable_sessions() {
        let mut a = ArchiveIndex::new();
        let b = spread_index(0..1_100_000);
        let limits = Limits {
            rounds_max: ROUNDS_MAX,
            need_max: 65_536,
        };
        let outcomes = pull(&mut a, &b, limits, FRAME_BYTES_MAX, spread_ms, 100);
        let per_session = 2 * IDS_PER_FULL_REPLY;
        let full_sessions = 1_100_000 / per_session;
        let mut expected = vec![(2, false, per_session); full_sessions];
        expected.push((2, true, 1_100_000 - full_sessions * per_session));
        let summary: Vec<(u32, bool, usize)> = outcomes
            .iter()
            .map(|o| (o.rounds, o.complete, o.need.len()))
            .collect();
        assert_eq!(summary, expected);
        assert_identical(&a, &b);
    }

    #[test]
    fn identical_archives_agree_in_one_round() {
        let set: BTreeSet<u32> = (0..50_000).collect();
        let (outcome, bytes) = reconcile(&index_of(&set), &index_of(&set));
        assert_eq!(
            outcome,
            Outcome {
                rounds: 1,
                complete: true,
                ..Outcome::default()
            }
        );
        assert!(bytes < 2_000, "{bytes} bytes to learn nothing differs");
    }

    #[test]
    fn index_remove_takes_out_exactly_the_entries_held() {
        let mut index = ArchiveIndex::from_entries((0..100u32).map(|n| (i64::from(n), id(n))));
        let removed = index.remove([
            (3, id(3)),
            (3, id(3)),
            (-1, id(0)), // negative times are stored as 0
            (4, id(5)),  // wrong time: not this record
            (1000, id(1000)),
        ]);
        assert_eq!(removed, 2);
        assert_eq!(index.len(), 98);
        assert!(!index.contains(3, &id(3)) && !index.contains(0, &id(0)));
        assert!(index.contains(5, &id(5)) && index.contains(4, &id(4)));
        assert_eq!(index.remove([]), 0);
        // A removed record is needed again from a peer that holds it.
        let peer = ArchiveIndex::from_entries((0..100u32).map(|n| (i64::from(n), id(n))));
        let (outcome, _) = reconcile(&index, &peer);
        assert_eq!(outcome.need, ids_of(&BTreeSet::from([0, 3])));
        assert!(outcome.have.is_empty());
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
