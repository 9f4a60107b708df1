//! Attachments fetched from peers: what is wanted, what may be served, and partial
//! files filled range by range as verified groups arrive.
//!
//! A partial attachment is an encrypted attachment file (`at_rest::segments`) written
//! at its final length's layout, segment by segment, under `partial/`. Its state is the
//! file itself: a segment that authenticates was written, and only verified bytes are
//! ever written, so after a crash or a restart the file is scanned and every segment
//! that opens counts as received (its chaining value recomputed from it); the rest is
//! fetched again. Nothing else needs to be kept in step with it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use fs_err as fs;
use qoima_core::BlobHash;
use qoima_core::blob_tree::{self, GROUP_LEN, Outboard, RangeError};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;
use crate::archive::{Store, now_ms};
use crate::at_rest::segments::{PartialFile, SegmentError};
use crate::blobs::BlobDir;
use crate::fsutil::{private_dir, sync_dir};

/// Indexes a stored blob with its outboard, and forgets any partial copy of it (the
/// file is complete now, from whatever source). Returns 1 if the blob is new here.
pub(crate) fn index_blob(
    db: &Connection,
    hash: &BlobHash,
    size: u64,
    outboard: &[u8],
    now: i64,
) -> Result<u64, StoreError> {
    let new = db.execute(
        "INSERT OR IGNORE INTO blobs (hash, size, stored_ms, outboard) VALUES (?1, ?2, ?3, ?4)",
        params![hash.as_bytes(), size as i64, now, outboard],
    )?;
    if new == 0 {
        db.execute(
            "UPDATE blobs SET outboard = ?2 WHERE hash = ?1 AND outboard IS NULL",
            params![hash.as_bytes(), outboard],
        )?;
    }
    db.execute(
        "DELETE FROM partial_blobs WHERE hash = ?1",
        [hash.as_bytes()],
    )?;
    Ok(new as u64)
}

/// Whether an attachment is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentState {
    /// Complete and verified.
    Present,
    /// Being fetched: `have` of `size` bytes verified and stored.
    Partial {
        /// Bytes received.
        have: u64,
        /// Bytes in all.
        size: u64,
    },
    /// Not here.
    Missing,
}

/// An attachment referenced by a record here and not held: a candidate for fetching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedBlob {
    /// Its hash.
    pub hash: BlobHash,
    /// The size its record states.
    pub size: u64,
    /// When the newest record referring to it says it was made.
    pub created_ms: i64,
    /// The author of that record (for fairness between authors).
    pub author: [u8; 32],
    /// Bytes of it already here (a partial file), as last noted.
    pub have: u64,
}

impl Store {
    /// Attachment files, for use off the thread that owns the store (serving ranges,
    /// filling partial files).
    pub fn blob_files(&self) -> BlobFiles {
        BlobFiles(Arc::new(self.blobs.clone()))
    }

