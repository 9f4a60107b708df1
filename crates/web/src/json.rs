//! The JSON of the API. A record and a listed record are the store's
//! [`qoima_store::views`] types, the very ones `qoima show --json` and `qoima list --json`
//! print; this adds what only the API has: a page of records and an error.

use serde::Serialize;

pub use qoima_store::views::{AttachmentPresence, ListedRecord, Provenance, RecordView, Sealed};

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
    /// When searching (`q` or `place`): records stored but not searchable yet, which the
    /// results may miss (after an upgrade remade the search index, until the node has
    /// indexed them again). 0 otherwise.
    pub not_yet_searchable: u64,
}

/// The body of an API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// A stable code: `not_found`, `bad_request`, `internal`.
    pub error: &'static str,
    /// What happened, in English.
    pub message: String,
}
