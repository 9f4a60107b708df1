//! The wipe page: the archive is destroyed only after its word is typed, only from the
//! interface's own page, and the page says "wiped" only once the node took the request.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, archive, get, send};
use qoima_web::{NodeControl, Ui, UiToken, router};

/// A node that counts how often it was asked to wipe, and says whether it took it.
struct Node {
    wipes: AtomicUsize,
    takes: bool,
}

impl NodeControl for Node {
    fn lock(&self) -> bool {
        self.takes
    }

    fn wipe(&self) -> bool {
        self.wipes.fetch_add(1, Ordering::SeqCst);
        self.takes
    }
}

fn app(takes: bool) -> (common::Archive, Router, UiToken, Arc<Node>) {
    let (archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let node = Arc::new(Node {
        wipes: AtomicUsize::new(0),
        takes,
    });
    let app = router(
        Ui::new(store, token.clone()).with_node(node.clone()),
        common::PORT,
    );
    (archive, app, token, node)
}

/// The form sent from the interface's own page (unless `origin` says otherwise).
fn post(token: Option<&UiToken>, origin: &str, confirm: &str) -> Request<Body> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("confirm", confirm)
        .finish();
    let mut request = Request::post("/wipe?lang=ru")
        .header("host", HOST)
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(token) = token {
        request = request.header("cookie", format!("qoima_ui_4271={}", token.as_str()));
    }
    request.body(Body::from(body)).unwrap()
}

const OWN: &str = "http://127.0.0.1:4271";

#[tokio::test]
async fn the_page_says_what_is_lost_and_asks_for_the_word_in_the_pages_language() {
    let (_archive, app, token, node) = app(true);
    let (response, body) = send(&app, get("/wipe?lang=ru", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        body.contains("<h1>Уничтожить архив на этом компьютере</h1>"),
        "{body}"
    );
    assert!(
        body.contains("Для подтверждения введите УНИЧТОЖИТЬ"),
        "{body}"
    );
    assert!(body.contains("Копии, уже переданные"), "{body}");
    assert_eq!(node.wipes.load(Ordering::SeqCst), 0);
    // Every page leads to it, beside the lock.
    let (_, archive_page) = send(&app, get("/?lang=kk", &token)).await;
    assert!(archive_page.contains("<a class=\"wipe-link\" href=\"/wipe\">Жою…</a>"));
}

#[tokio::test]
async fn a_wrong_or_missing_word_wipes_nothing_and_says_what_to_type() {
    let (_archive, app, token, node) = app(true);
    for typed in ["", "да", "УНИЧТОЖИТ", "WIPE WIPE"] {
        let (response, body) = send(&app, post(Some(&token), OWN, typed)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed}");
        assert!(
            body.contains(
                "Ничего не изменено: чтобы уничтожить архив, введите в точности УНИЧТОЖИТЬ."
            ),
            "{body}"
        );
        assert!(body.contains("aria-invalid=\"true\""), "{body}");
    }
    assert_eq!(node.wipes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_word_wipes_in_any_of_the_three_languages() {
    for word in ["УНИЧТОЖИТЬ", "уничтожить", "ЖОЮ", "wipe"] {
        let (_archive, app, token, node) = app(true);
        let (response, body) = send(&app, post(Some(&token), OWN, word)).await;
        assert_eq!(response.status(), StatusCode::OK, "{word}");
        assert!(body.contains("<h1>Уничтожено</h1>"), "{body}");
        assert_eq!(node.wipes.load(Ordering::SeqCst), 1, "{word}");
    }
}

#[tokio::test]
async fn a_wipe_from_elsewhere_or_without_the_cookie_is_refused() {
    let (_archive, app, token, node) = app(true);
    let (response, _) = send(&app, post(None, OWN, "WIPE")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for origin in ["http://evil.example", "http://127.0.0.1:4272", "null"] {
        let (response, _) = send(&app, post(Some(&token), origin, "WIPE")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    assert_eq!(node.wipes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_wipe_the_node_did_not_take_is_not_reported_as_done() {
    let (_archive, app, token, node) = app(false);
    let (response, body) = send(&app, post(Some(&token), OWN, "WIPE")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("<h1>Архив не уничтожен</h1>"), "{body}");
    assert!(body.contains("qoima wipe"), "{body}");
    assert_eq!(node.wipes.load(Ordering::SeqCst), 1);
}
