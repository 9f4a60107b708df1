//! Appending to an author's chain is atomic: two writers at once (two `qoima add`, each
//! with its own `Store` on the same directory) never fork the chain.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use std::collections::BTreeMap;
use std::sync::Barrier;

use qoima_core::{RecordId, VerifiedRecord, fixtures};
use qoima_store::{ListQuery, Store, StoreError};

const AUTHOR: u8 = 61;
const PER_WRITER: u64 = 15;

fn append(store: &mut Store, writer: u64, n: u64) -> VerifiedRecord {
    let secret = fixtures::author(AUTHOR);
    store
        .append_local(&secret.public(), |head| -> Result<_, StoreError> {
            let (seq, prev) = match head {
                Some((seq, id)) => (seq + 1, Some(id)),
                None => (1, None),
            };
            let body = fixtures::body(&secret, seq, prev, &format!("writer {writer}, {n}"));
            Ok(VerifiedRecord::sign(&body, &secret).unwrap())
        })
        .unwrap()
}

#[test]
fn two_stores_appending_at_once_never_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path(), &test_key()).unwrap(); // created (and migrated) once, before the race
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let (start, home) = (&start, dir.path());
            scope.spawn(move || {
                let mut store = Store::open(home, &test_key()).unwrap();
                start.wait();
                for n in 0..PER_WRITER {
                    append(&mut store, writer, n);
                }
            });
        }
    });

    let store = Store::open(dir.path(), &test_key()).unwrap();
    let summaries = store
        .list(&ListQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(summaries.len() as u64, 2 * PER_WRITER);
    let mut by_seq: BTreeMap<u64, VerifiedRecord> = BTreeMap::new();
    for summary in &summaries {
        let record = store.get(&summary.id).unwrap().record;
        assert!(
            by_seq.insert(record.body().seq, record).is_none(),
            "two records with sequence number {}",
            summary.seq
        );
    }
    let seqs: Vec<u64> = by_seq.keys().copied().collect();
    assert_eq!(seqs, (1..=2 * PER_WRITER).collect::<Vec<_>>());
    let mut prev: Option<RecordId> = None;
    for record in by_seq.values() {
        assert_eq!(record.body().prev, prev, "seq {}", record.body().seq);
        prev = Some(record.id());
    }
    assert_eq!(
        store.head_of(&fixtures::author(AUTHOR).public()).unwrap(),
        Some((2 * PER_WRITER, prev.unwrap()))
    );
}

#[test]
fn a_record_that_does_not_follow_the_head_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let first = append(&mut store, 0, 0);
    let secret = fixtures::author(AUTHOR);
    let stale = |head: Option<(u64, RecordId)>| -> Result<VerifiedRecord, StoreError> {
        assert_eq!(head, Some((1, first.id())), "the head is given");
        // Built as if the archive were empty: a fork.
        Ok(VerifiedRecord::sign(&fixtures::body(&secret, 1, None, "fork"), &secret).unwrap())
    };
    match store.append_local(&secret.public(), stale) {
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains("does not follow"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Another author's record under this author's lock is refused too.
    let other = fixtures::author(AUTHOR + 1);
    let result = store.append_local(&secret.public(), |_| -> Result<_, StoreError> {
        Ok(
            VerifiedRecord::sign(&fixtures::body(&other, 2, Some(first.id()), "x"), &other)
                .unwrap(),
        )
    });
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    // The maker's own error is passed through, nothing stored.
    let result = store.append_local(
        &secret.public(),
        |_| -> Result<VerifiedRecord, StoreError> { Err(StoreError::Invalid("no title".into())) },
    );
    assert!(matches!(result, Err(StoreError::Invalid(m)) if m == "no title"));
    assert_eq!(store.record_count().unwrap(), 1);
}
