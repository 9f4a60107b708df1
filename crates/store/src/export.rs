//! Writing part of the archive as a bundle.
//!
//! Two passes inside one read transaction, so the manifest and the items it lists come
//! from the same snapshot even if an import commits meanwhile: first the ids and sizes
//! for the manifest, then the bytes, streamed.

use std::io::Write;

use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{AuthorSecret, BlobHash, BundleId, Fingerprint, RecordKind, SealingKey};
use rusqlite::{params_from_iter, types::Value};
use serde::Serialize;

use crate::archive::now_ms;
use crate::{AuthorTrust, Store, StoreError};

/// Which records to export.
#[derive(Debug, Clone, Default)]
pub struct ExportQuery {
    /// Only this kind.
    pub kind: Option<RecordKind>,
    /// Only created (as claimed) at or after this instant, ms since the epoch.
    pub since_ms: Option<i64>,
    /// Also carry the attachments of those records that this node holds.
    pub with_attachments: bool,
    /// The collection the bundle is for.
    pub collection: String,
    /// Also write records held back because their consent does not allow sharing.
    pub include_held_back: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The bundle id.
    pub bundle: BundleId,
    /// Records written.
    pub records: usize,
    /// Blobs written.
    pub blobs: usize,
    /// Attachments referenced by exported records but not held here (so not included).
    pub blobs_missing: usize,
    /// Total item bytes.
    pub payload_bytes: u64,
}

impl Store {
    /// Writes the records matching `query` (and their attachments, if asked) to `output`
    /// as a bundle signed by `bundler`.
    pub fn export(
        &mut self,
        output: impl Write,
        query: &ExportQuery,
        bundler: &AuthorSecret,
    ) -> Result<ExportReport, StoreError> {
        let tx = self.db.transaction()?; // a read snapshot; never committed
        let mut filter = String::from(" WHERE 1");
        if !query.include_held_back {
            filter.push_str(" AND rowid NOT IN (SELECT record FROM held_back)");
        }
        let mut args: Vec<Value> = Vec::new();
        if let Some(kind) = query.kind {
            filter.push_str(" AND kind = ?");
            args.push(Value::Integer(kind.code().into()));
        }
        if let Some(since) = query.since_ms {
            filter.push_str(" AND created_ms >= ?");
            args.push(Value::Integer(since));
        }

        let mut items: Vec<ItemRef> = Vec::new();
        let mut stmt = tx.prepare(&format!(
            "SELECT id, length(bytes) FROM records{filter} ORDER BY rowid"
        ))?;
        for row in stmt.query_map(params_from_iter(args.iter()), |row| {
            Ok((row.get::<_, [u8; 32]>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (hash, size) = row?;
            items.push(ItemRef {
                kind: ItemKind::Record,
                hash,
                size: size as u64,
            });
        }
        drop(stmt);
        let records = items.len();

        let mut blobs_missing = 0;
        if query.with_attachments {
            let mut stmt = tx.prepare(&format!(
                "SELECT DISTINCT a.blob, b.size FROM attachments a
                 LEFT JOIN blobs b ON b.hash = a.blob
                 WHERE a.record IN (SELECT rowid FROM records{filter}) ORDER BY a.blob"
            ))?;
            for row in stmt.query_map(params_from_iter(args.iter()), |row| {
                Ok((row.get::<_, [u8; 32]>(0)?, row.get::<_, Option<i64>>(1)?))
            })? {
                match row? {
                    (hash, Some(size)) if self.blobs.exists(&BlobHash(hash)) => {
                        items.push(ItemRef {
                            kind: ItemKind::Blob,
                            hash,
                            size: size as u64,
                        });
                    }
                    _ => blobs_missing += 1,
                }
            }
        }
        let blobs = items.len() - records;

        let manifest = Manifest {
            bundler: bundler.public(),
            created_ms: now_ms(),
            collection: query.collection.clone(),
            items,
        };
        let payload_bytes = manifest.payload_bytes();
        let item_list = manifest.items.clone();
        let mut writer = BundleWriter::new(output, manifest, bundler)?;
        let bundle = writer.id();
        let mut bytes_of = tx.prepare_cached("SELECT bytes FROM records WHERE id = ?1")?;
        for item in &item_list {
            match item.kind {
                ItemKind::Record => {
                    let bytes: Vec<u8> = bytes_of.query_row([&item.hash], |row| row.get(0))?;
                    writer
                        .write_record(&bytes)
                        .map_err(|e| corrupt_or(e, "record", &item.hash))?;
                }
                ItemKind::Blob => {
                    let Some(blob) = self.blobs.open_blob(&BlobHash(item.hash))? else {
                        return Err(StoreError::Corrupt(format!(
                            "attachment {} vanished during the export",
                            data_encoding::HEXLOWER.encode(&item.hash)
                        )));
                    };
                    writer
                        .write_blob(std::io::BufReader::with_capacity(1 << 20, blob))
                        .map_err(|e| corrupt_or(e, "blob", &item.hash))?;
                }
            }
        }
        writer.finish()?;
        Ok(ExportReport {
            bundle,
            records,
            blobs,
            blobs_missing,
            payload_bytes,
        })
    }
}

/// A mismatch between the store's index and its bytes is corruption of the store, and
/// must be reported as such rather than as a bundle-format problem.
fn corrupt_or(error: qoima_core::bundle::WriteError, what: &str, hash: &[u8; 32]) -> StoreError {
    match error {
        qoima_core::bundle::WriteError::ItemMismatch { reason, .. } => StoreError::Corrupt(
            format!("{what} {}: {reason}", data_encoding::HEXLOWER.encode(hash)),
        ),
        // Reading an encrypted attachment that fails authentication.
        qoima_core::bundle::WriteError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::Tampered(format!(
                "{what} {}: {e}",
                data_encoding::HEXLOWER.encode(hash)
            ))
        }
        other => other.into(),
    }
}

/// A key used for one bundle and then forgotten. Records carry their authors' own
/// signatures, so the bundle's signature only has to hold the file together; signed by
/// the author key it would name the courier to every checkpoint and receiver.
pub fn throwaway_bundler() -> Result<AuthorSecret, StoreError> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut seed[..]).map_err(|e| {
        StoreError::from(std::io::Error::other(format!(
            "the operating system's random source failed: {e}"
        )))
    })?;
    Ok(AuthorSecret::from_seed(&seed))
}

