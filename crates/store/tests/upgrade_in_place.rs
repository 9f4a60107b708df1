//! Encrypting an archive from before encryption at rest, in place, under `kill -9`.
//!
//! A plaintext archive (plain SQLite database, plain attachment files under `blobs/`, a
//! plain `node.key`) is opened by a child process (this test binary, re-run with
//! [`CHILD_ENV`] set), which `Store::open` upgrades; the child is killed at instants
//! spread over the upgrade. After each kill exactly one archive is whole: the old one
//! (still plaintext, every record and attachment intact) or the new one; opening again
//! finishes the upgrade, and then every record, attachment and the node key are there,
//! nothing readable is left, and every file is owner-only.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qoima_core::{BlobHash, RecordId, VerifiedRecord, fixtures};
use qoima_store::{NODE_KEY_FILE, Source, Store};

const CHILD_ENV: &str = "QOIMA_UPGRADE_CHILD";
const DONE: &str = "qoima-upgrade-child: done";
const MARKER: &str = "МаркерОбновления-UpgradeMarker";
const RECORDS: usize = 3000;
const BLOB_BYTES: usize = 4 * 1024 * 1024;
const NODE_KEY: &[u8] = b"\x08\x01\x12\x40 a plaintext node key of a previous version";

/// The child: opens (and so upgrades) the archive, says so, waits to be killed.
#[test]
fn upgrade_child() {
    let Some(home) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    Store::open(Path::new(&home), &test_key()).unwrap();
    println!("{DONE}");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

struct Legacy {
    ids: Vec<RecordId>,
    blobs: Vec<Vec<u8>>,
}

/// A plaintext archive as the previous version wrote it.
fn legacy_archive(home: &Path) -> Legacy {
    let author = fixtures::author(7);
    let mut records = fixtures::chain(&author, RECORDS, 50);
    let blobs: Vec<Vec<u8>> = (0..3u32)
        .map(|n| {
            let mut blob: Vec<u8> = (0..BLOB_BYTES as u32)
                .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(n) >> 11) as u8)
                .collect();
            blob[..MARKER.len()].copy_from_slice(MARKER.as_bytes());
            blob
        })
        .collect();
    let last = records.last().unwrap();
    let mut body = fixtures::body(&author, last.body().seq + 1, Some(last.id()), MARKER);
    body.attachments = blobs
        .iter()
        .map(|b| fixtures::attachment(b, "video/mp4", "clip.mp4"))
        .collect();
    records.push(VerifiedRecord::sign(&body, &author).unwrap());
    let blob_refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
    let bundle = fixtures::bundle(&author, &records, &blob_refs);
    let mut store = Store::open_unprotected_for_comparison(home).unwrap();
    let report = store
        .import_bundle(&bundle[..], Source::File("old.qb".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    // Version 5 indexed every record for search as it stored it.
    store.index_pending_search(usize::MAX).unwrap();
    drop(store);
    // The previous version's schema (5): what versions 6 to 10 added was never
    // unencrypted.
    let db = rusqlite::Connection::open(home.join("archive.db")).unwrap();
    db.execute_batch(
        "DROP TABLE personas; DROP TABLE held_back; DROP TABLE partial_blobs; DROP TABLE trusted_keys;
         DROP TABLE tombstones; DROP TABLE pending_retractions; DROP TABLE endorsements;
         DROP TABLE revocations; DROP TABLE doomed_blobs; DROP TABLE settings;
         DROP TABLE declined; DROP TABLE unknown_arrivals; DROP TABLE search_pending;
         DROP TRIGGER IF EXISTS author_usage_on_insert; DROP TRIGGER author_usage_on_update;
         DROP TRIGGER author_usage_on_delete; DROP TABLE author_usage;
         ALTER TABLE attachments DROP COLUMN size; ALTER TABLE blobs DROP COLUMN outboard;
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(db);
    std::fs::write(home.join(NODE_KEY_FILE), NODE_KEY).unwrap();
    // As the previous version left them: readable by others.
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(home.join("blobs").is_dir());
    Legacy {
        ids: records.iter().map(VerifiedRecord::id).collect(),
        blobs,
    }
}

/// Runs the child on `home`, killing it after `delay` (or when it is done). Returns
/// whether it finished.
fn run_child(home: &Path, delay: Option<Duration>) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "upgrade_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if line.is_ok_and(|l| l.contains(DONE)) {
                let _ = done_tx.send(());
            }
        }
    });
    let finished = match delay {
        Some(delay) => done_rx.recv_timeout(delay).is_ok(),
        None => done_rx.recv_timeout(Duration::from_secs(120)).is_ok(),
    };
    child.kill().unwrap();
    child.wait().unwrap();
    finished
}

fn is_plaintext(home: &Path) -> bool {
    std::fs::read(home.join("archive.db"))
        .unwrap()
        .starts_with(b"SQLite format 3\0")
}

