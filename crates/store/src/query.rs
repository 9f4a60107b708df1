//! Reading the archive: listing, full-text search, single records and their provenance.

use qoima_core::{AuthorKey, BundleId, RecordId, RecordKind, VerifiedRecord};
use rusqlite::{Row, params_from_iter, types::Value};
use serde::Serialize;

use crate::search_query::{Matching, fts_query};
use crate::{Store, StoreError};

/// Which records to list: newest (by claimed creation time) first, or, when words or a
/// place are searched for, newest stored first (the order of the full-text index).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only this kind.
    pub kind: Option<RecordKind>,
    /// Only by this author.
    pub author: Option<AuthorKey>,
    /// Only created (as claimed) at or after this instant, ms since the epoch.
    pub since_ms: Option<i64>,
    /// Only records with every word of this in their title, text, tags or place, as
    /// [`Store::search`] reads it.
    pub words: Option<String>,
    /// Only records whose place's name has every word of this, in any of its forms
    /// ("Алмате" finds "Алматы").
    pub place: Option<String>,
    /// At most this many.
    pub limit: usize,
}

impl ListQuery {
    /// The conditions on the `records` row `r`, as SQL after `WHERE 1` and its arguments.
    fn row_filters(&self) -> (String, Vec<Value>) {
        let mut sql = String::new();
        let mut args = Vec::new();
        if let Some(kind) = self.kind {
            sql.push_str(" AND r.kind = ?");
            args.push(Value::Integer(kind.code().into()));
        }
        if let Some(author) = self.author {
            sql.push_str(" AND r.author = ?");
            args.push(Value::Blob(author.as_bytes().to_vec()));
        }
        if let Some(since) = self.since_ms {
            sql.push_str(" AND r.created_ms >= ?");
            args.push(Value::Integer(since));
        }
        (sql, args)
    }

    /// Whether the full-text index is needed.
    fn searches(&self) -> bool {
        self.words.is_some() || self.place.is_some()
    }
}

/// One line of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSummary {
    /// Record id.
    pub id: RecordId,
    /// Kind.
    pub kind: RecordKind,
    /// Author key.
    pub author: AuthorKey,
    /// Author's sequence number.
    pub seq: u64,
    /// Claimed creation time, ms since the epoch.
    pub created_ms: i64,
    /// Title.
    pub title: String,
    /// When this archive first stored it, ms since the epoch.
    pub stored_ms: i64,
}

/// A record read back from the archive, re-verified, with its provenance.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// The record.
    pub record: VerifiedRecord,
    /// How it reached this node, oldest first.
    pub provenance: Vec<ProvenanceEntry>,
    /// When this node first stored it, ms since the epoch.
    pub stored_ms: i64,
}

/// One route by which a record reached this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvenanceEntry {
    /// `local`, `file` or `peer`.
    pub source: String,
    /// The bundle it came in, if any.
    pub bundle: Option<BundleId>,
    /// File name or peer id.
    pub origin: String,
    /// When it arrived, ms since the epoch.
    pub received_ms: i64,
}

const SUMMARY_COLUMNS: &str = "r.id, r.kind, r.author, r.seq, r.created_ms, r.title, r.stored_ms";

fn summary(row: &Row<'_>) -> rusqlite::Result<RecordSummary> {
    let kind: u8 = row.get(1)?;
    Ok(RecordSummary {
        id: RecordId(row.get(0)?),
        kind: RecordKind::from_code(kind).unwrap_or(RecordKind::Testimony),
        author: AuthorKey(row.get(2)?),
        seq: row.get::<_, i64>(3)? as u64,
        created_ms: row.get(4)?,
        title: row.get(5)?,
        stored_ms: row.get(6)?,
    })
}

