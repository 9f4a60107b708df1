//! The verdict on a bundle is a function of its bytes: the same bundle is judged the
//! same by a store that holds its blob and one that does not; network bundles carry
//! records only; a failure of this node is an `Err`, never the sender's fault.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use qoima_core::{BlobHash, VerifiedRecord, fixtures};
use qoima_store::{ImportReport, Rejection, SenderFault, Source, Store, StoreError};
use std::io::Read as _;

const AUTHOR: u8 = 41;

fn records() -> Vec<VerifiedRecord> {
    fixtures::chain(&fixtures::author(AUTHOR), 3, 200)
}

fn blob() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// A bundle of `records()` then `blob()`, with the blob's last byte flipped if `junk`:
/// a hostile sender's bytes under the hash of a blob an honest node holds.
fn bundle(junk: bool) -> Vec<u8> {
    let blob = blob();
    let mut bytes = fixtures::bundle(&fixtures::author(AUTHOR), &records(), &[&blob]);
    if junk {
        *bytes.last_mut().unwrap() ^= 0x40;
    }
    bytes
}

fn file(name: &str) -> Source {
    Source::File(name.into())
}

/// The parts of a report that are the verdict and what it did.
fn outcome(report: &ImportReport) -> (Option<SenderFault>, u64, u64, u64, u64, usize) {
    (
        report.sender_fault(),
        report.records_new,
        report.records_present,
        report.blobs_new,
        report.blobs_present,
        report.rejected.len(),
    )
}

#[test]
fn junk_under_a_held_blobs_hash_is_rejected_whatever_the_store_holds() {
    let holder = tempfile::tempdir().unwrap();
    let mut holder = Store::open(holder.path(), &test_key()).unwrap();
    let report = holder
        .import_bundle(&bundle(false)[..], file("good.qb"))
        .unwrap();
    assert_eq!(outcome(&report), (None, 3, 0, 1, 0, 0), "{report:?}");

    // The honest bundle again: its blob bytes are read, match, and count as present.
    let again = holder
        .import_bundle(&bundle(false)[..], file("good.qb"))
        .unwrap();
    assert_eq!(outcome(&again), (None, 0, 3, 0, 1, 0), "{again:?}");

    // Junk under the held blob's hash: refused as it would be by a store without it.
    let junk = holder
        .import_bundle(&bundle(true)[..], file("junk.qb"))
        .unwrap();
    let rejected = Rejection {
        index: 3,
        item: format!("blob {}", BlobHash::of(&blob())),
        reason: "item 3: content does not match its hash in the manifest (corrupted or altered)"
            .into(),
        later_version: false,
    };
    assert_eq!(
        outcome(&junk),
        (Some(SenderFault::BadItem { rejected: 1 }), 0, 3, 0, 0, 1),
        "{junk:?}"
    );
    assert_eq!(junk.rejected, vec![rejected.clone()]);

    let fresh = tempfile::tempdir().unwrap();
    let mut fresh = Store::open(fresh.path(), &test_key()).unwrap();
    let junk_fresh = fresh
        .import_bundle(&bundle(true)[..], file("junk.qb"))
        .unwrap();
    assert_eq!(
        outcome(&junk_fresh),
        (Some(SenderFault::BadItem { rejected: 1 }), 3, 0, 0, 0, 1),
        "{junk_fresh:?}"
    );
    assert_eq!(junk_fresh.rejected, vec![rejected]);
    assert_eq!(fresh.blob_path(&BlobHash::of(&blob())), None);

    // The held blob is untouched.
    let mut held = Vec::new();
    holder
        .read_blob(&BlobHash::of(&blob()))
        .unwrap()
        .unwrap()
        .read_to_end(&mut held)
        .unwrap();
    assert_eq!(held, blob());
}

