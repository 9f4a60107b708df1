//! Tampering at rest: every page of the encrypted database altered in turn, and an
//! attachment file altered, are reported as tampering (`StoreError::Tampered`), never
//! shown, never a panic, never another kind of error.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use std::io::Read as _;
use std::path::Path;

use qoima_core::{BlobHash, VerifiedRecord, fixtures};
use qoima_store::{ListQuery, Source, Store, StoreError};

const PAGE: usize = 4096;

/// Reads everything the archive holds; `Ok` only if every read succeeded.
fn read_everything(home: &Path, ids: &[qoima_core::RecordId]) -> Result<usize, StoreError> {
    let store = Store::open(home, &test_key())?;
    let listed = store.list(&ListQuery {
        limit: 100_000,
        ..ListQuery::default()
    })?;
    for id in ids {
        store.get(id)?;
    }
    store.search("record", 100)?;
    Ok(listed.len())
}

#[test]
fn any_altered_database_page_is_tampering_or_unused() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine");
    let author = fixtures::author(5);
    let records = fixtures::chain(&author, 300, 40);
    let ids: Vec<_> = records.iter().map(VerifiedRecord::id).collect();
    {
        let mut store = Store::open(&pristine, &test_key()).unwrap();
        let bundle = fixtures::bundle(&author, &records, &[]);
        let report = store
            .import_bundle(&bundle[..], Source::File("b.qb".into()))
            .unwrap();
        assert!(report.is_clean());
    }
    assert_eq!(read_everything(&pristine, &ids).unwrap(), 300);
    let db = std::fs::read(pristine.join("archive.db")).unwrap();
    assert_eq!(db.len() % PAGE, 0);
    assert!(
        !pristine.join("archive.db-wal").exists() || {
            std::fs::metadata(pristine.join("archive.db-wal"))
                .unwrap()
                .len()
                == 0
        }
    );

    let (mut tampered, mut unused) = (0, 0);
    for page in 0..db.len() / PAGE {
        let home = dir.path().join(format!("page-{page}"));
        copy_dir(&pristine, &home);
        let mut altered = db.clone();
        altered[page * PAGE + 1000] ^= 0x20;
        std::fs::write(home.join("archive.db"), &altered).unwrap();
        match read_everything(&home, &ids) {
            Err(StoreError::Tampered(_)) => tampered += 1,
            // A page no query reads (free, or an index these reads do not use).
            Ok(n) => {
                assert_eq!(n, 300, "page {page}: altered data was shown");
                unused += 1;
            }
            Err(other) => panic!("page {page}: {other:?}"),
        }
        std::fs::remove_dir_all(&home).unwrap();
    }
    assert!(
        tampered > db.len() / PAGE / 2,
        "{tampered} tampered, {unused} unused"
    );
}

#[test]
fn an_altered_attachment_is_tampering_and_its_bytes_are_never_returned() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut store = Store::open(&home, &test_key()).unwrap();
    let file = dir.path().join("clip.bin");
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let blob = store.add_blob_file(&file).unwrap();
    let path = store.blob_path(&BlobHash::of(&bytes)).unwrap();
    let mut encrypted = std::fs::read(&path).unwrap();
    encrypted[50_000] ^= 1;
    std::fs::write(&path, &encrypted).unwrap();

    let mut reader = store.read_blob(&blob.blake3).unwrap().unwrap();
    let mut out = Vec::new();
    let error = reader.read_to_end(&mut out).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        error.to_string().contains("fails authentication"),
        "{error}"
    );
    // What was returned before the altered segment is the true prefix, nothing else.
    assert!(out.len() < 50_000 && bytes.starts_with(&out));
}
