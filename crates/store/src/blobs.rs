//! Attachment files, written so that a crash never leaves a partial file under a real
//! name.
//!
//! Encrypted (the normal case): under `media/`, each file encrypted in 16 KiB segments
//! (`at_rest::segments`) and named by a keyed hash of its BLAKE3 hash, so the names do
//! not tell which known photos or videos are held. Unprotected (benchmark comparisons
//! only, and archives made before encryption at rest): under `blobs/`, plain bytes named
//! by their BLAKE3 hash.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use fs_err as fs;
use qoima_core::blob_tree::{GroupHasher, Outboard};
use qoima_core::{BlobHash, Sha256Digest};
use sha2::Digest;
use zeroize::Zeroizing;

use crate::StoreError;
use crate::at_rest::keys::ArchiveKey;
use crate::at_rest::segments::{SegmentReader, SegmentWriter};
use crate::fsutil::{private_dir, sync_dir};

/// Directory of encrypted attachment files.
pub(crate) const MEDIA_DIR: &str = "media";
/// Directory of plaintext attachment files (unprotected stores, and archives from
/// before encryption at rest, until upgraded).
pub(crate) const PLAIN_BLOBS_DIR: &str = "blobs";
/// Directory of attachments being fetched from peers.
pub(crate) const PARTIAL_DIR: &str = "partial";

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
#[derive(Clone)]
pub(crate) struct BlobDir {
    root: PathBuf,
    tmp: PathBuf,
    /// Attachments being fetched from peers (`transfer.rs`).
    partial: PathBuf,
    protection: Option<BlobKeys>,
}

#[derive(Clone)]
struct BlobKeys {
    archive: ArchiveKey,
    names: Zeroizing<[u8; 32]>,
}

const COPY_BUFFER: usize = 1024 * 1024;

/// An attachment opened for reading.
pub enum BlobReader {
    /// Decrypted a batch of segments ahead, on a thread of its own, while the caller
    /// consumes the previous batch; an altered segment is an `InvalidData` error.
    Encrypted(Prefetched),
    /// A plaintext file.
    Plain(fs::File),
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BlobReader::Encrypted(reader) => reader.read(buf),
            BlobReader::Plain(file) => file.read(buf),
        }
    }
}

/// Decrypted bytes, read ahead by a thread that owns the file: at most two batches
/// wait; the thread ends at the end of the file, at an error, or when this is dropped.
pub struct Prefetched {
    batches: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
    finished: bool,
}

