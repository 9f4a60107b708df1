//! Importing a bundle: verify while streaming, commit once.
//!
//! Three stages overlap: this thread reads items and checks their hashes against the
//! manifest; record signatures are checked in parallel batches on the rayon pool; one
//! writer thread inserts verified records into a single transaction. Blob bytes go to a
//! synced scratch file and are renamed to their hash only once the hash matched.
//! The transaction commits at the end, so a crash at any point leaves the archive as it
//! was before the import or as it is after, never in between.

use std::io::Read;
use std::sync::mpsc::{Receiver, sync_channel};

use qoima_core::blob_tree::GroupHasher;
use qoima_core::bundle::{BundleError, BundleReader, Item, ItemKind, blob_read_error};
use qoima_core::{AuthorKey, BlobHash, BundleId, KeyCache, RecordId, VerifiedRecord};
use rayon::prelude::*;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::archive::{Source, insert_record, now_ms};
use crate::blobs::{ScratchError, StoredBlob};
use crate::{Store, StoreError};

/// Records verified together on the rayon pool, at most.
const VERIFY_BATCH: usize = 512;
/// Bytes of records verified together, at most (plus one record): with records of up to
/// 2 MiB a count alone would let a batch hold a gigabyte.
const VERIFY_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Batches in flight between verification and the writer. With the batch being filled
/// and the one the writer holds, an import holds at most
/// `(BATCHES_IN_FLIGHT + 2) * (VERIFY_BATCH_BYTES + RECORD_BYTES_MAX)` bytes of records
/// (36 MiB), twice that once decoded (a verified record keeps its bytes and its body):
/// under 80 MiB whatever the bundle, a few MiB for records of a few KiB.
const BATCHES_IN_FLIGHT: usize = 4;
/// Signatures checked together in one batch equation, at least (unless fewer records are
/// left): below a few dozen, a batch saves little over checking them one by one.
const SIGNATURES_MIN: usize = 64;

/// The message of the fault [`SenderFault::CarriesBlobs`].
const CARRIES_BLOBS: &str =
    "network bundles carry records only; attachments have their own protocol";

/// What one bundle import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// The bundle id, if the manifest could be read.
    pub bundle: Option<BundleId>,
    /// Who signed the bundle, if the manifest could be read.
    pub bundler: Option<AuthorKey>,
    /// Records the manifest lists.
    pub records_listed: usize,
    /// Records stored for the first time.
    pub records_new: u64,
    /// Valid records that were already stored.
    pub records_present: u64,
    /// Blobs stored for the first time.
    pub blobs_new: u64,
    /// Blobs that were already stored (and whose bytes in the bundle matched).
    pub blobs_present: u64,
    /// Valid records this archive's acceptance policy did not keep (no fault of the
    /// sender's), by reason.
    pub declined: Vec<(crate::Declined, u64)>,
    /// The ids of those records (bounded by the bundle), so they are not passed on.
    #[serde(skip)]
    pub declined_ids: Vec<RecordId>,
    /// Items refused, each with its reason.
    pub rejected: Vec<Rejection>,
    /// Why the bundle as a whole could not be read (fully), if it could not.
    pub fatal: Option<String>,
    /// What was wrong with the input's bytes, if anything. `None` with `fatal` set means
    /// reading the input failed (an I/O error of a file), which says nothing of its bytes.
    pub fault: Option<SenderFault>,
}

impl ImportReport {
    /// True when every item was valid and the bundle was read to its end.
    pub fn is_clean(&self) -> bool {
        self.fatal.is_none() && self.rejected.is_empty()
    }

    /// The verdict on whoever made the bundle. It depends only on the bundle's bytes,
    /// never on what this node holds or on this node's own failures (those are `Err`s of
    /// the import), so a peer can be penalised on it.
    pub fn sender_fault(&self) -> Option<SenderFault> {
        self.fault
    }
}

/// Why a bundle's bytes are at fault: the typed verdict of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum SenderFault {
    /// The bundle as a whole is bad: header, manifest or its signature, an early end,
    /// data after the last item. The report's `fatal` says which.
    #[error("the bundle is unreadable")]
    Unreadable,
    /// Some items were refused (their hash or signature does not verify); the others
    /// were stored. The report's `rejected` says which and why.
    #[error("{rejected} of its items failed verification")]
    BadItem {
        /// How many items were refused.
        rejected: usize,
    },
    /// A bundle from the network lists an attachment. Refused whole, before any item is
    /// read.
    #[error("{CARRIES_BLOBS}")]
    CarriesBlobs,
}

