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

use qoima_core::bundle::{BundleError, BundleReader, Item, ItemKind, blob_read_error};
use qoima_core::{AuthorKey, BlobHash, BundleId, KeyCache, RecordId, VerifiedRecord};
use rayon::prelude::*;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::archive::{Source, insert_record, now_ms};
use crate::blobs::StoredBlob;
use crate::{Store, StoreError};

/// Records verified together on the rayon pool.
const VERIFY_BATCH: usize = 512;
/// Batches in flight between verification and the writer: bounds memory to a few MB.
const BATCHES_IN_FLIGHT: usize = 4;

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
    /// Blobs that were already stored.
    pub blobs_present: u64,
    /// Items refused, each with its reason.
    pub rejected: Vec<Rejection>,
    /// Why the bundle as a whole could not be read (fully), if it could not.
    pub fatal: Option<String>,
}

impl ImportReport {
    /// True when every item was valid and the bundle was read to its end.
    pub fn is_clean(&self) -> bool {
        self.fatal.is_none() && self.rejected.is_empty()
    }
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
}

enum ToWriter {
    Records(Vec<VerifiedRecord>),
    /// A blob file installed by this import.
    Blob(StoredBlob),
    /// A blob whose file was already in place: its row is added if missing (a crash
    /// after the file was renamed into place, before the import's commit, leaves none).
    BlobOnDisk(BlobHash, u64),
    /// The bundle has been read: log the import in the same transaction.
    Finish {
        bundler: AuthorKey,
        rejected: usize,
    },
}

#[derive(Default)]
struct Written {
    records_new: u64,
    records_present: u64,
    blobs_new: u64,
}

impl Store {
    /// Verifies and merges the bundle read from `input`. Data problems (a bad signature, a
    /// truncated file) are reported in the [`ImportReport`], and whatever verified before
    /// them is stored; an `Err` means the store itself failed, and nothing was stored.
    pub fn import_bundle(
        &mut self,
        input: impl Read,
        source: Source,
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        let mut reader = match BundleReader::open(input) {
            Ok(reader) => reader,
            Err(e) => {
                report.fatal = Some(e.to_string());
                return Ok(report);
            }
        };
        let bundle = reader.id();
        let bundler = reader.manifest().bundler;
        report.bundle = Some(bundle);
        report.bundler = Some(bundler);
        report.records_listed = reader.manifest().record_count();

        let (to_writer, from_reader) = sync_channel::<ToWriter>(BATCHES_IN_FLIGHT);
        let Store { db, blobs, .. } = self;
        let blobs = &*blobs;
        let written = std::thread::scope(|scope| {
            let writer = scope.spawn(|| write_all(db, from_reader, &source, bundle.as_bytes()));
            let mut pending: Vec<(usize, RecordId, Vec<u8>)> = Vec::with_capacity(VERIFY_BATCH);
            let flush = |pending: &mut Vec<(usize, RecordId, Vec<u8>)>,
                         report: &mut ImportReport| {
                let verified = verify_batch(std::mem::take(pending), &mut report.rejected);
                to_writer.send(ToWriter::Records(verified)).is_ok()
            };
            let outcome = loop {
                let item = match reader.next_item() {
                    Ok(Some(item)) => item,
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                };
                match item {
                    Item::Record {
                        index,
                        id,
                        bytes: Ok(bytes),
                    } => {
                        pending.push((index, id, bytes));
                        if pending.len() == VERIFY_BATCH && !flush(&mut pending, &mut report) {
                            break Ok(()); // the writer failed; its error is returned below
                        }
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
                    }
                    Item::Blob(mut blob) => {
                        let (index, hash) = (blob.index(), blob.hash());
                        if blobs.exists(&hash) {
                            report.blobs_present += 1;
                            // The size of the file, not the manifest's claim: these bytes
                            // are skipped unread, so that claim is never checked.
                            let size = match std::fs::metadata(blobs.path(&hash)) {
                                Ok(meta) => meta.len(),
                                Err(e) => break Err(BundleError::Io(e)),
                            };
                            if to_writer.send(ToWriter::BlobOnDisk(hash, size)).is_err() {
                                break Ok(());
                            }
                            continue; // the reader skips its bytes
                        }
                        let (file, size) = match blobs.write_scratch(&mut blob, |_| {}) {
                            Ok(scratch) => scratch,
                            Err(e) => break Err(blob_read_error(e, index)),
                        };
                        match blob.finish() {
                            Ok(Ok(())) => {
                                let stored = StoredBlob {
                                    blake3: hash,
                                    sha256: qoima_core::Sha256Digest([0; 32]),
                                    size,
                                };
                                let scratch = crate::blobs::ScratchBlob { file, blob: stored };
                                if let Err(e) = blobs.install(scratch) {
                                    break Err(BundleError::Io(std::io::Error::other(
                                        e.to_string(),
                                    )));
                                }
                                if to_writer.send(ToWriter::Blob(stored)).is_err() {
                                    break Ok(());
                                }
                            }
                            Ok(Err(e)) => report.rejected.push(rejection(
                                index,
                                ItemKind::Blob,
                                hash.as_bytes(),
                                e.to_string(),
                            )),
                            Err(e) => break Err(e),
                        }
                    }
                }
            };
            if let Err(e) = outcome {
                report.fatal = Some(e.to_string());
            }
            if !pending.is_empty() {
                flush(&mut pending, &mut report);
            }
            let _ = to_writer.send(ToWriter::Finish {
                bundler,
                rejected: report.rejected.len(),
            });
            drop(to_writer);
            writer.join().expect("the writer thread does not panic")
        });
        let written = written?;
        report.records_new = written.records_new;
        report.records_present = written.records_present;
        report.blobs_new = written.blobs_new;
        Ok(report)
    }
}

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
        "INSERT INTO imports (bundle, bundler, source, origin, imported_ms, records_new,
                              records_present, rejected)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
         WHERE NOT EXISTS (SELECT 1 FROM imports WHERE bundle = ?1 AND source = ?3 AND origin = ?4)",
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