/// Why a bundle cannot be sealed to a recipient named by the owner.
#[derive(Debug, thiserror::Error)]
pub enum SealToError {
    /// The archive could not be read, or the name is no key known here.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key says it is compromised.
    #[error("{0} is revoked (its holder says it is compromised): do not seal to it")]
    Revoked(Fingerprint),
    /// The owner has not trusted the key (directly or by endorsement).
    #[error(
        "you do not trust {0} yet: compare its fingerprint with its holder in person, then `qoima trust add {0} --name NAME`"
    )]
    NotTrusted(Fingerprint),
    /// No key for sealed records from that key has reached this archive.
    #[error(
        "no key for sealed records from {0} is here yet: its holder publishes one with `qoima key sealing`, and it reaches this archive like any record"
    )]
    NoSealingKey(Fingerprint),
}

impl Store {
    /// The keys for sealed records of the recipients `named` (keys, fingerprints or
    /// trusted names), each published by its holder in a record that has reached this
    /// archive. Sealing hands a witness's name to whoever holds the key: only to keys the
    /// owner believes, and never to one that says it is compromised.
    pub fn sealing_keys_for(&self, named: &[String]) -> Result<Vec<SealingKey>, SealToError> {
        let mut keys = Vec::with_capacity(named.len());
        for name in named {
            let recipient = self.resolve_author(name)?;
            match self.author_trust(&recipient)? {
                AuthorTrust::Revoked { .. } => {
                    return Err(SealToError::Revoked(recipient.fingerprint()));
                }
                AuthorTrust::Unknown => {
                    return Err(SealToError::NotTrusted(recipient.fingerprint()));
                }
                _ => {}
            }
            let Some(key) = self.sealing_key_of(&recipient)? else {
                return Err(SealToError::NoSealingKey(recipient.fingerprint()));
            };
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}
