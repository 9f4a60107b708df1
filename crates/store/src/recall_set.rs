//! The set of queries search is measured on (`tests/data/search_recall.json`): records
//! in Russian, Kazakh and English, and 30 queries, each with the records a reader
//! expects it to find. The store's test holds the recall floor; `qoima-bench
//! search-recall` prints the figures. Both read the set through this module, so they
//! measure the same thing.

use std::collections::{BTreeSet, HashMap};

use qoima_core::{Place, RecordId, VerifiedRecord, fixtures};
use serde::Deserialize;

use crate::{Matching, Source, Store, StoreError};

/// The set as written in the repository.
pub const RECALL_SET_JSON: &str = include_str!("../tests/data/search_recall.json");

/// Records and queries.
#[derive(Debug, Deserialize)]
pub struct RecallSet {
    /// The records searched.
    pub records: Vec<RecallRecord>,
    /// The queries, with what each should find.
    pub queries: Vec<RecallQuery>,
}

/// A record of the set (signed and stored by [`RecallSet::store_into`]).
#[derive(Debug, Deserialize)]
pub struct RecallRecord {
    /// The set's name for it (`r01`…).
    pub id: String,
    /// Its language.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Place name, or empty.
    pub place: String,
}

/// A query and the set's names of the records it should find.
#[derive(Debug, Deserialize)]
pub struct RecallQuery {
    /// As a person would type it.
    pub query: String,
    /// The records it should find.
    pub expected: BTreeSet<String>,
}

/// Expected records found, records found and records expected, over some queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Expected records found.
    pub hits: usize,
    /// Records found.
    pub found: usize,
    /// Records expected.
    pub expected: usize,
}

impl Tally {
    /// Expected records found over records expected.
    pub fn recall(&self) -> f64 {
        self.hits as f64 / self.expected.max(1) as f64
    }

    /// Expected records found over records found.
    pub fn precision(&self) -> f64 {
        self.hits as f64 / self.found.max(1) as f64
    }
}

/// The set stored in an archive: the set's name of each stored record.
pub struct StoredSet {
    names: HashMap<RecordId, String>,
}

impl RecallSet {
    /// The set of the repository.
    pub fn load() -> RecallSet {
        // The file is in the repository and checked by the store's tests; a set that
        // does not parse is a broken build, not an input.
        #[allow(clippy::expect_used)]
        serde_json::from_str(RECALL_SET_JSON).expect("tests/data/search_recall.json parses")
    }

    /// Signs the set's records (by one fixture author, in order) and imports them into
    /// `store`.
    pub fn store_into(&self, store: &mut Store) -> Result<StoredSet, StoreError> {
        let author = fixtures::author(31);
        let mut records: Vec<VerifiedRecord> = Vec::new();
        let mut names = HashMap::new();
        for doc in &self.records {
            let prev = records.last().map(VerifiedRecord::id);
            let mut body = fixtures::body(&author, records.len() as u64 + 1, prev, &doc.text);
            body.title = doc.title.clone();
            body.lang = doc.lang.clone();
            body.tags = doc.tags.clone();
            body.place = (!doc.place.is_empty()).then(|| Place {
                name: doc.place.clone(),
                point: None,
            });
            let record = VerifiedRecord::sign(&body, &author)
                .map_err(|e| StoreError::Invalid(format!("recall record {}: {e}", doc.id)))?;
            names.insert(record.id(), doc.id.clone());
            records.push(record);
        }
        let bundle = fixtures::bundle(&author, &records, &[]);
        let report = store.import_bundle(&bundle[..], Source::File("recall.qb".into()))?;
        if !report.is_clean() {
            return Err(StoreError::Invalid(format!(
                "storing the recall set: {report:?}"
            )));
        }
        Ok(StoredSet { names })
    }
}

impl StoredSet {
    /// The set's names of the records `query` finds in `store`, matched as `matching`
    /// says.
    pub fn found(
        &self,
        store: &Store,
        query: &str,
        matching: Matching,
    ) -> Result<BTreeSet<String>, StoreError> {
        Ok(store
            .search_matching(query, 1000, matching)?
            .into_iter()
            .filter_map(|s| self.names.get(&s.id).cloned())
            .collect())
    }

    /// What `query` finds of what it should, added to `tally`; returns what it found.
    pub fn measure(
        &self,
        store: &Store,
        query: &RecallQuery,
        matching: Matching,
        tally: &mut Tally,
    ) -> Result<BTreeSet<String>, StoreError> {
        let got = self.found(store, &query.query, matching)?;
        tally.hits += query.expected.intersection(&got).count();
        tally.found += got.len();
        tally.expected += query.expected.len();
        Ok(got)
    }
}
