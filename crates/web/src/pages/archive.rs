//! `/`: the archive, newest first, filtered by kind and author or searched, page by page.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use qoima_core::RecordKind;

use super::{LangLink, failure, kind_msg, lang_links, render, trust_text};
use crate::AppState;
use crate::i18n::Tr;
use crate::json::RecordPage;
use crate::reading::{self, ArchiveFilter, FilterError};

/// A kind in the filter's list.
struct KindOption {
    name: &'static str,
    label: String,
    selected: bool,
}

/// A record in the list.
struct Row {
    href: String,
    title: String,
    kind: String,
    date: String,
    fingerprint: String,
    /// The archive narrowed to this record's author.
    author_href: String,
    trust: String,
    suspect: bool,
}

#[derive(Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    words: String,
    place: String,
    /// The `since` filter as given (`2022-01-05`), for the form.
    since: String,
    /// The author filter as given (a fingerprint, a key or a trusted name), kept by the
    /// form and said on the page with a way back to every author.
    author: Option<String>,
    all_authors_href: String,
    kinds: Vec<KindOption>,
    rows: Vec<Row>,
    shown: u64,
    /// Records the search may have missed, not searchable yet.
    not_yet_searchable: u64,
    /// A filter in the address that was not understood, in words.
    problem: Option<String>,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /?q=&place=&kind=&author=&since=&page=`.
pub async fn page(State(state): State<AppState>, tr: Tr, RawQuery(query): RawQuery) -> Response {
    let asked = query.clone();
    let found = state
        .read(move |store| {
            // A filter not understood is said on the page, and the archive shown without it.
            let (filter, problem) = match ArchiveFilter::from_query(store, asked.as_deref()) {
                Ok(filter) => (filter, None),
                Err(e) => (without_filters(asked.as_deref()), Some(e)),
            };
            Ok((reading::list_page(store, &filter)?, filter, problem))
        })
        .await;
    let (page, filter, problem) = match found {
        Ok(found) => found,
        Err(e) => return failure(tr, &e),
    };
    render(tr, &build(tr, query.as_deref(), page, &filter, problem))
}

/// Only the words and the place of a query whose other filters were not understood:
/// any text is a valid search.
fn without_filters(query: Option<&str>) -> ArchiveFilter {
    let text_of = |wanted: &str| {
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(name, value)| name == wanted && !value.trim().is_empty())
            .map(|(_, value)| value.trim().chars().take(reading::WORDS_MAX).collect())
    };
    ArchiveFilter {
        words: text_of("q"),
        place: text_of("place"),
        ..ArchiveFilter::default()
    }
}

fn build(
    tr: Tr,
    query: Option<&str>,
    page: RecordPage,
    filter: &ArchiveFilter,
    problem: Option<FilterError>,
) -> ArchivePage {
    let rows = page
        .records
        .iter()
        .map(|r| Row {
            href: format!("/records/{}", r.id.to_hex()),
            title: r.title.clone(),
            kind: tr.t(kind_msg(r.kind)),
            // The day is enough in a list; the record's page has the time.
            date: r.created_at.get(..10).unwrap_or(&r.created_at).to_owned(),
            fingerprint: r.author_fingerprint.clone(),
            author_href: format!("/?author={}", r.author_fingerprint),
            trust: trust_text(tr, &r.author_trust),
            suspect: r.suspect,
        })
        .collect::<Vec<_>>();
    let kinds = RecordKind::ALL
        .iter()
        .map(|&kind| KindOption {
            name: kind.name(),
            label: tr.t(kind_msg(kind)),
            selected: filter.kind == Some(kind),
        })
        .collect();
    let problem = problem.map(|e| match e {
        FilterError::Kind(_) => tr.t("archive-bad-kind"),
        FilterError::Page => tr.t("archive-bad-page"),
        FilterError::Author(_) => tr.t("archive-bad-author"),
        FilterError::Since(_) => tr.t("archive-bad-since"),
    });
    let given = |wanted: &str| {
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.trim().to_owned())
    };
    let since = given("since")
        .filter(|_| filter.since_ms.is_some())
        .unwrap_or_default();
    let author = given("author").filter(|_| filter.author.is_some());
    ArchivePage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        words: filter.words.clone().unwrap_or_default(),
        place: filter.place.clone().unwrap_or_default(),
        since,
        author,
        all_authors_href: without(query, "author"),
        kinds,
        shown: rows.len() as u64,
        not_yet_searchable: page.not_yet_searchable,
        rows,
        problem,
        previous: (page.page > 0).then(|| page_href(query, page.page - 1)),
        next: page.has_more.then(|| page_href(query, page.page + 1)),
    }
}

/// The same address without the parameter `dropped` (nor a page number or language).
fn without(query: Option<&str>, dropped: &str) -> String {
    address(query, dropped, None)
}

/// The same address on another page.
fn page_href(query: Option<&str>, page: u32) -> String {
    address(query, "page", Some(page))
}

/// The address `query` leads to, less `dropped`, its page and its language (the cookie
/// keeps that), on page `page` if given.
fn address(query: Option<&str>, dropped: &str, page: Option<u32>) -> String {
    let mut href = form_urlencoded::Serializer::for_suffix(String::from("/?"), 2);
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if name != dropped && name != "page" && name != "lang" {
            href.append_pair(&name, &value);
        }
    }
    if let Some(page) = page {
        href.append_pair("page", &page.to_string());
    }
    href.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use super::*;
    use crate::i18n::Lang;

    fn searched(not_yet_searchable: u64, lang: Lang) -> String {
        let page = RecordPage {
            records: Vec::new(),
            page: 0,
            page_size: reading::PAGE_SIZE,
            has_more: false,
            not_yet_searchable,
        };
        let filter = ArchiveFilter {
            words: Some("задержан".into()),
            ..ArchiveFilter::default()
        };
        let tr = Tr::new(lang);
        build(tr, Some("q=задержан"), page, &filter, None)
            .render()
            .unwrap()
    }

    #[test]
    fn records_a_search_may_have_missed_are_said_in_every_language() {
        assert!(
            searched(21, Lang::En).contains("21 records of this archive are not searchable yet")
        );
        assert!(searched(1, Lang::En).contains("1 record of this archive is not searchable yet"));
        assert!(searched(5, Lang::Ru).contains("Ещё не доступны для поиска: 5 записей"));
        assert!(searched(5, Lang::Kk).contains("5 жазба әлі іздеуге дайын емес"));
        assert!(!searched(0, Lang::En).contains("not searchable yet"));
    }
}
