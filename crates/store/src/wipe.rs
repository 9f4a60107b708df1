//! Destroying an archive: unreadable at once, then gone.
//!
//! Everything in the data directory is encrypted under the archive key, and the only
//! copy of that key is the key file, wrapped by the passphrase. So the key file is
//! destroyed first: overwritten with random bytes, synced, removed. From that moment,
//! whatever the archive's size, nothing in it can be decrypted, even with the
//! passphrase. Only then is the rest removed, which takes as long as the file system
//! needs to free it.
//!
//! What a wipe cannot promise (THREAT_MODEL.md): on flash storage (SSD, phone, USB
//! stick) the overwrite may land in a fresh block while the old one lingers until the
//! drive reuses it; a copy of the key file made earlier (a backup, a disk image) still
//! opens the archive with the passphrase; the key may remain in swap or a hibernation
//! image if the machine was unlocked.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use fs_err as fs;

use crate::{DB_FILE, NODE_KEY_FILE, StoreError};

/// The sealed key file in a data directory.
pub const KEY_FILE: &str = "key";

/// Everything qoima keeps in a data directory.
const ARCHIVE_ENTRIES: [&str; 13] = [
    KEY_FILE,
    NODE_KEY_FILE,
    DB_FILE,
    "archive.db-wal",
    "archive.db-shm",
    "archive.db-journal",
    "archive.db.encrypting",
    "archive.db.encrypting-journal",
    "upgrade.lock",
    "node.sock",
    crate::blobs::MEDIA_DIR,
    crate::blobs::PLAIN_BLOBS_DIR,
    "tmp",
];

/// How long each part of a wipe took.
#[derive(Debug, Clone, Copy)]
pub struct WipeReport {
    /// Until the key material was destroyed: from then on the archive is unreadable.
    pub unreadable_after: Duration,
    /// Until every file was removed.
    pub removed_after: Duration,
}

/// Destroys the archive in `home`: the key material first, then every file. Refuses if
/// there is no key file there (nothing to wipe, or not a data directory).
pub fn wipe(home: &Path) -> Result<WipeReport, StoreError> {
    let started = Instant::now();
    let key = home.join(KEY_FILE);
    if !key.is_file() {
        return Err(StoreError::NotFound(format!(
            "archive in {} (nothing to wipe)",
            home.display()
        )));
    }
    overwrite_and_remove(&key)?;
    crate::fsutil::sync_dir(home).map_err(|e| StoreError::io(home, e))?;
    let unreadable_after = started.elapsed();

    // The node key and the database's first page (its salt) go next: small, and they
    // are what would tie this device to a peer id or let an archive be recognised.
    let node_key = home.join(NODE_KEY_FILE);
    if node_key.is_file() {
        overwrite_and_remove(&node_key)?;
    }
    let db = home.join(DB_FILE);
    if db.is_file() {
        overwrite_start(&db, 64 * 1024)?;
    }
    // Only what qoima puts in a data directory is removed: if it was pointed at a
    // directory holding other files, those are not ours to destroy.
    for name in ARCHIVE_ENTRIES {
        let path = home.join(name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path)?,
            Ok(_) => fs::remove_file(&path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Empty now unless it holds files that are not the archive's.
    let _ = std::fs::remove_dir(home);
    Ok(WipeReport {
        unreadable_after,
        removed_after: started.elapsed(),
    })
}

fn overwrite_and_remove(path: &Path) -> Result<(), StoreError> {
    let len = fs::metadata(path)?.len().min(1024 * 1024);
    overwrite_start(path, len)?;
    fs::remove_file(path)?;
    Ok(())
}

/// Overwrites the first `len` bytes of `path` with random bytes and syncs.
fn overwrite_start(path: &Path, len: u64) -> Result<(), StoreError> {
    let len = fs::metadata(path)?.len().min(len) as usize;
    let mut noise = vec![0u8; len];
    getrandom::fill(&mut noise).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut file = fs::OpenOptions::new().write(true).open(path)?;
    file.write_all(&noise)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Store, keyfile};

    #[test]
    fn a_wiped_archive_is_gone_and_a_second_wipe_finds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let secrets = keyfile::create(&home.join(KEY_FILE), b"pw").unwrap();
        let store = Store::open(&home, &secrets.archive_key).unwrap();
        store.write_sealed_file(NODE_KEY_FILE, b"node").unwrap();
        drop(store);

        let report = wipe(&home).unwrap();
        assert!(report.unreadable_after <= report.removed_after);
        assert!(!home.exists());
        assert!(matches!(wipe(&home), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn files_that_are_not_the_archives_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_owned();
        let secrets = keyfile::create(&home.join(KEY_FILE), b"pw").unwrap();
        drop(Store::open(&home, &secrets.archive_key).unwrap());
        fs::write(home.join("notes.txt"), b"mine").unwrap();
        wipe(&home).unwrap();
        let left: Vec<_> = fs::read_dir(&home)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["notes.txt"]);
    }
}
