//! Translations: the three languages of the interface, choosing one for a request, and
//! looking messages up in the Fluent files under `locales/`, compiled into the binary.
//!
//! Every string a page shows comes from those files. Message ids appear in the code and
//! the templates only as literal arguments of [`Tr::t`], [`Tr::tn`], [`Tr::ta`] and
//! [`Tr::targs`], or wrapped in [`msg`] where the id is chosen at run time, so a test
//! can find them all and check that each exists in every language.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: every argument is a number, a
        // fingerprint or a date, and text from records is isolated by the templates
        // (`<bdi>`), where the browser does it.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie that remembers a language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "qoima_lang";

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English, the fallback.
    En,
    /// Russian.
    Ru,
    /// Kazakh, in Cyrillic.
    Kk,
}

static EN: LanguageIdentifier = langid!("en");
static RU: LanguageIdentifier = langid!("ru");
static KK: LanguageIdentifier = langid!("kk");

impl Lang {
    /// Every language, in the order the switcher shows them.
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// The code used in `?lang=`, the cookie and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }

    /// The language with this code or BCP 47 tag (`ru`, `ru-RU`, `kk-KZ`), if offered.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            // `kz` is the country code, often typed for the language.
            "kk" | "kz" => Some(Lang::Kk),
            _ => None,
        }
    }

    /// The id of the message naming this language in itself ("Қазақша").
    pub fn name_id(self) -> &'static str {
        match self {
            Lang::En => msg("lang-name-en"),
            Lang::Ru => msg("lang-name-ru"),
            Lang::Kk => msg("lang-name-kk"),
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Ru => &RU,
            Lang::Kk => &KK,
        }
    }

    /// The language for a request: `?lang=`, else the `qoima_lang` cookie, else the
    /// browser's Accept-Language, else English.
    pub fn for_request(query: Option<&str>, headers: &HeaderMap) -> Lang {
        query_lang(query)
            .or_else(|| cookie_lang(headers))
            .or_else(|| accept_language(headers))
            .unwrap_or(Lang::En)
    }
}

/// Every page handler takes its language as an argument: from the address's `lang=`,
/// else the cookie, else the browser's Accept-Language, as [`Lang::for_request`] reads
/// them. Never refuses a request.
impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Tr, Self::Rejection> {
        Ok(Tr::new(Lang::for_request(
            parts.uri.query(),
            &parts.headers,
        )))
    }
}

/// Marks a literal as a message id chosen at run time, so the completeness test finds it.
pub const fn msg(id: &'static str) -> &'static str {
    id
}

/// Looks messages up in one language. Cheap to copy into every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

impl Tr {
    /// For this language.
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        self.targs(id, &[])
    }

    /// The message `id` with `$count`, whose plural form follows the language's CLDR
    /// rules (Russian: one, few, many; Kazakh: one, other).
    /// (Takes a reference too: templates pass their fields by reference.)
    pub fn tn(&self, id: &str, count: impl Borrow<u64>) -> String {
        self.targs(id, &[("count", FluentValue::from(*count.borrow()))])
    }

    /// The message `id` with one text argument.
    pub fn ta(&self, id: &str, name: &'static str, value: &str) -> String {
        self.targs(id, &[(name, FluentValue::from(value.to_owned()))])
    }

    /// The message `id` with these arguments. A missing id shows as `⟦id⟧`, which the
    /// tests look for; the completeness test keeps it from happening.
    pub fn targs(&self, id: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let found = if args.is_empty() {
            LOCALES.try_lookup(self.lang.id(), id)
        } else {
            let args: HashMap<Cow<'static, str>, FluentValue> = args
                .iter()
                .map(|(name, value)| (Cow::Borrowed(*name), value.clone()))
                .collect();
            LOCALES.try_lookup_with_args(self.lang.id(), id, &args)
        };
        found.unwrap_or_else(|| format!("⟦{id}⟧"))
    }
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "lang")
        .and_then(|(_, value)| Lang::from_tag(&value))
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    cookie_value(headers, LANG_COOKIE).and_then(|value| Lang::from_tag(&value))
}