impl Store {
    /// Records matching `query`: newest first by claimed creation time, or, when it
    /// searches words or a place, newest stored first (see [`Store::search`]).
    pub fn list(&self, query: &ListQuery) -> Result<Vec<RecordSummary>, StoreError> {
        if query.searches() {
            return self.search_listing(query, Matching::WordForms);
        }
        let (filters, mut args) = query.row_filters();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM records r WHERE 1{filters}
             ORDER BY r.created_ms DESC, r.rowid DESC LIMIT ?"
        );
        args.push(Value::Integer(query.limit as i64));
        let mut stmt = self.db.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records whose title, text, tags or place contain every word of `text`, newest
    /// stored first. A word matches its other forms ("задержан" finds "задержали",
    /// "Жаңаөзен" finds "Жаңаөзенде"; `stemming.rs`) and the words it begins, ignoring
    /// case and, for Cyrillic and Latin, diacritics; words in double quotes match only as
    /// written, one after the other ("exact phrase"). [`Store::list`] searches with
    /// filters by kind, author, time and place.
    ///
    /// Records stored but not yet indexed are indexed first (see `search.rs`), so the
    /// results cover every record stored before the search began.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<RecordSummary>, StoreError> {
        self.search_matching(text, limit, Matching::WordForms)
    }

    /// [`Store::search`], with words matched as `matching` says: for comparing search
    /// with and without word forms.
    pub fn search_matching(
        &self,
        text: &str,
        limit: usize,
        matching: Matching,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        let query = ListQuery {
            words: Some(text.to_owned()),
            limit,
            ..ListQuery::default()
        };
        self.search_listing(&query, matching)
    }

    /// [`Store::list`] for a query with words or a place, through the full-text index;
    /// the other filters are conditions on the rows it yields, newest stored first.
    fn search_listing(
        &self,
        query: &ListQuery,
        matching: Matching,
    ) -> Result<Vec<RecordSummary>, StoreError> {
        let words = query.words.as_deref().unwrap_or("");
        let place = query.place.as_deref().unwrap_or("");
        let Some(fts_query) = fts_query(words, place, matching) else {
            return Ok(Vec::new());
        };
        self.index_pending_if_free()?;
        // One read snapshot for the pending check, the temporary index and the query, so
        // no record is missed or found twice while another process indexes.
        let snapshot = self.db.unchecked_transaction()?;
        let (filters, filter_args) = query.row_filters();
        let overlaid = crate::search::cover_pending(&snapshot)?;
        let sql = if overlaid {
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM records r WHERE r.rowid IN (
                     SELECT rowid FROM records_fts WHERE records_fts MATCH ?
                     UNION SELECT rowid FROM temp.search_overlay WHERE search_overlay MATCH ?){filters}
                 ORDER BY r.rowid DESC LIMIT ?"
            )
        } else {
            // The index yields its matches newest first, and the row conditions are
            // checked as they come: the limit ends the walk early.
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM records_fts f JOIN records r ON r.rowid = f.rowid
                 WHERE records_fts MATCH ?{filters} ORDER BY f.rowid DESC LIMIT ?"
            )
        };
        let mut args = vec![Value::Text(fts_query.clone())];
        if overlaid {
            args.push(Value::Text(fts_query));
        }
        args.extend(filter_args);
        args.push(Value::Integer(query.limit as i64));
        let found = snapshot
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), summary)?
            .collect::<Result<_, _>>()?;
        // Nothing was written but the temporary index, which this discards.
        snapshot.rollback()?;
        Ok(found)
    }

    /// The record with this id or unique id prefix (at least 4 hex characters).
    pub fn resolve(&self, id_or_prefix: &str) -> Result<RecordId, StoreError> {
        let prefix = id_or_prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "{id_or_prefix:?} is not a record id (give at least 4 of its hexadecimal characters)"
            )));
        }
        // Ids are blobs: compare the hex form's prefix via a range on the raw bytes.
        let even = &prefix[..prefix.len() & !1];
        let low = data_encoding::HEXLOWER
            .decode(even.as_bytes())
            .expect("hex checked above");
        let mut stmt = self
            .db
            .prepare_cached("SELECT id FROM records WHERE id >= ?1 ORDER BY id LIMIT 4096")?;
        let mut matches = Vec::new();
        for id in stmt.query_map([&low], |row| row.get::<_, [u8; 32]>(0))? {
            let id = RecordId(id?);
            if !id.to_hex().starts_with(even) {
                break;
            }
            if id.to_hex().starts_with(&prefix) {
                matches.push(id);
            }
        }
        match matches.as_slice() {
            [] => Err(StoreError::NotFound(id_or_prefix.to_owned())),
            [one] => Ok(*one),
            _ => Err(StoreError::Ambiguous(id_or_prefix.to_owned())),
        }
    }

    /// The record `id`, verified again (so disk corruption is reported, not shown), with
    /// its provenance.
    pub fn get(&self, id: &RecordId) -> Result<StoredRecord, StoreError> {
        let (rowid, bytes, stored_ms): (i64, Vec<u8>, i64) = self
            .db
            .prepare_cached("SELECT rowid, bytes, stored_ms FROM records WHERE id = ?1")?
            .query_row([id.as_bytes()], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(id.to_hex()),
                e => e.into(),
            })?;
        let record = VerifiedRecord::from_bytes(bytes)
            .map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?;
        if record.id() != *id {
            return Err(StoreError::Corrupt(format!(
                "record {id}: bytes hash to {}",
                record.id()
            )));
        }
        let mut stmt = self.db.prepare_cached(
            "SELECT source, bundle, origin, received_ms FROM provenance WHERE record = ?1 ORDER BY received_ms",
        )?;
        let provenance = stmt
            .query_map([rowid], |row| {
                let bundle: Vec<u8> = row.get(1)?;
                Ok(ProvenanceEntry {
                    source: row.get(0)?,
                    bundle: <[u8; 32]>::try_from(bundle.as_slice()).ok().map(BundleId),
                    origin: row.get(2)?,
                    received_ms: row.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(StoredRecord {
            record,
            provenance,
            stored_ms,
        })
    }
}
