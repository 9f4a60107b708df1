//! One peer's sync state: at most one reconciliation session (reconcile, then fetch what
//! it found) and the fetches that announcements ask for, all under one bound on requests
//! in flight and one bound on ids waiting. A pure state machine: the event loop sends
//! what [`PeerSync::next_batch`] hands out and reports back.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use qoima_sync::{Initiator, Limits, Position};

/// Ids per fetch request at most: as many as a request may carry, so a large catch-up
/// costs few round trips and few commits once a link has shown it is fast.
pub const FETCH_BATCH: usize = qoima_net::protocol::FETCH_IDS_MAX;
/// Ids in the first fetch request to a peer. Each answer that comes back quickly doubles
/// the next request, up to [`FETCH_BATCH`]; so a fast link reaches full batches after four
/// answers, and a thin one (a phone at 256 kbit/s) is never asked for more than it can
/// carry before the request times out (a thousand records take a minute there).
pub const FETCH_BATCH_FIRST: usize = 64;
/// The fewest ids per request, however slow the link.
pub const FETCH_BATCH_MIN: usize = 8;
/// An answer within this time doubles the next request.
pub const FETCH_QUICK: Duration = Duration::from_secs(10);
/// An answer after this time halves the next request: the request timeout is 60 s.
pub const FETCH_SLOW: Duration = Duration::from_secs(30);
/// Fetch requests in flight per peer.
pub const FETCHES_IN_FLIGHT: usize = 3;
/// Round trips one reconciliation may take; a larger difference is finished by the
/// sessions after it.
pub const ROUNDS_MAX: u32 = 32;
/// Ids waiting to be fetched from one peer. A session that finds more takes this many
/// and leaves the rest to the next session; announcements past it are dropped (the next
/// reconciliation finds those records anyway).
pub const QUEUED_IDS_MAX: usize = 64 * 1024;
/// Times a batch is asked again after the peer refused it (busy) before the session
/// gives up on it.
pub const REFUSALS_MAX: u8 = 5;

/// Puts what a session found in the order it is fetched in: a uniform permutation,
/// drawn afresh each session. The acceptance policy keeps a bounded number of records of
/// unknown authors an hour, and what a fetch brings first takes that room. In id order a
/// record's place among the flood found with it is fixed by its id (and a flooder can
/// grind ids that sort first), so the same honest record would come after the flood in
/// every session and be declined every time; in a random order each record has the same
/// chance each session. Simulated (`BENCHMARKS.md` §7.1): with 10 % of nodes hostile, a
/// testimony reached 97.8 % of a city of 10,000 within the week instead of 51.8 %.
pub fn fetch_order(need: &mut [[u8; 32]], rng: &mut impl rand::Rng) {
    use rand::seq::SliceRandom;
    need.shuffle(rng);
}

/// Why a fetch was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOrigin {
    /// Session `number` of this peer's found these ids missing. An answer may come back
    /// (or be stored) after its session ended and another began: the number tells it
    /// from the running session's, which it must neither count nor end.
    Session(u64),
    /// The peer announced them on gossip.
    Announcement,
}

/// Ids to ask one peer for in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Why.
    pub origin: FetchOrigin,
    /// At most [`FETCH_BATCH`] ids.
    pub ids: Vec<[u8; 32]>,
    /// Times the peer refused it, or it timed out.
    pub refusals: u8,
    /// When it was asked for (set by [`PeerSync::next_batch`]).
    pub asked_at: Option<Instant>,
}

/// Where a session is.
#[derive(Debug)]
enum Stage {
    /// The initiator is making its next message off the event loop (a pass over the
    /// whole index, a sketch of thousands of symbols): it comes back with
    /// [`PeerSync::resume_stepping`].
    Stepping,
    /// Exchanging negentropy messages, waiting for the peer's reply.
    Reconciling(Box<Initiator>),
    /// Fetching what reconciliation found; `pending` batches are queued or in flight.
    Fetching { pending: usize },
}