/// The value of the cookie `name` in the request's Cookie headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The offered language the browser prefers most: by quality, then by order.
fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let header = headers.get(ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(u16, Lang)> = None;
    // Bounded: a header of thousands of entries is read only so far.
    for entry in header.split(',').take(32) {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::from_tag) else {
            continue;
        };
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(1000, parse_quality);
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// A quality value (`0.8`) in thousandths; unreadable counts as 0.
fn parse_quality(text: &str) -> u16 {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
    match (whole, digits.parse::<u16>()) {
        ("1", _) => 1000,
        ("0", Ok(thousandths)) => thousandths,
        _ => 0,
    }
}

/// Middleware: remembers a language chosen with `?lang=` in the `qoima_lang` cookie, so
/// the next page without the parameter keeps it.
pub async fn remember_language(request: Request, next: Next) -> Response {
    let chosen = query_lang(request.uri().query());
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let cookie = format!(
            "{LANG_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn russian_plurals_follow_cldr() {
        let tr = Tr::new(Lang::Ru);
        assert_eq!(tr.tn("archive-count", 1), "1 запись");
        assert_eq!(tr.tn("archive-count", 2), "2 записи");
        assert_eq!(tr.tn("archive-count", 5), "5 записей");
        assert_eq!(tr.tn("archive-count", 11), "11 записей");
        assert_eq!(tr.tn("archive-count", 21), "21 запись");
        assert_eq!(tr.tn("archive-count", 22), "22 записи");
        assert_eq!(tr.tn("archive-count", 0), "0 записей");
    }

    #[test]
    fn kazakh_and_english_plurals() {
        let kk = Tr::new(Lang::Kk);
        assert_eq!(kk.tn("archive-count", 1), "1 жазба");
        assert_eq!(kk.tn("archive-count", 5), "5 жазба");
        assert_eq!(kk.tn("archive-count", 21), "21 жазба");
        let en = Tr::new(Lang::En);
        assert_eq!(en.tn("archive-count", 1), "1 record");
        assert_eq!(en.tn("archive-count", 2), "2 records");
        assert_eq!(en.tn("archive-count", 0), "0 records");
    }

    #[test]
    fn a_missing_message_is_marked() {
        assert_eq!(Tr::new(Lang::Kk).t("no-such-message"), "⟦no-such-message⟧");
    }

    #[test]
    fn query_then_cookie_then_accept_language_then_english() {
        let all = headers(&[
            ("cookie", "a=b; qoima_lang=kk"),
            ("accept-language", "ru-RU,ru;q=0.9"),
        ]);
        assert_eq!(Lang::for_request(Some("q=x&lang=en"), &all), Lang::En);
        assert_eq!(Lang::for_request(Some("lang=xx"), &all), Lang::Kk);
        let no_cookie = headers(&[("accept-language", "de-DE, ru;q=0.5, kk;q=0.7")]);
        assert_eq!(Lang::for_request(None, &no_cookie), Lang::Kk);
        let low_first = headers(&[("accept-language", "en;q=0.1, ru")]);
        assert_eq!(Lang::for_request(None, &low_first), Lang::Ru);
        let refused = headers(&[("accept-language", "ru;q=0, fr")]);
        assert_eq!(Lang::for_request(None, &refused), Lang::En);
        assert_eq!(Lang::for_request(None, &HeaderMap::new()), Lang::En);
    }

    #[test]
    fn quality_values() {
        assert_eq!(parse_quality("1"), 1000);
        assert_eq!(parse_quality("1.0"), 1000);
        assert_eq!(parse_quality("0.7"), 700);
        assert_eq!(parse_quality("0.125"), 125);
        assert_eq!(parse_quality("0"), 0);
        assert_eq!(parse_quality("x"), 0);
    }
}