    /// Whether the attachment `hash` is here, partly here, or missing.
    pub fn attachment_state(&self, hash: &BlobHash) -> Result<AttachmentState, StoreError> {
        if self.blobs.exists(hash) {
            return Ok(AttachmentState::Present);
        }
        let partial: Option<(i64, i64)> = self
            .db
            .query_row(
                "SELECT have, size FROM partial_blobs WHERE hash = ?1",
                [hash.as_bytes()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match partial {
            Some((have, size)) => AttachmentState::Partial {
                have: have.max(0) as u64,
                size: size.max(0) as u64,
            },
            None => AttachmentState::Missing,
        })
    }

    /// Attachments of records here that may travel (not held back) and are not held,
    /// at most `limit`, newest records first.
    pub fn wanted_blobs(&self, limit: usize) -> Result<Vec<WantedBlob>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT a.blob, a.size, max(r.created_ms), r.author,
                    (SELECT have FROM partial_blobs p WHERE p.hash = a.blob AND p.size = a.size)
             FROM attachments a JOIN records r ON r.rowid = a.record
             WHERE a.size >= 0
               AND a.blob NOT IN (SELECT hash FROM blobs)
               AND a.record NOT IN (SELECT record FROM held_back)
             GROUP BY a.blob, a.size
             ORDER BY max(r.created_ms) DESC
             LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(WantedBlob {
                hash: BlobHash(r.get(0)?),
                size: r.get::<_, i64>(1)? as u64,
                created_ms: r.get(2)?,
                author: r.get(3)?,
                have: r.get::<_, Option<i64>>(4)?.unwrap_or(0).max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The outboard of the attachment `hash`, if this node may serve it to a peer: it is
    /// held, it is exactly `size` bytes, and a record here that may travel refers to it
    /// with that size. Never an arbitrary hash. An outboard missing (blobs stored
    /// before version 7) is computed from the file once and kept.
    pub fn serving_outboard(
        &self,
        hash: &BlobHash,
        size: u64,
    ) -> Result<Option<Outboard>, StoreError> {
        let referenced: bool = self.db.query_row(
            "SELECT EXISTS (SELECT 1 FROM attachments
                            WHERE blob = ?1 AND size = ?2
                              AND record NOT IN (SELECT record FROM held_back))",
            params![hash.as_bytes(), size as i64],
            |r| r.get(0),
        )?;
        if !referenced {
            return Ok(None);
        }
        let stored: Option<(i64, Option<Vec<u8>>)> = self
            .db
            .query_row(
                "SELECT size, outboard FROM blobs WHERE hash = ?1",
                [hash.as_bytes()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((stored_size, pairs)) = stored else {
            return Ok(None);
        };
        if stored_size as u64 != size || !self.blobs.exists(hash) {
            return Ok(None);
        }
        if let Some(pairs) = pairs {
            return Outboard::from_parts(size, *hash, pairs)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("blob {hash}: {e}")));
        }
        let outboard = self.compute_outboard(hash, size)?;
        self.db.execute(
            "UPDATE blobs SET outboard = ?2 WHERE hash = ?1",
            params![hash.as_bytes(), outboard.pairs()],
        )?;
        Ok(Some(outboard))
    }

    fn compute_outboard(&self, hash: &BlobHash, size: u64) -> Result<Outboard, StoreError> {
        use std::io::Read;
        let Some(mut reader) = self.blobs.open_blob(hash)? else {
            return Err(StoreError::Corrupt(format!("blob {hash} vanished")));
        };
        let mut tree = blob_tree::GroupHasher::new(size);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| StoreError::Corrupt(format!("blob {hash}: {e}")))?;
            if n == 0 {
                break;
            }
            tree.update(&buf[..n]);
        }
        match tree.finish() {
            Some(outboard) if outboard.root() == *hash => Ok(outboard),
            _ => Err(StoreError::Corrupt(format!(
                "blob {hash} does not match its hash"
            ))),
        }
    }

    /// Bytes of attachments held, complete or partial: what a quota counts.
    pub fn blob_bytes_held(&self) -> Result<u64, StoreError> {
        let bytes: i64 = self.db.query_row(
            "SELECT (SELECT coalesce(sum(size), 0) FROM blobs)
                  + (SELECT coalesce(sum(size), 0) FROM partial_blobs)",
            [],
            |r| r.get(0),
        )?;
        Ok(bytes.max(0) as u64)
    }

    /// Records how much of a partial attachment has arrived (for `show` and `status`
    /// in other processes).
    pub fn note_partial(&self, hash: &BlobHash, size: u64, have: u64) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO partial_blobs (hash, size, have, started_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (hash) DO UPDATE SET have = excluded.have, size = excluded.size",
            params![hash.as_bytes(), size as i64, have as i64, now_ms()],
        )?;
        Ok(())
    }

    /// Indexes an attachment completed from peers ([`BlobFiles::install_partial`]).
    pub fn add_fetched_blob(&self, outboard: &Outboard) -> Result<(), StoreError> {
        let hash = outboard.root();
        // The record that wanted it may have been retracted while it was on its way:
        // then nothing here refers to it any more, and it goes where retraction sent it.
        let wanted = self
            .db
            .prepare_cached("SELECT 1 FROM attachments WHERE blob = ?1")?
            .exists([hash.as_bytes()])?;
        if !wanted {
            self.db.execute(
                "INSERT INTO doomed_blobs (hash) VALUES (?1) ON CONFLICT DO NOTHING",
                [hash.as_bytes()],
            )?;
            self.db.execute(
                "DELETE FROM partial_blobs WHERE hash = ?1",
                [hash.as_bytes()],
            )?;
            return self.remove_doomed_blobs();
        }
        index_blob(&self.db, &hash, outboard.size(), outboard.pairs(), now_ms())?;
        Ok(())
    }
}

/// Attachment files, shareable between threads.
#[derive(Clone)]
pub struct BlobFiles(Arc<BlobDir>);

impl BlobFiles {
    /// The plaintext of groups `first .. first + count` of the stored attachment
    /// `hash`, decrypted and authenticated; `None` if it is not held.
    pub fn read_groups(
        &self,
        hash: &BlobHash,
        first: u64,
        count: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.read_groups(hash, first, count)
    }

