//! `qoima-bench search-recall`: recall and precision of search on the set of 30 queries
//! with their expected records (`crates/store/tests/data/search_recall.json`), with word
//! forms (what `Store::search` does) and without (words matched as typed, as before
//! schema version 12). The store's test `search_recall.rs` holds the floor; this prints
//! the figures and each query's misses.

use std::collections::{BTreeSet, HashMap};

use qoima_core::{Place, RecordId, VerifiedRecord, fixtures};
use qoima_store::{Matching, Source, Store};
use serde::Deserialize;

use crate::util::Table;

/// Options of `search-recall` (none: the set is fixed).
#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(Deserialize)]
struct RecallSet {
    records: Vec<Doc>,
    queries: Vec<Query>,
}

#[derive(Deserialize)]
struct Doc {
    id: String,
    lang: String,
    title: String,
    text: String,
    tags: Vec<String>,
    place: String,
}

#[derive(Deserialize)]
struct Query {
    query: String,
    expected: BTreeSet<String>,
}

/// Expected records found, records found, records expected, over all queries.
#[derive(Default)]
struct Tally {
    hits: usize,
    found: usize,
    expected: usize,
}

impl Tally {
    fn recall(&self) -> f64 {
        self.hits as f64 / self.expected.max(1) as f64
    }
    fn precision(&self) -> f64 {
        self.hits as f64 / self.found.max(1) as f64
    }
}

/// Stores the set's records in a fresh archive; returns it with the set's id of each.
fn store_with(
    set: &RecallSet,
    home: &std::path::Path,
) -> anyhow::Result<(Store, HashMap<RecordId, String>)> {
    let author = fixtures::author(31);
    let mut records: Vec<VerifiedRecord> = Vec::new();
    let mut names = HashMap::new();
    for doc in &set.records {
        let prev = records.last().map(VerifiedRecord::id);
        let mut body = fixtures::body(&author, records.len() as u64 + 1, prev, &doc.text);
        body.title = doc.title.clone();
        body.lang = doc.lang.clone();
        body.tags = doc.tags.clone();
        body.place = (!doc.place.is_empty()).then(|| Place {
            name: doc.place.clone(),
            point: None,
        });
        let record = VerifiedRecord::sign(&body, &author)?;
        names.insert(record.id(), doc.id.clone());
        records.push(record);
    }
    let mut store = crate::util::open_store(home)?;
    let bundle = fixtures::bundle(&author, &records, &[]);
    let report = store.import_bundle(&bundle[..], Source::File("recall.qb".into()))?;
    anyhow::ensure!(report.is_clean(), "storing the set: {report:?}");
    Ok((store, names))
}

/// Runs the benchmark and prints its table.
pub fn run(_args: Args) -> anyhow::Result<()> {
    let set: RecallSet =
        serde_json::from_str(include_str!("../../store/tests/data/search_recall.json"))?;
    let dir = tempfile::tempdir()?;
    let (store, names) = store_with(&set, dir.path())?;
    println!(
        "search-recall: {} records, {} queries (crates/store/tests/data/search_recall.json)",
        set.records.len(),
        set.queries.len()
    );
    let mut table = Table::new(&[
        "query",
        "expected",
        "word forms: found",
        "missed",
        "as typed: found",
        "missed",
    ]);
    let (mut forms, mut typed) = (Tally::default(), Tally::default());
    for q in &set.queries {
        let mut cells = vec![q.query.clone(), q.expected.len().to_string()];
        for (matching, tally) in [
            (Matching::WordForms, &mut forms),
            (Matching::WordsAsTyped, &mut typed),
        ] {
            let got: BTreeSet<String> = store
                .search_matching(&q.query, 1000, matching)?
                .into_iter()
                .filter_map(|s| names.get(&s.id).cloned())
                .collect();
            let hits = q.expected.intersection(&got).count();
            tally.hits += hits;
            tally.found += got.len();
            tally.expected += q.expected.len();
            let missed: Vec<&str> = q.expected.difference(&got).map(String::as_str).collect();
            cells.push(got.len().to_string());
            cells.push(missed.join(" "));
        }
        table.row(cells);
    }
    println!();
    table.print();
    println!();
    for (label, tally) in [
        ("with word forms", &forms),
        ("words as typed (before)", &typed),
    ] {
        println!(
            "  {label:<24} recall {:.3} ({} of {}), precision {:.3} ({} of {} found)",
            tally.recall(),
            tally.hits,
            tally.expected,
            tally.precision(),
            tally.hits,
            tally.found
        );
    }
    Ok(())
}
