//! [`Store`]: opening a data directory and putting records into it.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use fs_err as fs;
use qoima_core::{AuthorKey, RecordId, VerifiedRecord};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::at_rest::keys::ArchiveKey;
use crate::at_rest::{database, sealed, upgrade};
use crate::blobs::{BlobDir, BlobReader, ScratchError, StoredBlob};
use crate::fsutil::{private_dir, private_file, touch_private};
use crate::{DB_FILE, StoreError, schema};

/// How a record reached this node, for its chain of custody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Written here with `qoima add`.
    Local,
    /// Imported from a bundle file (its name, without the directory).
    File(String),
    /// Received from a peer (its peer id).
    Peer(String),
}

impl Source {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::File(_) => "file",
            Source::Peer(_) => "peer",
        }
    }

    pub(crate) fn origin(&self) -> &str {
        match self {
            Source::Local => "",
            Source::File(name) | Source::Peer(name) => name,
        }
    }
}

/// An open archive. One `Store` per process writes; SQLite's WAL lets other processes
/// read at the same time.
pub struct Store {
    pub(crate) db: Connection,
    pub(crate) blobs: BlobDir,
    home: PathBuf,
    key: Option<ArchiveKey>,
}

impl Store {
    /// Opens the archive in `home` encrypted under `key`, creating the directory and an
    /// empty archive if needed. An archive written before encryption at rest is
    /// encrypted in place first (see `at_rest::upgrade`). A database that does not
    /// authenticate under `key` is [`StoreError::Tampered`].
    pub fn open(home: &Path, key: &ArchiveKey) -> Result<Store, StoreError> {
        private_dir(home).map_err(|e| StoreError::io(home, e))?;
        upgrade::encrypt_legacy_parts(home, key)?;
        Store::open_with(home, Some(key))
    }

    /// Opens an archive in `home` **without encryption at rest**. Only for measuring
    /// what encryption costs (benchmarks compare the two); no command uses it.
    #[doc(hidden)]
    pub fn open_unprotected_for_comparison(home: &Path) -> Result<Store, StoreError> {
        private_dir(home).map_err(|e| StoreError::io(home, e))?;
        Store::open_with(home, None)
    }

    fn open_with(home: &Path, key: Option<&ArchiveKey>) -> Result<Store, StoreError> {
        let db_path = home.join(DB_FILE);
        touch_private(&db_path).map_err(|e| StoreError::io(&db_path, e))?;
        let mut db = database::connect(&db_path)?;
        if let Some(key) = key {
            database::unlock(&db, key)?;
        }
        schema::prepare(&mut db)?;
        let blobs = BlobDir::open(home, key)?;
        let store = Store {
            db,
            blobs,
            home: home.to_owned(),
            key: key.cloned(),
        };
        // Files a retraction committed before a crash meant to delete.
        store.remove_doomed_blobs()?;
        Ok(store)
    }

    /// Another connection to this same archive, under the same key: for reading in this
    /// process while this one writes at length (WAL: readers never wait for the writer,
    /// and see each of its commits once made).
    pub fn open_another(&self) -> Result<Store, StoreError> {
        Store::open_with(&self.home, self.key.as_ref())
    }