impl Prefetched {
    fn spawn(mut reader: crate::at_rest::segments::PlainReader<std::fs::File>) -> Prefetched {
        let (send, batches) = std::sync::mpsc::sync_channel(2);
        std::thread::spawn(move || {
            loop {
                let mut batch = vec![0u8; COPY_BUFFER];
                let mut filled = 0;
                let outcome = loop {
                    match reader.read(&mut batch[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == batch.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                batch.truncate(filled);
                let last = filled < COPY_BUFFER || outcome.is_err();
                let sent = match outcome {
                    Ok(()) if batch.is_empty() => true,
                    Ok(()) => send.send(Ok(batch)).is_ok(),
                    Err(e) => send.send(Err(e)).is_ok(),
                };
                if last || !sent {
                    return;
                }
            }
        });
        Prefetched {
            batches,
            current: Vec::new(),
            at: 0,
            finished: false,
        }
    }
}

impl Read for Prefetched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.finished {
                return Ok(0);
            }
            match self.batches.recv() {
                Ok(Ok(batch)) => {
                    self.current = batch;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                // The thread ended after the last batch.
                Err(_) => {
                    self.finished = true;
                    return Ok(0);
                }
            }
        }
        let n = (self.current.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl BlobDir {
    /// Opens the attachment files of `home`: encrypted under `key`, or plaintext when
    /// `key` is `None`.
    pub(crate) fn open(home: &Path, key: Option<&ArchiveKey>) -> Result<BlobDir, StoreError> {
        let root = home.join(if key.is_some() {
            MEDIA_DIR
        } else {
            PLAIN_BLOBS_DIR
        });
        let tmp = home.join("tmp");
        let partial = home.join(PARTIAL_DIR);
        private_dir(&root).map_err(|e| StoreError::io(&root, e))?;
        private_dir(&partial).map_err(|e| StoreError::io(&partial, e))?;
        private_dir(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        remove_abandoned_scratch(&tmp)?;
        Ok(BlobDir {
            root,
            tmp,
            partial,
            protection: key.map(|key| BlobKeys {
                archive: key.clone(),
                names: key.blob_name_key(),
            }),
        })
    }

    /// The file of the blob with this hash (whether or not it exists).
    pub(crate) fn path(&self, hash: &BlobHash) -> PathBuf {
        let name = self.file_name(hash);
        self.root.join(&name[..2]).join(name)
    }

    /// The partial file of the blob with this hash, while it is being fetched.
    pub(crate) fn partial_path(&self, hash: &BlobHash) -> PathBuf {
        self.partial.join(self.file_name(hash))
    }

    fn file_name(&self, hash: &BlobHash) -> String {
        match &self.protection {
            Some(keys) => blake3::keyed_hash(&keys.names, hash.as_bytes())
                .to_hex()
                .to_string(),
            None => hash.to_hex(),
        }
    }

    /// The key attachment files are encrypted under (`None`: an unprotected store).
    pub(crate) fn archive_key(&self) -> Option<&ArchiveKey> {
        self.protection.as_ref().map(|keys| &keys.archive)
    }

    /// Removes the blob with this hash and any partial file of it, overwriting the
    /// stored file first so that its encrypted bytes do not linger in free blocks that
    /// the archive key could still open (flash and copy-on-write file systems may keep
    /// copies anyway; THREAT_MODEL.md says so).
    pub(crate) fn remove(&self, hash: &BlobHash) -> Result<(), StoreError> {
        let path = self.path(hash);
        // Moved aside first: a copy another process installs under the same name right
        // now stays whole (it is only ever renamed into place), and is not overwritten.
        let aside = path.with_extension("removing");
        match fs::rename(&path, &aside) {
            Ok(()) => {}
            // Gone already, or moved aside by a run that crashed before removing it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&path, e)),
        }
        let _ = fs::remove_file(self.partial_path(hash));
        let mut file = match fs::OpenOptions::new().write(true).open(&aside) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(&aside, e)),
        };
        {
            use std::io::Write;
            let len = file
                .metadata()
                .map_err(|e| StoreError::io(&aside, e))?
                .len();
            let zeros = vec![0u8; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n])
                    .map_err(|e| StoreError::io(&aside, e))?;
                left -= n as u64;
            }
            file.sync_all().map_err(|e| StoreError::io(&aside, e))?;
        }
        fs::remove_file(&aside).map_err(|e| StoreError::io(&aside, e))?;
        Ok(())
    }

    pub(crate) fn exists(&self, hash: &BlobHash) -> bool {
        self.path(hash).is_file()
    }

    /// Opens the blob with this hash for reading, if it is stored. Decryption is
    /// checked segment by segment as it is read.
    pub(crate) fn open_blob(&self, hash: &BlobHash) -> Result<Option<BlobReader>, StoreError> {
        let path = self.path(hash);
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(match &self.protection {
            None => BlobReader::Plain(file),
            Some(keys) => BlobReader::Encrypted(Prefetched::spawn(
                SegmentReader::open(file.into_parts().0, &keys.archive)
                    .map_err(|e| StoreError::Tampered(format!("blob {}: {e}", hash.to_hex())))?
                    .into_read(),
            )),
        }))
    }

