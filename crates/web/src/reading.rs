//! Reading the archive for the pages and the API alike: a page of records, filtered or
//! searched, and one record in full, as the types of [`crate::json`].

use qoima_core::{AuthorKey, RecordKind};
use qoima_store::{ListQuery, RecordSummary, Store, StoreError};

use crate::json::{ListedRecord, RecordPage, RecordView};

/// Records per page of the archive.
pub const PAGE_SIZE: u32 = 50;

/// The last page that may be asked for. The store lists from the newest record on, so a
/// page costs as many rows as come before it; this bounds that (10,000 rows). Narrowing
/// by kind, author or words reaches older records.
pub const PAGE_MAX: u32 = 199;

/// Which records, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveFilter {
    /// Words that must all occur (title, text, tags, place), if any.
    pub words: Option<String>,
    /// Words the place's name must have, in any of their forms.
    pub place: Option<String>,
    /// Only this kind.
    pub kind: Option<RecordKind>,
    /// Only by this author.
    pub author: Option<AuthorKey>,
    /// Only created (as claimed) at or after this instant, ms since the epoch.
    pub since_ms: Option<i64>,
    /// The page, from 0, at most [`PAGE_MAX`].
    pub page: u32,
}

/// Why a filter given in a query string was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// `kind=` names no kind.
    #[error("unknown kind {0:?}")]
    Kind(String),
    /// `page=` is not a number up to the last page.
    #[error("page must be a number from 0 to {PAGE_MAX}")]
    Page,
    /// `author=` is no key, fingerprint or trusted name known here.
    #[error("unknown author {0:?}")]
    Author(String),
    /// `since=` is not a time (`2022-01-05`, `2022-01-05T14:30`, `2022-01`…).
    #[error("not a time: {0:?}")]
    Since(String),
}

/// Characters of a search query at most (the search form's `maxlength`).
pub const WORDS_MAX: usize = 200;

impl ArchiveFilter {
    /// The filter of a query string (`q`, `place`, `kind`, `author`, `since`, `page`; others
    /// ignored). `since` is read as `qoima list --since` reads it.
    /// The author is resolved against the archive's keys.
    pub fn from_query(store: &Store, query: Option<&str>) -> Result<ArchiveFilter, FilterError> {
        let mut filter = ArchiveFilter::default();
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match name.as_ref() {
                // The form allows 200 characters; a longer query is cut there, so a
                // crafted one cannot hold the archive with thousands of terms.
                "q" => filter.words = Some(value.chars().take(WORDS_MAX).collect()),
                "place" => filter.place = Some(value.chars().take(WORDS_MAX).collect()),
                "kind" => {
                    let kind = RecordKind::from_name(value)
                        .ok_or_else(|| FilterError::Kind(value.to_owned()))?;
                    filter.kind = Some(kind);
                }
                "author" => {
                    let author = store
                        .resolve_author(value)
                        .map_err(|_| FilterError::Author(value.to_owned()))?;
                    filter.author = Some(author);
                }
                "since" => {
                    let since = qoima_core::parse_instant_ms(value)
                        .map_err(|_| FilterError::Since(value.to_owned()))?;
                    filter.since_ms = Some(since);
                }
                "page" => {
                    filter.page = value
                        .parse()
                        .ok()
                        .filter(|page| *page <= PAGE_MAX)
                        .ok_or(FilterError::Page)?;
                }
                _ => {}
            }
        }
        Ok(filter)
    }
}

/// One page of the records `filter` selects, newest first, each with its author's trust.
pub fn list_page(store: &Store, filter: &ArchiveFilter) -> Result<RecordPage, StoreError> {
    let page = filter.page.min(PAGE_MAX);
    let skip = page as usize * PAGE_SIZE as usize;
    // One more than the page, to know whether another follows.
    let wanted = skip + PAGE_SIZE as usize + 1;
    let found = store.list(&ListQuery {
        kind: filter.kind,
        author: filter.author,
        since_ms: filter.since_ms,
        words: filter.words.clone(),
        place: filter.place.clone(),
        limit: wanted,
    })?;
    let has_more = found.len() > skip + PAGE_SIZE as usize;
    let summaries: Vec<RecordSummary> = found
        .into_iter()
        .skip(skip)
        .take(PAGE_SIZE as usize)
        .collect();
    let not_yet_searchable = if filter.words.is_some() || filter.place.is_some() {
        store.search_would_miss()?
    } else {
        0
    };
    Ok(RecordPage {
        not_yet_searchable,
        records: with_trust(store, summaries)?,
        page,
        page_size: PAGE_SIZE,
        has_more,
    })
}

/// Each record with what this archive makes of its author, as `qoima list` shows it.
fn with_trust(
    store: &Store,
    summaries: Vec<RecordSummary>,
) -> Result<Vec<ListedRecord>, StoreError> {
    Ok(store
        .judge(summaries)?
        .into_iter()
        .map(ListedRecord::from)
        .collect())
}

/// The record `id` (or a unique prefix of at least 4 hex characters) in full, as
/// `qoima show --json` prints it. A retracted record is not found.
pub fn record_view(store: &Store, id: &str) -> Result<RecordView, StoreError> {
    store.record_view(id)
}