/// One refused item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Position in the bundle's manifest.
    pub index: usize,
    /// `record <id>` or `blob <hash>`.
    pub item: String,
    /// Why it was refused.
    pub reason: String,
    /// A record of a later format version than this one reads: not known to be bad, so
    /// no fault of whoever passed it on.
    pub later_version: bool,
}

enum ToWriter {
    /// The records and blobs that follow are of this bundle, from this source (their
    /// provenance), until [`ToWriter::End`].
    Begin {
        bundle: BundleId,
        source: Source,
    },
    Records(Vec<VerifiedRecord>),
    /// A blob file installed by this import.
    Blob(StoredBlob, Vec<u8>),
    /// A blob whose file was already in place and whose bytes in the bundle matched its
    /// hash: its row is added if missing (a crash after the file was renamed into place,
    /// before the import's commit, leaves none).
    BlobOnDisk(BlobHash, u64),
    /// The bundle has been read: log its import in the same transaction.
    End {
        /// The bundle's place in the group.
        position: usize,
        bundler: AuthorKey,
        rejected: usize,
    },
    /// Every bundle of the group has been read: commit. Without this message the writer
    /// commits nothing.
    Commit,
}

#[derive(Default)]
struct Written {
    records_new: u64,
    records_present: u64,
    blobs_new: u64,
    declined: Vec<(crate::Declined, u64)>,
    declined_ids: Vec<RecordId>,
}

/// Records read and hash-checked, waiting for their signatures to be checked.
#[derive(Default)]
struct Pending {
    records: Vec<(usize, RecordId, Vec<u8>)>,
    bytes: usize,
}

impl Pending {
    fn push(&mut self, index: usize, id: RecordId, bytes: Vec<u8>) {
        self.bytes += bytes.len();
        self.records.push((index, id, bytes));
    }

    /// A batch is sent for verification once it holds [`VERIFY_BATCH`] records or
    /// [`VERIFY_BATCH_BYTES`] bytes, whichever comes first.
    fn is_full(&self) -> bool {
        self.records.len() >= VERIFY_BATCH || self.bytes >= VERIFY_BATCH_BYTES
    }

    fn take(&mut self) -> Vec<(usize, RecordId, Vec<u8>)> {
        self.bytes = 0;
        std::mem::take(&mut self.records)
    }
}

/// Why reading a bundle stopped early.
enum Stop {
    /// The bundle's bytes (or reading them) failed: reported, and what verified is kept.
    Bundle(BundleError),
    /// The writer stopped; its error is returned.
    Writer,
    /// This node failed: nothing is stored.
    Store(StoreError),
}

/// What the reading side of an import shares between the bundles of a group.
struct Reading<'a> {
    to_writer: std::sync::mpsc::SyncSender<ToWriter>,
    blobs: &'a crate::blobs::BlobDir,
    records_only: bool,
}

impl Store {
    /// Verifies and merges the bundle read from `input` (a bundle file). Data problems
    /// (a bad signature, a truncated file) are reported in the [`ImportReport`], and
    /// whatever verified before them is stored; an `Err` means the store itself failed,
    /// and nothing was stored.
    ///
    /// Every byte of the bundle is read and checked, also those of blobs already held
    /// here, so the verdict is a function of the bundle alone.
    pub fn import_bundle(
        &mut self,
        input: impl Read,
        source: Source,
    ) -> Result<ImportReport, StoreError> {
        let mut reports = self.import_group(vec![(input, source)], false)?;
        Ok(reports.remove(0))
    }

    /// Verifies and merges a bundle received from a peer. Such bundles carry records
    /// only (attachments have their own protocol): one whose manifest lists a blob is
    /// refused whole with [`SenderFault::CarriesBlobs`] before any item is read.
    /// Otherwise as [`Store::import_bundle`]; the input is in memory, so a `fatal` in
    /// the report is always the sender's fault.
    pub fn import_network_bundle(
        &mut self,
        bundle: &[u8],
        source: Source,
    ) -> Result<ImportReport, StoreError> {
        let mut reports = self.import_network_bundles(vec![(bundle, source)])?;
        Ok(reports.remove(0))
    }

    /// Imports several bundles from peers in one transaction, each as
    /// [`Store::import_network_bundle`] would, with one report each, in order. Each
    /// report, and so each verdict, depends on its own bundle's bytes only. A commit
    /// costs the same for one fetched batch as for several, and during a catch-up it
    /// dominated: each commit rewrites every index page its records touched, scattered
    /// over indexes the size of the archive. An `Err` means this node failed and none of
    /// the bundles was stored.
    pub fn import_network_bundles(
        &mut self,
        bundles: Vec<(&[u8], Source)>,
    ) -> Result<Vec<ImportReport>, StoreError> {
        self.import_group(bundles, true)
    }