    /// The data directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Stores a record made on this node, to be offered to peers whatever its consent
    /// flags (for tools, tests and benchmarks that decided that already; records written
    /// for a person go through [`Store::append_local`]). Returns whether it was new.
    pub fn insert_local(&mut self, record: &VerifiedRecord) -> Result<bool, StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let new = insert_record(&tx, record, &Source::Local, &[], now_ms(), false)?;
        tx.commit()?;
        self.remove_doomed_blobs()?;
        Ok(new)
    }

    /// Appends a record to `author`'s chain made here, atomically: `make` is given the
    /// author's head (sequence number and id of the latest record, if any) read under
    /// the archive's write lock, signs the next record, and the record is stored before
    /// the lock is released. Two processes appending at once (two `qoima add`) thus
    /// never make two records with the same sequence number or predecessor.
    ///
    /// The record must be by `author` and follow the head; otherwise nothing is stored
    /// and [`StoreError::Invalid`] is returned.
    ///
    /// The consent rule: a record whose consent does not allow sharing with documenting
    /// organisations is **held back**: stored and searchable here, never offered to peers
    /// (not in reconciliation, not gossiped, not served) and left out of exports unless
    /// asked for. It travels only when its author decides, e.g. sealed to a recipient. `make` runs while other writers wait: it
    /// should only sign, not prompt or copy files.
    pub fn append_local<E: From<StoreError>>(
        &mut self,
        author: &AuthorKey,
        make: impl FnOnce(Option<(u64, RecordId)>) -> Result<VerifiedRecord, E>,
    ) -> Result<VerifiedRecord, E> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let head = head_in(&tx, author)?;
        let record = make(head)?;
        let body = record.body();
        let follows = match head {
            None => body.seq == 1 && body.prev.is_none(),
            Some((seq, id)) => body.seq == seq + 1 && body.prev == Some(id),
        };
        if body.author != *author || !follows {
            return Err(StoreError::Invalid(format!(
                "record {} does not follow its author's latest record here (seq {})",
                record.id(),
                head.map_or(0, |(seq, _)| seq)
            ))
            .into());
        }
        let hold_back = !body.consent.share_with_organisations;
        insert_record(&tx, &record, &Source::Local, &[], now_ms(), hold_back)?;
        tx.commit().map_err(StoreError::from)?;
        self.remove_doomed_blobs()?;
        Ok(record)
    }

    /// The sequence number and id of `author`'s latest record here.
    pub fn head_of(&self, author: &AuthorKey) -> Result<Option<(u64, RecordId)>, StoreError> {
        head_in(&self.db, author)
    }

    /// Copies the file at `path` into the blob store, computing both hashes.
    pub fn add_blob_file(&mut self, path: &Path) -> Result<StoredBlob, StoreError> {
        let file = fs::File::open(path)?;
        let size = file.metadata()?.len();
        let scratch = self
            .blobs
            .hash_into_scratch(std::io::BufReader::new(file), size)
            .map_err(|e| match e {
                ScratchError::Read(e) => StoreError::io(
                    path,
                    std::io::Error::new(
                        e.kind(),
                        format!("{e} (did the file change while being read?)"),
                    ),
                ),
                ScratchError::Write(e) => e,
            })?;
        self.install_blob(scratch)
    }

    /// Stores `bytes` (an attachment made here, e.g. a photo without its metadata) in
    /// the blob store, computing both hashes.
    pub fn add_blob_bytes(&mut self, bytes: &[u8]) -> Result<StoredBlob, StoreError> {
        let scratch = self
            .blobs
            .hash_into_scratch(bytes, bytes.len() as u64)
            .map_err(|e| match e {
                ScratchError::Read(e) => StoreError::from(e),
                ScratchError::Write(e) => e,
            })?;
        self.install_blob(scratch)
    }

    /// Moves a hashed scratch file to its blob name, then indexes it.
    fn install_blob(
        &mut self,
        scratch: crate::blobs::ScratchBlob,
    ) -> Result<StoredBlob, StoreError> {
        let outboard = scratch.outboard.pairs().to_vec();
        let blob = self.blobs.install(scratch)?;
        crate::transfer::index_blob(&self.db, &blob.blake3, blob.size, &outboard, now_ms())?;
        Ok(blob)
    }

    /// Opens the attachment with this hash for reading, if it is held here. Its bytes
    /// are decrypted and authenticated segment by segment as they are read: an altered
    /// file is an `InvalidData` read error, never altered bytes.
    pub fn read_blob(&self, hash: &qoima_core::BlobHash) -> Result<Option<BlobReader>, StoreError> {
        self.blobs.open_blob(hash)
    }

    /// The file holding the attachment with this hash, if it is held here (encrypted;
    /// read it with [`Store::read_blob`]). For tests and diagnostics.
    pub fn blob_path(&self, hash: &qoima_core::BlobHash) -> Option<PathBuf> {
        self.blobs.exists(hash).then(|| self.blobs.path(hash))
    }

    /// Writes a small file `name` in the data directory, sealed under the archive key
    /// (atomically replacing an older one).
    pub fn write_sealed_file(&self, name: &str, plain: &[u8]) -> Result<(), StoreError> {
        let path = self.home.join(name);
        let bytes = match &self.key {
            Some(key) => sealed::seal(key, name, plain).map_err(|e| StoreError::io(&path, e))?,
            None => plain.to_vec(),
        };
        crate::fsutil::write_atomically(&path, &bytes).map_err(|e| StoreError::io(&path, e))?;
        private_file(&path).map_err(|e| StoreError::io(&path, e))
    }

    /// Reads the small sealed file `name`, if it exists. One that fails to open under
    /// the archive key is [`StoreError::Tampered`].
    pub fn read_sealed_file(
        &self,
        name: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, StoreError> {
        let path = self.home.join(name);
        let bytes = match fs::read(&path) {
            Ok(bytes) => zeroize::Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match &self.key {
            Some(key) => sealed::open(key, name, &bytes)
                .map(Some)
                .map_err(|e| StoreError::Tampered(format!("{}: {e}", path.display()))),
            None => Ok(Some(bytes)),
        }
    }

    /// Number of records in the archive.
    pub fn record_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .db
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

fn head_in(db: &Connection, author: &AuthorKey) -> Result<Option<(u64, RecordId)>, StoreError> {
    let head = db
        .prepare_cached("SELECT seq, id FROM records WHERE author = ?1 ORDER BY seq DESC LIMIT 1")?
        .query_row([author.as_bytes()], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, [u8; 32]>(1)?))
        })
        .optional()?;
    Ok(head.map(|(seq, id)| (seq as u64, RecordId(id))))
}

