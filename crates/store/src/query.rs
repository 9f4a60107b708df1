//! Reading the archive: listing, full-text search, single records and their provenance.

use qoima_core::{AuthorKey, BundleId, RecordId, RecordKind, VerifiedRecord};
use rusqlite::{Row, params_from_iter, types::Value};
use serde::Serialize;

use crate::{Store, StoreError};

/// Which records to list, newest (by claimed creation time) first.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only this kind.
    pub kind: Option<RecordKind>,
    /// Only by this author.
    pub author: Option<AuthorKey>,
    /// Only created (as claimed) at or after this instant, ms since the epoch.
    pub since_ms: Option<i64>,
    /// At most this many.
    pub limit: usize,
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
    /// Records matching `query`, newest first.
    pub fn list(&self, query: &ListQuery) -> Result<Vec<RecordSummary>, StoreError> {
        let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM records r WHERE 1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(kind) = query.kind {
            sql.push_str(" AND r.kind = ?");
            args.push(Value::Integer(kind.code().into()));
        }
        if let Some(author) = query.author {
            sql.push_str(" AND r.author = ?");
            args.push(Value::Blob(author.as_bytes().to_vec()));
        }
        if let Some(since) = query.since_ms {
            sql.push_str(" AND r.created_ms >= ?");
            args.push(Value::Integer(since));
        }
        sql.push_str(" ORDER BY r.created_ms DESC, r.rowid DESC LIMIT ?");
        args.push(Value::Integer(query.limit as i64));
        let mut stmt = self.db.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records whose title, text, tags or place contain every word of `text`, newest
    /// first. A word matches its other forms ("задержан" finds "задержали", "Жаңаөзен"
    /// finds "Жаңаөзенде"; `stemming.rs`) and the words it begins, ignoring case and,
    /// for Cyrillic and Latin, diacritics; words in double quotes match only as written,
    /// one after the other ("exact phrase").
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
        let Some(fts_query) = fts_query(text, matching) else {
            return Ok(Vec::new());
        };
        self.index_pending_if_free()?;
        // One read snapshot for the pending check, the temporary index and the query, so
        // no record is missed or found twice while another process indexes.
        let snapshot = self.db.unchecked_transaction()?;
        let sql = if crate::search::cover_pending(&snapshot)? {
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM records r WHERE r.rowid IN (
                     SELECT rowid FROM records_fts WHERE records_fts MATCH ?1
                     UNION SELECT rowid FROM temp.search_overlay WHERE search_overlay MATCH ?1)
                 ORDER BY r.rowid DESC LIMIT ?2"
            )
        } else {
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM records_fts f JOIN records r ON r.rowid = f.rowid
                 WHERE records_fts MATCH ?1 ORDER BY f.rowid DESC LIMIT ?2"
            )
        };
        let found = snapshot
            .prepare_cached(&sql)?
            .query_map(rusqlite::params![fts_query, limit as i64], summary)?
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

/// How the words of a search match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    /// A word matches its other forms (the same stem) and the words it begins.
    #[default]
    WordForms,
    /// A word matches only the words it begins, as written (search before word forms).
    WordsAsTyped,
}

/// The index's columns of text as written: what phrases and [`Matching::WordsAsTyped`]
/// read, leaving out the stems.
const WRITTEN_COLUMNS: &str = "{title text tags place}";

/// A piece of what a person typed.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    /// A word outside quotes (normalised: lowercase, 'ё' as 'е').
    Word(String),
    /// The words between a pair of double quotes; an opening quote without its closing
    /// one runs to the end.
    Phrase(Vec<String>),
}

/// Splits typed text into words and quoted phrases. Anything but letters and digits
/// separates words, so nothing of FTS5's syntax survives into a part.
fn parse(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, piece) in text.split('"').enumerate() {
        if i % 2 == 1 {
            let words: Vec<String> = crate::stemming::words(piece).collect();
            if !words.is_empty() {
                parts.push(Part::Phrase(words));
            }
        } else {
            parts.extend(crate::stemming::words(piece).map(Part::Word));
        }
    }
    parts
}

