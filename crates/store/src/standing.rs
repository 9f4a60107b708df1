//! What records about records and keys change here: retractions delete their author's
//! record (keeping a tombstone), revocations make later records of a key suspect, and
//! endorsements are indexed for the trust computation.
//!
//! All of it runs inside the transaction that stores the record, so a crash leaves
//! either the record and its effects or neither. Files (attachments nobody references
//! any more) are only named in `doomed_blobs` here and removed after the commit by
//! [`Store::remove_doomed_blobs`], also at every open, so no crash leaves a file that a
//! committed retraction meant to delete.
//!
//! Validity never depends on any of this: a retraction by another key, or signed by a
//! key revoked before it, is stored and carried like any record; it just changes nothing.

use qoima_core::{AuthorKey, BlobHash, Details, LinkKind, RecordId, RecordKind, VerifiedRecord};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::{Store, StoreError};

/// Applies what a newly stored record means (its rowid is `rowid`, first seen `now`).
/// Returns whether the record is still stored: a retraction that arrived before it
/// deletes it at once.
pub(crate) fn on_stored(
    tx: &Transaction<'_>,
    rowid: i64,
    record: &VerifiedRecord,
    now: i64,
) -> Result<bool, StoreError> {
    let body = record.body();
    match &body.details {
        Details::KeyEndorsement { key, name, .. } => {
            tx.prepare_cached(
                "INSERT INTO endorsements (record, endorser, endorsed, name) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![rowid, body.author.as_bytes(), key.as_bytes(), name])?;
        }
        Details::KeyRevocation { since_ms, .. } => {
            // A revocation made in advance counts from when this node first sees it; one
            // reaching further back than REVOCATION_REACH_MS counts from there, so that
            // whoever holds a seized key cannot cast doubt on its owner's whole history.
            let since = since_ms
                .unwrap_or(now)
                .clamp(now - REVOCATION_REACH_MS, now);
            tx.prepare_cached(
                "INSERT INTO revocations (record, key, since_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![rowid, body.author.as_bytes(), since])?;
            undo_suspect_retractions(tx, &body.author, since)?;
        }
        _ => {}
    }
    if body.kind == RecordKind::Retraction {
        let retraction = Retraction {
            id: record.id(),
            author: body.author,
            first_seen_ms: now,
        };
        for link in body.links.iter().filter(|l| l.kind == LinkKind::Retracts) {
            retract(tx, &link.target, &retraction, now)?;
        }
    }
    // Retractions that arrived before the record they retract.
    let pending: Vec<Retraction> = tx
        .prepare_cached(
            "SELECT p.retraction, r.stored_ms FROM pending_retractions p
             JOIN records r ON r.id = p.retraction
             WHERE p.target = ?1 AND p.author = ?2",
        )?
        .query_map(
            params![record.id().as_bytes(), body.author.as_bytes()],
            |r| {
                Ok(Retraction {
                    id: RecordId(r.get(0)?),
                    author: body.author,
                    first_seen_ms: r.get(1)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let mut stored = true;
    for retraction in pending {
        stored &= !retract(tx, &record.id(), &retraction, now)?;
    }
    Ok(stored)
}

/// Applies the retractions an archive already held before it knew what they mean (kind
/// `Retraction` existed in format version 1), once, when the schema is brought to 9.
pub(crate) fn apply_stored_retractions(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let stored: Vec<(i64, Vec<u8>, i64)> = tx
        .prepare("SELECT rowid, bytes, stored_ms FROM records WHERE kind = ?1")?
        .query_map([RecordKind::Retraction.code()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    for (rowid, bytes, stored_ms) in stored {
        // A record that no longer verifies is left to the quarantine.
        if let Ok(record) = VerifiedRecord::from_bytes(bytes) {
            on_stored(tx, rowid, &record, stored_ms)?;
        }
    }
    Ok(())
}

/// How far back a revocation's time may reach from when a node first sees it.
pub const REVOCATION_REACH_MS: i64 = 30 * 24 * 3600 * 1000;

/// A revocation of `key` from `since` arrived: retractions by that key first seen here at
/// or after `since` should have deleted nothing. Their tombstones go (the records can be
/// fetched again from peers that kept them) and so do their pending entries.
fn undo_suspect_retractions(
    tx: &Transaction<'_>,
    key: &AuthorKey,
    since: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "DELETE FROM tombstones WHERE retraction IN
         (SELECT id FROM records WHERE author = ?1 AND stored_ms >= ?2)",
    )?
    .execute(params![key.as_bytes(), since])?;
    tx.prepare_cached(
        "DELETE FROM pending_retractions WHERE author = ?1 AND retraction IN
         (SELECT id FROM records WHERE author = ?1 AND stored_ms >= ?2)",
    )?
    .execute(params![key.as_bytes(), since])?;
    Ok(())
}

/// Whether `id` was retracted by its author here: such a record is never stored again.
pub(crate) fn is_tombstoned(db: &rusqlite::Connection, id: &RecordId) -> Result<bool, StoreError> {
    Ok(db
        .prepare_cached("SELECT 1 FROM tombstones WHERE id = ?1")?
        .exists([id.as_bytes()])?)
}

/// Whether a record by `key` claiming `created_ms` and first seen here at
/// `first_seen_ms` comes after a revocation of that key: both times at or after the
/// revocation's. Records seen before keep their standing whatever they claim.
pub(crate) fn is_suspect(
    db: &rusqlite::Connection,
    key: &AuthorKey,
    created_ms: i64,
    first_seen_ms: i64,
) -> Result<bool, StoreError> {
    Ok(db
        .prepare_cached(
            "SELECT 1 FROM revocations WHERE key = ?1 AND since_ms <= ?2 AND since_ms <= ?3",
        )?
        .exists(params![key.as_bytes(), created_ms, first_seen_ms])?)
}

/// Whether a record by `key` first seen here at `first_seen_ms` may no longer *act*: a
/// retraction that would delete, an endorsement that would vouch, a key to seal to.
/// Stricter than [`is_suspect`]: whatever time it claims (a seized key can backdate), a
/// record first seen at or after the revocation's time changes nothing.
pub(crate) fn acts_after_revocation(
    db: &rusqlite::Connection,
    key: &AuthorKey,
    first_seen_ms: i64,
) -> Result<bool, StoreError> {
    Ok(db
        .prepare_cached("SELECT 1 FROM revocations WHERE key = ?1 AND since_ms <= ?2")?
        .exists(params![key.as_bytes(), first_seen_ms])?)
}

/// The earliest time `key` is revoked from, if it is.
pub(crate) fn revoked_since(
    db: &rusqlite::Connection,
    key: &AuthorKey,
) -> Result<Option<i64>, StoreError> {
    Ok(db
        .prepare_cached("SELECT min(since_ms) FROM revocations WHERE key = ?1")?
        .query_row([key.as_bytes()], |r| r.get(0))?)
}

struct Retraction {
    id: RecordId,
    author: AuthorKey,
    first_seen_ms: i64,
}

/// Applies `retraction` to `target`; whether it deleted it.
fn retract(
    tx: &Transaction<'_>,
    target: &RecordId,
    retraction: &Retraction,
    now: i64,
) -> Result<bool, StoreError> {
    if acts_after_revocation(tx, &retraction.author, retraction.first_seen_ms)? {
        return Ok(false);
    }
    let held = tx
        .prepare_cached("SELECT rowid, author, kind, created_ms FROM records WHERE id = ?1")?
        .query_row([target.as_bytes()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                AuthorKey(r.get(1)?),
                r.get::<_, u8>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .optional()?;
    match held {
        // A revocation is never withdrawn: a seized key must not be able to undo it.
        Some((rowid, author, kind, created_ms))
            if author == retraction.author && kind != RecordKind::KeyRevocation.code() =>
        {
            // A record never offered to peers (held back) is not offered as a tombstone
            // either: its id would tell them it existed.
            let offered = !tx
                .prepare_cached("SELECT 1 FROM held_back WHERE record = ?1")?
                .exists([rowid])?;
            // ON CONFLICT, not OR IGNORE: that would also swallow a broken constraint.
            tx.prepare_cached(
                "INSERT INTO tombstones (id, created_ms, retraction, retracted_ms, offered)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                target.as_bytes(),
                created_ms,
                retraction.id.as_bytes(),
                now,
                offered
            ])?;
            tx.prepare_cached("DELETE FROM pending_retractions WHERE target = ?1")?
                .execute([target.as_bytes()])?;
            delete_record(tx, rowid)?;
            return Ok(true);
        }
        Some(_) => {}
        None if is_tombstoned(tx, target)? => {}
        None => {
            tx.prepare_cached(
                "INSERT INTO pending_retractions (target, author, retraction)
                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                target.as_bytes(),
                retraction.author.as_bytes(),
                retraction.id.as_bytes()
            ])?;
        }
    }
    Ok(false)
}

/// Removes the record at `rowid` and everything that hangs off it; attachments no other
/// record references are doomed (their rows go now, their files after the commit).
pub(crate) fn delete_record(tx: &Transaction<'_>, rowid: i64) -> Result<(), StoreError> {
    let orphans: Vec<Vec<u8>> = tx
        .prepare_cached(
            "SELECT blob FROM attachments a WHERE record = ?1
             AND NOT EXISTS (SELECT 1 FROM attachments o WHERE o.blob = a.blob AND o.record != ?1)",
        )?
        .query_map([rowid], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for blob in &orphans {
        tx.prepare_cached("INSERT INTO doomed_blobs (hash) VALUES (?1) ON CONFLICT DO NOTHING")?
            .execute([blob])?;
        tx.prepare_cached("DELETE FROM blobs WHERE hash = ?1")?
            .execute([blob])?;
        tx.prepare_cached("DELETE FROM partial_blobs WHERE hash = ?1")?
            .execute([blob])?;
    }
    for sql in [
        "DELETE FROM held_back WHERE record = ?1",
        "DELETE FROM provenance WHERE record = ?1",
        "DELETE FROM attachments WHERE record = ?1",
        "DELETE FROM endorsements WHERE record = ?1",
        "DELETE FROM revocations WHERE record = ?1",
        "DELETE FROM pending_retractions WHERE retraction = (SELECT id FROM records WHERE rowid = ?1)",
        "DELETE FROM pending_retractions WHERE target = (SELECT id FROM records WHERE rowid = ?1)",
    ] {
        tx.prepare_cached(sql)?.execute([rowid])?;
    }
    crate::search::forget(tx, rowid)?;
    tx.prepare_cached("DELETE FROM records WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

impl Store {
    /// Removes the files of attachments that retractions deleted (committed already).
    pub(crate) fn remove_doomed_blobs(&self) -> Result<(), StoreError> {
        let doomed: Vec<BlobHash> = self
            .db
            .prepare("SELECT hash FROM doomed_blobs")?
            .query_map([], |r| Ok(BlobHash(r.get(0)?)))?
            .collect::<Result<_, _>>()?;
        for hash in doomed {
            // The same attachment may have come back with another record meanwhile.
            let wanted: bool = self.db.query_row(
                "SELECT EXISTS (SELECT 1 FROM blobs WHERE hash = ?1)",
                [hash.as_bytes()],
                |r| r.get(0),
            )?;
            if !wanted {
                self.blobs.remove(&hash)?;
            }
            self.db.execute(
                "DELETE FROM doomed_blobs WHERE hash = ?1",
                [hash.as_bytes()],
            )?;
        }
        Ok(())
    }

    /// Whether `id` was retracted by its author and is kept here only as a tombstone.
    pub fn is_retracted(&self, id: &RecordId) -> Result<bool, StoreError> {
        is_tombstoned(&self.db, id)
    }

    /// Whether a record by `key`, claiming `created_ms` and first seen here at
    /// `first_seen_ms`, comes after a revocation of its key (see `is_suspect`).
    pub fn is_suspect(
        &self,
        key: &AuthorKey,
        created_ms: i64,
        first_seen_ms: i64,
    ) -> Result<bool, StoreError> {
        is_suspect(&self.db, key, created_ms, first_seen_ms)
    }
}