    /// Opens the partial file of `hash` (`size` bytes), resuming what an earlier run
    /// received, or starts one.
    pub fn open_partial(&self, hash: &BlobHash, size: u64) -> Result<PartialBlob, StoreError> {
        let path = self.0.partial_path(hash);
        let dir = path.parent().expect("partial paths have a parent");
        private_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        let groups = blob_tree::groups(size);
        let mut state = GroupState {
            have: vec![false; groups as usize],
            cvs: vec![[0u8; 32]; groups as usize],
            have_groups: 0,
        };
        let sink = match self.0.archive_key() {
            Some(key) => {
                let existing = fs::OpenOptions::new().read(true).write(true).open(&path);
                match existing {
                    Ok(file) => match PartialFile::open(file.into_parts().0, key) {
                        Ok(partial) if partial.size() == size => {
                            scan(&partial, size, &mut state);
                            Sink::Encrypted(partial)
                        }
                        // Another size, or a damaged header: start again.
                        Ok(_) | Err(SegmentError::NotOurs | SegmentError::TamperedHeader) => {
                            Sink::Encrypted(create_partial(&path, key, size)?)
                        }
                        Err(e) => return Err(StoreError::io(&path, e.into())),
                    },
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        Sink::Encrypted(create_partial(&path, key, size)?)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // Unprotected stores (benchmark comparisons) cannot tell written segments
            // from holes: they start over.
            None => Sink::Plain(
                fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)?
                    .into_parts()
                    .0,
            ),
        };
        Ok(PartialBlob {
            hash: *hash,
            size,
            path,
            sink,
            state: Mutex::new(state),
        })
    }

    /// Moves a complete partial file to its attachment name, returning the outboard
    /// to index ([`Store::add_fetched_blob`]).
    pub fn install_partial(&self, partial: &PartialBlob) -> Result<Outboard, StoreError> {
        let outboard = {
            let state = partial.lock();
            if state.have_groups < blob_tree::groups(partial.size) {
                return Err(StoreError::Invalid("the attachment is not complete".into()));
            }
            Outboard::from_group_cvs(partial.size, &state.cvs)
        };
        if outboard.root() != partial.hash {
            // Every group was verified against the hash on arrival: this is damage
            // to the partial file between then and now. Start it again.
            let _ = fs::remove_file(&partial.path);
            return Err(StoreError::Corrupt(format!(
                "partial attachment {} does not match its hash",
                partial.hash
            )));
        }
        let target = self.0.path(&partial.hash);
        if target.is_file() {
            // Installed meanwhile (imported from a bundle file): same hash, same bytes.
            self.remove_partial(&partial.hash);
            return Ok(outboard);
        }
        match &partial.sink {
            Sink::Encrypted(file) => file.finish(),
            Sink::Plain(file) => file.sync_all(),
        }
        .map_err(|e| StoreError::io(&partial.path, e))?;
        let dir = target.parent().expect("blob paths have a parent");
        private_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        if let Err(e) = fs::rename(&partial.path, &target) {
            // An import in another process may have installed it and removed this
            // partial file between the check above and now.
            if !target.is_file() {
                return Err(e.into());
            }
        }
        sync_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        Ok(outboard)
    }

    /// Removes the partial file of `hash`, if any.
    pub fn remove_partial(&self, hash: &BlobHash) {
        let _ = fs::remove_file(self.0.partial_path(hash));
    }
}

fn create_partial(
    path: &std::path::Path,
    key: &crate::ArchiveKey,
    size: u64,
) -> Result<PartialFile, StoreError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    PartialFile::create(file.into_parts().0, key, size).map_err(|e| StoreError::io(path, e))
}

/// Finds the segments an earlier run wrote: those that authenticate.
fn scan(partial: &PartialFile, size: u64, state: &mut GroupState) {
    let found: Vec<Option<[u8; 32]>> = (0..blob_tree::groups(size))
        .into_par_iter()
        .map_init(Vec::new, |segment, index| {
            partial
                .read_segment(index, segment)
                .ok()
                .map(|()| blob_tree::group_cv(size, index, segment))
        })
        .collect();
    for (index, cv) in found.into_iter().enumerate() {
        if let Some(cv) = cv {
            state.have[index] = true;
            state.cvs[index] = cv;
            state.have_groups += 1;
        }
    }
}

enum Sink {
    Encrypted(PartialFile),
    Plain(std::fs::File),
}

struct GroupState {
    have: Vec<bool>,
    cvs: Vec<[u8; 32]>,
    have_groups: u64,
}

