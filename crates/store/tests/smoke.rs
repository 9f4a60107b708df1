//! The store's main paths end to end on a temporary directory: import, list, search,
//! show, export and import again elsewhere.

mod common;

use common::*;
use qoima_core::fixtures;
use qoima_store::{ExportQuery, ListQuery, Source, Store};

#[test]
fn import_list_search_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let author = fixtures::author(9);
    let mut records = fixtures::chain(&author, 5, 300);
    let mut body = fixtures::body(
        &author,
        6,
        Some(records[4].id()),
        "Қарулы адамдар алаңда, ёлка",
    );
    body.title = "Алматы: Республика алаңы".into();
    records.push(qoima_core::VerifiedRecord::sign(&body, &author).unwrap());
    let blob = vec![42u8; 200_000];
    let bundle = fixtures::bundle(&author, &records, &[&blob]);

    let report = store
        .import_bundle(&bundle[..], Source::File("a.qb".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        (report.records_new, report.records_present, report.blobs_new),
        (6, 0, 1)
    );
    let again = store
        .import_bundle(&bundle[..], Source::File("a.qb".into()))
        .unwrap();
    assert_eq!(
        (
            again.records_new,
            again.records_present,
            again.blobs_present
        ),
        (0, 6, 1)
    );

    let listed = store
        .list(&ListQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 6);
    assert_eq!(
        store.search("қарулы", 10).unwrap().len(),
        1,
        "Kazakh, case-folded"
    );
    assert_eq!(
        store.search("АЛАҢ", 10).unwrap().len(),
        1,
        "Kazakh prefix, upper case"
    );
    assert_eq!(store.search("елка", 10).unwrap().len(), 1, "ё matches е");
    assert_eq!(store.search("площадь", 10).unwrap().len(), 5, "Russian");
    assert_eq!(store.search("nothing-like-this", 10).unwrap().len(), 0);

    let id = records[5].id();
    assert_eq!(store.resolve(&id.to_hex()[..10]).unwrap(), id);
    let shown = store.get(&id).unwrap();
    assert_eq!(shown.record.body().title, "Алматы: Республика алаңы");
    assert_eq!(shown.provenance.len(), 1);

    let mut out = Vec::new();
    let exported = store
        .export(
            &mut out,
            &ExportQuery {
                with_attachments: true,
                collection: "default".into(),
                ..Default::default()
            },
            &author,
        )
        .unwrap();
    assert_eq!(
        (exported.records, exported.blobs),
        (6, 0),
        "no record references the blob"
    );

    let other_dir = tempfile::tempdir().unwrap();
    let mut other = Store::open(other_dir.path(), &test_key()).unwrap();
    let report = other
        .import_bundle(&out[..], Source::File("b.qb".into()))
        .unwrap();
    assert_eq!(report.records_new, 6);
    assert_eq!(other.head_of(&author.public()).unwrap().unwrap(), (6, id));
}

/// Archives opened on many threads at once all open: the encrypted database's first
/// keying in a process must not race with another thread's.
#[test]
fn archives_opened_on_many_threads_at_once_all_open() {
    let dirs: Vec<_> = (0..16).map(|_| tempfile::tempdir().unwrap()).collect();
    std::thread::scope(|scope| {
        let opened: Vec<_> = dirs
            .iter()
            .map(|dir| scope.spawn(move || Store::open(dir.path(), &test_key()).map(drop)))
            .collect();
        for (n, handle) in opened.into_iter().enumerate() {
            if let Err(e) = handle.join().unwrap() {
                panic!("archive {n} did not open: {e}");
            }
        }
    });
}
