//! Search recall on the set of 30 queries in `data/search_recall.json`: with word forms
//! (the default) it finds at least [`RECALL_FLOOR`] of the expected records, and every
//! example of word forms users asked for is found. `qoima-bench search-recall` prints
//! the same figures with and without word forms.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion
#![allow(clippy::disallowed_macros)] // the misses are printed for whoever reads a failure

mod common;

use std::collections::BTreeSet;

use common::*;
use qoima_store::recall_set::{RecallSet, StoredSet, Tally};
use qoima_store::{Matching, Store};

/// The least share of expected records a search with word forms must find.
const RECALL_FLOOR: f64 = 0.9;

/// An archive holding the set's records.
fn stored(set: &RecallSet, home: &std::path::Path) -> (Store, StoredSet) {
    let mut store = Store::open(home, &test_key()).unwrap();
    let names = set.store_into(&mut store).unwrap();
    (store, names)
}

/// (recall, precision) over all queries, each query's misses printed.
fn measure(set: &RecallSet, store: &Store, names: &StoredSet, matching: Matching) -> (f64, f64) {
    let mut tally = Tally::default();
    for q in &set.queries {
        let got = names.measure(store, q, matching, &mut tally).unwrap();
        let missed: Vec<_> = q.expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&q.expected).collect();
        if !missed.is_empty() || !extra.is_empty() {
            eprintln!(
                "{matching:?} {:?}: missed {missed:?}, also found {extra:?}",
                q.query
            );
        }
    }
    (tally.recall(), tally.precision())
}

#[test]
fn the_set_has_30_queries_whose_expected_records_exist() {
    let set = RecallSet::load();
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
    let set = RecallSet::load();
    let dir = tempfile::tempdir().unwrap();
    let (store, names) = stored(&set, dir.path());
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
    let set = RecallSet::load();
    let dir = tempfile::tempdir().unwrap();
    let (store, names) = stored(&set, dir.path());
    let finds = |query: &str, record: &str| {
        names
            .found(&store, query, Matching::WordForms)
            .unwrap()
            .contains(record)
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
    assert!(
        !names
            .found(&store, "Алмате", Matching::WordsAsTyped)
            .unwrap()
            .contains("r01")
    );
    assert!(
        !names
            .found(&store, "задержан", Matching::WordsAsTyped)
            .unwrap()
            .contains("r02")
    );
}

#[test]
fn a_quoted_phrase_matches_only_the_words_as_written_in_order() {
    let set = RecallSet::load();
    let dir = tempfile::tempdir().unwrap();
    let (store, names) = stored(&set, dir.path());
    let search = |q: &str| names.found(&store, q, Matching::WordForms).unwrap();
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
