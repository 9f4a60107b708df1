//! The full-text index, filled outside the transactions that store records.
//!
//! Tokenising with `unicode61 remove_diacritics 2` is about half of what the writer of
//! an import does per record, and the import is one transaction written by one thread.
//! So storing a record only notes its rowid in `search_pending`, in the transaction that
//! stores it, and [`Store::index_pending_search`] moves pending records into
//! `records_fts` later, in bounded transactions of its own that also delete what they
//! indexed. Every stored record is therefore either in `records_fts` or in
//! `search_pending`, never both, whenever a crash may strike; deleting a record deletes
//! it from whichever holds it.
//!
//! Each record is indexed twice over: its words as written (columns `title`, `text`,
//! `tags`, `place`), which prefix and exact-phrase searches read, and the stems of those
//! words (column `stems`, see `stemming.rs`), which let a word find its other forms, and
//! the stems of the place's name alone (`place_stems`), for the filter by place. One
//! table rather than two: a search reads one index, a record is added or deleted once,
//! and the invariant below stays about one table.
//!
//! A search first indexes what is pending, so its results do not lag behind the archive.
//! When it cannot take the write lock at once (another process, typically the node, is
//! writing) it does not wait: it indexes the pending records into a temporary in-memory
//! index of this connection and searches both, in one read snapshot.
//!
//! Either way a search indexes at most [`SEARCH_OWN_INDEXING_MAX`] records for good
//! and as many again into its temporary index: after an upgrade that remade the index (every record queued), indexing a
//! million records takes minutes, and a search must not hang for them (nor redo them
//! all in its temporary index each time while the node holds the lock). Records beyond
//! that are found once indexed, by the node (which works through the queue in the
//! background) or by `qoima search` (which indexes everything first, with a progress
//! bar); [`Store::search_pending_count`] says how many are not searchable yet, and the
//! interface says so beside the results.

use qoima_core::limits::RECORD_BYTES_MAX;
use qoima_core::{RecordBody, encoding::decode_canonical};
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior, params};

use crate::stemming::WordForms;
use crate::{Store, StoreError, schema};

/// Records indexed per transaction: a crash loses at most this much indexing work, and
/// another process waiting for the write lock waits for at most this many records.
pub const SEARCH_INDEX_BATCH: usize = 10_000;

/// Pending records a search indexes itself, at most (see the module's documentation):
/// a few seconds of work on an old laptop.
pub const SEARCH_OWN_INDEXING_MAX: usize = 2 * SEARCH_INDEX_BATCH;

/// Length of the Ed25519 signature after a record's body (FORMAT.md, "Signatures").
const SIGNATURE_LEN: usize = 64;

/// Where the text of pending records is written.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The archive's own index, `records_fts`.
    Archive,
    /// This connection's temporary index of records still pending, for a search that
    /// could not take the write lock.
    Overlay,
}

