//! What keeps other programs and web sites out of the interface.
//!
//! The interface listens on loopback, but loopback is not a boundary: any local program,
//! and any web page the browser shows, can send it requests. So:
//!
//! - **A token per start.** [`UiToken`] is 32 random bytes made when the server starts;
//!   `qoima ui` opens `/unlock?token=…`, which turns it into the `qoima_ui` cookie
//!   (HttpOnly, so no script reads it; SameSite=Strict, so no other site's page sends
//!   it). Every other request without that cookie is refused, compared in constant time.
//! - **Only loopback names in Host.** A page on `evil.example` whose name is made to
//!   resolve to 127.0.0.1 (DNS rebinding) sends `Host: evil.example`; it is refused.
//! - **Same origin for changes.** A request that is not GET or HEAD must carry the own
//!   origin in `Origin`, or, without `Origin`, `Sec-Fetch-Site: same-origin`.
//! - **Nothing from other sites.** A request the browser marks as coming from another
//!   site, or from another port of this machine (`Sec-Fetch-Site: cross-site` or
//!   `same-site`), is refused whatever its method, the stylesheet included: a page
//!   elsewhere can neither probe the archive by what loads nor tell that qoima runs here
//!   by loading its stylesheet; `Cross-Origin-Resource-Policy: same-origin` says the same
//!   to browsers that do not send the header.
//! - **Headers on every response**, refusals included: a Content-Security-Policy that
//!   allows nothing but this origin (no inline script, no framing, forms only here),
//!   `nosniff`, no referrer (the unlock address holds the token), and `no-store` (pages
//!   hold testimony; they must not stay in the browser's disk cache).

use axum::extract::{Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HOST, LOCATION, ORIGIN, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::i18n::{Lang, Tr, cookie_value, msg};
use crate::pages::notice;
use crate::{AppState, WebError};

/// The cookie that carries the token.
pub const TOKEN_COOKIE: &str = "qoima_ui";

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// The secret of one run of the server: 32 random bytes, as 64 hex characters.
#[derive(Clone)]
pub struct UiToken(String);

impl UiToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<UiToken, WebError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| WebError::Random(e.to_string()))?;
        Ok(UiToken(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The token as given to the browser.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this token, in time that does not depend on where they
    /// differ.
    pub fn matches(&self, candidate: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

impl std::fmt::Debug for UiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never in a log line.
        f.write_str("UiToken(…)")
    }
}

/// Middleware around every route: Host, Origin and cookie checks, then the headers.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = check(&state, request, next).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn check(state: &AppState, request: Request, next: Next) -> Response {
    let tr = Tr::new(Lang::for_request(request.uri().query(), request.headers()));
    let Some(host) = loopback_host(request.headers(), state.port) else {
        return notice(
            tr,
            StatusCode::MISDIRECTED_REQUEST,
            msg("refused-host-title"),
            msg("refused-host-text"),
        );
    };
    if let Some(authority) = request.uri().authority()
        && !is_own_host(authority.as_str(), state.port)
    {
        return notice(
            tr,
            StatusCode::MISDIRECTED_REQUEST,
            msg("refused-host-title"),
            msg("refused-host-text"),
        );
    }
    if from_elsewhere(request.headers()) {
        return notice(
            tr,
            StatusCode::FORBIDDEN,
            msg("refused-origin-title"),
            msg("refused-origin-text"),
        );
    }
    let safe_method = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe_method && !same_origin(request.headers(), &host) {
        return notice(
            tr,
            StatusCode::FORBIDDEN,
            msg("refused-origin-title"),
            msg("refused-origin-text"),
        );
    }
    // The unlock address is how the cookie is made; the stylesheet is the same bytes in
    // every copy of qoima and styles the refusal pages.
    let path = request.uri().path();
    let open = path == "/unlock" || path.starts_with("/assets/");
    if !open && !has_token_cookie(request.headers(), &state.token) {
        return notice(
            tr,
            StatusCode::UNAUTHORIZED,
            msg("refused-token-title"),
            msg("refused-token-text"),
        );
    }
    next.run(request).await
}