    fn import_group<R: Read>(
        &mut self,
        inputs: Vec<(R, Source)>,
        records_only: bool,
    ) -> Result<Vec<ImportReport>, StoreError> {
        let (to_writer, from_reader) = sync_channel::<ToWriter>(BATCHES_IN_FLIGHT);
        let Store { db, blobs, .. } = self;
        let reading = Reading {
            to_writer,
            blobs: &*blobs,
            records_only,
        };
        let (written, mut reports, failure) = std::thread::scope(|scope| {
            let writer = scope.spawn(|| write_all(db, from_reader));
            let mut reports = Vec::with_capacity(inputs.len());
            let mut failure = None;
            for (position, (input, source)) in inputs.into_iter().enumerate() {
                let (report, stop) = reading.read(position, input, source);
                reports.push(report);
                match stop {
                    Some(Stop::Store(e)) => {
                        failure = Some(e);
                        break;
                    }
                    Some(Stop::Writer) => break,
                    Some(Stop::Bundle(_)) | None => {}
                }
            }
            let Reading { to_writer, .. } = reading;
            if failure.is_none() {
                let _ = to_writer.send(ToWriter::Commit);
            }
            // Closing the channel without `Commit` makes the writer roll back.
            drop(to_writer);
            let written = writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (written, reports, failure)
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let Some(written) = written? else {
            // Only reachable if the writer ended early without an error of its own.
            return Err(StoreError::Invalid(
                "the import's writer stopped early".into(),
            ));
        };
        for (position, written) in written {
            let report = &mut reports[position];
            report.records_new = written.records_new;
            report.records_present = written.records_present;
            report.blobs_new = written.blobs_new;
            report.declined = written.declined;
            report.declined_ids = written.declined_ids;
        }
        // Attachments of records that retractions in these bundles deleted. The records
        // are committed: failing here must not turn their reports (and the verdicts on
        // their senders) into an error. The list of doomed attachments is kept, and the
        // next import or open of the archive removes them.
        if let Err(e) = self.remove_doomed_blobs() {
            tracing::warn!(
                "removing the attachments of retracted records failed, to be retried: {e}"
            );
        }
        for report in &mut reports {
            let bad = report.rejected.iter().filter(|r| !r.later_version).count();
            if report.fault.is_none() && bad > 0 {
                report.fault = Some(SenderFault::BadItem { rejected: bad });
            }
        }
        Ok(reports)
    }
}

impl Reading<'_> {
    /// Reads one bundle of the group, verifying as it goes and passing what verified to
    /// the writer; returns its report (without what the writer counts) and why reading
    /// stopped early, if it did.
    fn read(
        &self,
        position: usize,
        input: impl Read,
        source: Source,
    ) -> (ImportReport, Option<Stop>) {
        let mut report = ImportReport::default();
        let mut reader = match BundleReader::open(input) {
            Ok(reader) => reader,
            Err(e) => {
                report.fault = fault_of(&e);
                report.fatal = Some(e.to_string());
                return (report, None);
            }
        };
        let bundle = reader.id();
        let bundler = reader.manifest().bundler;
        report.bundle = Some(bundle);
        report.bundler = Some(bundler);
        report.records_listed = reader.manifest().record_count();
        if self.records_only && reader.manifest().blob_count() > 0 {
            report.fault = Some(SenderFault::CarriesBlobs);
            report.fatal = Some(CARRIES_BLOBS.into());
            return (report, None);
        }
        // The batches' random coefficients come from this seed, drawn once per bundle: a
        // signer who could predict them could make a bad signature pass a batch.
        let mut seed = [0u8; 32];
        if let Err(e) = getrandom::fill(&mut seed) {
            let error = std::io::Error::other(e.to_string());
            return (report, Some(Stop::Store(error.into())));
        }
        if self
            .to_writer
            .send(ToWriter::Begin { bundle, source })
            .is_err()
        {
            return (report, Some(Stop::Writer));
        }
        let mut pending = Pending::default();
        let flush = |pending: &mut Pending, report: &mut ImportReport| {
            let verified = verify_batch(pending.take(), &seed, &mut report.rejected);
            self.to_writer.send(ToWriter::Records(verified)).is_ok()
        };
        let stop = loop {
            let item = match reader.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => break None,
                Err(e) => break Some(Stop::Bundle(e)),
            };
            let message = match item {
                Item::Record {
                    index,
                    id,
                    bytes: Ok(bytes),
                } => {
                    pending.push(index, id, bytes);
                    if pending.is_full() && !flush(&mut pending, &mut report) {
                        break Some(Stop::Writer);
                    }
                    continue;
                }
                Item::Record {
                    index,
                    id,
                    bytes: Err(e),
                } => {
                    report.rejected.push(rejection(
                        index,
                        ItemKind::Record,
                        id.as_bytes(),
                        e.to_string(),
                    ));
                    continue;
                }
                Item::Blob(blob) => match self.store_blob(blob, &mut report) {
                    Ok(Some(message)) => message,
                    Ok(None) => continue,
                    Err(stop) => break Some(stop),
                },
            };
            if self.to_writer.send(message).is_err() {
                break Some(Stop::Writer);
            }
        };
        let finish = match &stop {
            None | Some(Stop::Bundle(_)) => {
                pending.records.is_empty() || flush(&mut pending, &mut report)
            }
            Some(Stop::Writer | Stop::Store(_)) => false,
        };
        let stop = match stop {
            Some(Stop::Bundle(e)) => {
                report.fault = fault_of(&e);
                report.fatal = Some(e.to_string());
                None
            }
            other => other,
        };
        if finish {
            let end = ToWriter::End {
                position,
                bundler,
                rejected: report.rejected.len(),
            };
            if self.to_writer.send(end).is_err() {
                return (report, Some(Stop::Writer));
            }
        }
        (report, stop)
    }

