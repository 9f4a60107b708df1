//! The USB drops page: bundle files written for the browser to download, and bundle
//! files uploaded and imported, each with its own result, as `qoima export` and
//! `qoima import` do.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, PORT, app, get, header, send, send_bytes};
use qoima_store::{ArchiveKey, Store};
use qoima_web::{DropLimits, NodeControl, Ui, UiToken, router};

/// A node that counts how often it was told of records written.
#[derive(Default)]
struct Told(AtomicUsize);

impl NodeControl for Told {
    fn lock(&self) -> bool {
        false
    }
    fn written(&self) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// A second, empty archive to import into, with its router and token.
struct Receiver {
    _dir: tempfile::TempDir,
    app: Router,
    token: UiToken,
    told: Arc<Told>,
}

fn receiver_with(limits: DropLimits) -> Receiver {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &ArchiveKey::from_bytes([9; 32])).unwrap();
    let token = UiToken::generate().unwrap();
    let told = Arc::new(Told::default());
    let ui = Ui::new(store, token.clone())
        .with_node(told.clone())
        .with_drop_limits(limits);
    Receiver {
        _dir: dir,
        app: router(ui, PORT),
        token,
        told,
    }
}

fn receiver() -> Receiver {
    receiver_with(DropLimits::default())
}

/// A POST of `body` from the interface's own page.
fn post(path: &str, token: &UiToken, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header("host", HOST)
        .header("origin", format!("http://{HOST}"))
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .header("content-type", content_type)
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap()
}

/// The export form sent with `fields`.
fn export_form(token: &UiToken, fields: &str) -> Request<Body> {
    post(
        "/drops/export?lang=en",
        token,
        "application/x-www-form-urlencoded",
        fields.as_bytes().to_vec(),
    )
}

const BOUNDARY: &str = "----qoimaTestBoundary7MA4YWxk";

