//! Who may talk to the interface: the token and its cookie, the Host check against DNS
//! rebinding, the Origin check for changes, and the headers on every response.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, app, app_with_codes, get, header, send};
use qoima_web::security::CSP;

fn assert_protective_headers(response: &axum::http::Response<Body>) {
    assert_eq!(header(response, "content-security-policy"), CSP);
    assert_eq!(
        CSP,
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    );
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "same-origin");
    assert_eq!(header(response, "cache-control"), "no-store");
    assert_eq!(
        header(response, "cross-origin-resource-policy"),
        "same-origin"
    );
}

#[tokio::test]
async fn a_foreign_host_is_refused_even_with_the_cookie() {
    let (_archive, app, token) = app();
    for host in [
        "evil.example:4271",
        "127.0.0.1.evil.example:4271",
        "127.0.0.1:4272",
        "127.0.0.1",
        "192.168.1.20:4271",
    ] {
        let request = Request::get("/")
            .header("host", host)
            .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert_protective_headers(&response);
        assert!(body.contains("This address is refused"), "{body}");
        assert!(!body.contains("Свидетельство"), "{body}");
    }
    // No Host at all.
    let request = Request::get("/")
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn the_loopback_names_a_browser_can_use_are_accepted_and_no_other() {
    let (_archive, app, token) = app();
    // The listener is on IPv4 loopback: a browser reaches it as 127.0.0.1 or localhost,
    // never as [::1].
    let request = Request::get("/")
        .header("host", "[::1]:4271")
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);
    for host in ["127.0.0.1:4271", "localhost:4271", "LocalHost:4271"] {
        let request = Request::get("/")
            .header("host", host)
            .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{host}");
        assert!(body.contains("Свидетельство 3"), "{body}");
    }
}

#[tokio::test]
async fn without_the_cookie_every_page_and_the_api_are_refused_in_the_browsers_language() {
    let (_archive, app, _token) = app();
    for path in ["/", "/records/abcd", "/api/v1/records", "/nowhere"] {
        let request = Request::get(path)
            .header("host", HOST)
            .header("accept-language", "ru-RU,ru;q=0.9,en;q=0.5")
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_protective_headers(&response);
        assert!(body.contains("Сначала выполните `qoima ui`"), "{body}");
        assert!(!body.contains("Свидетельство"), "{body}");
    }
}

#[tokio::test]
async fn a_wrong_cookie_is_refused() {
    let (_archive, app, token) = app();
    let mut wrong = token.as_str().to_owned();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(63.., last);
    for cookie in [
        format!("qoima_ui_4271={wrong}"),
        format!("qoima_ui_4271={}", &token.as_str()[..63]),
        "qoima_ui_4271=".to_owned(),
        format!("other={}", token.as_str()),
    ] {
        let request = Request::get("/")
            .header("host", HOST)
            .header("cookie", cookie.clone())
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{cookie}");
        assert!(body.contains("Run `qoima ui` first"), "{body}");
    }
}

