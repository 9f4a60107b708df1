//! What the store's integration tests share: the archive key of their stores, the
//! database opened directly with it, and copying a data directory.

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