/// A reconcile-then-fetch run with one peer.
#[derive(Debug)]
pub struct Session {
    stage: Stage,
    /// Which of this peer's sessions it is, so a step finished after the session
    /// ended is told from one of the next session.
    number: u64,
    /// Records its fetches brought.
    pub new_records: u64,
    /// When it started.
    pub started: Instant,
    /// False when the difference was too large for one session: start another.
    pub complete: bool,
    /// Where the next session starts once this one has fetched everything it found.
    resume_after: Position,
}

/// One peer's sync state. See the [module docs](self).
#[derive(Debug, Default)]
pub struct PeerSync {
    session: Option<Session>,
    /// Where the next reconciliation starts: past what earlier sessions settled and
    /// fetched (see `qoima_sync`'s docs on resuming).
    resume: Position,
    queue: VecDeque<Batch>,
    queued_ids: usize,
    in_flight: usize,
    /// Ids in the next request; 0 until the first ([`FETCH_BATCH_FIRST`]).
    batch_ids: usize,
    /// Sessions begun with this peer.
    sessions_begun: u64,
}

impl PeerSync {
    /// The limits of one session.
    pub const LIMITS: Limits = Limits {
        rounds_max: ROUNDS_MAX,
        need_max: QUEUED_IDS_MAX,
    };

    /// Where the next session starts.
    pub fn resume(&self) -> &Position {
        &self.resume
    }

    /// Begins a session unless one is running; returns its number. Its initiator is
    /// being made (from [`PeerSync::resume`] and [`PeerSync::LIMITS`]) until it is handed
    /// in with [`PeerSync::resume_stepping`].
    pub fn begin_session(&mut self) -> Option<u64> {
        if self.session.is_some() {
            return None;
        }
        self.sessions_begun += 1;
        self.session = Some(Session {
            stage: Stage::Stepping,
            number: self.sessions_begun,
            new_records: 0,
            started: Instant::now(),
            complete: true,
            resume_after: Position::START,
        });
        Some(self.sessions_begun)
    }

    /// True while a session runs.
    #[cfg(test)]
    pub fn in_session(&self) -> bool {
        self.session.is_some()
    }

    /// True while anything is under way with this peer: a session (reconciling, or
    /// fetching what it found), or announced records waiting or being fetched.
    pub fn is_busy(&self) -> bool {
        self.session.is_some() || !self.queue.is_empty() || self.in_flight > 0
    }

    /// Takes the running session's initiator to make its next message from the peer's
    /// reply, with the session's number; `None` unless it waits for a reply.
    pub fn start_stepping(&mut self) -> Option<(Box<Initiator>, u64)> {
        let session = self.session.as_mut()?;
        match std::mem::replace(&mut session.stage, Stage::Stepping) {
            Stage::Reconciling(initiator) => Some((initiator, session.number)),
            other => {
                session.stage = other;
                None
            }
        }
    }

    /// Hands back the initiator of session `number` once its step is made; false (and
    /// the initiator is dropped) if that session is over: its step is of no use now.
    pub fn resume_stepping(&mut self, number: u64, initiator: Box<Initiator>) -> bool {
        match &mut self.session {
            Some(session)
                if session.number == number && matches!(session.stage, Stage::Stepping) =>
            {
                session.stage = Stage::Reconciling(initiator);
                true
            }
            _ => false,
        }
    }

    /// True while session `number` runs and reconciles (waiting for the peer or
    /// stepping).
    pub fn reconciling(&self, number: u64) -> bool {
        matches!(
            &self.session,
            Some(Session {
                stage: Stage::Stepping | Stage::Reconciling(_),
                number: running,
                ..
            }) if *running == number
        )
    }

