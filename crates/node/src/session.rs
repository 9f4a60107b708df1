//! One sync with one peer: reconcile, then fetch what we lack in bounded batches.

use std::collections::VecDeque;

use qoima_sync::Initiator;

/// Ids per fetch request: as many as a request may carry, so a large catch-up costs few
/// round trips and few commits.
pub const FETCH_BATCH: usize = qoima_net::protocol::FETCH_IDS_MAX;
/// Fetch requests in flight per peer.
pub const FETCHES_IN_FLIGHT: usize = 3;
/// Round trips a reconciliation may take before it is abandoned.
pub const ROUNDS_MAX: u32 = 32;

/// Where a session is.
#[derive(Debug)]
pub enum Stage {
    /// Exchanging negentropy messages.
    Reconciling(Initiator),
    /// Fetching the records found missing.
    Fetching,
}

/// A sync in progress with one peer.
#[derive(Debug)]
pub struct Session {
    pub stage: Stage,
    pub queue: VecDeque<Vec<[u8; 32]>>,
    pub in_flight: usize,
    pub new_records: u64,
    pub started: std::time::Instant,
}

impl Session {
    pub fn new(initiator: Initiator) -> Session {
        Session {
            stage: Stage::Reconciling(initiator),
            queue: VecDeque::new(),
            in_flight: 0,
            new_records: 0,
            started: std::time::Instant::now(),
        }
    }

    /// Queues `need` in batches and switches to fetching.
    pub fn fetch(&mut self, need: Vec<[u8; 32]>) {
        self.stage = Stage::Fetching;
        self.queue
            .extend(qoima_sync::fetch_batches(&need, FETCH_BATCH));
    }

    /// The next batch to request, if the in-flight bound allows.
    pub fn next_batch(&mut self) -> Option<Vec<[u8; 32]>> {
        if self.in_flight >= FETCHES_IN_FLIGHT {
            return None;
        }
        let batch = self.queue.pop_front()?;
        self.in_flight += 1;
        Some(batch)
    }

    /// True when nothing is left to fetch or wait for.
    pub fn finished(&self) -> bool {
        matches!(self.stage, Stage::Fetching) && self.queue.is_empty() && self.in_flight == 0
    }
}