    /// Reads one blob of a bundle to its end, hashing it; a new one is installed as its
    /// file. Returns what the writer is to record, `None` if the blob was refused (noted
    /// in the report).
    fn store_blob(
        &self,
        mut blob: qoima_core::bundle::BlobItem<'_, impl Read>,
        report: &mut ImportReport,
    ) -> Result<Option<ToWriter>, Stop> {
        let (index, hash, size) = (blob.index(), blob.hash(), blob.size());
        // A blob already held is still read to its end and hashed: its bytes decide the
        // verdict, not what this node happens to hold.
        let held = self.blobs.exists(&hash);
        let mut tree = GroupHasher::new(size);
        let scratch = if held {
            None
        } else {
            match self
                .blobs
                .write_scratch(&mut blob, size, |chunk| tree.update(chunk))
            {
                Ok(file) => Some(file),
                Err(ScratchError::Read(e)) => return Err(Stop::Bundle(blob_read_error(e, index))),
                Err(ScratchError::Write(e)) => return Err(Stop::Store(e)),
            }
        };
        match blob.finish() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                report.rejected.push(rejection(
                    index,
                    ItemKind::Blob,
                    hash.as_bytes(),
                    e.to_string(),
                ));
                return Ok(None);
            }
            Err(e) => return Err(Stop::Bundle(e)),
        }
        let Some(file) = scratch else {
            report.blobs_present += 1;
            return Ok(Some(ToWriter::BlobOnDisk(hash, size)));
        };
        let stored = StoredBlob {
            blake3: hash,
            sha256: qoima_core::Sha256Digest([0; 32]),
            size,
        };
        // The bundle reader checked the bytes against `hash`; the tree hashed along the
        // way agrees (same bytes).
        let Some(outboard) = tree.finish() else {
            return Err(Stop::Store(StoreError::Corrupt(
                "an attachment changed length while being stored".into(),
            )));
        };
        let pairs = outboard.pairs().to_vec();
        let scratch = crate::blobs::ScratchBlob {
            file,
            blob: stored,
            outboard,
        };
        match self.blobs.install(scratch) {
            Ok(_) => Ok(Some(ToWriter::Blob(stored, pairs))),
            Err(e) => Err(Stop::Store(e)),
        }
    }
}

/// The sender's fault in a bundle error: every error but an I/O error of the input
/// comes from its bytes.
fn fault_of(error: &BundleError) -> Option<SenderFault> {
    match error {
        BundleError::Io(_) => None,
        _ => Some(SenderFault::Unreadable),
    }
}

/// The statement of [`log_import`]; its `NOT EXISTS` is answered from the index
/// `imports_by_bundle`.
const LOG_IMPORT: &str = "
    INSERT INTO imports (bundle, bundler, source, origin, imported_ms, records_new,
                         records_present, rejected)
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
    WHERE NOT EXISTS (SELECT 1 FROM imports WHERE bundle = ?1 AND source = ?3 AND origin = ?4)";

