//! The JSON of the API: the shapes `qoima list --json` and `qoima show --json` print,
//! field for field (`crates/cli/src/output.rs` `summary_json`, `commands/show.rs`
//! `record_json`), as types. The pages are built from the same values.

use qoima_core::{AuthorKey, BundleId, RecordBody, RecordId, RecordKind, SealedContent};
use qoima_store::{AttachmentState, AuthorTrust};
use serde::Serialize;

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

/// One page of records, newest first (`GET /api/v1/records`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordPage {
    /// The records, as `qoima list --json` prints them.
    pub records: Vec<ListedRecord>,
    /// This page's number, from 0.
    pub page: u32,
    /// Records per page.
    pub page_size: u32,
    /// Whether a next page exists.
    pub has_more: bool,
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
    /// The same, ms since the epoch, for the pages (not in the JSON: the CLI's has none).
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

/// The body of an API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// A stable code: `not_found`, `bad_request`, `internal`.
    pub error: &'static str,
    /// What happened, in English.
    pub message: String,
}
