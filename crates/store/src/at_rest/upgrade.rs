//! Encrypting, in place, an archive written before encryption at rest.
//!
//! The switch from the old archive to the new one is a single rename of the database
//! file; everything else is arranged around it so that a crash (`kill -9`, power loss)
//! at any instant leaves one complete archive:
//!
//! 1. Before the switch, every plaintext attachment gets an encrypted copy under
//!    `media/`; the plaintext files stay. The plaintext database is checkpointed into
//!    its main file (journal mode DELETE), so no write-ahead log is left beside it.
//! 2. The database is exported by SQLCipher into `archive.db.encrypting`, synced, and
//!    renamed over `archive.db`: **the switch**. Before it, the old archive is whole
//!    (the extra encrypted copies are ignored, and reused on the next attempt); after
//!    it, the new one is.
//! 3. After the switch, what remains of the old archive is removed: the plaintext
//!    attachments (each one's encrypted copy is checked to exist first) and the
//!    plaintext node key, which is sealed.
//!
//! Each step is idempotent, so the next open simply carries on. Two processes of this
//! version opening the same old archive take turns on a lock file.
//!
//! What this cannot do: the plaintext's old disk blocks are freed, not overwritten
//! (see THREAT_MODEL.md).

use std::io;
use std::path::Path;

use fs_err as fs;
use qoima_core::BlobHash;

use super::database;
use super::keys::ArchiveKey;
use super::sealed;
use crate::blobs::{BlobDir, PLAIN_BLOBS_DIR, ScratchError};
use crate::fsutil::{private_file, sync_dir, touch_private};
use crate::{DB_FILE, NODE_KEY_FILE, StoreError};

const ENCRYPTING_SUFFIX: &str = ".encrypting";
/// The last schema version written without encryption.
const LAST_PLAINTEXT_SCHEMA: i64 = 5;
const LOCK_FILE: &str = "upgrade.lock";

/// Encrypts whatever in `home` is still from before encryption at rest. Does nothing
/// (and takes no lock) on an archive that is already encrypted or new.
pub(crate) fn encrypt_legacy_parts(home: &Path, key: &ArchiveKey) -> Result<(), StoreError> {
    if !needs_upgrade(home)? {
        return Ok(());
    }
    let lock_path = home.join(LOCK_FILE);
    touch_private(&lock_path)?;
    let lock = std::fs::File::open(&lock_path).map_err(|e| StoreError::io(&lock_path, e))?;
    lock.lock().map_err(|e| StoreError::io(&lock_path, e))?;
    // Another process may have finished while we waited.
    let db = home.join(DB_FILE);
    let blobs = BlobDir::open(home, Some(key))?;
    if database::is_plaintext(&db).map_err(|e| StoreError::io(&db, e))? {
        copy_plain_blobs(home, &blobs)?;
        encrypt_database(home, key)?;
    }
    let leftover = encrypting_path(home);
    if leftover.exists() {
        fs::remove_file(&leftover)?;
    }
    seal_node_key(home, key)?;
    move_plain_blobs(home, &blobs)?;
    private_tree(home)?;
    // Left behind, it would tell whoever holds the disk that plaintext once lay here.
    let _ = fs::remove_file(&lock_path);
    Ok(())
}

/// Whether opening `home` will first encrypt an archive from before encryption at rest
/// (which takes a while on a large one: callers say so).
pub fn needs_upgrade(home: &Path) -> Result<bool, StoreError> {
    let db = home.join(DB_FILE);
    let node_key = home.join(NODE_KEY_FILE);
    let plain_node_key = match fs::read(&node_key) {
        Ok(bytes) => !sealed::is_sealed(&bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e.into()),
    };
    Ok(
        database::is_plaintext(&db).map_err(|e| StoreError::io(&db, e))?
            || home.join(PLAIN_BLOBS_DIR).exists()
            || encrypting_path(home).exists()
            || plain_node_key,
    )
}

fn encrypting_path(home: &Path) -> std::path::PathBuf {
    home.join(format!("{DB_FILE}{ENCRYPTING_SUFFIX}"))
}

/// Every plaintext attachment file under `blobs/`, with the hash its name gives.
fn plain_blob_files(home: &Path) -> Result<Vec<(BlobHash, std::path::PathBuf)>, StoreError> {
    let root = home.join(PLAIN_BLOBS_DIR);
    let mut found = Vec::new();
    if !root.exists() {
        return Ok(found);
    }
    for shard in fs::read_dir(&root)? {
        let shard = shard?.path();
        if !shard.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&shard)? {
            let path = entry?.path();
            let hash = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<BlobHash>().ok());
            // Anything not named like a blob is not part of the archive.
            if let Some(hash) = hash {
                found.push((hash, path));
            }
        }
    }
    Ok(found)
}