/// Logs an import inside its own transaction, so a crash never leaves imported records
/// without the entry saying where they came from. Re-importing the same file is not news:
/// only its first import is logged.
fn log_import(
    tx: &rusqlite::Transaction<'_>,
    bundle: &[u8],
    bundler: AuthorKey,
    source: &Source,
    written: &Written,
    rejected: usize,
) -> Result<(), StoreError> {
    tx.execute(
        LOG_IMPORT,
        params![
            bundle,
            bundler.as_bytes(),
            source.kind(),
            source.origin(),
            now_ms(),
            written.records_new as i64,
            written.records_present as i64,
            rejected as i64
        ],
    )?;
    Ok(())
}

/// Checks signatures and canonical encoding of a batch in parallel: the batch is cut into
/// one piece per thread (at least [`SIGNATURES_MIN`] records each), and each piece's
/// signatures are checked together in one [`qoima_core::SignatureBatch`]. The verdict on
/// every record is the one [`VerifiedRecord::from_bytes`] gives it (the signature rule is
/// the same in a batch; a failed batch is checked again one by one to name the bad records).
fn verify_batch(
    batch: Vec<(usize, RecordId, Vec<u8>)>,
    seed: &[u8; 32],
    rejected: &mut Vec<Rejection>,
) -> Vec<VerifiedRecord> {
    let piece = batch
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(SIGNATURES_MIN);
    let mut pieces = Vec::with_capacity(batch.len().div_ceil(piece));
    let mut batch = batch.into_iter().peekable();
    while batch.peek().is_some() {
        pieces.push(batch.by_ref().take(piece).collect::<Vec<_>>());
    }
    let results: Vec<Vec<Result<VerifiedRecord, Rejection>>> = pieces
        .into_par_iter()
        .map(|piece| {
            // Each piece draws its coefficients from a seed of its own: the import's seed
            // keyed by the piece's first item index, unique within the bundle.
            let first = piece.first().map_or(0, |(index, _, _)| *index as u64);
            let piece_seed = *blake3::keyed_hash(seed, &first.to_le_bytes()).as_bytes();
            let items: Vec<(usize, RecordId)> =
                piece.iter().map(|(index, id, _)| (*index, *id)).collect();
            let records = piece
                .into_iter()
                .map(|(_, id, bytes)| (id, bytes))
                .collect();
            let verdicts =
                VerifiedRecord::from_bytes_batch(records, &mut KeyCache::new(), &piece_seed);
            items
                .into_iter()
                .zip(verdicts)
                .map(|((index, id), verdict)| {
                    verdict.map_err(|e| {
                        let mut refused =
                            rejection(index, ItemKind::Record, id.as_bytes(), e.to_string());
                        refused.later_version =
                            matches!(e, qoima_core::RecordError::UnsupportedVersion(_));
                        refused
                    })
                })
                .collect()
        })
        .collect();
    let mut verified = Vec::with_capacity(VERIFY_BATCH);
    for result in results.into_iter().flatten() {
        match result {
            Ok(record) => verified.push(record),
            Err(rejection) => rejected.push(rejection),
        }
    }
    verified
}

/// The writer stage: one transaction for the whole group, committed on
/// [`ToWriter::Commit`]; returns what each bundle wrote, by its place in the group. If
/// the channel closes before that, the reader stopped on a failure of this node and the
/// transaction is rolled back (`Ok(None)`).
fn write_all(
    db: &mut Connection,
    input: Receiver<ToWriter>,
) -> Result<Option<Vec<(usize, Written)>>, StoreError> {
    // IMMEDIATE: the write lock is taken now, not on the first write after a read, which
    // fails at once (SQLITE_BUSY) when another connection wrote in between.
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = now_ms();
    let mut admission = crate::acceptance::Admission::new(&tx, now)?;
    let mut done = Vec::new();
    let mut written = Written::default();
    // Each bundle's messages come after its `Begin`.
    let mut current: Option<(BundleId, Source)> = None;
    for message in input {
        match message {
            ToWriter::Begin { bundle, source } => {
                written = Written::default();
                current = Some((bundle, source));
            }
            ToWriter::Records(records) => {
                let Some((bundle, source)) = &current else {
                    continue;
                };
                for record in &records {
                    if let Some(why) = admit(&tx, &mut admission, record)? {
                        match written.declined.iter_mut().find(|(w, _)| *w == why) {
                            Some((_, n)) => *n += 1,
                            None => written.declined.push((why, 1)),
                        }
                        written.declined_ids.push(record.id());
                        continue;
                    }
                    if insert_record(&tx, record, source, bundle.as_bytes(), now, false)? {
                        written.records_new += 1;
                    } else {
                        written.records_present += 1;
                    }
                }
            }
            ToWriter::Blob(blob, outboard) => {
                written.blobs_new +=
                    crate::transfer::index_blob(&tx, &blob.blake3, blob.size, &outboard, now)?;
            }
            ToWriter::BlobOnDisk(hash, size) => {
                tx.execute(
                    "INSERT OR IGNORE INTO blobs (hash, size, stored_ms) VALUES (?1, ?2, ?3)",
                    params![hash.as_bytes(), size as i64, now],
                )?;
            }
            ToWriter::End {
                position,
                bundler,
                rejected,
            } => {
                if let Some((bundle, source)) = current.take() {
                    let written = std::mem::take(&mut written);
                    log_import(&tx, bundle.as_bytes(), bundler, &source, &written, rejected)?;
                    done.push((position, written));
                }
            }
            ToWriter::Commit => {
                admission.finish(&tx)?;
                tx.commit()?;
                return Ok(Some(done));
            }
        }
    }
    Ok(None)
}

