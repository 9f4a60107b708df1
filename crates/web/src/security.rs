//! What keeps other programs and web sites out of the interface.
//!
//! The interface listens on loopback, but loopback is not a boundary: any local program,
//! and any web page the browser shows, can send it requests. So:
//!
//! - **A token per start, never shown.** [`UiToken`] is 32 random bytes made when the
//!   server starts; it lives in the server and in the browser's cookie only. `qoima ui`
//!   asks the node for an [`UnlockCodes`] code — single use, valid for a minute — and opens
//!   `/unlock?code=…`, which turns it into the `qoima_ui_<port>` cookie holding the token
//!   (HttpOnly, so no script reads it; SameSite=Strict, so no other site's page sends it;
//!   named after the port, so two archives open in one browser do not overwrite each
//!   other's). The code shows in the browser's command line, where other local programs
//!   can read it: used or a minute old, it opens nothing. Every other request without the
//!   cookie is refused, compared in constant time.
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
//!   `nosniff`, a referrer only within this origin (no address of the interface, with the
//!   words searched, goes to another site), and `no-store` (pages
//!   hold testimony; they must not stay in the browser's disk cache).

use axum::extract::{Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HOST, LOCATION, ORIGIN, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::i18n::{Lang, Tr, cookie_value, msg};
use crate::pages::notice;
use crate::{AppState, WebError};

/// The name of the cookie that carries the token of the server on `port`.
pub fn token_cookie(port: u16) -> String {
    format!("qoima_ui_{port}")
}

/// How long an unlock code opens the interface.
pub const UNLOCK_CODE_TTL: Duration = Duration::from_secs(60);
/// Unlock codes waiting to be used at once; minting another forgets the oldest.
pub const UNLOCK_CODES_MAX: usize = 8;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// The secret of one run of the server: 32 random bytes, as 64 hex characters.
#[derive(Clone)]
pub struct UiToken(String);

impl UiToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<UiToken, WebError> {
        random_hex().map(UiToken)
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

/// 32 random bytes as 64 hex characters.
fn random_hex() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WebError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// One-time codes that let a browser in: `qoima ui` asks the node for one. Cheap to
/// clone; the clones share the codes.
#[derive(Clone, Default)]
pub struct UnlockCodes(Arc<Mutex<VecDeque<(UiToken, Instant)>>>);

impl UnlockCodes {
    /// A fresh code, valid for [`UNLOCK_CODE_TTL`] and one use.
    pub fn mint(&self) -> Result<String, WebError> {
        let code = UiToken::generate()?;
        let text = code.as_str().to_owned();
        let mut codes = self.lock();
        if codes.len() >= UNLOCK_CODES_MAX {
            codes.pop_front();
        }
        codes.push_back((code, Instant::now()));
        Ok(text)
    }

    /// The address that opens the interface served at `addr` once.
    pub fn url(&self, addr: SocketAddr) -> Result<String, WebError> {
        Ok(format!("http://{addr}/unlock?code={}", self.mint()?))
    }

    /// Whether `candidate` is a code still valid; it is used up if so.
    fn redeem(&self, candidate: &str) -> bool {
        let mut codes = self.lock();
        codes.retain(|(_, minted)| minted.elapsed() < UNLOCK_CODE_TTL);
        // Every code is compared, each in constant time, whichever matches.
        let matched: Vec<bool> = codes
            .iter()
            .map(|(code, _)| code.matches(candidate))
            .collect();
        match matched.iter().position(|&m| m) {
            Some(at) => {
                codes.remove(at);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(UiToken, Instant)>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for UnlockCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockCodes(…)")
    }
}

/// Middleware around every route: Host, Origin and cookie checks, then the headers.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = check(&state, request, next).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Not `no-referrer`: with it, browsers send `Origin: null` on the interface's own
    // form posts (Fetch: a POST's origin is serialised only if the referrer policy
    // allows), and the lock button would be refused as coming from elsewhere.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
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
    if !open && !has_token_cookie(request.headers(), &state.token, state.port) {
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

/// The names this server answers to: the address it listens on, and `localhost`, which
/// people type. Not `[::1]`: the listener is on IPv4 loopback only, so no browser reaches
/// it under that name, and a Host naming it came through something other than a browser.
fn is_own_host(host: &str, port: u16) -> bool {
    let host = host.to_ascii_lowercase();
    ["127.0.0.1", "localhost"]
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

fn has_token_cookie(headers: &HeaderMap, token: &UiToken, port: u16) -> bool {
    cookie_value(headers, &token_cookie(port)).is_some_and(|value| token.matches(&value))
}

/// The query of `/unlock`.
#[derive(Deserialize)]
pub struct UnlockQuery {
    code: Option<String>,
    next: Option<String>,
}

/// `GET /unlock?code=…[&next=/records/…]`: a valid code is used up and the token becomes
/// the cookie, and the browser goes to `next` (a path of this interface) or the archive;
/// a wrong, used or expired code is refused.
pub async fn unlock(
    State(state): State<AppState>,
    Query(query): Query<UnlockQuery>,
    headers: HeaderMap,
) -> Response {
    let given = query.code.unwrap_or_default();
    if !state.codes.redeem(&given) {
        let tr = Tr::new(Lang::for_request(None, &headers));
        return notice(
            tr,
            StatusCode::FORBIDDEN,
            msg("refused-code-title"),
            msg("refused-code-text"),
        );
    }
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/",
        token_cookie(state.port),
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
        assert!(!is_own_host("[::1]:4271", 4271), "nothing listens there");
        assert!(!is_own_host("127.0.0.1:4272", 4271));
        assert!(!is_own_host("127.0.0.1", 4271));
        assert!(!is_own_host("evil.example:4271", 4271));
        assert!(!is_own_host("127.0.0.1.evil.example:4271", 4271));
    }
}
