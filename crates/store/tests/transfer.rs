//! Attachments filled range by range from peers: verified on arrival, resumed after a
//! restart, served only when a record here refers to them.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use std::io::Read;

use common::test_key;
use qoima_core::blob_tree::{self, GROUP_LEN, GroupHasher, Outboard, RangeError};
use qoima_core::{BlobHash, VerifiedRecord, fixtures};
use qoima_store::{AcceptError, AttachmentState, Source, Store};

fn blob(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

fn outboard_of(data: &[u8]) -> Outboard {
    let mut tree = GroupHasher::new(data.len() as u64);
    tree.update(data);
    tree.finish().unwrap()
}

fn encoded(data: &[u8], first: u64, count: u64) -> Vec<u8> {
    let outboard = outboard_of(data);
    let (start, len) = blob_tree::range_bytes(data.len() as u64, first, count).unwrap();
    blob_tree::encode_range(
        &outboard,
        first,
        count,
        &data[start as usize..(start + len) as usize],
    )
    .unwrap()
}

/// A store holding a record that refers to `data` (but not `data` itself).
fn store_referring_to(home: &std::path::Path, data: &[u8]) -> Store {
    let mut store = Store::open(home, &test_key()).unwrap();
    let author = fixtures::author(7);
    let mut body = fixtures::body(&author, 1, None, "a video");
    body.attachments = vec![fixtures::attachment(data, "video/mp4", "v.mp4")];
    let record = VerifiedRecord::sign(&body, &author).unwrap();
    let bundle = fixtures::bundle(&fixtures::author(8), &[record], &[]);
    store
        .import_bundle(&bundle[..], Source::File("r.qb".into()))
        .unwrap();
    store
}

#[test]
fn a_partial_attachment_survives_a_restart_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let data = blob(10 * GROUP_LEN + 500);
    let hash = BlobHash::of(&data);
    let size = data.len() as u64;
    let store = store_referring_to(dir.path(), &data);
    let wanted = store.wanted_blobs(10).unwrap();
    assert_eq!(wanted.len(), 1);
    assert_eq!((wanted[0].hash, wanted[0].size), (hash, size));

    let files = store.blob_files();
    let partial = files.open_partial(&hash, size).unwrap();
    assert_eq!(
        partial.accept(0, 3, &encoded(&data, 0, 3)).unwrap(),
        3 * GROUP_LEN as u64
    );
    assert_eq!(
        partial.accept(7, 4, &encoded(&data, 7, 4)).unwrap(),
        3 * GROUP_LEN as u64 + 500
    );
    store
        .note_partial(&hash, size, partial.have_bytes())
        .unwrap();
    assert_eq!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Partial {
            have: 6 * GROUP_LEN as u64 + 500,
            size
        }
    );
    drop(partial);
    drop(files);
    drop(store);

    // A new process: the file itself says what arrived.
    let store = Store::open(dir.path(), &test_key()).unwrap();
    let files = store.blob_files();
    let partial = files.open_partial(&hash, size).unwrap();
    assert_eq!(partial.have_bytes(), 6 * GROUP_LEN as u64 + 500);
    assert_eq!(partial.missing_runs(), [(3, 4)]);
    // The same range again adds nothing.
    assert_eq!(partial.accept(0, 1, &encoded(&data, 0, 1)).unwrap(), 0);
    partial.accept(3, 4, &encoded(&data, 3, 4)).unwrap();
    assert!(partial.is_complete());
    let outboard = files.install_partial(&partial).unwrap();
    store.add_fetched_blob(&outboard).unwrap();
    assert_eq!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Present
    );
    assert!(store.wanted_blobs(10).unwrap().is_empty());
    let mut back = Vec::new();
    store
        .read_blob(&hash)
        .unwrap()
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, data);
    // It can now be served, with the outboard everybody computes.
    let served = store.serving_outboard(&hash, size).unwrap().unwrap();
    assert_eq!(served, outboard_of(&data));
    assert!(!dir.path().join("partial").read_dir().unwrap().any(|_| true));
}

#[test]
fn a_bad_range_writes_nothing_and_says_which_group() {
    let dir = tempfile::tempdir().unwrap();
    let data = blob(4 * GROUP_LEN);
    let hash = BlobHash::of(&data);
    let store = store_referring_to(dir.path(), &data);
    let partial = store
        .blob_files()
        .open_partial(&hash, data.len() as u64)
        .unwrap();
    let mut bad = encoded(&data, 0, 4);
    let at = bad.len() - GROUP_LEN - 10; // inside group 2
    bad[at] ^= 0x40;
    match partial.accept(0, 4, &bad) {
        Err(AcceptError::Invalid(RangeError::BadGroup(2))) => {}
        other => panic!("expected group 2 to be refused, got {other:?}"),
    }
    assert_eq!(
        partial.have_bytes(),
        0,
        "verified groups before the bad one were not kept"
    );
}

