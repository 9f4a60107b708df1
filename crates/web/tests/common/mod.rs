//! What the interface's tests share: an archive with a few records, the router over it,
//! and requests as a browser would send them.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of this

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use qoima_core::{AuthorSecret, Place, RecordKind, VerifiedRecord, fixtures};
use qoima_store::{ArchiveKey, Store};
use qoima_web::{Ui, UiToken, UnlockCodes, router};
use tower::ServiceExt;

/// The port the router is told it listens on.
pub const PORT: u16 = 4271;
/// The Host a browser sends to it.
pub const HOST: &str = "127.0.0.1:4271";

/// An archive in a temporary directory, with its records.
pub struct Archive {
    /// Keeps the directory until the test ends.
    pub dir: tempfile::TempDir,
    /// The author of the chain of testimonies, trusted here as "Aigerim".
    pub trusted: AuthorSecret,
    /// The author of the record with a place and an attachment, unknown here.
    pub stranger: AuthorSecret,
    /// The records, oldest first.
    pub records: Vec<VerifiedRecord>,
}

/// Three testimonies by a trusted author ("Свидетельство 1" to "3", a minute apart),
/// then an incident by an unknown author with a place and a missing attachment, claimed
/// a day later (so newest).
pub fn archive() -> (Archive, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &ArchiveKey::from_bytes([7; 32])).unwrap();
    let trusted = fixtures::author(1);
    let stranger = fixtures::author(2);
    let mut records = fixtures::chain(&trusted, 3, 80);
    let mut body = fixtures::body(&stranger, 1, None, "Толпу разогнали у акимата.");
    body.kind = RecordKind::Incident;
    body.title = "Разгон у акимата".into();
    body.created.unix_ms += 86_400_000;
    body.place = Some(Place {
        name: "Алматы, площадь Республики".into(),
        point: None,
    });
    body.attachments = vec![fixtures::attachment(
        b"not stored here",
        "image/jpeg",
        "photo.jpg",
    )];
    records.push(VerifiedRecord::sign(&body, &stranger).unwrap());
    for record in &records {
        assert!(store.insert_local(record).unwrap());
    }
    store.trust_add(&trusted.public(), "Aigerim").unwrap();
    (
        Archive {
            dir,
            trusted,
            stranger,
            records,
        },
        store,
    )
}

/// The router over a fresh archive, and the token that lets a browser in.
pub fn app() -> (Archive, Router, UiToken) {
    let (archive, app, token, _) = app_with_codes();
    (archive, app, token)
}

/// [`app`], and the codes that `qoima ui` would hand out.
pub fn app_with_codes() -> (Archive, Router, UiToken, UnlockCodes) {
    let (archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let ui = Ui::new(store, token.clone());
    let codes = ui.unlock_codes();
    (archive, router(ui, PORT), token, codes)
}

/// A GET from the interface's own pages: right Host, the token's cookie.
pub fn get(path: &str, token: &UiToken) -> Request<Body> {
    Request::get(path)
        .header("host", HOST)
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .body(Body::empty())
        .unwrap()
}

/// Sends `request` and returns the response with its body as text.
pub async fn send(app: &Router, request: Request<Body>) -> (Response<Body>, String) {
    let (response, bytes) = send_bytes(app, request).await;
    (response, String::from_utf8(bytes).unwrap())
}

/// Sends `request` and returns the response with its body.
pub async fn send_bytes(app: &Router, request: Request<Body>) -> (Response<Body>, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    (Response::from_parts(parts, Body::empty()), bytes.to_vec())
}

/// The value of header `name`, which must be there once.
pub fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    let values: Vec<_> = response.headers().get_all(name).iter().collect();
    assert_eq!(values.len(), 1, "{name}: {values:?}");
    values[0].to_str().unwrap()
}
