//! What the store's integration tests share: the archive key of their stores, the
//! database opened directly with it, copying a data directory, and records by one
//! author imported as a bundle file.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of this

use std::path::Path;

/// The archive key of the stores in these tests.
pub fn test_key() -> qoima_store::ArchiveKey {
    qoima_store::ArchiveKey::from_bytes([42; 32])
}

/// The archive database opened directly, with its key.
pub fn keyed_db(path: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path).unwrap();
    let key = test_key().database_key_literal();
    db.execute_batch(&format!("PRAGMA key = \"{}\";", key.as_str()))
        .unwrap();
    db
}

/// Copies the directory tree at `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The store in `home`, under [`test_key`].
pub fn open(home: &Path) -> qoima_store::Store {
    qoima_store::Store::open(home, &test_key()).unwrap()
}

/// Imports `records` from a bundle file, every one of which must be kept.
pub fn import(store: &mut qoima_store::Store, records: &[qoima_core::VerifiedRecord]) {
    let bundle = qoima_core::fixtures::bundle(&qoima_core::fixtures::author(99), records, &[]);
    let report = store
        .import_bundle(&bundle[..], qoima_store::Source::File("t.qb".into()))
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
}

/// Records by one author, each following the one before.
pub struct Chain {
    pub author: qoima_core::AuthorSecret,
    pub records: Vec<qoima_core::VerifiedRecord>,
}

impl Chain {
    pub fn new(seed: u8) -> Chain {
        Chain {
            author: qoima_core::fixtures::author(seed),
            records: Vec::new(),
        }
    }

    /// The fixture body of the next record, saying `text`.
    pub fn next_body(&self, text: &str) -> qoima_core::RecordBody {
        let prev = self.records.last();
        qoima_core::fixtures::body(
            &self.author,
            prev.map_or(1, |r| r.body().seq + 1),
            prev.map(qoima_core::VerifiedRecord::id),
            text,
        )
    }

    /// Signs `body` and adds it to the chain.
    pub fn push_body(&mut self, body: &qoima_core::RecordBody) -> qoima_core::VerifiedRecord {
        let record = qoima_core::VerifiedRecord::sign(body, &self.author).unwrap();
        self.records.push(record.clone());
        record
    }
}