#[test]
fn a_network_bundle_listing_a_blob_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let report = store
        .import_network_bundle(&bundle(false), Source::Peer("12D3KooWpeer".into()))
        .unwrap();
    assert_eq!(report.sender_fault(), Some(SenderFault::CarriesBlobs));
    assert_eq!(
        report.fatal.as_deref(),
        Some("network bundles carry records only; attachments have their own protocol")
    );
    assert_eq!(
        SenderFault::CarriesBlobs.to_string(),
        "network bundles carry records only; attachments have their own protocol"
    );
    assert_eq!(
        outcome(&report),
        (Some(SenderFault::CarriesBlobs), 0, 0, 0, 0, 0)
    );
    assert_eq!(report.records_listed, 3);
    assert_eq!(store.record_count().unwrap(), 0, "not even its records");
    assert_eq!(store.blob_path(&BlobHash::of(&blob())), None);
}

#[test]
fn a_network_bundle_of_records_is_imported_and_judged_by_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let author = fixtures::author(AUTHOR);
    let good = fixtures::bundle(&author, &records(), &[]);
    let peer = || Source::Peer("12D3KooWpeer".into());

    let report = store.import_network_bundle(&good, peer()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(outcome(&report), (None, 3, 0, 0, 0, 0));
    let stored = store.get(&records()[0].id()).unwrap();
    assert_eq!(stored.provenance.len(), 1);
    assert_eq!(
        (
            stored.provenance[0].source.as_str(),
            stored.provenance[0].origin.as_str()
        ),
        ("peer", "12D3KooWpeer")
    );

    // A record's byte altered: that item is the sender's fault, the others are kept.
    let mut altered = good.clone();
    let last = altered.len() - 5;
    altered[last] ^= 0x01;
    let report = store.import_network_bundle(&altered, peer()).unwrap();
    assert_eq!(
        outcome(&report),
        (Some(SenderFault::BadItem { rejected: 1 }), 0, 2, 0, 0, 1)
    );

    // Cut short, or with the signature broken: unreadable, whatever is held here.
    for damaged in [good[..good.len() - 1].to_vec(), {
        let mut bytes = good.clone();
        bytes[20] ^= 0x01;
        bytes
    }] {
        let report = store.import_network_bundle(&damaged, peer()).unwrap();
        assert_eq!(
            report.sender_fault(),
            Some(SenderFault::Unreadable),
            "{report:?}"
        );
        assert!(report.fatal.is_some());
    }
}

#[test]
fn bundles_stored_together_are_each_judged_by_their_own_bytes() {
    let author = fixtures::author(AUTHOR);
    let good = fixtures::bundle(&author, &records(), &[]);
    let other_records = fixtures::chain(&fixtures::author(AUTHOR + 1), 2, 300);
    let other = fixtures::bundle(&fixtures::author(AUTHOR + 1), &other_records, &[]);
    let mut altered = other.clone();
    let last = altered.len() - 5;
    altered[last] ^= 0x01;
    let cut = good[..good.len() - 1].to_vec();
    let peer = |name: &str| Source::Peer(name.into());

    // Each bundle alone, each in a fresh store: the verdicts to expect.
    let alone: Vec<_> = [&cut, &good, &altered, &other, &good]
        .iter()
        .map(|bytes| {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(dir.path(), &test_key()).unwrap();
            store
                .import_network_bundle(bytes, peer("p"))
                .unwrap()
                .sender_fault()
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let reports = store
        .import_network_bundles(vec![
            (&cut[..], peer("cutter")),
            (&good[..], peer("honest")),
            (&altered[..], peer("forger")),
            (&other[..], peer("second")),
            (&good[..], peer("again")),
        ])
        .unwrap();
    let faults: Vec<_> = reports.iter().map(ImportReport::sender_fault).collect();
    assert_eq!(faults, alone, "the same verdicts as one by one");
    assert_eq!(
        reports.iter().map(outcome).collect::<Vec<_>>(),
        vec![
            // Cut short: what verified before the cut is kept.
            (Some(SenderFault::Unreadable), 2, 0, 0, 0, 0),
            (None, 1, 2, 0, 0, 0),
            // The altered record is refused; the other, valid, is stored.
            (Some(SenderFault::BadItem { rejected: 1 }), 1, 0, 0, 0, 1),
            // Its altered twin came first in the group: one record is new here.
            (None, 1, 1, 0, 0, 0),
            (None, 0, 3, 0, 0, 0),
        ]
    );
    assert_eq!(store.record_count().unwrap(), 5);
    // Each record's provenance names the bundle it came in.
    let stored = store.get(&records()[0].id()).unwrap();
    let mut origins: Vec<&str> = stored
        .provenance
        .iter()
        .map(|p| p.origin.as_str())
        .collect();
    origins.sort();
    assert_eq!(origins, ["again", "cutter", "honest"]);
}

/// A reader that fails like a failing disk after `ok` bytes.
struct FailingRead<'a> {
    bytes: &'a [u8],
    ok: usize,
}

impl std::io::Read for FailingRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.ok == 0 {
            return Err(std::io::Error::other("the USB stick went away"));
        }
        let n = buf.len().min(self.ok).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn a_file_that_cannot_be_read_is_no_fault_of_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let bytes = bundle(false);
    // Fails inside the blob, after the three records.
    let input = FailingRead {
        bytes: &bytes,
        ok: bytes.len() - 1000,
    };
    let report = store.import_bundle(input, file("usb.qb")).unwrap();
    assert_eq!(report.sender_fault(), None, "{report:?}");
    assert_eq!(
        report.fatal.as_deref(),
        Some("read error: the USB stick went away")
    );
    assert_eq!(
        outcome(&report),
        (None, 3, 0, 0, 0, 0),
        "what verified is kept"
    );
}

