//! The sorted set of record ids a node holds, as negentropy reads it.

use negentropy::{Bound, Error, Id, Item, NegentropyStorageBase};

use crate::Position;

/// `(timestamp, id)` pairs in ascending order, without duplicates. The timestamp is the
/// record's claimed creation time (ms, negative clamped to 0): it is part of the signed
/// record, so every node orders the same record the same way, and recent records, which
/// are the likely differences, sit together at the end.
#[derive(Debug, Clone, Default)]
pub struct ArchiveIndex {
    items: Vec<Item>,
}

impl ArchiveIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of `entries` (in any order, duplicates allowed).
    pub fn from_entries(entries: impl IntoIterator<Item = (i64, [u8; 32])>) -> Self {
        let mut index = Self::new();
        index.extend(entries);
        index
    }

    /// Adds one record; returns whether it was new.
    pub fn insert(&mut self, created_ms: i64, id: [u8; 32]) -> bool {
        let item = item(created_ms, id);
        match self.items.binary_search(&item) {
            Ok(_) => false,
            Err(at) => {
                self.items.insert(at, item);
                true
            }
        }
    }

    /// Adds many records at once: one merge instead of many shifts. The index is one
    /// sorted run and the new entries, sorted, another; the standard library's stable
    /// sort detects the two runs and merges them in linear time.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (i64, [u8; 32])>) {
        let before = self.items.len();
        self.items
            .extend(entries.into_iter().map(|(ts, id)| item(ts, id)));
        if self.items.len() > before {
            self.items[before..].sort_unstable();
            self.items.sort();
            self.items.dedup();
        }
    }

    /// Removes records (a record found corrupt on disk, so that reconciliation finds it
    /// missing and fetches it again); entries not in the index are ignored. Returns how
    /// many were removed. One pass over the index, however many entries.
    pub fn remove(&mut self, entries: impl IntoIterator<Item = (i64, [u8; 32])>) -> usize {
        let mut gone: Vec<Item> = entries.into_iter().map(|(ts, id)| item(ts, id)).collect();
        if gone.is_empty() {
            return 0;
        }
        gone.sort_unstable();
        gone.dedup();
        let before = self.items.len();
        self.items.retain(|item| gone.binary_search(item).is_err());
        before - self.items.len()
    }

    /// Whether the record is in the index.
    pub fn contains(&self, created_ms: i64, id: &[u8; 32]) -> bool {
        self.items.binary_search(&item(created_ms, *id)).is_ok()
    }

    /// The ids of the records at `from` and above, in order.
    pub(crate) fn ids_from(&self, from: &Position) -> impl Iterator<Item = &[u8; 32]> {
        let bound = from.bound();
        let start = self.items.partition_point(|item| item < &bound.item);
        self.items[start..].iter().map(|item| item.id.as_bytes())
    }

    /// How many records lie at `from` and above (a binary search, nothing copied).
    pub(crate) fn count_from(&self, from: &Position) -> usize {
        let bound = from.bound();
        self.items.len() - self.items.partition_point(|item| item < &bound.item)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

fn item(created_ms: i64, id: [u8; 32]) -> Item {
    Item::with_timestamp_and_id(created_ms.max(0) as u64, Id::from_byte_array(id))
}

impl NegentropyStorageBase for ArchiveIndex {
    fn size(&self) -> Result<usize, Error> {
        Ok(self.items.len())
    }

    fn get_item(&self, i: usize) -> Result<Option<Item>, Error> {
        Ok(self.items.get(i).copied())
    }

    fn iterate(
        &self,
        begin: usize,
        end: usize,
        cb: &mut dyn FnMut(Item, usize) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        if begin > end || end > self.items.len() {
            return Err(Error::BadRange);
        }
        for (i, item) in self.items[begin..end].iter().enumerate() {
            if !cb(*item, begin + i)? {
                break;
            }
        }
        Ok(())
    }

    fn find_lower_bound(&self, first: usize, last: usize, value: &Bound) -> usize {
        let last = last.min(self.items.len());
        let first = first.min(last);
        first + self.items[first..last].partition_point(|item| item < &value.item)
    }
}