/// Step 1: an encrypted copy of every plaintext attachment, the plaintext kept.
fn copy_plain_blobs(home: &Path, blobs: &BlobDir) -> Result<(), StoreError> {
    for (hash, path) in plain_blob_files(home)? {
        if blobs.exists(&hash) {
            continue;
        }
        let file = fs::File::open(&path)?;
        let size = file.metadata()?.len();
        let scratch = blobs
            .write_scratch(io::BufReader::new(file), size, |_| {})
            .map_err(|e| match e {
                ScratchError::Read(e) => StoreError::io(&path, e),
                ScratchError::Write(e) => e,
            })?;
        blobs.install_file(scratch, &hash)?;
    }
    Ok(())
}

/// Step 2, the switch: the database exported by SQLCipher into an encrypted file that
/// is renamed over the plaintext one.
fn encrypt_database(home: &Path, key: &ArchiveKey) -> Result<(), StoreError> {
    let db = home.join(DB_FILE);
    let target = encrypting_path(home);
    for leftover in [
        target.clone(),
        home.join(format!("{DB_FILE}{ENCRYPTING_SUFFIX}-journal")),
    ] {
        if leftover.exists() {
            fs::remove_file(&leftover)?;
        }
    }
    {
        let conn = database::connect(&db)?;
        database::quiet(&conn)?;
        // Folds the write-ahead log into the main file and removes it: a plaintext log
        // must not be left for the encrypted file to inherit.
        let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(StoreError::Invalid(format!(
                "the archive database could not leave WAL mode (another program has it open?): {mode}"
            )));
        }
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        // Archives from before encryption at rest stopped at schema version 5; a
        // plaintext database claiming a later one was put here by someone else.
        if version > LAST_PLAINTEXT_SCHEMA {
            return Err(StoreError::Tampered(format!(
                "{} is an unencrypted database of schema version {version}, which qoima never wrote: someone replaced the archive's database",
                db.display()
            )));
        }
        touch_private(&target)?;
        let literal = key.database_key_literal();
        let path_text = target
            .to_str()
            .ok_or_else(|| StoreError::Invalid("the data directory's path is not UTF-8".into()))?;
        conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            rusqlite::params![path_text, literal.as_str()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.execute_batch(&format!("PRAGMA encrypted.user_version = {version};"))?;
        conn.execute_batch("DETACH DATABASE encrypted;")?;
    }
    for side in ["-wal", "-shm"] {
        let path = home.join(format!("{DB_FILE}{side}"));
        if side == "-wal" && fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
            return Err(StoreError::Invalid(
                "the plaintext archive still has a write-ahead log; close other programs using it"
                    .into(),
            ));
        }
        if path.exists() {
            fs::remove_file(&path)?;
        }
    }
    fs::File::open(&target)?.sync_all()?;
    fs::rename(&target, &db)?;
    sync_dir(home).map_err(|e| StoreError::io(home, e))?;
    Ok(())
}

/// Step 3: plaintext attachments removed, each after its encrypted copy is in place.
fn move_plain_blobs(home: &Path, blobs: &BlobDir) -> Result<(), StoreError> {
    copy_plain_blobs(home, blobs)?;
    for (_, path) in plain_blob_files(home)? {
        fs::remove_file(&path)?;
    }
    let root = home.join(PLAIN_BLOBS_DIR);
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    Ok(())
}

/// Step 3: the node's network key sealed in place (atomically replaced).
fn seal_node_key(home: &Path, key: &ArchiveKey) -> Result<(), StoreError> {
    let path = home.join(NODE_KEY_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => zeroize::Zeroizing::new(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if sealed::is_sealed(&bytes) {
        return Ok(());
    }
    let file = sealed::seal(key, NODE_KEY_FILE, &bytes).map_err(|e| StoreError::io(&path, e))?;
    crate::fsutil::write_atomically(&path, &file).map_err(|e| StoreError::io(&path, e))?;
    private_file(&path).map_err(|e| StoreError::io(&path, e))
}

/// Owner-only permissions on everything in the data directory, which older versions
/// created with the umask's.
fn private_tree(dir: &Path) -> Result<(), StoreError> {
    crate::fsutil::private_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            private_tree(&path)?;
        } else if kind.is_file() {
            private_file(&path).map_err(|e| StoreError::io(&path, e))?;
        }
    }
    Ok(())
}