impl Target {
    fn insert_sql(self) -> &'static str {
        match self {
            Target::Archive => {
                "INSERT INTO records_fts (rowid, title, text, tags, place, stems, place_stems) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            }
            Target::Overlay => {
                "INSERT INTO temp.search_overlay (rowid, title, text, tags, place, stems, place_stems) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            }
        }
    }
}

/// The temporary index: the columns and tokenizer of `records_fts` (schema version 13),
/// so it matches exactly what the archive's index would. Contentless, like that one.
const CREATE_OVERLAY: &str = "
DROP TABLE IF EXISTS temp.search_overlay;
CREATE VIRTUAL TABLE temp.search_overlay USING fts5(
    title, text, tags, place, stems, place_stems,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
";

/// Notes that the record just stored at `rowid` is to be indexed; inside the
/// transaction that stores it.
pub(crate) fn enqueue(tx: &Transaction<'_>, rowid: i64) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO search_pending (record) VALUES (?1)")?
        .execute([rowid])?;
    Ok(())
}

/// Removes the record at `rowid` from the full-text index or from the queue, whichever
/// holds it; inside the transaction that deletes the record.
pub(crate) fn forget(tx: &Transaction<'_>, rowid: i64) -> Result<(), StoreError> {
    let was_pending = tx
        .prepare_cached("DELETE FROM search_pending WHERE record = ?1")?
        .execute([rowid])?;
    if was_pending == 0 {
        tx.prepare_cached("DELETE FROM records_fts WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    Ok(())
}

impl Store {
    /// Indexes up to `limit` records that were stored but not yet made searchable, in
    /// transactions of at most [`SEARCH_INDEX_BATCH`] records, each of which also
    /// removes what it indexed from the queue (a crash leaves every record either
    /// indexed or still queued, never both). Returns how many were taken off the queue;
    /// fewer than `limit` means none is left.
    ///
    /// Searches do this themselves first; call it when the archive is idle so that the
    /// first search after a large import answers at once.
    pub fn index_pending_search(&self, limit: usize) -> Result<usize, StoreError> {
        let mut indexed = 0;
        while indexed < limit {
            let batch = (limit - indexed).min(SEARCH_INDEX_BATCH);
            // `&self`, like every read: the connection is this store's alone, and the
            // transaction ends before this function returns.
            let tx = Transaction::new_unchecked(&self.db, TransactionBehavior::Immediate)?;
            let done = index_batch(&tx, batch)?;
            tx.commit()?;
            indexed += done;
            if done < batch {
                break;
            }
        }
        Ok(indexed)
    }

    /// Records stored but not yet in the full-text index.
    pub fn search_pending_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .db
            .query_row("SELECT count(*) FROM search_pending", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Records a search begun now would miss: those pending beyond what it indexes or
    /// covers itself (see the module's documentation). 0 but after an upgrade that
    /// remade the index or a very large import, until the node has caught up.
    pub fn search_would_miss(&self) -> Result<u64, StoreError> {
        Ok(self
            .search_pending_count()?
            .saturating_sub(SEARCH_OWN_INDEXING_MAX as u64))
    }

    /// Indexes what is pending, up to [`SEARCH_OWN_INDEXING_MAX`] records, unless another
    /// connection holds the write lock or
    /// the database cannot be written here: then what is pending stays so, for
    /// [`cover_pending`] to search. The lock is tried without waiting: a search never
    /// stood behind another process's import, and should not start to now.
    pub(crate) fn index_pending_if_free(&self) -> Result<(), StoreError> {
        if !has_pending(&self.db)? {
            return Ok(());
        }
        match without_waiting(&self.db, || {
            self.index_pending_search(SEARCH_OWN_INDEXING_MAX)
        }) {
            Ok(_) => Ok(()),
            Err(StoreError::Db(e)) if cannot_write_now(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Inside a search's read transaction `snapshot`: if records are still pending there,
/// indexes them (up to [`SEARCH_OWN_INDEXING_MAX`]) into this connection's temporary
/// index `temp.search_overlay` and
/// returns true, and the search must read that index too. Rolling `snapshot` back
/// discards the temporary index.
pub(crate) fn cover_pending(snapshot: &Transaction<'_>) -> Result<bool, StoreError> {
    if !has_pending(snapshot)? {
        return Ok(false);
    }
    snapshot.execute_batch(CREATE_OVERLAY)?;
    index_pending_into(snapshot, Target::Overlay, SEARCH_OWN_INDEXING_MAX)?;
    Ok(true)
}

/// Whether any record waits to be indexed.
fn has_pending(db: &Connection) -> Result<bool, StoreError> {
    Ok(db
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM search_pending)")?
        .query_row([], |r| r.get(0))?)
}

/// Indexes the first `limit` pending records into `records_fts` and removes them from
/// the queue; returns how many there were. Rows are read one at a time, so a batch of
/// large records does not sit in memory at once.
fn index_batch(tx: &Transaction<'_>, limit: usize) -> Result<usize, StoreError> {
    let Some(last) = index_pending_into(tx, Target::Archive, limit)? else {
        return Ok(0);
    };
    // Every pending rowid up to `last` was read above (in rowid order, with the write
    // lock held), including any whose record row were missing: none is left behind.
    let removed = tx
        .prepare_cached("DELETE FROM search_pending WHERE record <= ?1")?
        .execute([last])?;
    Ok(removed)
}

/// Writes the text of the first `limit` pending records (in rowid order) into `target`;
/// returns the last pending rowid read, if any.
fn index_pending_into(
    db: &Connection,
    target: Target,
    limit: usize,
) -> Result<Option<i64>, StoreError> {
    let mut pending = db.prepare_cached(
        "SELECT p.record, r.bytes, r.title FROM search_pending p
         LEFT JOIN records r ON r.rowid = p.record
         ORDER BY p.record LIMIT ?1",
    )?;
    let mut insert = db.prepare_cached(target.insert_sql())?;
    let mut rows = pending.query([i64::try_from(limit).unwrap_or(i64::MAX)])?;
    let word_forms = WordForms::default();
    let mut last = None;
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        last = Some(rowid);
        // The foreign key keeps a pending rowid's record; should one be missing anyway,
        // there is nothing to index and the queue entry simply goes.
        let Some(bytes) = row.get::<_, Option<Vec<u8>>>(1)? else {
            continue;
        };
        let title: String = row.get(2)?;
        let text = SearchText::of(&bytes, title);
        let stems =
            word_forms.stems_of_texts([text.title.as_str(), &text.text, &text.tags, &text.place]);
        let place_stems = word_forms.stems_of_texts([text.place.as_str()]);
        insert.execute(params![
            rowid,
            fold_for_search(&text.title),
            fold_for_search(&text.text),
            fold_for_search(&text.tags),
            fold_for_search(&text.place),
            stems,
            place_stems
        ])?;
    }
    Ok(last)
}

/// The fields of a record that search reads.
struct SearchText {
    title: String,
    text: String,
    tags: String,
    place: String,
}

impl SearchText {
    /// The searchable fields of stored record bytes. They were verified before they
    /// were stored (and SQLCipher authenticates every page read back), so they are only
    /// decoded here: checking the signature again would cost more than the indexing.
    /// Bytes that no longer decode (damage in an unencrypted benchmark archive, which
    /// `get` and `bundle_of` report) leave the title the record's row keeps, so the
    /// record is still found by what listings show of it and leaves the queue.
    fn of(bytes: &[u8], title: String) -> SearchText {
        let body = bytes
            .len()
            .checked_sub(SIGNATURE_LEN)
            .and_then(|len| decode_canonical::<RecordBody>(&bytes[..len], RECORD_BYTES_MAX).ok());
        match body {
            Some(body) => SearchText {
                tags: body.tags.join(" "),
                place: body.place.map(|p| p.name).unwrap_or_default(),
                title: body.title,
                text: body.text,
            },
            None => SearchText {
                title,
                text: String::new(),
                tags: String::new(),
                place: String::new(),
            },
        }
    }
}

/// Runs `f` with the busy timeout off, so a lock held elsewhere fails at once
/// (`SQLITE_BUSY`) instead of being waited for; the usual timeout is restored after.
fn without_waiting<T>(
    db: &Connection,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    db.busy_timeout(std::time::Duration::ZERO)?;
    let result = f();
    db.busy_timeout(schema::BUSY_TIMEOUT)?;
    result
}

/// Errors that mean "not now, not by this connection" rather than a failure: another
/// connection holds the write lock, or the database is read-only here.
fn cannot_write_now(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::ReadOnly)
    )
}

/// What SQLite's tokenizer does not fold but readers expect to match: Russian 'ё' is
/// written as 'е' more often than not. Applied to indexed text and to queries alike.
pub(crate) fn fold_for_search(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['ё', 'Ё']) {
        text.replace(['ё', 'Ё'], "е").into()
    } else {
        text.into()
    }
}