/// A multipart body as a browser sends the import form: the passphrase field, then the
/// files.
fn upload_body(passphrase: Option<&str>, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(passphrase) = passphrase {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"passphrase\"\r\n\r\n{passphrase}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"bundles\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload(token: &UiToken, passphrase: Option<&str>, files: &[(&str, &[u8])]) -> Request<Body> {
    post(
        "/drops/import?lang=en",
        token,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        upload_body(passphrase, files),
    )
}

/// The records an archive lists, through its API.
async fn record_count(app: &Router, token: &UiToken) -> usize {
    let (response, body) = send(app, get("/api/v1/records", token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    page["records"].as_array().unwrap().len()
}

/// Each file's section of a results page, in order.
fn sections(body: &str) -> Vec<&str> {
    body.split("<section class=\"drop-file\">")
        .skip(1)
        .collect()
}

/// Exports everything from the sample archive.
async fn exported(app: &Router, token: &UiToken, fields: &str) -> Vec<u8> {
    let (response, bytes) = send_bytes(app, export_form(token, fields)).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    bytes
}

#[tokio::test]
async fn the_page_offers_both_forms_in_each_language() {
    let (_archive, app, token) = app();
    for (lang, title) in [
        ("en", "<h1>USB drops</h1>"),
        ("ru", "<h1>USB-передача</h1>"),
        ("kk", "<h1>USB арқылы тасымал</h1>"),
    ] {
        let (response, body) = send(&app, get(&format!("/drops?lang={lang}"), &token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(body.contains(title), "{body}");
        assert!(
            !body.contains('⟦'),
            "a message is missing in {lang}: {body}"
        );
        assert!(body.contains("<form class=\"drops\" method=\"post\" action=\"/drops/export\""));
        assert!(body.contains(
            "<form class=\"drops\" method=\"post\" action=\"/drops/import\" enctype=\"multipart/form-data\""
        ));
        assert!(body.contains("href=\"/drops\""), "the menu links to it");
    }
}

#[tokio::test]
async fn an_exported_file_is_taken_in_whole_by_another_archive() {
    let (_archive, app, token) = app();
    let (response, bundle) = send_bytes(&app, export_form(&token, "kind=&since=&seal=none")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        "application/octet-stream"
    );
    let disposition = header(&response, "content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"qoima-20")
            && disposition.ends_with(".qb\""),
        "{disposition}"
    );
    assert_eq!(
        disposition.len(),
        "attachment; filename=\"qoima-2026-11-23.qb\"".len()
    );
    assert!(!bundle.is_empty());

    let to = receiver();
    assert_eq!(record_count(&to.app, &to.token).await, 0);
    let (response, body) = send(&to.app, upload(&to.token, None, &[("jan.qb", &bundle)])).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    let files = sections(&body);
    assert_eq!(files.len(), 1, "{body}");
    assert!(files[0].contains("<h2><bdi>jan.qb</bdi></h2>"), "{body}");
    assert!(files[0].contains("<li>4 new records kept</li>"), "{body}");
    assert!(
        files[0].contains("<li>0 records already held here</li>"),
        "{body}"
    );
    assert!(files[0].contains("<li>0 items refused</li>"), "{body}");
    assert!(files[0].contains("Every item verified."), "{body}");
    assert_eq!(record_count(&to.app, &to.token).await, 4);
    assert_eq!(to.told.0.load(Ordering::SeqCst), 1, "the node is told");

    // The same file again: nothing new, and the node is not told again.
    let (_, body) = send(&to.app, upload(&to.token, None, &[("jan.qb", &bundle)])).await;
    assert!(body.contains("<li>0 new records kept</li>"), "{body}");
    assert!(
        body.contains("<li>4 records already held here</li>"),
        "{body}"
    );
    assert_eq!(to.told.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_results_are_in_russian_with_its_plurals() {
    let (_archive, app, token) = app();
    let bundle = exported(&app, &token, "seal=none").await;
    let to = receiver();
    let request = post(
        "/drops/import?lang=ru",
        &to.token,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        upload_body(None, &[("jan.qb", &bundle)]),
    );
    let (_, body) = send(&to.app, request).await;
    assert!(body.contains("<li>4 новые записи сохранены</li>"), "{body}");
    assert!(body.contains("<li>0 записей уже были здесь</li>"), "{body}");
    assert!(body.contains("<li>0 элементов отклонено</li>"), "{body}");
}

#[tokio::test]
async fn an_export_can_be_narrowed_by_kind_and_day() {
    let (_archive, app, token) = app();
    let incidents = exported(&app, &token, "kind=incident&seal=none").await;
    let to = receiver();
    let (_, body) = send(&to.app, upload(&to.token, None, &[("a.qb", &incidents)])).await;
    assert!(body.contains("<li>1 new record kept</li>"), "{body}");

    let later = exported(&app, &token, "since=2100-01-01&seal=none").await;
    let (_, body) = send(&to.app, upload(&to.token, None, &[("b.qb", &later)])).await;
    assert!(body.contains("<li>0 new records kept</li>"), "{body}");
    assert_eq!(record_count(&to.app, &to.token).await, 1);
}

#[tokio::test]
async fn a_bad_export_form_is_sent_back_with_its_reason() {
    let (_archive, app, token) = app();
    for (fields, status, said) in [
        (
            "kind=nonsense",
            StatusCode::BAD_REQUEST,
            "This kind of record is unknown. Choose one from the list.",
        ),
        (
            "since=yesterday",
            StatusCode::BAD_REQUEST,
            "The date was not understood. Write it as 2022-01-05.",
        ),
        (
            "seal=passphrase&passphrase=a&passphrase2=b",
            StatusCode::BAD_REQUEST,
            "The two passphrases differ. Type the same one twice.",
        ),
        (
            "seal=recipients&recipients=Nobody",
            StatusCode::BAD_REQUEST,
            "A name or fingerprint given is not a key known in this archive. Check its spelling.",
        ),
    ] {
        let (response, body) = send(&app, export_form(&token, fields)).await;
        assert_eq!(response.status(), status, "{fields}");
        assert!(
            body.contains(&format!("<p class=\"warning\" role=\"alert\">{said}</p>")),
            "{fields}: {body}"
        );
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
    }
    // A trusted key that published no key for sealed records.
    let (response, body) = send(
        &app,
        export_form(&token, "seal=recipients&recipients=Aigerim"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let fingerprint = qoima_core::fixtures::author(1).public().fingerprint();
    assert!(
        body.contains(&format!(
            "No key for sealed records from {fingerprint} has reached this archive yet."
        )),
        "{body}"
    );
    // What was chosen is shown again.
    assert!(body.contains("value=\"Aigerim\""), "{body}");
}

#[tokio::test]
async fn a_sealed_file_opens_only_with_its_passphrase() {
    let (_archive, app, token) = app();
    let sealed = exported(
        &app,
        &token,
        "seal=passphrase&passphrase=%D0%BA%D1%96%D0%BB%D1%82&passphrase2=%D0%BA%D1%96%D0%BB%D1%82",
    )
    .await;
    assert!(qoima_store::sealed_bundle::is_sealed_bundle(&sealed));
    let to = receiver();
    let (_, body) = send(&to.app, upload(&to.token, None, &[("s.qb", &sealed)])).await;
    assert!(body.contains("This file is sealed with a passphrase. Type the passphrase in the form and choose the file again."), "{body}");
    let (_, body) = send(
        &to.app,
        upload(&to.token, Some("wrong"), &[("s.qb", &sealed)]),
    )
    .await;
    assert!(body.contains("The passphrase does not open this sealed file (or the file was altered). Nothing of it was kept."), "{body}");
    assert_eq!(record_count(&to.app, &to.token).await, 0);
    let (_, body) = send(
        &to.app,
        upload(&to.token, Some("кілт"), &[("s.qb", &sealed)]),
    )
    .await;
    assert!(body.contains("<li>4 new records kept</li>"), "{body}");
}

#[tokio::test]
async fn damaged_files_each_say_why_and_nothing_already_held_is_lost() {
    let (_archive, app, token) = app();
    let bundle = exported(&app, &token, "seal=none").await;
    let to = receiver();
    send(&to.app, upload(&to.token, None, &[("good.qb", &bundle)])).await;
    assert_eq!(record_count(&to.app, &to.token).await, 4);

    // A byte of the last record altered: that record is refused, the others verify.
    let mut altered = bundle.clone();
    let at = altered.len() - 20;
    altered[at] ^= 0x55;
    // Cut short inside the last record.
    let truncated = bundle[..bundle.len() - 20].to_vec();
    let garbage = b"this is not a bundle at all".to_vec();
    let (response, body) = send(
        &to.app,
        upload(
            &to.token,
            None,
            &[
                ("altered.qb", &altered),
                ("cut.qb", &truncated),
                ("notes.txt", &garbage),
            ],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let files = sections(&body);
    assert_eq!(files.len(), 3, "{body}");

    assert!(files[0].contains("<li>1 item refused</li>"), "{body}");
    assert!(
        files[0].contains("<li>3 records already held here</li>"),
        "{body}"
    );
    assert!(
        files[0].contains("Item 3 (record ")
            && files[0].contains(
                "item 3: content does not match its hash in the manifest (corrupted or altered)"
            ),
        "{body}"
    );
    assert!(!files[0].contains("Every item verified."));

    assert!(
        files[1].contains(
            "The file is damaged: cut short or altered. The 3 records checked before the damage are kept; the rest of the file was not read."
        ),
        "{body}"
    );
    assert!(
        files[1].contains("truncated: the file ends inside"),
        "{body}"
    );

    assert!(
        files[2].contains(
            "This file is not a qoima bundle, or it was altered: its beginning does not verify. Nothing of it was kept."
        ),
        "{body}"
    );
    assert_eq!(record_count(&to.app, &to.token).await, 4, "nothing lost");
}

#[tokio::test]
async fn an_upload_over_its_bounds_is_refused_with_the_bound() {
    let (_archive, app, token) = app();
    let bundle = exported(&app, &token, "seal=none").await;

    // Larger in all than the bound: refused before anything is read.
    let to = receiver_with(DropLimits {
        files: 2,
        file_bytes: 3_000_000,
        total_bytes: 4_000_000,
    });
    let mut request = upload(&to.token, None, &[("jan.qb", &bundle)]);
    request
        .headers_mut()
        .insert("content-length", 4_000_001.into());
    let (response, body) = send(&to.app, request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body.contains("The files together are larger than 4 MB. Nothing was read. Take them in a few at a time."),
        "{body}"
    );
    assert_eq!(record_count(&to.app, &to.token).await, 0);

    // More files than the bound: the others are not read.
    let (_, body) = send(
        &to.app,
        upload(
            &to.token,
            None,
            &[("1.qb", &bundle), ("2.qb", &bundle), ("3.qb", &bundle)],
        ),
    )
    .await;
    let files = sections(&body);
    assert_eq!(files.len(), 3, "{body}");
    assert!(files[0].contains("<li>4 new records kept</li>"));
    assert!(files[1].contains("<li>4 records already held here</li>"));
    assert!(
        files[2].contains("Not read: at most 2 files are taken at once. Choose it again."),
        "{body}"
    );

    // A file over the bound on one file.
    let small = receiver_with(DropLimits {
        files: 2,
        file_bytes: bundle.len() as u64 / 2,
        total_bytes: 4_000_000,
    });
    let (_, body) = send(
        &small.app,
        upload(&small.token, None, &[("jan.qb", &bundle)]),
    )
    .await;
    assert!(
        body.contains("The file is larger than 1 MB and was not read to its end."),
        "{body}"
    );
    assert!(record_count(&small.app, &small.token).await < 4);
}

#[tokio::test]
async fn posts_from_elsewhere_change_nothing() {
    let (_archive, app, token) = app();
    let bundle = exported(&app, &token, "seal=none").await;
    let to = receiver();

    let mut no_cookie = upload(&to.token, None, &[("jan.qb", &bundle)]);
    no_cookie.headers_mut().remove("cookie");
    let (response, _) = send(&to.app, no_cookie).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let mut foreign = upload(&to.token, None, &[("jan.qb", &bundle)]);
    foreign
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let (response, _) = send(&to.app, foreign).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(record_count(&to.app, &to.token).await, 0);
    assert_eq!(to.told.0.load(Ordering::SeqCst), 0);

    // Nor does the archive leave without the cookie or from another origin.
    let mut no_cookie = export_form(&token, "seal=none");
    no_cookie.headers_mut().remove("cookie");
    let (response, bytes) = send_bytes(&app, no_cookie).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("content-disposition").is_none());
    assert!(
        !bytes
            .windows(bundle.len().min(64))
            .any(|w| w == &bundle[..bundle.len().min(64)])
    );
    let mut foreign = export_form(&token, "seal=none");
    foreign
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let (response, _) = send_bytes(&app, foreign).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("content-disposition").is_none());
}