    /// Reconciliation found `need`: queue it (as far as the bound allows) and fetch.
    /// `complete` is false when the reconciliation itself stopped early, at `resume`.
    pub fn reconciled(&mut self, need: Vec<[u8; 32]>, complete: bool, resume: Position) {
        let room = QUEUED_IDS_MAX.saturating_sub(self.queued_ids);
        let fits = need.len() <= room;
        let mut pending = 0;
        let number = self.session.as_ref().map_or(0, |s| s.number);
        for chunk in need[..need.len().min(room)].chunks(FETCH_BATCH) {
            self.push(FetchOrigin::Session(number), chunk.to_vec());
            pending += 1;
        }
        if let Some(session) = &mut self.session {
            session.stage = Stage::Fetching { pending };
            session.complete = complete && fits;
            // Ids that did not fit are found again by a pass from the start.
            session.resume_after = if fits { resume } else { Position::START };
        }
    }

    /// The peer announced `ids` we lack: queue them as far as the bound allows; returns
    /// how many were queued.
    pub fn announced(&mut self, ids: Vec<[u8; 32]>) -> usize {
        let room = QUEUED_IDS_MAX.saturating_sub(self.queued_ids);
        let taken = ids.len().min(room);
        for chunk in ids[..taken].chunks(FETCH_BATCH) {
            self.push(FetchOrigin::Announcement, chunk.to_vec());
        }
        taken
    }

    fn push(&mut self, origin: FetchOrigin, ids: Vec<[u8; 32]>) {
        self.queued_ids += ids.len();
        self.queue.push_back(Batch {
            origin,
            ids,
            refusals: 0,
            asked_at: None,
        });
    }

    /// Ids the next request to this peer carries at most.
    pub fn batch_ids(&self) -> usize {
        if self.batch_ids == 0 {
            FETCH_BATCH_FIRST
        } else {
            self.batch_ids
        }
    }

    /// The next batch to request, if this peer's in-flight bound allows: at most
    /// [`PeerSync::batch_ids`] ids, the rest of a longer batch staying first in line.
    pub fn next_batch(&mut self) -> Option<Batch> {
        if self.in_flight >= FETCHES_IN_FLIGHT {
            return None;
        }
        let mut batch = self.queue.pop_front()?;
        let size = self.batch_ids();
        if batch.ids.len() > size {
            let rest = batch.ids.split_off(size);
            self.queue.push_front(Batch {
                origin: batch.origin,
                ids: rest,
                refusals: batch.refusals,
                asked_at: None,
            });
            if self.of_running_session(batch.origin)
                && let Some(Session {
                    stage: Stage::Fetching { pending },
                    ..
                }) = &mut self.session
            {
                *pending += 1;
            }
        }
        self.queued_ids -= batch.ids.len();
        self.in_flight += 1;
        batch.asked_at = Some(Instant::now());
        Some(batch)
    }

