//! What `qoima list --json`, `qoima show --json` and the web interface's API print: one
//! set of types, built here from the archive, so the command line and the API cannot
//! drift apart (`crates/web/API.md` documents them).

use qoima_core::{AuthorKey, BundleId, RecordBody, RecordId, RecordKind, SealedContent, format_ms};
use serde::Serialize;

use crate::{AttachmentState, AuthorTrust, JudgedRecord, Store, StoreError};

/// One record of a listing or a search (`qoima list --json`, one element).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedRecord {
    /// Record id.
    pub id: RecordId,
    /// Kind.
    pub kind: RecordKind,
    /// Author key.
    pub author: AuthorKey,
    /// The author key's fingerprint, grouped (`YJW7-2VKM-…`).
    pub author_fingerprint: String,
    /// What this archive makes of the author.
    pub author_trust: AuthorTrust,
    /// The author's sequence number.
    pub seq: u64,
    /// Claimed creation time, RFC 3339.
    pub created_at: String,
    /// Title.
    pub title: String,
    /// Signed after its key's revocation (claimed and first seen).
    pub suspect: bool,
}

/// A record in full (`qoima show --json`, `GET /api/v1/records/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    /// Record id.
    pub id: RecordId,
    /// Kind.
    pub kind: RecordKind,
    /// Author key.
    pub author: AuthorKey,
    /// The author key's fingerprint, grouped.
    pub author_fingerprint: String,
    /// The author's sequence number.
    pub seq: u64,
    /// The author's record before it.
    pub prev: Option<RecordId>,
    /// Claimed creation time, RFC 3339.
    pub created_at: String,
    /// Title.
    pub title: String,
    /// Always `valid`: a record that fails verification is never shown.
    pub signature: &'static str,
    /// The record as signed.
    pub record: RecordBody,
    /// When this archive first stored it, RFC 3339.
    pub stored_at: String,
    /// How it reached this archive, oldest first.
    pub provenance: Vec<Provenance>,
    /// Whether each attachment is here, in the record's order.
    pub attachments: Vec<AttachmentPresence>,
    /// What this archive makes of the author.
    pub author_trust: AuthorTrust,
    /// Signed after its key's revocation (claimed and first seen).
    pub suspect: bool,
    /// The sealed part, when the record has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

/// One route by which a record arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// `local`, `file` or `peer`.
    pub source: String,
    /// The bundle it came in, if any.
    pub bundle: Option<BundleId>,
    /// File name or peer id.
    pub origin: String,
    /// When it arrived, RFC 3339.
    pub received_at: String,
    /// The same, ms since the epoch, for the web pages (not in the JSON).
    #[serde(skip)]
    pub received_ms: i64,
}

/// Whether an attachment's bytes are here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AttachmentPresence {
    /// Complete and verified.
    Present,
    /// Being fetched.
    Partial {
        /// Bytes verified so far.
        have: u64,
        /// Bytes in all.
        size: u64,
    },
    /// Not here.
    Missing,
}

impl From<AttachmentState> for AttachmentPresence {
    fn from(state: AttachmentState) -> Self {
        match state {
            AttachmentState::Present => AttachmentPresence::Present,
            AttachmentState::Partial { have, size } => AttachmentPresence::Partial { have, size },
            AttachmentState::Missing => AttachmentPresence::Missing,
        }
    }
}

/// A record's sealed part, as far as this archive can read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sealed {
    /// How many keys it is sealed to.
    pub recipients: usize,
    /// Whether a key here opens it.
    pub readable: bool,
    /// What it holds, when opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<SealedContent>,
    /// Why it could not be opened although sealed to a key here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
}

impl From<JudgedRecord> for ListedRecord {
    fn from(judged: JudgedRecord) -> Self {
        let summary = judged.summary;
        ListedRecord {
            id: summary.id,
            kind: summary.kind,
            author: summary.author,
            author_fingerprint: summary.author.fingerprint().to_string(),
            author_trust: judged.trust,
            seq: summary.seq,
            created_at: format_ms(summary.created_ms),
            title: summary.title,
            suspect: judged.suspect,
        }
    }
}

impl Store {
    /// The record `id` (or a unique prefix of at least 4 hex characters) in full, as
    /// `qoima show --json` prints it. A retracted record is not found.
    pub fn record_view(&self, id: &str) -> Result<RecordView, StoreError> {
        if let Ok(full) = id.trim().parse::<RecordId>()
            && self.is_retracted(&full)?
        {
            return Err(StoreError::NotFound(format!(
                "record {full}: its author retracted it; only its tombstone is kept here"
            )));
        }
        let id = self.resolve(id)?;
        let stored = self.get(&id)?;
        let record = &stored.record;
        let body = record.body();
        let attachments = body
            .attachments
            .iter()
            .map(|a| self.attachment_state(&a.blake3).map(Into::into))
            .collect::<Result<Vec<_>, _>>()?;
        let author_trust = self.author_trust(&body.author)?;
        let suspect = self.is_suspect(&body.author, body.created.unix_ms, stored.stored_ms)?;
        let sealed = match &body.sealed {
            None => None,
            Some(part) => {
                let recipients = part.recipients.len();
                let (readable, content, damaged) = match self.open_sealed(record)? {
                    Some(Ok((content, _))) => (true, Some(content), None),
                    Some(Err(e)) => (false, None, Some(e.to_string())),
                    None => (false, None, None),
                };
                Some(Sealed {
                    recipients,
                    readable,
                    content,
                    damaged,
                })
            }
        };
        Ok(RecordView {
            id: record.id(),
            kind: body.kind,
            author: body.author,
            author_fingerprint: body.author.fingerprint().to_string(),
            seq: body.seq,
            prev: body.prev,
            created_at: format_ms(body.created.unix_ms),
            title: body.title.clone(),
            signature: "valid",
            record: body.clone(),
            stored_at: format_ms(stored.stored_ms),
            provenance: stored
                .provenance
                .iter()
                .map(|p| Provenance {
                    source: p.source.clone(),
                    bundle: p.bundle,
                    origin: p.origin.clone(),
                    received_at: format_ms(p.received_ms),
                    received_ms: p.received_ms,
                })
                .collect(),
            attachments,
            author_trust,
            suspect,
            sealed,
        })
    }
}
