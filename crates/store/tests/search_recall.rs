//! Search recall on the set of 30 queries in `data/search_recall.json`: with word forms
//! (the default) it finds at least [`RECALL_FLOOR`] of the expected records, and every
//! example of word forms users asked for is found. `qoima-bench search-recall` prints
//! the same figures with and without word forms.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use std::collections::{BTreeSet, HashMap};

use common::*;
use qoima_core::{Place, RecordId, VerifiedRecord, fixtures};
use qoima_store::{Matching, Source, Store};
use serde::Deserialize;

/// The least share of expected records a search with word forms must find.
const RECALL_FLOOR: f64 = 0.9;

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

/// A store holding the set's records, and the set's id of each stored record.
fn store_with(set: &RecallSet, home: &std::path::Path) -> (Store, HashMap<RecordId, String>) {
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
        let record = VerifiedRecord::sign(&body, &author).unwrap();
        names.insert(record.id(), doc.id.clone());
        records.push(record);
    }
    let mut store = Store::open(home, &test_key()).unwrap();
    let bundle = fixtures::bundle(&author, &records, &[]);
    let report = store
        .import_bundle(&bundle[..], Source::File("recall.qb".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    (store, names)
}

fn recall_set() -> RecallSet {
    serde_json::from_str(include_str!("data/search_recall.json")).unwrap()
}

fn found(
    store: &Store,
    names: &HashMap<RecordId, String>,
    query: &str,
    matching: Matching,
) -> BTreeSet<String> {
    store
        .search_matching(query, 1000, matching)
        .unwrap()
        .into_iter()
        .map(|s| names[&s.id].clone())
        .collect()
}

/// (recall, precision) over all queries: expected records found over expected records,
/// and expected records found over records found.
fn measure(
    set: &RecallSet,
    store: &Store,
    names: &HashMap<RecordId, String>,
    matching: Matching,
) -> (f64, f64) {
    let (mut expected, mut returned, mut hits) = (0, 0, 0);
    for q in &set.queries {
        let got = found(store, names, &q.query, matching);
        let missed: Vec<_> = q.expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&q.expected).collect();
        if !missed.is_empty() || !extra.is_empty() {
            eprintln!(
                "{matching:?} {:?}: missed {missed:?}, also found {extra:?}",
                q.query
            );
        }
        expected += q.expected.len();
        returned += got.len();
        hits += q.expected.intersection(&got).count();
    }
    (
        hits as f64 / expected as f64,
        hits as f64 / returned.max(1) as f64,
    )
}

#[test]
fn the_set_has_30_queries_whose_expected_records_exist() {
    let set = recall_set();
    assert_eq!(set.queries.len(), 30);
    let ids: BTreeSet<&str> = set.records.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), set.records.len(), "record ids are unique");
    for q in &set.queries {
        assert!(!q.expected.is_empty(), "{}", q.query);
        for e in &q.expected {
            assert!(ids.contains(e.as_str()), "{}: no record {e}", q.query);
        }
    }
}

#[test]
fn word_forms_find_at_least_the_floor_and_more_than_words_as_typed() {
    let set = recall_set();
    let dir = tempfile::tempdir().unwrap();
    let (store, names) = store_with(&set, dir.path());
    let (recall, precision) = measure(&set, &store, &names, Matching::WordForms);
    let (typed_recall, typed_precision) = measure(&set, &store, &names, Matching::WordsAsTyped);
    eprintln!(
        "word forms: recall {recall:.3}, precision {precision:.3}; \
         as typed: recall {typed_recall:.3}, precision {typed_precision:.3}"
    );
    assert!(
        recall >= RECALL_FLOOR,
        "recall {recall:.3} < {RECALL_FLOOR}"
    );
    assert!(recall > typed_recall);
    assert!(precision >= 0.8, "precision {precision:.3}");
}

#[test]
fn the_examples_users_gave_are_found() {
    let set = recall_set();
    let dir = tempfile::tempdir().unwrap();
    let (store, names) = store_with(&set, dir.path());
    let finds = |query: &str, record: &str| {
        found(&store, &names, query, Matching::WordForms).contains(record)
    };
    // "задержан" finds "задержания" (r03), "задержали" (r02), "задержанный" (r08).
    for record in ["r03", "r02", "r08"] {
        assert!(finds("задержан", record), "задержан / {record}");
    }
    // "Алматы" and "Алмате" find each other.
    assert!(finds("Алматы", "r02"), "Алматы / Алмате");
    assert!(finds("Алмате", "r01"), "Алмате / Алматы");
    // "Жаңаөзен" finds "Жаңаөзенде" (r14) and "Жаңаөзеннен" (r15).
    assert!(finds("Жаңаөзен", "r14"));
    assert!(finds("Жаңаөзен", "r15"));
    // Without word forms, as before, these forms were not found.
    assert!(!found(&store, &names, "Алмате", Matching::WordsAsTyped).contains("r01"));
    assert!(!found(&store, &names, "задержан", Matching::WordsAsTyped).contains("r02"));
}

#[test]
fn a_quoted_phrase_matches_only_the_words_as_written_in_order() {
    let set = recall_set();
    let dir = tempfile::tempdir().unwrap();
    let (store, names) = store_with(&set, dir.path());
    let search = |q: &str| found(&store, &names, q, Matching::WordForms);
    assert_eq!(search("\"в Алмате\""), BTreeSet::from(["r02".to_owned()]));
    assert_eq!(
        search("\"пропал без вести\""),
        BTreeSet::from(["r06".to_owned()])
    );
    // The same words in another order, or another form, are not the phrase.
    assert!(search("\"вести без\"").is_empty());
    assert!(search("\"в Алматы задержали\"").is_empty());
    // A quoted single word is that word, not its other forms nor longer words.
    assert_eq!(
        search("\"задержали\""),
        BTreeSet::from(["r02".to_owned(), "r13".to_owned()])
    );
}