/// Checks signatures and canonical encoding of a batch in parallel.
fn verify_batch(
    batch: Vec<(usize, RecordId, Vec<u8>)>,
    rejected: &mut Vec<Rejection>,
) -> Vec<VerifiedRecord> {
    let results: Vec<Result<VerifiedRecord, Rejection>> = batch
        .into_par_iter()
        .map_init(KeyCache::new, |keys, (index, id, bytes)| {
            VerifiedRecord::from_bytes_cached(bytes, id, keys)
                .map_err(|e| rejection(index, ItemKind::Record, id.as_bytes(), e.to_string()))
        })
        .collect();
    let mut verified = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(record) => verified.push(record),
            Err(rejection) => rejected.push(rejection),
        }
    }
    verified
}

/// The writer stage: one transaction for the whole bundle.
fn write_all(
    db: &mut Connection,
    input: Receiver<ToWriter>,
    source: &Source,
    bundle: &[u8],
) -> Result<Written, StoreError> {
    let tx = db.transaction()?;
    let now = now_ms();
    let mut written = Written::default();
    for message in input {
        match message {
            ToWriter::Records(records) => {
                for record in &records {
                    if insert_record(&tx, record, source, bundle, now)? {
                        written.records_new += 1;
                    } else {
                        written.records_present += 1;
                    }
                }
            }
            ToWriter::Blob(blob) => {
                written.blobs_new += tx.execute(
                    "INSERT OR IGNORE INTO blobs (hash, size, stored_ms) VALUES (?1, ?2, ?3)",
                    params![blob.blake3.as_bytes(), blob.size as i64, now],
                )? as u64;
            }
            ToWriter::BlobOnDisk(hash, size) => {
                tx.execute(
                    "INSERT OR IGNORE INTO blobs (hash, size, stored_ms) VALUES (?1, ?2, ?3)",
                    params![hash.as_bytes(), size as i64, now],
                )?;
            }
            ToWriter::Finish { bundler, rejected } => {
                log_import(&tx, bundle, bundler, source, &written, rejected)?;
            }
        }
    }
    tx.commit()?;
    Ok(written)
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
    }
}
