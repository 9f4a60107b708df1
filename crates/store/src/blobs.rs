//! Attachment files, named by their BLAKE3 hash, written so that a crash never leaves a
//! partial file under a real name.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use fs_err as fs;
use qoima_core::{BlobHash, Sha256Digest};
use sha2::Digest;

use crate::StoreError;
use crate::fsutil::sync_dir;

/// A blob file written into the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    /// BLAKE3 of the bytes.
    pub blake3: BlobHash,
    /// SHA-256 of the bytes.
    pub sha256: Sha256Digest,
    /// Length in bytes.
    pub size: u64,
}

/// The blob directory and its scratch space.
pub(crate) struct BlobDir {
    root: PathBuf,
    tmp: PathBuf,
}

const COPY_BUFFER: usize = 1024 * 1024;

impl BlobDir {
    pub(crate) fn open(home: &Path) -> Result<BlobDir, StoreError> {
        let root = home.join("blobs");
        let tmp = home.join("tmp");
        fs::create_dir_all(&root)?;
        fs::create_dir_all(&tmp)?;
        remove_abandoned_scratch(&tmp)?;
        Ok(BlobDir { root, tmp })
    }

    pub(crate) fn path(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }

    pub(crate) fn exists(&self, hash: &BlobHash) -> bool {
        self.path(hash).is_file()
    }

    /// Copies `source` into a synced scratch file, handing every chunk to `observe` (to
    /// hash it on the way). Nothing is visible under a blob name yet. Failing to read
    /// `source` is told apart from failing to write here: the first may be the fault of
    /// whoever sent the bytes, the second never is.
    pub(crate) fn write_scratch(
        &self,
        mut source: impl Read,
        mut observe: impl FnMut(&[u8]),
    ) -> Result<(tempfile::NamedTempFile, u64), ScratchError> {
        let here = |e: io::Error| ScratchError::Write(StoreError::io(&self.tmp, e));
        let file = tempfile::Builder::new()
            .prefix(&scratch_prefix())
            .tempfile_in(&self.tmp)
            .map_err(here)?;
        let mut out = io::BufWriter::with_capacity(COPY_BUFFER, file);
        let mut buf = vec![0u8; COPY_BUFFER];
        let mut size = 0u64;
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ScratchError::Read(e)),
            };
            observe(&buf[..n]);
            out.write_all(&buf[..n]).map_err(here)?;
            size += n as u64;
        }
        let file = out.into_inner().map_err(|e| here(e.into_error()))?;
        file.as_file().sync_all().map_err(here)?;
        Ok((file, size))
    }

    /// Copies a new attachment from `source` into a scratch file, computing its BLAKE3
    /// and SHA-256.
    pub(crate) fn hash_into_scratch(&self, source: impl Read) -> Result<ScratchBlob, ScratchError> {
        let mut blake = blake3::Hasher::new();
        let mut sha = sha2::Sha256::new();
        let (file, size) = self.write_scratch(source, |chunk| {
            if chunk.len() >= 128 * 1024 {
                blake.update_rayon(chunk);
            } else {
                blake.update(chunk);
            }
            sha.update(chunk);
        })?;
        let blob = StoredBlob {
            blake3: BlobHash(*blake.finalize().as_bytes()),
            sha256: Sha256Digest(sha.finalize().into()),
            size,
        };
        Ok(ScratchBlob { file, blob })
    }

    /// Moves a verified scratch file to its hash's name. If the blob is already there
    /// the scratch copy is dropped: same hash, same bytes.
    pub(crate) fn install(&self, scratch: ScratchBlob) -> Result<StoredBlob, StoreError> {
        let target = self.path(&scratch.blob.blake3);
        if target.is_file() {
            return Ok(scratch.blob);
        }
        let dir = target.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir)?;
        scratch
            .file
            .persist(&target)
            .map_err(|e| StoreError::io(&target, e.error))?;
        sync_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        Ok(scratch.blob)
    }
}

/// Scratch files are named `<pid>-…` after the process writing them, so that a store
/// opened beside another (`qoima add` while a node runs) removes only the files of
/// processes that died mid-write, never a write in progress.
fn scratch_prefix() -> String {
    format!("{}-", std::process::id())
}

/// Removes scratch files whose writer is gone: no record refers to them.
fn remove_abandoned_scratch(tmp: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(tmp)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let writer_alive = name
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
            .is_some_and(process_alive);
        if !writer_alive {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Without a cheap portable liveness check, assume alive unless the file is stale.
#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// Why a scratch file could not be written.
#[derive(Debug)]
pub(crate) enum ScratchError {
    /// Reading the source failed.
    Read(io::Error),
    /// Writing the scratch file failed: this node's failure.
    Write(StoreError),
}

/// A synced blob file under a scratch name, with its hashes.
pub(crate) struct ScratchBlob {
    pub(crate) file: tempfile::NamedTempFile,
    pub(crate) blob: StoredBlob,
}
