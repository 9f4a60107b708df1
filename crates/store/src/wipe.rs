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
const ARCHIVE_ENTRIES: [&str; 14] = [
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
    crate::blobs::PARTIAL_DIR,
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
/// there is no qoima key file there (nothing to wipe, or not a data directory).
pub fn wipe(home: &Path) -> Result<WipeReport, StoreError> {
    let started = Instant::now();
    destroy_key(home)?;
    let unreadable_after = started.elapsed();
    remove_archive(home)?;
    Ok(WipeReport {
        unreadable_after,
        removed_after: started.elapsed(),
    })
}

/// The first half of a wipe: the key file overwritten, synced and removed (and any
/// partial copy of it a crash left). From then on nothing in the archive can be
/// decrypted, even with the passphrase.
pub fn destroy_key(home: &Path) -> Result<(), StoreError> {
    let key = home.join(KEY_FILE);
    let is_ours = fs::File::open(&key).ok().is_some_and(|mut file| {
        let mut magic = [0u8; 8];
        std::io::Read::read_exact(&mut file, &mut magic).is_ok() && &magic == b"qoima-k\0"
    });
    if !is_ours {
        return Err(StoreError::NotFound(format!(
            "archive in {} (nothing to wipe)",
            home.display()
        )));
    }
    overwrite_and_remove(&key)?;
    for partial in partial_files(home)? {
        overwrite_and_remove(&partial)?;
    }
    crate::fsutil::sync_dir(home).map_err(|e| StoreError::io(home, e))
}

/// Files being written atomically when a crash came (`.qoima-partial-…`): one may be a
/// whole copy of the key file.
fn partial_files(home: &Path) -> Result<Vec<std::path::PathBuf>, StoreError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(home)? {
        let entry = entry?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".qoima-partial-")
            && entry.file_type()?.is_file()
        {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// The second half of a wipe, after [`destroy_key`]: every file of the archive removed.
pub fn remove_archive(home: &Path) -> Result<(), StoreError> {
    for partial in partial_files(home)? {
        fs::remove_file(&partial)?;
    }

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
    Ok(())
}

fn overwrite_and_remove(path: &Path) -> Result<(), StoreError> {
    overwrite_start(path, 1024 * 1024)?;
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

    #[test]
    fn a_partial_copy_of_the_key_goes_too_and_a_foreign_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let secrets = keyfile::create(&home.join(KEY_FILE), b"pw").unwrap();
        drop(Store::open(&home, &secrets.archive_key).unwrap());
        let key_bytes = fs::read(home.join(KEY_FILE)).unwrap();
        fs::write(home.join(".qoima-partial-x1"), &key_bytes).unwrap();
        wipe(&home).unwrap();
        assert!(!home.exists());

        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(elsewhere.join("media")).unwrap();
        fs::write(elsewhere.join(KEY_FILE), b"someone's own file called key").unwrap();
        assert!(matches!(wipe(&elsewhere), Err(StoreError::NotFound(_))));
        assert!(elsewhere.join("media").exists() && elsewhere.join(KEY_FILE).exists());
    }
}