    /// A request of `asked` ids was answered after `took` (with a bundle, now waiting to
    /// be stored; [`PeerSync::fetched`] follows): it is off the wire, and a quick answer
    /// to a full request doubles the next one, a slow answer halves it.
    pub fn answered(&mut self, asked: usize, took: Duration) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let size = self.batch_ids();
        self.batch_ids = if took >= FETCH_SLOW {
            (size / 2).max(FETCH_BATCH_MIN)
        } else if took <= FETCH_QUICK && asked >= size {
            (size * 2).min(FETCH_BATCH)
        } else {
            size
        };
    }

    /// A request timed out: the link carries less than asked in the time allowed. The
    /// next requests are a quarter of its size, and its ids are asked again (counted as
    /// a refusal, so a peer that never answers ends the session).
    pub fn fetch_timed_out(&mut self, batch: Batch) {
        self.batch_ids = (batch.ids.len() / 4).max(FETCH_BATCH_MIN);
        self.fetch_refused(batch);
    }

    /// True if a batch is waiting.
    #[cfg(test)]
    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// An answered fetch was imported. The responder stops at a size target, so
    /// `leftover` (requested, not sent) is asked for again as long as it keeps sending
    /// something. A session's batch is pending until here, so the session ends only once
    /// what it found is stored.
    pub fn fetched(
        &mut self,
        origin: FetchOrigin,
        new_records: u64,
        progressed: bool,
        leftover: Vec<[u8; 32]>,
    ) {
        let running = self.of_running_session(origin);
        // What an ended session asked for is found again by the sessions after it.
        let again = progressed && !leftover.is_empty() && !self.of_ended_session(origin);
        if again {
            self.queued_ids += leftover.len();
            self.queue.push_front(Batch {
                origin,
                ids: leftover,
                refusals: 0,
                asked_at: None,
            });
        }
        if running && let Some(session) = &mut self.session {
            session.new_records += new_records;
            // A batch asked again is still pending.
            if let Stage::Fetching { pending } = &mut session.stage
                && !again
            {
                *pending = pending.saturating_sub(1);
            }
        }
    }

    /// The peer refused the batch (busy, most likely): it is asked again, up to
    /// [`REFUSALS_MAX`] times, then treated as failed.
    pub fn fetch_refused(&mut self, mut batch: Batch) {
        if batch.refusals >= REFUSALS_MAX || self.of_ended_session(batch.origin) {
            self.fetch_failed(batch.origin);
            return;
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        batch.refusals += 1;
        self.queued_ids += batch.ids.len();
        self.queue.push_front(batch);
    }

    /// A fetch failed (timeout, lost connection). A session cannot finish
    /// without it: it ends here, and the next connection or timer starts another.
    pub fn fetch_failed(&mut self, origin: FetchOrigin) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.import_failed(origin);
    }

    /// An answered fetch could not be stored (this node's failure): as
    /// [`PeerSync::fetch_failed`], but the request was already off the wire.
    pub fn import_failed(&mut self, origin: FetchOrigin) {
        if self.of_running_session(origin) {
            self.abort_session();
        }
    }

    /// True if `origin` is the running session.
    fn of_running_session(&self, origin: FetchOrigin) -> bool {
        matches!(
            (origin, &self.session),
            (FetchOrigin::Session(number), Some(session)) if session.number == number
        )
    }

    /// True if `origin` is a session that has ended.
    fn of_ended_session(&self, origin: FetchOrigin) -> bool {
        matches!(origin, FetchOrigin::Session(_)) && !self.of_running_session(origin)
    }

    /// Drops the running session and its queued batches.
    pub fn abort_session(&mut self) {
        self.session = None;
        let mut dropped = 0;
        self.queue.retain(|b| {
            let keep = b.origin == FetchOrigin::Announcement;
            if !keep {
                dropped += b.ids.len();
            }
            keep
        });
        self.queued_ids -= dropped;
    }

    /// The session, if it has nothing left to fetch or wait for; it is then over, and
    /// the next one starts where it stopped. (A session that failed never gets here:
    /// the next one redoes its part.)
    pub fn take_finished(&mut self) -> Option<Session> {
        match &self.session {
            Some(Session {
                stage: Stage::Fetching { pending: 0 },
                ..
            }) => {
                let session = self.session.take()?;
                self.resume = session.resume_after;
                Some(session)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use qoima_sync::ArchiveIndex;

    fn session_started() -> PeerSync {
        let mut peer = PeerSync::default();
        start_session(&mut peer);
        peer
    }

    /// Begins the peer's next session and readies it to reconcile.
    fn start_session(peer: &mut PeerSync) {
        let index = ArchiveIndex::from_entries(Vec::new());
        let number = peer.begin_session().unwrap();
        let (initiator, _) = Initiator::start(&index, peer.resume(), PeerSync::LIMITS);
        assert!(peer.resume_stepping(number, Box::new(initiator)));
    }

    #[test]
    fn an_answer_of_an_ended_session_neither_counts_for_nor_ends_the_next() {
        let mut peer = session_started();
        peer.reconciled(ids(200), true, Position::START);
        let late = peer.next_batch().unwrap();
        let failing = peer.next_batch().unwrap();
        assert_eq!(late.origin, FetchOrigin::Session(1));
        assert_eq!(failing.origin, FetchOrigin::Session(1));
        // The peer left and came back: session 1 ended, session 2 began.
        peer.abort_session();
        start_session(&mut peer);
        peer.reconciled(ids(5), true, Position::START);
        let current = peer.next_batch().unwrap();
        assert_eq!(current.origin, FetchOrigin::Session(2));
        // Session 1's answers come back, one with ids it did not carry, one failing.
        peer.answered(late.ids.len(), Duration::from_secs(1));
        peer.fetched(late.origin, 3, true, late.ids[3..].to_vec());
        peer.fetch_failed(failing.origin);
        assert!(
            peer.next_batch().is_none(),
            "nothing of session 1 asked again"
        );
        assert!(peer.in_session(), "session 2 goes on");
        assert!(
            peer.take_finished().is_none(),
            "session 2 waits for its batch"
        );
        peer.answered(current.ids.len(), Duration::from_secs(1));
        peer.fetched(current.origin, 5, true, Vec::new());
        let session = peer
            .take_finished()
            .expect("session 2 stored what it found");
        assert_eq!(session.new_records, 5, "session 1's records not counted");
    }

    #[test]
    fn the_fetch_order_is_drawn_afresh_each_time_and_keeps_every_id() {
        use rand::SeedableRng;
        let mut sorted = ids(1000);
        sorted.sort();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut first = sorted.clone();
        fetch_order(&mut first, &mut rng);
        let mut second = sorted.clone();
        fetch_order(&mut second, &mut rng);
        assert!(first != sorted, "not by id");
        assert!(first != second, "another order each session");
        // The last id by id order lands anywhere, not last.
        let last = sorted[999];
        assert!(first.iter().position(|id| *id == last).unwrap() < 999);
        for order in [&mut first, &mut second] {
            order.sort();
            assert!(*order == sorted, "a permutation");
        }
    }

    #[test]
    fn a_step_made_for_a_session_that_ended_is_dropped() {
        let index = ArchiveIndex::from_entries(Vec::new());
        let initiator = || Box::new(Initiator::start(&index, &Position::START, PeerSync::LIMITS).0);
        let mut peer = PeerSync::default();
        let first = peer.begin_session().unwrap();
        assert_eq!(peer.begin_session(), None, "one session at a time");
        assert!(
            peer.start_stepping().is_none(),
            "no initiator while it is made"
        );
        assert!(peer.resume_stepping(first, initiator()));
        let (stepping, number) = peer.start_stepping().unwrap();
        assert_eq!(number, first);
        assert!(peer.start_stepping().is_none(), "one step at a time");
        assert!(peer.reconciling(first));

        // The peer left while the step was made, and a new session began.
        peer.abort_session();
        let second = peer.begin_session().unwrap();
        assert_ne!(first, second);
        assert!(!peer.reconciling(first) && peer.reconciling(second));
        assert!(
            !peer.resume_stepping(first, stepping),
            "the old session's step"
        );
        assert!(
            peer.start_stepping().is_none(),
            "the new session is still stepping"
        );
        assert!(peer.resume_stepping(second, initiator()));
        assert!(peer.start_stepping().is_some());
    }

    fn ids(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| {
                let mut id = [0u8; 32];
                id[..8].copy_from_slice(&(i as u64).to_le_bytes());
                id
            })
            .collect()
    }

    #[test]
    fn a_session_fetches_in_bounded_batches_then_finishes() {
        let mut peer = session_started();
        assert!(peer.reconciling(1));
        let total = FETCH_BATCH * 4 + 1;
        peer.reconciled(ids(total), true, Position::START);
        let mut sent = Vec::new();
        while let Some(batch) = peer.next_batch() {
            sent.push(batch);
        }
        assert_eq!(sent.len(), FETCHES_IN_FLIGHT, "in-flight bound");
        assert!(sent.iter().all(|b| b.ids.len() == FETCH_BATCH_FIRST));
        assert!(peer.take_finished().is_none());
        let mut asked = 0;
        let mut batches = 0;
        for batch in sent {
            asked += batch.ids.len();
            batches += 1;
            peer.answered(batch.ids.len(), Duration::from_secs(1));
            peer.fetched(batch.origin, 1, true, Vec::new());
        }
        while let Some(batch) = peer.next_batch() {
            assert!(batch.ids.len() <= FETCH_BATCH);
            asked += batch.ids.len();
            batches += 1;
            peer.answered(batch.ids.len(), Duration::from_secs(1));
            peer.fetched(batch.origin, 1, true, Vec::new());
        }
        assert_eq!(asked, total, "every id asked once");
        assert_eq!(
            peer.batch_ids(),
            FETCH_BATCH,
            "quick answers grew the batches"
        );
        let session = peer.take_finished().unwrap();
        assert_eq!(session.new_records, batches);
        assert!(session.complete);
    }

    #[test]
    fn an_answered_fetch_frees_the_wire_but_the_session_waits_for_its_storing() {
        let mut peer = session_started();
        peer.reconciled(ids(FETCH_BATCH_FIRST * 4), true, Position::START);
        let sent: Vec<Batch> = std::iter::from_fn(|| peer.next_batch()).collect();
        assert_eq!(sent.len(), FETCHES_IN_FLIGHT);
        for batch in &sent {
            peer.answered(batch.ids.len(), Duration::from_secs(1));
        }
        // Three answers wait to be stored; the fourth request goes out meanwhile.
        let last = peer.next_batch().expect("the wire is free");
        peer.answered(last.ids.len(), Duration::from_secs(1));
        assert!(peer.next_batch().is_none(), "every id asked");
        for batch in &sent {
            peer.fetched(batch.origin, batch.ids.len() as u64, true, Vec::new());
            assert!(
                peer.take_finished().is_none(),
                "a batch is still being stored"
            );
        }
        peer.fetched(last.origin, last.ids.len() as u64, true, Vec::new());
        let session = peer.take_finished().expect("everything stored");
        assert_eq!(session.new_records, (FETCH_BATCH_FIRST * 4) as u64);
    }

    #[test]
    fn batches_grow_with_quick_answers_and_shrink_with_slow_ones() {
        let mut peer = PeerSync::default();
        assert_eq!(peer.batch_ids(), FETCH_BATCH_FIRST);
        // A request smaller than the batch size says nothing about the link.
        peer.answered(3, Duration::from_millis(5));
        assert_eq!(peer.batch_ids(), FETCH_BATCH_FIRST);
        let mut sizes = Vec::new();
        for _ in 0..6 {
            peer.answered(peer.batch_ids(), Duration::from_millis(200));
            sizes.push(peer.batch_ids());
        }
        assert_eq!(sizes, [128, 256, 512, 1024, 1024, 1024]);
        peer.answered(1024, Duration::from_secs(20));
        assert_eq!(peer.batch_ids(), 1024, "neither quick nor slow");
        peer.answered(1024, Duration::from_secs(45));
        assert_eq!(peer.batch_ids(), 512);
        for _ in 0..10 {
            peer.answered(peer.batch_ids(), Duration::from_secs(50));
        }
        assert_eq!(peer.batch_ids(), FETCH_BATCH_MIN);
    }

    #[test]
    fn a_timed_out_batch_is_asked_again_in_quarters_then_given_up() {
        let mut peer = session_started();
        peer.reconciled(ids(64), true, Position::START);
        let batch = peer.next_batch().unwrap();
        assert_eq!(batch.ids.len(), 64);
        peer.fetch_timed_out(batch.clone());
        assert!(peer.in_session());
        assert_eq!(peer.batch_ids(), 16);
        // The same ids, sixteen at a time; the rest waits first in line.
        let again = peer.next_batch().unwrap();
        assert_eq!(again.ids, batch.ids[..16]);
        assert_eq!(again.refusals, 1);
        let mut rest = Vec::new();
        while let Some(next) = peer.next_batch() {
            rest.push(next);
        }
        peer.answered(again.ids.len(), Duration::from_secs(1));
        peer.fetched(again.origin, 16, true, Vec::new());
        for next in rest {
            peer.answered(next.ids.len(), Duration::from_secs(1));
            peer.fetched(next.origin, next.ids.len() as u64, true, Vec::new());
        }
        while let Some(next) = peer.next_batch() {
            peer.answered(next.ids.len(), Duration::from_secs(1));
            peer.fetched(next.origin, next.ids.len() as u64, true, Vec::new());
        }
        assert_eq!(peer.take_finished().unwrap().new_records, 64);

        // A peer that never answers: the session ends after the refusal limit.
        let mut peer = session_started();
        peer.reconciled(ids(8), true, Position::START);
        for _ in 0..=REFUSALS_MAX {
            let batch = peer.next_batch().unwrap();
            peer.fetch_timed_out(batch);
        }
        assert!(!peer.in_session(), "given up");
        assert_eq!(peer.batch_ids(), FETCH_BATCH_MIN);
    }

    #[test]
    fn leftovers_are_asked_again_only_while_progressing() {
        let mut peer = session_started();
        peer.reconciled(ids(10), true, Position::START);
        let batch = peer.next_batch().unwrap();
        peer.answered(batch.ids.len(), Duration::from_secs(1));
        peer.fetched(batch.origin, 4, true, batch.ids[4..].to_vec());
        let again = peer.next_batch().unwrap();
        assert_eq!(again.ids.len(), 6);
        // Nothing was sent this time: give up on the rest rather than loop.
        peer.answered(again.ids.len(), Duration::from_secs(1));
        peer.fetched(again.origin, 0, false, again.ids.clone());
        assert!(peer.next_batch().is_none());
        assert_eq!(peer.take_finished().unwrap().new_records, 4);
    }

    #[test]
    fn a_refused_batch_is_asked_again_then_given_up() {
        let mut peer = session_started();
        peer.reconciled(ids(10), true, Position::START);
        for _ in 0..REFUSALS_MAX {
            let batch = peer.next_batch().unwrap();
            peer.fetch_refused(batch);
            assert!(peer.in_session());
        }
        let batch = peer.next_batch().unwrap();
        assert_eq!(batch.refusals, REFUSALS_MAX);
        peer.fetch_refused(batch);
        assert!(!peer.in_session(), "given up");
        assert!(peer.next_batch().is_none());
    }

    #[test]
    fn a_huge_difference_is_left_to_later_sessions() {
        let mut peer = session_started();
        peer.reconciled(ids(QUEUED_IDS_MAX + 5), true, Position::START);
        let mut total = 0;
        while let Some(batch) = peer.next_batch() {
            total += batch.ids.len();
            peer.answered(batch.ids.len(), Duration::from_secs(1));
            peer.fetched(batch.origin, batch.ids.len() as u64, true, Vec::new());
        }
        assert_eq!(total, QUEUED_IDS_MAX);
        assert!(!peer.take_finished().unwrap().complete);
    }

    #[test]
    fn announcements_are_bounded_and_survive_a_failed_session() {
        let mut peer = session_started();
        assert_eq!(peer.announced(ids(QUEUED_IDS_MAX + 1)), QUEUED_IDS_MAX);
        assert_eq!(peer.announced(ids(1)), 0, "full");
        peer.reconciled(ids(10), true, Position::START);
        let first = peer.next_batch().unwrap();
        assert_eq!(first.origin, FetchOrigin::Announcement);
        peer.fetch_failed(FetchOrigin::Session(1));
        assert!(!peer.in_session());
        assert!(peer.has_queued(), "announced ids are still wanted");
        peer.answered(first.ids.len(), Duration::from_secs(1));
        peer.fetched(first.origin, 0, true, Vec::new());
    }
}
