//! Records rotted on disk are never served, and heal: `bundle_of` leaves them out and
//! names them, `quarantine` removes them (and only them), and a good copy from a peer is
//! then stored again as any new record.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use qoima_core::{RecordId, VerifiedRecord, fixtures};
use qoima_store::{ListQuery, Source, Store, StoreError};

const AUTHOR: u8 = 51;

fn chain() -> Vec<VerifiedRecord> {
    fixtures::chain(&fixtures::author(AUTHOR), 5, 300)
}

fn ids(records: &[VerifiedRecord]) -> Vec<RecordId> {
    records.iter().map(VerifiedRecord::id).collect()
}

/// A store holding `chain()`, imported from a file, with record 2's bytes altered in the
/// database as rot would.
fn rotted_store(home: &std::path::Path) -> (Store, rusqlite::Connection) {
    let records = chain();
    let mut store = Store::open(home, &test_key()).unwrap();
    let bundle = fixtures::bundle(&fixtures::author(AUTHOR), &records, &[]);
    let report = store
        .import_bundle(&bundle[..], Source::File("first.qb".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    let db = keyed_db(&home.join("archive.db"));
    let mut bytes = records[2].bytes().to_vec();
    bytes[50] ^= 0x08;
    let changed = db
        .execute(
            "UPDATE records SET bytes = ?1 WHERE id = ?2",
            rusqlite::params![bytes, records[2].id().as_bytes()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    (store, db)
}

#[test]
fn a_rotted_record_is_left_out_of_what_is_served_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = rotted_store(dir.path());
    let records = chain();
    let served = store
        .bundle_of(&ids(&records), 1 << 20, "default", &fixtures::author(52))
        .unwrap();
    assert_eq!(served.records, 4);
    assert_eq!(served.corrupt, vec![records[2].id()]);

    // What was served is a bundle any peer accepts in full.
    let peer = tempfile::tempdir().unwrap();
    let mut peer = Store::open(peer.path(), &test_key()).unwrap();
    let report = peer
        .import_network_bundle(&served.bytes, Source::Peer("server".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.records_listed, report.records_new), (4, 4));
    assert_eq!(peer.missing(&ids(&records)).unwrap(), vec![records[2].id()]);
}

#[test]
fn quarantine_removes_only_rotted_records_and_a_good_copy_heals_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, db) = rotted_store(dir.path());
    let records = chain();
    let victim = records[2].id();

    let indexed = store
        .index_entries()
        .unwrap()
        .into_iter()
        .find(|(_, id)| *id == victim.0)
        .unwrap();
    // A sound record passed by mistake is kept.
    let removed = store.quarantine(&[records[1].id(), victim]).unwrap();
    let removed_ids: Vec<_> = removed.iter().map(|(_, id)| *id).collect();
    assert_eq!(removed_ids, vec![victim]);
    assert_eq!(removed, vec![(indexed.0, victim)]);
    assert_eq!(store.record_count().unwrap(), 4);
    assert!(matches!(store.get(&victim), Err(StoreError::NotFound(_))));
    assert_eq!(store.missing(&ids(&records)).unwrap(), vec![victim]);
    assert!(store.get(&records[1].id()).is_ok());
    // Nothing refers to the removed row any more.
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM provenance"), 4);
    assert_eq!(
        count("SELECT count(*) FROM provenance WHERE record NOT IN (SELECT rowid FROM records)"),
        0
    );
    let found = |store: &Store| -> Vec<RecordId> {
        let hits = store.search("Свидетельство 3", 10).unwrap();
        hits.into_iter()
            .map(|s| s.id)
            .filter(|id| *id == victim)
            .collect()
    };
    assert_eq!(found(&store), vec![], "gone from the full-text index");
    // The local log keeps what was lost and how it had come.
    let (logged, provenance): (Vec<u8>, String) = db
        .query_row("SELECT id, provenance FROM corrupt_records", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(logged, victim.as_bytes().to_vec());
    assert!(provenance.starts_with("file "), "{provenance}");
    assert!(provenance.contains(" first.qb "), "{provenance}");
    // A second quarantine of the same id finds nothing to do.
    assert_eq!(store.quarantine(&[victim]).unwrap(), vec![]);

    // A peer sends the good copy: it is stored again, indexed and verified.
    let bundle = fixtures::bundle(&fixtures::author(AUTHOR), &records, &[]);
    let report = store
        .import_network_bundle(&bundle, Source::Peer("healer".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!((report.records_new, report.records_present), (1, 4));
    let healed = store.get(&victim).unwrap();
    assert_eq!(healed.record.bytes(), records[2].bytes());
    assert_eq!(healed.provenance.len(), 1);
    assert_eq!(
        (
            healed.provenance[0].source.as_str(),
            healed.provenance[0].origin.as_str()
        ),
        ("peer", "healer")
    );
    assert_eq!(found(&store), vec![victim], "indexed again, once");
    assert_eq!(
        store.head_of(&fixtures::author(AUTHOR).public()).unwrap(),
        Some((5, records[4].id()))
    );
    let listed = store
        .list(&ListQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 5);
    let served = store
        .bundle_of(&ids(&records), 1 << 20, "default", &fixtures::author(52))
        .unwrap();
    assert_eq!((served.records, served.corrupt.len()), (5, 0));
}