/// Turns what a person typed into an FTS5 query: every part must match. A word matches
/// as the beginning of a word as written, or (with [`Matching::WordForms`]) by one of its
/// stems in the `stems` column; a phrase matches its words as written, in order. Each
/// word is quoted, so FTS5 syntax in the input (`AND`, `*`, column filters) is searched
/// for literally instead of being interpreted.
fn fts_query(text: &str, matching: Matching) -> Option<String> {
    let word_forms = crate::stemming::WordForms::default();
    let terms: Vec<String> = parse(text)
        .into_iter()
        .map(|part| match part {
            Part::Phrase(words) => format!("{WRITTEN_COLUMNS} : \"{}\"", words.join(" ")),
            Part::Word(word) => match matching {
                Matching::WordsAsTyped => format!("{WRITTEN_COLUMNS} : \"{word}\"*"),
                Matching::WordForms => {
                    let stems = word_forms.stems(&word);
                    if stems.is_empty() {
                        format!("\"{word}\"*")
                    } else {
                        // Stems match whole: an exact term is read lazily, a prefix term's
                        // matches are all gathered first (slow for a common stem).
                        let stems: Vec<String> =
                            stems.iter().map(|s| format!(" OR \"{s}\"")).collect();
                        format!("(\"{word}\"*{})", stems.concat())
                    }
                }
            },
        })
        .collect();
    // Explicit AND: FTS5 takes juxtaposition for AND between phrases only, not after
    // a parenthesised group.
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::{Matching, Part, fts_query, parse};

    fn words(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn typed_text_splits_into_words_and_quoted_phrases() {
        assert_eq!(
            parse("Задержан \"в Алмате\" ёлка"),
            vec![
                Part::Word("задержан".into()),
                Part::Phrase(words(&["в", "алмате"])),
                Part::Word("елка".into()),
            ]
        );
        // An opening quote without its closing one runs to the end.
        assert_eq!(
            parse("a \"b c"),
            vec![Part::Word("a".into()), Part::Phrase(words(&["b", "c"]))]
        );
        assert_eq!(parse("\"\" \" - \" x"), vec![Part::Word("x".into())]);
        assert_eq!(parse(" -- "), vec![]);
    }

    #[test]
    fn words_as_typed_become_quoted_prefix_terms_over_the_written_text() {
        assert_eq!(
            fts_query("Алматы протест", Matching::WordsAsTyped).as_deref(),
            Some(
                "{title text tags place} : \"алматы\"* AND {title text tags place} : \"протест\"*"
            )
        );
        assert_eq!(fts_query(" -- ", Matching::WordsAsTyped), None);
    }

    #[test]
    fn a_word_matches_its_beginning_or_its_stems() {
        assert_eq!(
            fts_query("Алматы", Matching::WordForms).as_deref(),
            Some("(\"алматы\"* OR \"алмат\")")
        );
        // Snowball's stem, and the stem of that stem, while it changes.
        assert_eq!(
            fts_query("задержания", Matching::WordForms).as_deref(),
            Some("(\"задержания\"* OR \"задержан\" OR \"задержа\" OR \"задерж\")")
        );
        // No stem but the word itself: the prefix alone.
        assert_eq!(
            fts_query("2022", Matching::WordForms).as_deref(),
            Some("\"2022\"*")
        );
    }

    #[test]
    fn every_part_must_match() {
        assert_eq!(
            fts_query("Алматы 2022 \"без вести\"", Matching::WordForms).as_deref(),
            Some(
                "(\"алматы\"* OR \"алмат\") AND \"2022\"* AND {title text tags place} : \"без вести\""
            )
        );
    }

    #[test]
    fn a_quoted_phrase_matches_the_written_words_in_order() {
        assert_eq!(
            fts_query("\"Задержали в Алмате\"", Matching::WordForms).as_deref(),
            Some("{title text tags place} : \"задержали в алмате\"")
        );
    }

    #[test]
    fn fts5_syntax_in_the_input_stays_inert() {
        for matching in [Matching::WordForms, Matching::WordsAsTyped] {
            let query = fts_query("a\" OR title:x* NEAR(b c) {stems}: -d ^e", matching).unwrap();
            // Every word is inside quotes; only the query's own syntax is outside.
            let outside = query.split('"').step_by(2).collect::<Vec<_>>().concat();
            let rest = outside
                .replace("{title text tags place}", "")
                .replace("OR", "")
                .replace("AND", "");
            assert!(rest.chars().all(|c| " ()*:".contains(c)), "{query}");
        }
        assert_eq!(
            fts_query("a\" OR title:x", Matching::WordsAsTyped).as_deref(),
            Some("{title text tags place} : \"a\"* AND {title text tags place} : \"or title x\"")
        );
    }
}