/// After a kill before the switch: the old archive is whole.
fn check_old_archive_whole(home: &Path, legacy: &Legacy) {
    // Read directly: opening a `Store` would migrate the old schema.
    let db = rusqlite::Connection::open(home.join("archive.db")).unwrap();
    let records: i64 = db
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(records as usize, legacy.ids.len());
    drop(db);
    for blob in &legacy.blobs {
        let hex = BlobHash::of(blob).to_hex();
        let bytes = std::fs::read(home.join("blobs").join(&hex[..2]).join(&hex))
            .expect("the old attachment is still there");
        assert!(bytes == *blob, "an old attachment changed");
    }
    assert_eq!(std::fs::read(home.join(NODE_KEY_FILE)).unwrap(), NODE_KEY);
}

/// After the upgrade has been finished: everything there, nothing readable, owner-only.
fn check_new_archive(home: &Path, legacy: &Legacy) {
    let store = Store::open(home, &test_key()).unwrap();
    assert_eq!(store.record_count().unwrap(), legacy.ids.len() as u64);
    for id in [
        legacy.ids[0],
        legacy.ids[RECORDS / 2],
        *legacy.ids.last().unwrap(),
    ] {
        store.get(&id).unwrap();
    }
    assert_eq!(store.search(MARKER, 10).unwrap().len(), 1);
    for blob in &legacy.blobs {
        let mut bytes = Vec::new();
        store
            .read_blob(&BlobHash::of(blob))
            .unwrap()
            .expect("the attachment was carried over")
            .read_to_end(&mut bytes)
            .unwrap();
        assert!(bytes == *blob, "an attachment changed in the upgrade");
        // The sizes records state were read from their bytes, and an outboard is made
        // for attachments stored before there were any: they can be served.
        assert!(
            store
                .serving_outboard(&BlobHash::of(blob), blob.len() as u64)
                .unwrap()
                .is_some()
        );
    }
    assert!(store.wanted_blobs(10).unwrap().is_empty());
    assert_eq!(
        &store.read_sealed_file(NODE_KEY_FILE).unwrap().unwrap()[..],
        NODE_KEY
    );
    drop(store);
    assert!(!home.join("blobs").exists(), "plaintext attachments left");
    assert!(!home.join("archive.db.encrypting").exists());
    check_nothing_readable(home);
}

fn check_nothing_readable(dir: &Path) {
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{} is owner-only", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            check_nothing_readable(&path);
            continue;
        }
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is owner-only", path.display());
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.starts_with(b"SQLite format 3\0"),
            "{}",
            path.display()
        );
        for needle in [MARKER.as_bytes(), &NODE_KEY[4..]] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds plaintext",
                path.display()
            );
        }
    }
}

#[test]
fn kill_9_during_the_upgrade_leaves_the_old_archive_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template");
    let legacy = legacy_archive(&template);

    // One whole upgrade, to know how long it takes.
    let whole = dir.path().join("whole");
    copy_dir(&template, &whole);
    let started = Instant::now();
    assert!(run_child(&whole, None), "the upgrade finishes");
    let duration = started.elapsed();
    check_new_archive(&whole, &legacy);

    let kills = 8u32;
    let (mut before, mut after) = (0, 0);
    for k in 0..kills {
        let home = dir.path().join(format!("kill-{k}"));
        copy_dir(&template, &home);
        let delay = duration * k / kills;
        run_child(&home, Some(delay));
        if is_plaintext(&home) {
            before += 1;
            check_old_archive_whole(&home, &legacy);
        } else {
            after += 1;
        }
        check_new_archive(&home, &legacy);
        std::fs::remove_dir_all(&home).unwrap();
    }
    println!("upgrade of {duration:?}: {before} kills before the switch, {after} after");
}

#[test]
fn leftovers_of_an_interrupted_upgrade_are_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let legacy = legacy_archive(&home);
    // A half-written encrypted copy from a crash before the switch.
    std::fs::write(home.join("archive.db.encrypting"), b"half an export").unwrap();
    check_new_archive(&home, &legacy);

    // An upgraded archive with plaintext attachments left by a crash after the switch.
    let home = dir.path().join("after");
    let legacy = legacy_archive(&home);
    let plain_blobs = dir.path().join("plain-blobs");
    copy_dir(&home.join("blobs"), &plain_blobs);
    drop(Store::open(&home, &test_key()).unwrap());
    copy_dir(&plain_blobs, &home.join("blobs"));
    check_new_archive(&home, &legacy);
}

#[test]
fn a_planted_plaintext_database_of_a_later_schema_is_tampering_not_an_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    drop(Store::open(&home, &test_key()).unwrap());
    std::fs::remove_file(home.join("archive.db")).unwrap();
    let planted = rusqlite::Connection::open(home.join("archive.db")).unwrap();
    planted
        .execute_batch("CREATE TABLE personas (name TEXT); PRAGMA user_version = 6;")
        .unwrap();
    drop(planted);
    match Store::open(&home, &test_key()) {
        Err(qoima_store::StoreError::Tampered(message)) => {
            assert!(message.contains("never wrote"), "{message}");
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a planted database was adopted"),
    }
}