    /// Copies `size` bytes from `source` into a synced scratch file (encrypted, unless
    /// the store is unprotected), handing every chunk to `observe` (to hash it on the
    /// way). Nothing is visible under a blob name yet. Failing to read `source`,
    /// including it being shorter or longer than `size`, is told apart from failing to
    /// write here: the first may be the fault of whoever sent the bytes, the second
    /// never is.
    pub(crate) fn write_scratch(
        &self,
        mut source: impl Read,
        size: u64,
        mut observe: impl FnMut(&[u8]),
    ) -> Result<tempfile::NamedTempFile, ScratchError> {
        let here = |e: io::Error| ScratchError::Write(StoreError::io(&self.tmp, e));
        let file = tempfile::Builder::new()
            .prefix(&scratch_prefix())
            .tempfile_in(&self.tmp)
            .map_err(here)?;
        let out = io::BufWriter::with_capacity(COPY_BUFFER, file);
        let mut sink = match &self.protection {
            Some(keys) => {
                Sink::Encrypted(SegmentWriter::new(out, &keys.archive, size).map_err(here)?)
            }
            None => Sink::Plain(out),
        };
        // Reading and hashing here, encrypting and writing on a second thread: the two
        // halves overlap. Two chunks in flight at most; a full channel holds the reader.
        let (read, written) = std::thread::scope(|scope| {
            let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let writer = scope.spawn(move || -> io::Result<tempfile::NamedTempFile> {
                for chunk in received {
                    sink.write(&chunk)?;
                }
                sink.finish()
            });
            let read = (|| -> Result<(), ScratchError> {
                let mut copied = 0u64;
                loop {
                    let mut buf = vec![0u8; COPY_BUFFER];
                    let n = match source.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(ScratchError::Read(e)),
                    };
                    copied += n as u64;
                    if copied > size {
                        return Err(ScratchError::Read(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("more than the {size} bytes expected"),
                        )));
                    }
                    buf.truncate(n);
                    observe(&buf);
                    if chunks.send(buf).is_err() {
                        // The writer stopped: its error is reported below.
                        return Ok(());
                    }
                }
                if copied < size {
                    return Err(ScratchError::Read(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("ended after {copied} of the {size} bytes expected"),
                    )));
                }
                Ok(())
            })();
            drop(chunks);
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the writing thread failed")));
            (read, written)
        });
        read?;
        let file = written.map_err(here)?;
        file.as_file().sync_all().map_err(here)?;
        Ok(file)
    }

    /// Copies a new attachment of `size` bytes from `source` into a scratch file,
    /// computing its BLAKE3 and SHA-256.
    pub(crate) fn hash_into_scratch(
        &self,
        source: impl Read,
        size: u64,
    ) -> Result<ScratchBlob, ScratchError> {
        let mut tree = GroupHasher::new(size);
        let mut sha = sha2::Sha256::new();
        let file = self.write_scratch(source, size, |chunk| {
            tree.update(chunk);
            sha.update(chunk);
        })?;
        let outboard = tree.finish().ok_or_else(|| {
            ScratchError::Read(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the attachment changed length while being read",
            ))
        })?;
        let blob = StoredBlob {
            blake3: outboard.root(),
            sha256: Sha256Digest(sha.finalize().into()),
            size,
        };
        Ok(ScratchBlob {
            file,
            blob,
            outboard,
        })
    }

    /// Moves a verified scratch file to its hash's name. If the blob is already there
    /// the scratch copy is dropped: same hash, same bytes.
    pub(crate) fn install(&self, scratch: ScratchBlob) -> Result<StoredBlob, StoreError> {
        self.install_file(scratch.file, &scratch.blob.blake3)?;
        Ok(scratch.blob)
    }

    /// Moves a synced scratch file holding the blob `hash` to its name.
    pub(crate) fn install_file(
        &self,
        file: tempfile::NamedTempFile,
        hash: &BlobHash,
    ) -> Result<(), StoreError> {
        let target = self.path(hash);
        if !target.is_file() {
            let dir = target.parent().expect("blob paths have a parent");
            private_dir(dir).map_err(|e| StoreError::io(dir, e))?;
            file.persist(&target)
                .map_err(|e| StoreError::io(&target, e.error))?;
            sync_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        // A partial copy being fetched from peers is complete now. If it cannot be
        // removed, the next fetch finds the attachment held and leaves it alone.
        let _ = fs::remove_file(self.partial_path(hash));
        Ok(())
    }
}

/// Where a scratch file's bytes go.
enum Sink {
    Encrypted(SegmentWriter<io::BufWriter<tempfile::NamedTempFile>>),
    Plain(io::BufWriter<tempfile::NamedTempFile>),
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Encrypted(writer) => writer.write_plain(bytes),
            Sink::Plain(writer) => writer.write_all(bytes),
        }
    }

    fn finish(self) -> io::Result<tempfile::NamedTempFile> {
        let out = match self {
            Sink::Encrypted(writer) => writer.finish()?,
            Sink::Plain(writer) => writer,
        };
        out.into_inner().map_err(|e| e.into_error())
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
    /// The inner hashes of the blob's tree, to serve verified ranges of it.
    pub(crate) outboard: Outboard,
}
