//! What one node holds, kept small: every node holds the whole base, so a node stores
//! only the numbers of the new records it holds and a count of flood records. Its
//! [`ArchiveIndex`] (the real one negentropy reads) is built from the shared base and
//! those numbers when a session needs it, and kept in a bounded cache.
//!
//! Why: an index per node at 10,000 nodes and 20,000 records is 8 GB; building one
//! takes a copy of the base (a sorted merge, linear) and costs far less than the
//! reconciliation that reads it.

use std::collections::HashMap;
use std::rc::Rc;

use qoima_sync::ArchiveIndex;

use crate::records::{RecordNo, Records};

/// One node's holdings.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    /// New records held, by number, sorted.
    new: Vec<RecordNo>,
    /// Wrapping sum of the held records' digests: equal sets have equal digests, and
    /// different ones differ but with negligible probability.
    digest: u128,
    /// Bumped on every change, so a built index can be reused while it is current.
    version: u64,
    /// Flood records held: a prefix of the one flood stream (see `flood.rs`).
    pub flood: u64,
}

impl Holdings {
    /// Adds a new record; false if already held.
    pub fn insert(&mut self, record: RecordNo, records: &Records) -> bool {
        match self.new.binary_search(&record) {
            Ok(_) => false,
            Err(at) => {
                self.new.insert(at, record);
                self.digest = self.digest.wrapping_add(records.digest_of(record));
                self.version += 1;
                true
            }
        }
    }

    /// Whether the node holds new record `record`.
    pub fn holds(&self, record: RecordNo) -> bool {
        self.new.binary_search(&record).is_ok()
    }

    /// Adds `count` flood records.
    pub fn add_flood(&mut self, count: u64) {
        if count > 0 {
            self.flood += count;
            self.version += 1;
        }
    }

    /// Changes so far (to tell whether anything changed since a sync).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// True when both hold the same new records (the base is common to all).
    pub fn same_records(&self, other: &Holdings) -> bool {
        self.new.len() == other.new.len() && self.digest == other.digest
    }

    /// A key for the set of new records held, for caches of what equal sets cost.
    pub fn set_key(&self) -> (usize, u128) {
        (self.new.len(), self.digest)
    }

    /// New records held.
    pub fn new_records(&self) -> usize {
        self.new.len()
    }

    /// The index negentropy reads: the base and the new records held.
    pub fn index(&self, records: &Records) -> ArchiveIndex {
        // New records were written after every base record and are numbered in the
        // order written, so base then new is already sorted: `extend` finds one run.
        ArchiveIndex::from_entries(
            records
                .base()
                .iter()
                .copied()
                .chain(self.new.iter().map(|&r| records.entry(r))),
        )
    }
}

/// Built indexes, at most `capacity`, emptied when full (a simple bound; the nodes of
/// one meeting are asked for again and again within it, so most asks hit).
#[derive(Debug)]
pub struct IndexCache {
    built: HashMap<u32, (u64, Rc<ArchiveIndex>)>,
    capacity: usize,
    /// Indexes built, for the report.
    pub builds: u64,
}

impl IndexCache {
    /// An empty cache of at most `capacity` indexes.
    pub fn new(capacity: usize) -> Self {
        IndexCache {
            built: HashMap::new(),
            capacity: capacity.max(2),
            builds: 0,
        }
    }

    /// Node `node`'s index, current for `holdings`.
    pub fn get(&mut self, node: u32, holdings: &Holdings, records: &Records) -> Rc<ArchiveIndex> {
        if let Some((version, index)) = self.built.get(&node)
            && *version == holdings.version()
        {
            return Rc::clone(index);
        }
        if self.built.len() >= self.capacity {
            self.built.clear();
        }
        self.builds += 1;
        let index = Rc::new(holdings.index(records));
        self.built
            .insert(node, (holdings.version(), Rc::clone(&index)));
        index
    }
}