#[test]
fn a_failure_of_this_node_is_an_error_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    // Scratch space for blobs that cannot be written: a file where the directory was.
    std::fs::remove_dir_all(dir.path().join("tmp")).unwrap();
    std::fs::write(dir.path().join("tmp"), b"not a directory").unwrap();
    match store.import_bundle(&bundle(false)[..], file("good.qb")) {
        Err(StoreError::Io { path, .. }) => assert_eq!(path, dir.path().join("tmp")),
        other => panic!("expected an I/O error of this store, got {other:?}"),
    }
    assert_eq!(
        store.record_count().unwrap(),
        0,
        "the records before the blob are rolled back"
    );
    // The same bundle is fine once the store is.
    std::fs::remove_file(dir.path().join("tmp")).unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    let report = store
        .import_bundle(&bundle(false)[..], file("good.qb"))
        .unwrap();
    assert_eq!(outcome(&report), (None, 3, 0, 1, 0, 0), "{report:?}");
}

#[test]
fn a_record_of_a_later_format_version_is_refused_without_blaming_the_sender() {
    let a = qoima_core::fixtures::author(1);
    let mut body = qoima_core::fixtures::body(&a, 1, None, "from the future");
    body.version = qoima_core::RECORD_FORMAT_V2 + 1;
    // Whatever its signature, this reader cannot decode the body to check it.
    let mut bytes = qoima_core::encoding::encode(&body);
    bytes.extend_from_slice(&[7; 64]);
    let manifest_items = vec![qoima_core::bundle::ItemRef {
        kind: qoima_core::bundle::ItemKind::Record,
        hash: qoima_core::RecordId::of(&bytes).0,
        size: bytes.len() as u64,
    }];
    let bundler = qoima_core::fixtures::author(9);
    let manifest = qoima_core::bundle::Manifest {
        bundler: bundler.public(),
        created_ms: 0,
        collection: "default".into(),
        items: manifest_items,
    };
    let mut writer = qoima_core::bundle::BundleWriter::new(Vec::new(), manifest, &bundler).unwrap();
    writer.write_record(&bytes).unwrap();
    let file = writer.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &common::test_key()).unwrap();
    let report = store
        .import_network_bundle(&file[..], Source::Peer("p".into()))
        .unwrap();
    assert_eq!(report.rejected.len(), 1);
    assert!(report.rejected[0].later_version);
    assert!(report.rejected[0].reason.contains("a later qoima made it"));
    assert_eq!(report.sender_fault(), None);
}
