//! Every record of a run: the shared base and the new ones, each with its claimed time
//! and a random 32-byte id (random ids order like BLAKE3 hashes do).

use std::collections::HashMap;

use crate::params::{DAY_MS, Params};
use crate::rng::Rng;

/// Claimed time (ms since the Unix epoch) of simulated time zero: 5 January 2022,
/// 10:00 in Almaty (UTC+6). Only the order of claimed times matters to reconciliation.
pub const START_MS: i64 = 1_641_355_200_000;

/// A new record's number; the tracked testimony is number 0.
pub type RecordNo = u32;

/// The testimony whose spread is measured.
pub const TESTIMONY: RecordNo = 0;

/// The records of a run. Bounded: the base is fixed and new records stop at
/// [`Params::new_records_max`].
#[derive(Debug)]
pub struct Records {
    /// `(claimed time, id)` of the base, sorted: the same for every node.
    base: Vec<(i64, [u8; 32])>,
    /// `(claimed time, id)` of new records, by number; claimed times do not decrease.
    new: Vec<(i64, [u8; 32])>,
    /// A new record's number by id, to read what a reconciliation found.
    by_id: HashMap<[u8; 32], RecordNo>,
    max: usize,
}

impl Records {
    /// The base of `params.base_records`, claimed over the 30 days before the start.
    pub fn new(params: &Params, rng: &mut Rng) -> Records {
        let mut base: Vec<(i64, [u8; 32])> = (0..params.base_records)
            .map(|_| {
                let before = (rng.unit() * (30 * DAY_MS) as f64) as i64;
                (START_MS - before, rng.id())
            })
            .collect();
        base.sort_unstable();
        Records {
            base,
            new: Vec::new(),
            by_id: HashMap::new(),
            max: params.new_records_max,
        }
    }

    /// A new record written at simulated time `now`; `None` once the bound is reached.
    pub fn write(&mut self, now: u64, rng: &mut Rng) -> Option<RecordNo> {
        if self.new.len() >= self.max {
            return None;
        }
        let number = RecordNo::try_from(self.new.len()).ok()?;
        let id = rng.id();
        self.new.push((START_MS + now as i64, id));
        self.by_id.insert(id, number);
        Some(number)
    }

    /// The shared base, sorted.
    pub fn base(&self) -> &[(i64, [u8; 32])] {
        &self.base
    }

    /// A new record's claimed time and id.
    pub fn entry(&self, record: RecordNo) -> (i64, [u8; 32]) {
        self.new[record as usize]
    }

    /// The number of a new record by id (`None` for a base record or an unknown id).
    pub fn number(&self, id: &[u8; 32]) -> Option<RecordNo> {
        self.by_id.get(id).copied()
    }

    /// New records written so far.
    pub fn written(&self) -> usize {
        self.new.len()
    }

    /// A 128-bit fingerprint of one record for set digests (the id's first 16 bytes:
    /// random, so sums of them collide with negligible probability).
    pub fn digest_of(&self, record: RecordNo) -> u128 {
        let id = self.new[record as usize].1;
        let mut low = [0; 16];
        low.copy_from_slice(&id[..16]);
        u128::from_le_bytes(low)
    }

    /// Where an id falls in the id order, as a share of the whole range: the share of
    /// random ids (the flood's) that sort before it.
    pub fn id_share(id: &[u8; 32]) -> f64 {
        let mut high = [0; 8];
        high.copy_from_slice(&id[..8]);
        u64::from_be_bytes(high) as f64 / 18_446_744_073_709_551_616.0
    }
}
