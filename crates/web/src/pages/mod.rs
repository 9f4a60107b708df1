//! The HTML pages: one askama template each, on one layout (`templates/base.html`) with
//! the language switcher and the lock button.

use askama::Template;
use axum::extract::{RawQuery, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use qoima_core::{RecordKind, format_ms};
use qoima_store::{AuthorTrust, StoreError};

use crate::WebError;
use crate::i18n::{Lang, Tr, msg};

pub mod archive;
pub mod attachment;
pub mod drops;
pub mod drops_export;
pub mod drops_import;
mod drops_stream;
pub mod keys;
pub mod keys_trust;
pub mod lock;
pub mod peers;
pub mod record;
mod record_sealed;
pub mod settings;
pub mod settings_form;
pub mod wipe;
pub mod write;
pub mod write_form;

/// A link of the language switcher.
pub struct LangLink {
    /// `kk`, `ru`, `en`.
    pub code: &'static str,
    /// The language's name in itself.
    pub name: String,
    /// The same page in that language.
    pub href: String,
    /// Whether it is the page's language.
    pub current: bool,
}

/// The switcher's links for a page at `query`: the same address with `lang=` changed.
pub fn lang_links(tr: Tr, query: Option<&str>) -> Vec<LangLink> {
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(name, _)| name != "lang")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    Lang::ALL
        .iter()
        .map(|&lang| {
            let mut href = form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
            href.extend_pairs(kept.iter())
                .append_pair("lang", lang.code());
            LangLink {
                code: lang.code(),
                name: tr.t(lang.name_id()),
                href: href.finish(),
                current: lang == tr.lang,
            }
        })
        .collect()
}

/// A short page with a title and one sentence: refusals and errors.
#[derive(Template)]
#[template(path = "notice.html")]
struct Notice {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    title: String,
    text: String,
}

/// A short page saying `text_id` under `title_id`, with `status`.
pub fn notice(tr: Tr, status: StatusCode, title_id: &str, text_id: &str) -> Response {
    let page = Notice {
        tr,
        langs: lang_links(tr, None),
        full: false,
        title: tr.t(title_id),
        text: tr.t(text_id),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// Renders a page, or says in its language that it could not be.
pub fn render(tr: Tr, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => notice(
            tr,
            StatusCode::INTERNAL_SERVER_ERROR,
            msg("error-title"),
            msg("error-internal"),
        ),
    }
}

/// The page for a failure to read the archive.
pub fn failure(tr: Tr, e: &WebError) -> Response {
    match e {
        WebError::Store(
            StoreError::NotFound(_) | StoreError::Invalid(_) | StoreError::Ambiguous(_),
        ) => notice(
            tr,
            StatusCode::NOT_FOUND,
            msg("not-found-title"),
            msg("not-found-record"),
        ),
        _ => notice(
            tr,
            StatusCode::INTERNAL_SERVER_ERROR,
            msg("error-title"),
            msg("error-archive"),
        ),
    }
}

/// Any address without a route.
pub async fn not_found(RawQuery(query): RawQuery, request: Request) -> Response {
    let tr = Tr::new(Lang::for_request(query.as_deref(), request.headers()));
    notice(
        tr,
        StatusCode::NOT_FOUND,
        msg("not-found-title"),
        msg("not-found-page"),
    )
}

/// The id of the message naming `kind`.
pub fn kind_msg(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Testimony => msg("kind-testimony"),
        RecordKind::Incident => msg("kind-incident"),
        RecordKind::Detention => msg("kind-detention"),
        RecordKind::Evidence => msg("kind-evidence"),
        RecordKind::Correction => msg("kind-correction"),
        RecordKind::Retraction => msg("kind-retraction"),
        RecordKind::KeyEndorsement => msg("kind-key-endorsement"),
        RecordKind::KeyRevocation => msg("kind-key-revocation"),
        RecordKind::EncryptionKey => msg("kind-encryption-key"),
    }
}

/// What this archive makes of an author, in words.
pub fn trust_text(tr: Tr, trust: &AuthorTrust) -> String {
    match trust {
        AuthorTrust::Own { persona } => tr.ta("trust-own", "persona", &plain(persona)),
        AuthorTrust::Trusted { name } => tr.ta("trust-trusted", "name", &plain(name)),
        AuthorTrust::Endorsed { name, by, hops } => tr.targs(
            "trust-endorsed",
            &[
                ("name", plain(name).into()),
                ("by", plain(by).into()),
                ("hops", u64::from(*hops).into()),
            ],
        ),
        AuthorTrust::Revoked { since_ms } => tr.ta("trust-revoked", "since", &format_ms(*since_ms)),
        AuthorTrust::Unknown => tr.t("trust-unknown"),
    }
}

/// A time for people: `2022-01-05 14:30 UTC` (minutes are enough on a page; the API and
/// the record's JSON keep milliseconds).
pub fn time_text(tr: Tr, unix_ms: i64) -> String {
    let full = format_ms(unix_ms);
    match (full.get(..10), full.get(11..16)) {
        (Some(date), Some(time)) if full.as_bytes().get(10) == Some(&b'T') => tr.targs(
            "time-utc",
            &[
                ("date", date.to_owned().into()),
                ("time", time.to_owned().into()),
            ],
        ),
        _ => full,
    }
}

/// Text from a record or a peer without the characters that reorder what follows it
/// (bidirectional overrides and isolates), for putting inside one of our sentences;
/// alone on the page it is isolated by `<bdi>` instead.
pub fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_links_keep_the_rest_of_the_query() {
        let links = lang_links(Tr::new(Lang::Ru), Some("q=%D0%B0+b&lang=en&page=2"));
        let hrefs: Vec<&str> = links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            [
                "?q=%D0%B0+b&page=2&lang=kk",
                "?q=%D0%B0+b&page=2&lang=ru",
                "?q=%D0%B0+b&page=2&lang=en"
            ]
        );
        assert_eq!(
            links.iter().map(|l| l.current).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert_eq!(links[0].name, "Қазақша");
    }

    #[test]
    fn times_are_shown_to_the_minute_in_utc() {
        assert_eq!(
            time_text(Tr::new(Lang::Ru), 1_641_393_296_806),
            "2022-01-05 14:34 UTC"
        );
    }

    #[test]
    fn bidi_controls_are_removed_from_arguments() {
        assert_eq!(plain("a\u{202e}b\u{2066}c"), "abc");
    }
}