/// An attachment being received: which groups are here, and where they go.
pub struct PartialBlob {
    hash: BlobHash,
    size: u64,
    path: PathBuf,
    sink: Sink,
    state: Mutex<GroupState>,
}

/// Why an encoded range was not stored.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The bytes are wrong: the sender's fault.
    #[error("{0}")]
    Invalid(RangeError),
    /// Writing them failed here: never the sender's fault.
    #[error("{0}")]
    Local(StoreError),
}

impl PartialBlob {
    /// The attachment's hash.
    pub fn hash(&self) -> BlobHash {
        self.hash
    }

    /// Its size.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GroupState> {
        // The state is updated in single steps: a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes received and stored.
    pub fn have_bytes(&self) -> u64 {
        let state = self.lock();
        let groups = state.have.len() as u64;
        let mut bytes = state.have_groups * GROUP_LEN as u64;
        if state.have.last() == Some(&true) {
            bytes -= GROUP_LEN as u64 - blob_tree::group_len(self.size, groups - 1) as u64;
        }
        bytes.min(self.size)
    }

    /// Whether every group is here.
    pub fn is_complete(&self) -> bool {
        let state = self.lock();
        state.have_groups == state.have.len() as u64
    }

    /// The runs of missing groups, as (first, count), in order.
    pub fn missing_runs(&self) -> Vec<(u64, u64)> {
        let state = self.lock();
        let mut runs = Vec::new();
        let mut start = None;
        for (index, have) in state.have.iter().enumerate() {
            match (have, start) {
                (false, None) => start = Some(index as u64),
                (true, Some(first)) => {
                    runs.push((first, index as u64 - first));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(first) = start {
            runs.push((first, state.have.len() as u64 - first));
        }
        runs
    }

    /// Checks the encoded groups `first .. first + count` against the attachment's hash
    /// and stores them. Nothing is written unless the whole range verifies. Returns the
    /// bytes new here.
    pub fn accept(&self, first: u64, count: u64, encoded: &[u8]) -> Result<u64, AcceptError> {
        let mut plain = Vec::with_capacity(count as usize * GROUP_LEN);
        blob_tree::decode_range(&self.hash, self.size, first, count, encoded, |_, group| {
            plain.extend_from_slice(group)
        })
        .map_err(AcceptError::Invalid)?;
        let cvs: Vec<[u8; 32]> = if plain.is_empty() {
            vec![blob_tree::group_cv(self.size, first, &[])]
        } else {
            plain
                .par_chunks(GROUP_LEN)
                .enumerate()
                .map(|(i, group)| blob_tree::group_cv(self.size, first + i as u64, group))
                .collect()
        };
        match &self.sink {
            Sink::Encrypted(file) => file.write_segments(first, &plain),
            Sink::Plain(file) => {
                std::os::unix::fs::FileExt::write_all_at(file, &plain, first * GROUP_LEN as u64)
            }
        }
        .map_err(|e| AcceptError::Local(StoreError::io(&self.path, e)))?;
        let mut state = self.lock();
        let mut new_bytes = 0;
        for (i, cv) in cvs.into_iter().enumerate() {
            let index = first as usize + i;
            if !state.have[index] {
                state.have[index] = true;
                state.have_groups += 1;
                new_bytes += blob_tree::group_len(self.size, index as u64) as u64;
            }
            state.cvs[index] = cv;
        }
        Ok(new_bytes)
    }
}

impl BlobDir {
    /// Plaintext of a few groups of a stored attachment.
    fn read_groups(
        &self,
        hash: &BlobHash,
        first: u64,
        count: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        use crate::at_rest::segments::SegmentReader;
        let path = self.path(hash);
        let file = match fs::File::open(&path) {
            Ok(file) => file.into_parts().0,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let tampered = |e: SegmentError| StoreError::Tampered(format!("blob {hash}: {e}"));
        match self.archive_key() {
            Some(key) => {
                let reader = SegmentReader::open(file, key).map_err(tampered)?;
                blob_tree::range_bytes(reader.size(), first, count)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                reader
                    .read_segments(first, count)
                    .map(Some)
                    .map_err(tampered)
            }
            None => {
                let size = file.metadata()?.len();
                let (start, len) = blob_tree::range_bytes(size, first, count)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let mut buf = vec![0u8; len as usize];
                std::os::unix::fs::FileExt::read_exact_at(&file, &mut buf, start)
                    .map_err(|e| StoreError::io(&path, e))?;
                Ok(Some(buf))
            }
        }
    }
}
