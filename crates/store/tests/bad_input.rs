//! Bad input against a store that already holds records: every kind of damaged bundle is
//! reported by item and reason, stores nothing invalid, loses nothing stored before, and
//! keeps the good items around a bad one; damage to the store's own files is reported as
//! corruption by `export` and `get`.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey};
use qoima_core::bundle::{
    BUNDLE_FORMAT_VERSION, BUNDLE_MAGIC, BundleReader, BundleWriter, HEADER_LEN, Item, ItemKind,
    ItemRef, MANIFEST_SIGNATURE_CONTEXT, Manifest,
};
use qoima_core::encoding::encode;
use qoima_core::{BlobHash, RECORD_SIGNATURE_CONTEXT, RecordId, VerifiedRecord, fixtures};
use qoima_store::{ExportQuery, ImportReport, ListQuery, Source, Store, StoreError};

/// Seed of the author (and bundler) of the records already in the store.
const OLD_AUTHOR: u8 = 31;
/// Seed of the author (and bundler) of the bad bundles' new records.
const NEW_AUTHOR: u8 = 32;

/// What the store holds before each bad import.
struct Before {
    records: Vec<VerifiedRecord>,
    blob: Vec<u8>,
}

fn before() -> Before {
    let author = fixtures::author(OLD_AUTHOR);
    Before {
        records: fixtures::chain(&author, 4, 120),
        blob: b"an attachment already stored ".repeat(100),
    }
}