/// The Host header, if it names this server on a loopback name and its port.
fn loopback_host(headers: &HeaderMap, port: u16) -> Option<String> {
    let host = headers.get(HOST)?.to_str().ok()?;
    is_own_host(host, port).then(|| host.to_ascii_lowercase())
}

fn is_own_host(host: &str, port: u16) -> bool {
    let host = host.to_ascii_lowercase();
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == format!("{name}:{port}"))
}

/// Whether the browser says the request comes from a page of another site or another
/// port of this machine. Typed addresses, bookmarks and `qoima ui` are `none`; links
/// within the interface are `same-origin`; a browser that sends no such header is left
/// to the other checks.
fn from_elsewhere(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|site| !matches!(site.as_bytes(), b"same-origin" | b"none"))
}

/// Whether a request that changes something comes from a page of this origin.
fn same_origin(headers: &HeaderMap, host: &str) -> bool {
    match headers.get(ORIGIN) {
        Some(origin) => origin
            .to_str()
            .is_ok_and(|origin| origin.eq_ignore_ascii_case(&format!("http://{host}"))),
        // Browsers send Origin with every POST today; a request without it passes only
        // if the browser says it comes from this origin.
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() == b"same-origin"),
    }
}

fn has_token_cookie(headers: &HeaderMap, token: &UiToken) -> bool {
    cookie_value(headers, TOKEN_COOKIE).is_some_and(|value| token.matches(&value))
}

/// The query of `/unlock`.
#[derive(Deserialize)]
pub struct UnlockQuery {
    token: Option<String>,
    next: Option<String>,
}

/// `GET /unlock?token=…[&next=/records/…]`: the right token becomes the cookie, and the
/// browser goes to `next` (a path of this interface) or the archive; a wrong one is
/// refused.
pub async fn unlock(
    State(state): State<AppState>,
    Query(query): Query<UnlockQuery>,
    headers: HeaderMap,
) -> Response {
    let given = query.token.unwrap_or_default();
    if !state.token.matches(&given) {
        let tr = Tr::new(Lang::for_request(None, &headers));
        return notice(
            tr,
            StatusCode::FORBIDDEN,
            msg("refused-token-title"),
            msg("refused-token-text"),
        );
    }
    let cookie = format!(
        "{TOKEN_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        state.token.as_str()
    );
    let next = query
        .next
        .filter(|next| is_local_path(next))
        .and_then(|next| HeaderValue::from_str(&next).ok())
        .unwrap_or(HeaderValue::from_static("/"));
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, next);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.insert(SET_COOKIE, value);
    }
    response
}

/// Whether `next` is a path on this server: not another host (`//host`, `/\\host`,
/// `http:`), nothing a browser would read differently from its bytes.
fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_compared_exactly() {
        let a = UiToken::generate().expect("random");
        let b = UiToken::generate().expect("random");
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(&a.as_str()[..63]));
        assert!(!a.matches(""));
        assert_eq!(format!("{a:?}"), "UiToken(…)");
    }

    #[test]
    fn unlock_goes_on_only_to_paths_of_this_server() {
        assert!(is_local_path("/"));
        assert!(is_local_path("/records/9b1f?lang=kk"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("/\\evil.example/"));
        assert!(!is_local_path("/a\\b"));
        assert!(!is_local_path("http://evil.example/"));
        assert!(!is_local_path("records"));
        assert!(!is_local_path("/a b"));
        assert!(!is_local_path("/a\nb"));
        assert!(!is_local_path(""));
    }

    #[test]
    fn only_loopback_names_with_the_port() {
        assert!(is_own_host("127.0.0.1:4271", 4271));
        assert!(is_own_host("LOCALHOST:4271", 4271));
        assert!(is_own_host("[::1]:4271", 4271));
        assert!(!is_own_host("127.0.0.1:4272", 4271));
        assert!(!is_own_host("127.0.0.1", 4271));
        assert!(!is_own_host("evil.example:4271", 4271));
        assert!(!is_own_host("127.0.0.1.evil.example:4271", 4271));
    }
}