#[test]
fn only_referenced_attachments_of_the_stated_size_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = blob(3 * GROUP_LEN);
    let hash = BlobHash::of(&data);
    let mut store = store_referring_to(dir.path(), &data);
    let size = data.len() as u64;
    // Referenced but not held.
    assert_eq!(store.serving_outboard(&hash, size).unwrap(), None);
    // Held and referenced.
    let path = dir.path().join("v.mp4");
    std::fs::write(&path, &data).unwrap();
    store.add_blob_file(&path).unwrap();
    assert!(store.serving_outboard(&hash, size).unwrap().is_some());
    // Another size than the record states.
    assert_eq!(store.serving_outboard(&hash, size + 1).unwrap(), None);
    // Held but referenced by no record.
    let other = blob(100);
    std::fs::write(&path, &other).unwrap();
    let stored = store.add_blob_file(&path).unwrap();
    assert_eq!(store.serving_outboard(&stored.blake3, 100).unwrap(), None);
}

#[test]
fn a_partial_attachment_is_completed_by_a_bundle_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = blob(6 * GROUP_LEN + 10);
    let hash = BlobHash::of(&data);
    let size = data.len() as u64;
    let mut store = store_referring_to(dir.path(), &data);
    let files = store.blob_files();
    let partial = files.open_partial(&hash, size).unwrap();
    partial.accept(0, 2, &encoded(&data, 0, 2)).unwrap();
    store
        .note_partial(&hash, size, partial.have_bytes())
        .unwrap();
    assert!(matches!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Partial { .. }
    ));

    // A USB stick brings the whole attachment.
    let author = fixtures::author(9);
    let bundle = fixtures::bundle(&author, &[], &[&data]);
    let report = store
        .import_bundle(&bundle[..], Source::File("stick.qb".into()))
        .unwrap();
    assert_eq!(report.blobs_new, 1, "{report:?}");
    assert_eq!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Present
    );
    assert!(store.wanted_blobs(10).unwrap().is_empty());
    assert!(!dir.path().join("partial").read_dir().unwrap().any(|_| true));
    let mut stored = Vec::new();
    store
        .read_blob(&hash)
        .unwrap()
        .unwrap()
        .read_to_end(&mut stored)
        .unwrap();
    assert!(stored == data);

    // A node that was still fetching it finishes without harm: same hash, same bytes.
    partial.accept(2, 5, &encoded(&data, 2, 5)).unwrap();
    let outboard = files.install_partial(&partial).unwrap();
    assert_eq!(outboard.root(), hash);
    store.add_fetched_blob(&outboard).unwrap();
    let mut again = Vec::new();
    store
        .read_blob(&hash)
        .unwrap()
        .unwrap()
        .read_to_end(&mut again)
        .unwrap();
    assert!(again == data);
}

#[test]
fn an_attachment_completing_after_its_record_was_retracted_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = blob(3 * GROUP_LEN);
    let hash = BlobHash::of(&data);
    let size = data.len() as u64;
    let mut store = store_referring_to(dir.path(), &data);
    let files = store.blob_files();
    let partial = files.open_partial(&hash, size).unwrap();
    partial.accept(0, 3, &encoded(&data, 0, 3)).unwrap();
    assert!(partial.is_complete());
    // Installed under its name, not yet indexed, when its author retracts the record.
    let outboard = files.install_partial(&partial).unwrap();
    let author = fixtures::author(7);
    let listed = store
        .list(&qoima_store::ListQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    let record = listed[0].id;
    let mut body = fixtures::body(&author, 2, Some(record), "withdrawn");
    body.kind = qoima_core::RecordKind::Retraction;
    body.details = qoima_core::Details::None;
    body.links = vec![qoima_core::Link {
        kind: qoima_core::LinkKind::Retracts,
        target: record,
    }];
    let retraction = VerifiedRecord::sign(&body, &author).unwrap();
    let bundle = fixtures::bundle(&fixtures::author(8), &[retraction], &[]);
    store
        .import_bundle(&bundle[..], Source::File("r.qb".into()))
        .unwrap();
    store.add_fetched_blob(&outboard).unwrap();
    assert_eq!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Missing
    );
    assert!(
        store.read_blob(&hash).unwrap().is_none(),
        "the file is gone"
    );
    assert!(store.serving_outboard(&hash, size).unwrap().is_none());
}