/// The policy's verdict on a record from elsewhere; one already held (or retracted here)
/// is not judged again.
fn admit(
    tx: &rusqlite::Transaction<'_>,
    admission: &mut crate::acceptance::Admission,
    record: &VerifiedRecord,
) -> Result<Option<crate::Declined>, StoreError> {
    let held = tx
        .prepare_cached(
            "SELECT 1 FROM records WHERE id = ?1 UNION ALL SELECT 1 FROM tombstones WHERE id = ?1",
        )?
        .exists([record.id().as_bytes()])?;
    if held {
        return Ok(None);
    }
    admission.admit(tx, record)
}

fn rejection(index: usize, kind: ItemKind, hash: &[u8; 32], reason: String) -> Rejection {
    let item = match kind {
        ItemKind::Record => format!("record {}", RecordId(*hash)),
        ItemKind::Blob => format!("blob {}", BlobHash(*hash)),
    };
    Rejection {
        index,
        item,
        reason,
        later_version: false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use super::*;

    fn record(size: usize) -> (usize, RecordId, Vec<u8>) {
        (0, RecordId([0; 32]), vec![0; size])
    }

    /// How many records of `size` bytes make a batch.
    fn batch_len(size: usize) -> usize {
        let mut pending = Pending::default();
        loop {
            let (index, id, bytes) = record(size);
            pending.push(index, id, bytes);
            if pending.is_full() {
                return pending.records.len();
            }
        }
    }

    #[test]
    fn a_batch_is_bounded_by_count_and_by_bytes() {
        assert_eq!(batch_len(100), VERIFY_BATCH, "small records: by count");
        let max = qoima_core::limits::RECORD_BYTES_MAX;
        assert_eq!(batch_len(max), 2, "2 MiB records: by bytes");
        assert_eq!(batch_len(VERIFY_BATCH_BYTES / VERIFY_BATCH), VERIFY_BATCH);
        assert_eq!(
            batch_len(VERIFY_BATCH_BYTES / VERIFY_BATCH + 1),
            VERIFY_BATCH
        );
        assert_eq!(
            batch_len(VERIFY_BATCH_BYTES / 3),
            4,
            "just under the budget after 3"
        );
        assert_eq!(batch_len(VERIFY_BATCH_BYTES / 3 + 1), 3);
        let mut pending = Pending::default();
        let (index, id, bytes) = record(max);
        pending.push(index, id, bytes);
        assert_eq!(pending.take().len(), 1);
        assert_eq!(
            (pending.records.len(), pending.bytes),
            (0, 0),
            "emptied by take"
        );
    }

    #[test]
    fn logging_an_import_looks_the_bundle_up_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        let plan: Vec<String> = store
            .db
            .prepare(&format!("EXPLAIN QUERY PLAN {LOG_IMPORT}"))
            .unwrap()
            .query_map(
                params![b"b".to_vec(), b"k".to_vec(), "peer", "p", 0, 0, 0, 0],
                |row| row.get::<_, String>(3),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(
                |step| step.contains("USING COVERING INDEX imports_by_bundle")
                    || step.contains("USING INDEX imports_by_bundle")
            ),
            "{plan:#?}"
        );
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN imports")),
            "{plan:#?}"
        );
    }
}