fn unlock_request(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", HOST)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_wrong_code_in_the_unlock_address_is_refused_without_a_cookie() {
    let (_archive, app, token, codes) = app_with_codes();
    let code = codes.mint().unwrap();
    let mut wrong = code.clone();
    wrong.replace_range(..1, if wrong.starts_with('a') { "b" } else { "a" });
    for path in [
        format!("/unlock?code={wrong}"),
        format!("/unlock?code={}", &code[..63]),
        // The token itself is not a code: it never leaves the server but in the cookie.
        format!("/unlock?code={}", token.as_str()),
        format!("/unlock?token={}", token.as_str()),
        "/unlock?code=".to_owned(),
        "/unlock".to_owned(),
    ] {
        let (response, body) = send(&app, unlock_request(&path)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(body.contains("This link has already been used"), "{body}");
        assert!(response.headers().get("set-cookie").is_none());
        assert_protective_headers(&response);
    }
    // The wrong tries used nothing up.
    let (response, _) = send(&app, unlock_request(&format!("/unlock?code={code}"))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_code_becomes_a_strict_http_only_cookie_that_opens_the_archive() {
    let (_archive, app, token, codes) = app_with_codes();
    let code = codes.mint().unwrap();
    assert_ne!(code, token.as_str());
    let (response, _) = send(&app, unlock_request(&format!("/unlock?code={code}"))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&response, "location"), "/");
    assert_eq!(
        header(&response, "set-cookie"),
        format!(
            "qoima_ui_4271={}; HttpOnly; SameSite=Strict; Path=/",
            token.as_str()
        )
    );
    assert_protective_headers(&response);
    // The cookie the browser now sends opens the archive.
    let (response, body) = send(&app, get("/", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Свидетельство 1"));
}

#[tokio::test]
async fn a_code_opens_the_interface_once() {
    let (_archive, app, _token, codes) = app_with_codes();
    let path = format!("/unlock?code={}", codes.mint().unwrap());
    let (first, _) = send(&app, unlock_request(&path)).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let (second, body) = send(&app, unlock_request(&path)).await;
    assert_eq!(second.status(), StatusCode::FORBIDDEN);
    assert!(second.headers().get("set-cookie").is_none());
    assert!(body.contains("works once, for one minute"), "{body}");
}

#[tokio::test]
async fn only_the_newest_codes_are_kept() {
    let (_archive, app, _token, codes) = app_with_codes();
    let oldest = codes.mint().unwrap();
    let newer: Vec<String> = (0..qoima_web::security::UNLOCK_CODES_MAX)
        .map(|_| codes.mint().unwrap())
        .collect();
    let (response, _) = send(&app, unlock_request(&format!("/unlock?code={oldest}"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    for code in newer {
        let (response, _) = send(&app, unlock_request(&format!("/unlock?code={code}"))).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn the_cookie_of_another_port_does_not_open_this_one() {
    let (_archive, app, token) = app();
    let request = Request::get("/")
        .header("host", HOST)
        .header("cookie", format!("qoima_ui_4272={}", token.as_str()))
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unlocking_goes_on_to_a_page_of_this_server_only() {
    let (_archive, app, _token, codes) = app_with_codes();
    for (next, location) in [
        ("%2Frecords%2Fabcd%3Flang%3Dkk", "/records/abcd?lang=kk"),
        ("%2F%2Fevil.example%2F", "/"),
        ("http%3A%2F%2Fevil.example%2F", "/"),
        ("%2F%5Cevil.example", "/"),
    ] {
        let path = format!("/unlock?code={}&next={next}", codes.mint().unwrap());
        let (response, _) = send(&app, unlock_request(&path)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(header(&response, "location"), location, "{next}");
    }
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_and_a_same_origin_one_reaches_the_handler() {
    let (_archive, app, token) = app();
    let post = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request = Request::post("/lock")
            .header("host", HOST)
            .header("cookie", format!("qoima_ui_4271={}", token.as_str()));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.body(Body::empty()).unwrap()
    };
    for (origin, site) in [
        (Some("http://evil.example"), None),
        (Some("http://localhost:4271"), None),
        (Some("https://127.0.0.1:4271"), None),
        (Some("http://127.0.0.1:4272"), None),
        (Some("null"), Some("same-origin")),
        (None, Some("cross-site")),
        (None, Some("same-site")),
        (None, None),
    ] {
        let (response, body) = send(&app, post(origin, site)).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{origin:?} {site:?}"
        );
        assert!(body.contains("Request refused"), "{body}");
        assert_protective_headers(&response);
    }
    // From the interface's own page: the lock handler answers (no node behind it here).
    for (origin, site) in [
        (Some("http://127.0.0.1:4271"), None),
        (None, Some("same-origin")),
    ] {
        let (response, body) = send(&app, post(origin, site)).await;
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
        assert!(body.contains("Locking is not available here"), "{body}");
    }
}

#[tokio::test]
async fn the_stylesheet_needs_no_cookie_but_the_right_host() {
    let (_archive, app, _token) = app();
    let request = Request::get("/assets/style.css")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let (response, body) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "text/css; charset=utf-8");
    assert_protective_headers(&response);
    assert!(body.len() < 100 * 1024);
    assert_eq!(body, qoima_web::STYLE_CSS);
    let request = Request::get("/assets/style.css")
        .header("host", "evil.example:4271")
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn requests_from_other_sites_and_other_local_ports_are_refused_even_with_the_cookie() {
    let (_archive, app, token) = app();
    for path in ["/", "/assets/style.css", "/api/v1/records"] {
        for (site, expected) in [
            ("cross-site", StatusCode::FORBIDDEN),
            ("same-site", StatusCode::FORBIDDEN),
            ("none", StatusCode::OK),
            ("same-origin", StatusCode::OK),
        ] {
            let request = Request::get(path)
                .header("host", HOST)
                .header("sec-fetch-site", site)
                .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
                .body(Body::empty())
                .unwrap();
            let (response, _) = send(&app, request).await;
            assert_eq!(response.status(), expected, "{path} from {site}");
            assert_protective_headers(&response);
        }
    }
}