/// Inserts `record` with its provenance inside `tx`; returns whether the record was new.
/// A record already present gains the provenance entry (another route it arrived by) if
/// that entry is new.
pub(crate) fn insert_record(
    tx: &Transaction<'_>,
    record: &VerifiedRecord,
    source: &Source,
    bundle: &[u8],
    now: i64,
    hold_back: bool,
) -> Result<bool, StoreError> {
    if crate::standing::is_tombstoned(tx, &record.id())? {
        // Retracted by its author here: never stored again.
        return Ok(false);
    }
    let body = record.body();
    let mut insert = tx.prepare_cached(
        "INSERT INTO records (id, author, seq, kind, created_ms, title, stored_ms, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
    )?;
    let changed = insert.execute(params![
        record.id().as_bytes(),
        body.author.as_bytes(),
        body.seq as i64,
        body.kind.code(),
        body.created.unix_ms,
        body.title,
        now,
        record.bytes(),
    ])?;
    let rowid: i64 = if changed == 1 {
        let rowid = tx.last_insert_rowid();
        count_usage(tx, record, now)?;
        // Indexed for search later, outside this transaction (see `search.rs`).
        crate::search::enqueue(tx, rowid)?;
        let mut attach = tx.prepare_cached(
            "INSERT OR IGNORE INTO attachments (record, blob, size) VALUES (?1, ?2, ?3)",
        )?;
        for attachment in &body.attachments {
            attach.execute(params![
                rowid,
                attachment.blake3.as_bytes(),
                attachment.size as i64
            ])?;
        }
        if hold_back {
            tx.prepare_cached("INSERT INTO held_back (record) VALUES (?1)")?
                .execute([rowid])?;
        }
        rowid
    } else {
        tx.prepare_cached("SELECT rowid FROM records WHERE id = ?1")?
            .query_row([record.id().as_bytes()], |row| row.get(0))?
    };
    tx.prepare_cached(
        "INSERT OR IGNORE INTO provenance (record, source, bundle, origin, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![rowid, source.kind(), bundle, source.origin(), now])?;
    if changed == 0 {
        return Ok(false);
    }
    // A retraction that arrived first may have deleted it at once: then it is not new
    // here, and is neither counted nor passed on.
    crate::standing::on_stored(tx, rowid, record, now)
}

/// Adds a newly stored record to its author's usage (`author_usage`, schema version 11):
/// its bytes, and one more record in the clock hour it was stored in (the count starts
/// again in a new hour). Done here rather than by a trigger (schema version 14) so the
/// insert needs no statement journal.
fn count_usage(tx: &Transaction<'_>, record: &VerifiedRecord, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO author_usage (author, bytes, hour, records_in_hour)
         VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (author) DO UPDATE SET
             bytes = bytes + excluded.bytes,
             records_in_hour =
                 CASE WHEN hour = excluded.hour THEN records_in_hour + 1 ELSE 1 END,
             hour = excluded.hour",
    )?
    .execute(params![
        record.body().author.as_bytes(),
        record.bytes().len() as i64,
        now.div_euclid(3_600_000)
    ])?;
    Ok(())
}

/// Milliseconds since the epoch, by this machine's clock.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