fn store_with(before: &Before, home: &Path) -> Store {
    let author = fixtures::author(OLD_AUTHOR);
    let mut store = Store::open(home, &test_key()).unwrap();
    let bundle = fixtures::bundle(&author, &before.records, &[&before.blob]);
    let report = store
        .import_bundle(&bundle[..], Source::File("before.qb".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    store
}

/// An item of a bundle under test.
#[derive(Clone)]
enum Part {
    Record(Vec<u8>),
    Blob(Vec<u8>),
}

impl Part {
    fn bytes(&self) -> &[u8] {
        match self {
            Part::Record(b) | Part::Blob(b) => b,
        }
    }

    fn item_ref(&self) -> ItemRef {
        match self {
            Part::Record(b) => ItemRef {
                kind: ItemKind::Record,
                hash: RecordId::of(b).0,
                size: b.len() as u64,
            },
            Part::Blob(b) => ItemRef {
                kind: ItemKind::Blob,
                hash: BlobHash::of(b).0,
                size: b.len() as u64,
            },
        }
    }

    /// How a rejection names the item.
    fn name(&self) -> String {
        match self {
            Part::Record(b) => format!("record {}", RecordId::of(b)),
            Part::Blob(b) => format!("blob {}", BlobHash::of(b)),
        }
    }
}

/// A bundle's bytes, and the byte range of each item.
struct Written {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Written {
    fn items_start(&self) -> usize {
        self.spans[0].0
    }

    /// The middle byte of item `index`.
    fn middle_of(&self, index: usize) -> usize {
        let (start, end) = self.spans[index];
        (start + end) / 2
    }
}

/// Writes `parts` as a bundle signed by `NEW_AUTHOR`; each part's manifest entry is the
/// hash of its bytes as given.
fn write(parts: &[Part]) -> Written {
    let bundler = fixtures::author(NEW_AUTHOR);
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: 1_700_000_000_000,
        collection: "bad".into(),
        items: parts.iter().map(Part::item_ref).collect(),
    };
    let mut writer = BundleWriter::new(Vec::new(), manifest, &bundler).unwrap();
    for part in parts {
        match part {
            Part::Record(b) => writer.write_record(b).unwrap(),
            Part::Blob(b) => writer.write_blob(&b[..]).unwrap(),
        }
    }
    let bytes = writer.finish().unwrap();
    let manifest_len = u32::from_le_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let mut at = HEADER_LEN + manifest_len + 64;
    let spans = parts
        .iter()
        .map(|p| {
            let span = (at, at + p.bytes().len());
            at = span.1;
            span
        })
        .collect();
    assert_eq!(at, bytes.len());
    Written { bytes, spans }
}

/// Signed record bytes whose body is followed by a stray byte, signed as such by the
/// author: authentic, but not the one canonical encoding, so not a record.
fn non_canonical_record(seed: u8, seq: u64) -> Vec<u8> {
    let author = fixtures::author(seed);
    let mut body = encode(&fixtures::body(&author, seq, None, "signed, not canonical"));
    body.push(0);
    let key = SigningKey::from_bytes(&[seed; 32]);
    let signature = key.sign(&[RECORD_SIGNATURE_CONTEXT, &body[..]].concat());
    [body, signature.to_bytes().to_vec()].concat()
}

/// What item 3 of the bundle is.
#[derive(Clone, Copy, Debug)]
enum Third {
    /// A valid new record.
    Valid,
    /// A new record whose signature byte was flipped (the manifest lists its real hash).
    BadSignature,
    /// A record signed over a non-canonical body.
    NonCanonical,
}

/// The bundle under test: item 0 a record the store already holds, items 1–5 new records
/// (item 3 as `third` says), item 6 a new blob.
fn parts(before: &Before, new: &[VerifiedRecord], blob: &[u8], third: Third) -> Vec<Part> {
    let mut parts = vec![Part::Record(before.records[0].bytes().to_vec())];
    parts.extend(new.iter().map(|r| Part::Record(r.bytes().to_vec())));
    parts[3] = match third {
        Third::Valid => parts[3].clone(),
        Third::BadSignature => {
            let mut bytes = new[2].bytes().to_vec();
            *bytes.last_mut().unwrap() ^= 0x04;
            Part::Record(bytes)
        }
        Third::NonCanonical => Part::Record(non_canonical_record(NEW_AUTHOR, 40)),
    };
    parts.push(Part::Blob(blob.to_vec()));
    parts
}

const BLOB_INDEX: usize = 6;

/// What the import of a case must report and leave.
#[derive(Debug)]
struct Expect {
    /// The header, manifest and signature were accepted.
    opened: bool,
    /// The refused item and a part of the reason.
    rejected: Option<(usize, &'static str)>,
    /// A part of the fatal error, if reading stopped early.
    fatal: Option<&'static str>,
    /// Items `0..delivered` were read completely.
    delivered: usize,
}

/// The header, manifest or its signature refused: nothing is read.
const fn refused(fatal: &'static str) -> Expect {
    Expect {
        opened: false,
        rejected: None,
        fatal: Some(fatal),
        delivered: 0,
    }
}

struct Case {
    name: &'static str,
    third: Third,
    damage: fn(&mut Vec<u8>, &Written),
    expect: Expect,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "a record byte flipped",
            third: Third::Valid,
            damage: |b, w| b[w.middle_of(3)] ^= 0x20,
            expect: Expect {
                opened: true,
                rejected: Some((3, "does not match its hash")),
                fatal: None,
                delivered: 7,
            },
        },
        Case {
            name: "the first byte of a record flipped",
            third: Third::Valid,
            damage: |b, w| b[w.spans[1].0] ^= 0x01,
            expect: Expect {
                opened: true,
                rejected: Some((1, "does not match its hash")),
                fatal: None,
                delivered: 7,
            },
        },
        Case {
            name: "a blob byte flipped",
            third: Third::Valid,
            damage: |b, w| b[w.middle_of(BLOB_INDEX)] ^= 0x80,
            expect: Expect {
                opened: true,
                rejected: Some((BLOB_INDEX, "does not match its hash")),
                fatal: None,
                delivered: 7,
            },
        },
        Case {
            name: "a record whose signature does not verify",
            third: Third::BadSignature,
            damage: |_, _| {},
            expect: Expect {
                opened: true,
                rejected: Some((3, "signature does not verify")),
                fatal: None,
                delivered: 7,
            },
        },
        Case {
            name: "a signed record that is not canonically encoded",
            third: Third::NonCanonical,
            damage: |_, _| {},
            expect: Expect {
                opened: true,
                rejected: Some((3, "1 unexpected bytes after the end")),
                fatal: None,
                delivered: 7,
            },
        },
        Case {
            name: "the manifest's hash of an item altered",
            third: Third::Valid,
            damage: |b, w| {
                let listed = RecordId::of(&b[w.spans[4].0..w.spans[4].1]);
                let at = b[..w.items_start()]
                    .windows(32)
                    .position(|x| x == listed.as_bytes())
                    .expect("the manifest lists the hash");
                b[at + 7] ^= 0x01;
            },
            expect: refused("bundle signature does not verify"),
        },
        Case {
            name: "the bundler key in the manifest altered",
            third: Third::Valid,
            damage: |b, _| b[HEADER_LEN + 3] ^= 0x10,
            expect: refused("bundle signature does not verify"),
        },
        Case {
            name: "the manifest signature altered",
            third: Third::Valid,
            damage: |b, w| b[w.items_start() - 20] ^= 0x01,
            expect: refused("bundle signature does not verify"),
        },
        Case {
            name: "wrong magic",
            third: Third::Valid,
            damage: |b, _| b[..8].copy_from_slice(b"PK\x03\x04zip!"),
            expect: refused("not a qoima bundle"),
        },
        Case {
            name: "an unknown format version",
            third: Third::Valid,
            damage: |b, _| b[8..10].copy_from_slice(&(BUNDLE_FORMAT_VERSION + 1).to_le_bytes()),
            expect: refused("format version 2 is not supported"),
        },
        Case {
            name: "a manifest length over the limit",
            third: Third::Valid,
            damage: |b, _| b[10..14].copy_from_slice(&u32::MAX.to_le_bytes()),
            expect: refused("exceeds the limit"),
        },
        Case {
            name: "a manifest length one short",
            third: Third::Valid,
            damage: |b, w| {
                let len = (w.items_start() - HEADER_LEN - 64 - 1) as u32;
                b[10..14].copy_from_slice(&len.to_le_bytes());
            },
            expect: refused("manifest"),
        },
        Case {
            name: "truncated inside the header",
            third: Third::Valid,
            damage: |b, _| b.truncate(9),
            expect: refused("truncated: the file ends inside the header"),
        },
        Case {
            name: "truncated inside the manifest",
            third: Third::Valid,
            damage: |b, _| b.truncate(HEADER_LEN + 20),
            expect: refused("truncated: the file ends inside the manifest"),
        },
        Case {
            name: "truncated inside the manifest signature",
            third: Third::Valid,
            damage: |b, w| b.truncate(w.items_start() - 1),
            expect: refused("ends inside the manifest signature"),
        },
        Case {
            name: "truncated inside a record",
            third: Third::Valid,
            damage: |b, w| b.truncate(w.middle_of(4)),
            expect: Expect {
                opened: true,
                rejected: None,
                fatal: Some("truncated: the file ends inside item 4 (a record)"),
                delivered: 4,
            },
        },
        Case {
            name: "truncated exactly between two records",
            third: Third::Valid,
            damage: |b, w| b.truncate(w.spans[5].0),
            expect: Expect {
                opened: true,
                rejected: None,
                fatal: Some("truncated: the file ends inside item 5 (a record)"),
                delivered: 5,
            },
        },
        Case {
            name: "truncated inside the blob",
            third: Third::Valid,
            damage: |b, w| b.truncate(w.middle_of(BLOB_INDEX)),
            expect: Expect {
                opened: true,
                rejected: None,
                fatal: Some("truncated: the file ends inside item 6 (a blob)"),
                delivered: BLOB_INDEX,
            },
        },
        Case {
            name: "a flipped record, then truncated further on",
            third: Third::Valid,
            damage: |b, w| {
                b[w.middle_of(2)] ^= 0xff;
                b.truncate(w.middle_of(5));
            },
            expect: Expect {
                opened: true,
                rejected: Some((2, "does not match its hash")),
                fatal: Some("item 5 (a record)"),
                delivered: 5,
            },
        },
        Case {
            name: "a bad signature, then truncated inside the blob",
            third: Third::BadSignature,
            damage: |b, w| b.truncate(w.spans[BLOB_INDEX].0 + 1),
            expect: Expect {
                opened: true,
                rejected: Some((3, "signature does not verify")),
                fatal: Some("item 6 (a blob)"),
                delivered: BLOB_INDEX,
            },
        },
        Case {
            name: "trailing data after the last item",
            third: Third::Valid,
            damage: |b, _| b.extend_from_slice(b"\0more"),
            expect: Expect {
                opened: true,
                rejected: None,
                fatal: Some("unexpected data after the last item"),
                delivered: 7,
            },
        },
    ]
}

/// Every record and blob of `before` is still stored and verifies.
fn check_before_intact(store: &Store, before: &Before) {
    for record in &before.records {
        let stored = store.get(&record.id()).unwrap();
        assert_eq!(stored.record.bytes(), record.bytes());
    }
    let mut kept = Vec::new();
    store
        .read_blob(&BlobHash::of(&before.blob))
        .unwrap()
        .expect("the old blob is kept")
        .read_to_end(&mut kept)
        .unwrap();
    assert_eq!(kept, before.blob);
}

fn listed_ids(store: &Store) -> BTreeSet<RecordId> {
    store
        .list(&ListQuery {
            limit: 10_000,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect()
}

fn check_case(case: &Case, report: &ImportReport, parts: &[Part], store: &Store, home: &Path) {
    let name = case.name;
    let expect = &case.expect;
    assert_eq!(report.bundle.is_some(), expect.opened, "{name}: {report:?}");
    match (&report.fatal, expect.fatal) {
        (None, None) => {}
        (Some(fatal), Some(part)) => assert!(fatal.contains(part), "{name}: fatal {fatal:?}"),
        (got, want) => panic!("{name}: fatal {got:?}, expected one containing {want:?}"),
    }
    match (report.rejected.as_slice(), expect.rejected) {
        ([], None) => {}
        ([rejection], Some((index, reason))) => {
            assert_eq!(rejection.index, index, "{name}");
            assert_eq!(rejection.item, parts[index].name(), "{name}");
            assert!(
                rejection.reason.contains(reason),
                "{name}: reason {:?}",
                rejection.reason
            );
        }
        (got, want) => panic!("{name}: rejected {got:?}, expected {want:?}"),
    }

    // Which items must now be stored.
    let is_good =
        |index: usize| index < expect.delivered && expect.rejected.map(|(i, _)| i) != Some(index);
    let stored_new: Vec<usize> = (1..BLOB_INDEX).filter(|&i| is_good(i)).collect();
    let blob_stored = is_good(BLOB_INDEX);
    let listed_count = if expect.opened { 6 } else { 0 };
    assert_eq!(
        (
            report.records_listed,
            report.records_new,
            report.records_present,
            report.blobs_new,
            report.blobs_present
        ),
        (
            listed_count,
            stored_new.len() as u64,
            u64::from(is_good(0)),
            u64::from(blob_stored),
            0
        ),
        "{name}: (listed, new, present, blobs new, blobs present)"
    );

    let before = before();
    check_before_intact(store, &before);
    let mut expected_ids: BTreeSet<RecordId> = before.records.iter().map(|r| r.id()).collect();
    for (index, part) in parts.iter().enumerate().take(BLOB_INDEX).skip(1) {
        let id = RecordId::of(part.bytes());
        match store.get(&id) {
            Ok(stored) => {
                assert!(stored_new.contains(&index), "{name}: item {index} stored");
                assert_eq!(stored.record.bytes(), part.bytes(), "{name}");
                expected_ids.insert(id);
            }
            Err(StoreError::NotFound(_)) => {
                assert!(!stored_new.contains(&index), "{name}: item {index} lost");
            }
            Err(e) => panic!("{name}: item {index}: {e}"),
        }
    }
    assert_eq!(listed_ids(store), expected_ids, "{name}: listing");
    assert_eq!(
        store.record_count().unwrap(),
        expected_ids.len() as u64,
        "{name}"
    );
    let blob = parts[BLOB_INDEX].bytes();
    match store.read_blob(&BlobHash::of(blob)).unwrap() {
        Some(mut reader) => {
            assert!(blob_stored, "{name}: blob stored");
            let mut stored = Vec::new();
            reader.read_to_end(&mut stored).unwrap();
            assert!(stored == blob, "{name}: the stored blob differs");
        }
        None => assert!(!blob_stored, "{name}: blob lost"),
    }
    let scratch: Vec<_> = std::fs::read_dir(home.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        scratch.is_empty(),
        "{name}: scratch files left: {scratch:?}"
    );
}

#[test]
fn every_kind_of_bad_bundle_is_named_and_stores_only_what_verified() {
    let before = before();
    let new = fixtures::chain(&fixtures::author(NEW_AUTHOR), 5, 300);
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    for case in cases() {
        let parts = parts(&before, &new, &blob, case.third);
        let written = write(&parts);
        let mut bytes = written.bytes.clone();
        (case.damage)(&mut bytes, &written);
        assert!(
            bytes != written.bytes || !matches!(case.third, Third::Valid),
            "{}: nothing is bad",
            case.name
        );

        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with(&before, dir.path());
        let report = store
            .import_bundle(&bytes[..], Source::File("bad.qb".into()))
            .unwrap();
        check_case(&case, &report, &parts, &store, dir.path());
        // And the same survives closing and reopening.
        drop(store);
        let store = Store::open(dir.path(), &test_key()).unwrap();
        check_case(&case, &report, &parts, &store, dir.path());
    }
}

#[test]
fn manifest_listing_an_item_twice_is_refused_before_anything_is_stored() {
    let before = before();
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with(&before, dir.path());
    let new = fixtures::chain(&fixtures::author(NEW_AUTHOR), 2, 50);
    let once = |r: &VerifiedRecord| ItemRef {
        kind: ItemKind::Record,
        hash: r.id().0,
        size: r.bytes().len() as u64,
    };
    // BundleWriter refuses such a manifest, so it is assembled and signed by hand.
    let manifest = Manifest {
        bundler: fixtures::author(NEW_AUTHOR).public(),
        created_ms: 1_700_000_000_000,
        collection: "bad".into(),
        items: vec![once(&new[0]), once(&new[1]), once(&new[0])],
    };
    let manifest_bytes = encode(&manifest);
    let signature = SigningKey::from_bytes(&[NEW_AUTHOR; 32])
        .sign(&[MANIFEST_SIGNATURE_CONTEXT, &manifest_bytes[..]].concat());
    let mut bytes = BUNDLE_MAGIC.to_vec();
    bytes.extend_from_slice(&BUNDLE_FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(manifest_bytes.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&manifest_bytes);
    bytes.extend_from_slice(&signature.to_bytes());
    for record in [&new[0], &new[1], &new[0]] {
        bytes.extend_from_slice(record.bytes());
    }

    let report = store
        .import_bundle(&bytes[..], Source::File("twice.qb".into()))
        .unwrap();
    let fatal = report.fatal.as_deref().unwrap_or_default();
    assert!(fatal.contains("item 2 is listed twice"), "{report:?}");
    assert_eq!((report.records_new, report.records_present), (0, 0));
    assert!(report.rejected.is_empty());
    check_before_intact(&store, &before);
    assert_eq!(
        listed_ids(&store),
        before.records.iter().map(|r| r.id()).collect()
    );
}

/// A store holding one record that attaches a 400 kB blob, with the blob.
fn store_with_attachment(home: &Path) -> (Store, VerifiedRecord, Vec<u8>) {
    let author = fixtures::author(33);
    let blob: Vec<u8> = (0..400_000u32).map(|i| (i * 31 % 255) as u8).collect();
    let mut body = fixtures::body(&author, 1, None, "the photo is attached");
    body.attachments = vec![fixtures::attachment(&blob, "image/jpeg", "photo.jpg")];
    let record = VerifiedRecord::sign(&body, &author).unwrap();
    let mut store = Store::open(home, &test_key()).unwrap();
    let bundle = fixtures::bundle(&author, std::slice::from_ref(&record), &[&blob]);
    let report = store
        .import_bundle(&bundle[..], Source::File("photo.qb".into()))
        .unwrap();
    assert!(report.is_clean() && report.blobs_new == 1, "{report:?}");
    (store, record, blob)
}

/// Whether `bytes` read as a bundle whose every item checks out to the end.
fn reads_as_a_good_bundle(bytes: &[u8]) -> bool {
    let Ok(mut reader) = BundleReader::open(bytes) else {
        return false;
    };
    loop {
        match reader.next_item() {
            Ok(None) => return true,
            Err(_) => return false,
            Ok(Some(Item::Record { bytes: Err(_), .. })) => return false,
            Ok(Some(Item::Record { .. })) => {}
            Ok(Some(Item::Blob(blob))) => match blob.finish() {
                Ok(Ok(())) => {}
                _ => return false,
            },
        }
    }
}

#[test]
fn export_of_a_blob_altered_on_disk_fails_as_tampering_and_its_output_is_no_good_bundle() {
    type Corruption = fn(&Path);
    // The encrypted file's segments are authenticated: whichever byte changes, the
    // segment holding it fails (segment 7 holds byte 123,456 of the 16 KiB segments).
    let corruptions: [(&str, Corruption, &str); 3] = [
        (
            "a byte flipped",
            |path| {
                let mut bytes = std::fs::read(path).unwrap();
                bytes[123_456] ^= 0x01;
                std::fs::write(path, bytes).unwrap();
            },
            "segment 7 fails authentication",
        ),
        (
            "cut short",
            |path| {
                let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                file.set_len(300_000).unwrap();
            },
            "segment 18 fails authentication",
        ),
        (
            "the header's length changed",
            |path| {
                let mut bytes = std::fs::read(path).unwrap();
                bytes[12] ^= 0x01;
                std::fs::write(path, bytes).unwrap();
            },
            "header fails authentication",
        ),
    ];
    for (name, corrupt, reason) in corruptions {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, record, blob) = store_with_attachment(dir.path());
        let hash = BlobHash::of(&blob);
        let query = ExportQuery {
            with_attachments: true,
            collection: "default".into(),
            ..Default::default()
        };
        let mut good = Vec::new();
        let exported = store
            .export(&mut good, &query, &fixtures::author(34))
            .unwrap();
        assert_eq!((exported.records, exported.blobs), (1, 1), "{name}");
        assert!(
            reads_as_a_good_bundle(&good),
            "{name}: the export before damage"
        );

        corrupt(&store.blob_path(&hash).unwrap());
        let mut out = Vec::new();
        match store.export(&mut out, &query, &fixtures::author(34)) {
            Err(StoreError::Tampered(message)) => {
                assert!(
                    message.contains(&format!("blob {}", hash.to_hex())),
                    "{name}: {message}"
                );
                assert!(message.contains(reason), "{name}: {message}");
            }
            other => panic!("{name}: export gave {other:?}"),
        }
        assert!(
            !reads_as_a_good_bundle(&out),
            "{name}: the partial output passes as a bundle"
        );
        let other = tempfile::tempdir().unwrap();
        let mut elsewhere = Store::open(other.path(), &test_key()).unwrap();
        let report = elsewhere
            .import_bundle(&out[..], Source::File("partial.qb".into()))
            .unwrap();
        assert!(!report.is_clean(), "{name}: {report:?}");
        assert!(
            elsewhere.blob_path(&hash).is_none(),
            "{name}: bad blob stored"
        );
        // The record itself was fine and travels; it still verifies where it landed.
        assert_eq!(
            elsewhere.get(&record.id()).unwrap().record.bytes(),
            record.bytes()
        );
    }
}

#[test]
fn get_and_export_of_a_record_altered_in_the_database_report_corruption() {
    type Alteration = fn(&[u8], &[u8]) -> Vec<u8>;
    let alterations: [(&str, Alteration); 4] = [
        ("a body byte flipped", |own, _| {
            let mut bytes = own.to_vec();
            bytes[40] ^= 0x01;
            bytes
        }),
        ("a signature byte flipped", |own, _| {
            let mut bytes = own.to_vec();
            *bytes.last_mut().unwrap() ^= 0x01;
            bytes
        }),
        ("cut short", |own, _| own[..10].to_vec()),
        ("another valid record's bytes", |_, other| other.to_vec()),
    ];
    for (name, alter) in alterations {
        let dir = tempfile::tempdir().unwrap();
        let before = before();
        let mut store = store_with(&before, dir.path());
        let victim = &before.records[1];
        let other = fixtures::chain(&fixtures::author(35), 1, 30).remove(0);
        let db = keyed_db(&dir.path().join("archive.db"));
        let changed = db
            .execute(
                "UPDATE records SET bytes = ?1 WHERE id = ?2",
                rusqlite::params![alter(victim.bytes(), other.bytes()), victim.id().as_bytes()],
            )
            .unwrap();
        assert_eq!(changed, 1);

        match store.get(&victim.id()) {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains(&victim.id().to_hex()), "{name}: {message}");
            }
            other => panic!("{name}: get gave {other:?}"),
        }
        for record in before.records.iter().filter(|r| r.id() != victim.id()) {
            assert_eq!(
                store.get(&record.id()).unwrap().record.bytes(),
                record.bytes()
            );
        }
        let export = store.export(
            std::io::sink(),
            &ExportQuery {
                collection: "default".into(),
                ..Default::default()
            },
            &fixtures::author(34),
        );
        match export {
            Err(StoreError::Corrupt(message)) => {
                assert!(
                    message.contains(&format!("record {}", victim.id().to_hex())),
                    "{name}: {message}"
                );
            }
            other => panic!("{name}: export gave {other:?}"),
        }
    }
}
