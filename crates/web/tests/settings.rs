//! The settings page: the saved policy shown, saved by its form, every wrong value
//! refused with its message and nothing saved, and no change without the cookie or from
//! another origin.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, PORT, archive, get, header, send};
use qoima_store::{Acceptance, ArchiveKey, BlobPolicy, Policy, Quotas, Store};
use qoima_web::{Ui, UiToken, router};

const GOOD: &str = "accept=trusted&records_per_hour=20&megabytes_per_author=5&unknown_per_hour=0\
    &fetch_up_to=269&blob_quota=0&budget=0";
/// The attachment fields as the page shows them for the default policy.
const ATTACHMENTS: &str = "&fetch_up_to=269&blob_quota=0&budget=0";

fn app() -> (common::Archive, axum::Router, UiToken) {
    let (archive, store) = archive();
    let token = UiToken::generate().unwrap();
    (archive, router(Ui::new(store, token.clone()), PORT), token)
}

/// The policy saved in the archive, read through a connection of its own.
fn saved_policy(archive: &common::Archive) -> Policy {
    Store::open(archive.dir.path(), &ArchiveKey::from_bytes([7; 32]))
        .unwrap()
        .policy()
        .unwrap()
}

/// The attachment policy saved in the archive, read through a connection of its own.
fn saved_blob_policy(archive: &common::Archive) -> BlobPolicy {
    Store::open(archive.dir.path(), &ArchiveKey::from_bytes([7; 32]))
        .unwrap()
        .blob_policy()
        .unwrap()
}

/// A POST of `form` from the interface's own page, in `lang`.
fn post(form: &str, token: Option<&UiToken>, origin: &str, lang: &str) -> Request<Body> {
    let mut request = Request::post("/settings")
        .header("host", HOST)
        .header("origin", origin)
        .header("accept-language", lang)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(token) = token {
        request = request.header("cookie", format!("qoima_ui_4271={}", token.as_str()));
    }
    request.body(Body::from(form.to_owned())).unwrap()
}

#[tokio::test]
async fn the_page_shows_the_saved_policy_and_explains_each_setting() {
    let (_archive, app, token) = app();
    let (response, body) = send(&app, get("/settings?lang=en", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("<h1>Settings</h1>"), "{body}");
    assert!(
        body.contains("<input type=\"radio\" name=\"accept\" value=\"open\" checked>"),
        "{body}"
    );
    assert!(body.contains("value=\"10000\""), "{body}");
    assert!(body.contains("value=\"269\""), "{body}");
    assert!(body.contains("value=\"50000\""), "{body}");
    assert!(
        body.contains("<form method=\"post\" action=\"/settings\">"),
        "{body}"
    );
    // Without a node, what only the node knows is said to be unknown.
    assert!(
        body.contains(
            "runs without a node: the attachment settings above apply when a node starts"
        ),
        "{body}"
    );
    assert!(body.contains("The key is never shown"), "{body}");
    for lang in ["ru", "kk"] {
        let (_, body) = send(&app, get(&format!("/settings?lang={lang}"), &token)).await;
        assert!(!body.contains('⟦'), "{body}");
    }
    assert!(
        body.contains("<a href=\"/settings\">Settings</a>"),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/peers\">Peers and sync</a>"),
        "{body}"
    );
}

#[tokio::test]
async fn saving_changes_the_stored_policy() {
    let (archive, app, token) = app();
    let (response, _) = send(
        &app,
        post(GOOD, Some(&token), "http://127.0.0.1:4271", "en"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&response, "location"), "/settings?saved=1");
    assert_eq!(
        saved_policy(&archive),
        Policy {
            accept: Acceptance::Trusted,
            quotas: Quotas {
                records_per_hour: Some(20),
                bytes_per_author: Some(5_000_000),
                unknown_per_hour: None,
            },
        }
    );
    let (_, body) = send(&app, get("/settings?saved=1&lang=ru", &token)).await;
    assert!(body.contains("Сохранено."), "{body}");
    assert!(
        body.contains("<input type=\"radio\" name=\"accept\" value=\"trusted\" checked>"),
        "{body}"
    );
    assert!(body.contains("value=\"20\""), "{body}");
}

#[tokio::test]
async fn a_size_left_as_shown_keeps_its_exact_value() {
    let (archive, app, token) = app();
    let form = "accept=open&records_per_hour=10000&megabytes_per_author=269&unknown_per_hour=9\
        &fetch_up_to=269&blob_quota=0&budget=0";
    let (response, _) = send(
        &app,
        post(form, Some(&token), "http://127.0.0.1:4271", "en"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let policy = saved_policy(&archive);
    assert_eq!(policy.quotas.bytes_per_author, Some(256 * 1024 * 1024));
    assert_eq!(policy.quotas.unknown_per_hour, Some(9));
    assert_eq!(saved_blob_policy(&archive), BlobPolicy::default());
}

#[tokio::test]
async fn each_wrong_value_is_named_with_its_range_and_nothing_is_saved() {
    let (archive, app, token) = app();
    let cases = [
        (
            "accept=everyone&records_per_hour=20&megabytes_per_author=5&unknown_per_hour=0",
            "en",
            "Whose records are kept: choose one of the two.",
        ),
        (
            "accept=trusted&records_per_hour=1000001&megabytes_per_author=5&unknown_per_hour=0",
            "en",
            "Records per hour from each unknown author: enter a whole number from 0 to 1000000.",
        ),
        (
            "accept=trusted&records_per_hour=20&megabytes_per_author=-5&unknown_per_hour=0",
            "ru",
            "Мегабайт записей от каждого неизвестного автора: введите целое число от 0 до 1000000.",
        ),
        (
            "accept=trusted&records_per_hour=20&megabytes_per_author=5&unknown_per_hour=много",
            "kk",
            "Барлық белгісіз авторлардан бірге сағатына жазба саны: 0-ден 10000000 дейінгі бүтін сан енгізіңіз.",
        ),
        (
            "accept=trusted&records_per_hour=20&megabytes_per_author=5",
            "en",
            "Records per hour from all unknown authors together: enter a whole number from 0 to 10000000.",
        ),
    ];
    for (form, lang, message) in cases {
        let form = &format!("{form}{ATTACHMENTS}");
        let (response, body) = send(
            &app,
            post(form, Some(&token), "http://127.0.0.1:4271", lang),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form}");
        assert!(
            body.contains(&format!("<li>{message}</li>")),
            "{form}: {body}"
        );
        assert_eq!(body.matches("<li>").count() - nav_items(&body), 1, "{body}");
        assert_eq!(saved_policy(&archive), Policy::default(), "{form}");
    }
    // What was typed stays in the form, to be corrected.
    let (_, body) = send(
        &app,
        post(
            &format!("accept=trusted&records_per_hour=abc&megabytes_per_author=5&unknown_per_hour=0{ATTACHMENTS}"),
            Some(&token),
            "http://127.0.0.1:4271",
            "en",
        ),
    )
    .await;
    assert!(body.contains("value=\"abc\""), "{body}");
    assert!(body.contains("Nothing was saved:"), "{body}");
}

/// The `<li>` of the menu and the language switcher.
fn nav_items(body: &str) -> usize {
    let main = body.find("<main").unwrap();
    body[..main].matches("<li>").count()
}

#[tokio::test]
async fn a_form_too_large_is_refused_and_nothing_saved() {
    let (archive, app, token) = app();
    let form = format!("{GOOD}&padding={}", "x".repeat(8 * 1024));
    let (response, _) = send(
        &app,
        post(&form, Some(&token), "http://127.0.0.1:4271", "en"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(saved_policy(&archive), Policy::default());
}

#[tokio::test]
async fn without_the_cookie_or_from_another_origin_nothing_changes() {
    let (archive, app, token) = app();
    let (response, _) = send(&app, post(GOOD, None, "http://127.0.0.1:4271", "en")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(saved_policy(&archive), Policy::default());

    let (response, _) = send(&app, post(GOOD, Some(&token), "http://evil.example", "en")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(saved_policy(&archive), Policy::default());
}

#[tokio::test]
async fn a_saved_policy_applies_at_once_to_an_archive_already_open_elsewhere() {
    let (archive, app, token) = app();
    // As the running node holds it: opened before the change, kept open.
    let mut node_store = Store::open(archive.dir.path(), &ArchiveKey::from_bytes([7; 32])).unwrap();
    let (response, _) = send(
        &app,
        post(GOOD, Some(&token), "http://127.0.0.1:4271", "en"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // A peer brings records of an author nobody here vouches for: now declined.
    let unknown = qoima_core::fixtures::author(9);
    let records = qoima_core::fixtures::chain(&unknown, 2, 80);
    let bundle = qoima_core::fixtures::bundle(&unknown, &records, &[]);
    let report = node_store
        .import_network_bundle(&bundle, qoima_store::Source::Peer("peer".into()))
        .unwrap();
    assert_eq!(report.records_new, 0);
    assert_eq!(
        report.declined,
        vec![(qoima_store::Declined::NotTrusted, 2)]
    );
}

#[tokio::test]
async fn saving_each_attachment_field_changes_the_stored_attachment_policy() {
    let (archive, app, token) = app();
    let base = "accept=open&records_per_hour=10000&megabytes_per_author=269&unknown_per_hour=50000";
    let steps = [
        (
            "fetch_up_to=2&blob_quota=0&budget=0",
            BlobPolicy {
                fetch_up_to: 2_000_000,
                quota: None,
                budget: None,
            },
        ),
        (
            "fetch_up_to=2&blob_quota=5000&budget=0",
            BlobPolicy {
                fetch_up_to: 2_000_000,
                quota: Some(5_000_000_000),
                budget: None,
            },
        ),
        (
            "fetch_up_to=2&blob_quota=5000&budget=300",
            BlobPolicy {
                fetch_up_to: 2_000_000,
                quota: Some(5_000_000_000),
                budget: Some(300_000_000),
            },
        ),
        (
            "fetch_up_to=0&blob_quota=0&budget=300",
            BlobPolicy {
                fetch_up_to: 0,
                quota: None,
                budget: Some(300_000_000),
            },
        ),
    ];
    for (fields, expected) in steps {
        let form = format!("{base}&{fields}");
        let (response, _) = send(
            &app,
            post(&form, Some(&token), "http://127.0.0.1:4271", "en"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{form}");
        assert_eq!(saved_blob_policy(&archive), expected, "{form}");
        // The acceptance policy, left as shown, is unchanged.
        assert_eq!(saved_policy(&archive), Policy::default(), "{form}");
    }
    let (_, body) = send(&app, get("/settings?saved=1&lang=en", &token)).await;
    assert!(
        body.contains("name=\"fetch_up_to\" inputmode=\"numeric\" value=\"0\""),
        "{body}"
    );
    assert!(
        body.contains("name=\"budget\" inputmode=\"numeric\" value=\"300\""),
        "{body}"
    );
}

#[tokio::test]
async fn each_wrong_attachment_value_is_named_and_nothing_is_saved() {
    let (archive, app, token) = app();
    let base = "accept=trusted&records_per_hour=20&megabytes_per_author=5&unknown_per_hour=0";
    let cases = [
        (
            "fetch_up_to=1000001&blob_quota=0&budget=0",
            "en",
            "Attachments fetched without asking, up to this many megabytes each: enter a whole number from 0 to 1000000.",
        ),
        (
            "fetch_up_to=2&blob_quota=100000001&budget=0",
            "ru",
            "Мегабайт для всех вложений: введите целое число от 0 до 100000000.",
        ),
        (
            "fetch_up_to=2&blob_quota=0&budget=1,5",
            "kk",
            "Түйін бір іске қосылуда ала алатын тіркемелердің мегабайты: 0-ден 1000000 дейінгі бүтін сан енгізіңіз.",
        ),
        (
            "fetch_up_to=-1&blob_quota=0&budget=0",
            "en",
            "Attachments fetched without asking, up to this many megabytes each: enter a whole number from 0 to 1000000.",
        ),
        (
            "fetch_up_to=2&blob_quota=0",
            "en",
            "Megabytes of attachments each run of the node may receive: enter a whole number from 0 to 1000000.",
        ),
    ];
    for (fields, lang, message) in cases {
        let form = format!("{base}&{fields}");
        let (response, body) = send(
            &app,
            post(&form, Some(&token), "http://127.0.0.1:4271", lang),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form}");
        assert!(
            body.contains(&format!("<li>{message}</li>")),
            "{form}: {body}"
        );
        assert_eq!(body.matches("<li>").count() - nav_items(&body), 1, "{body}");
        // Neither policy changed, though the other fields were right.
        assert_eq!(saved_blob_policy(&archive), BlobPolicy::default(), "{form}");
        assert_eq!(saved_policy(&archive), Policy::default(), "{form}");
    }
    // What was typed stays in the form, to be corrected.
    let form = format!("{base}&fetch_up_to=2&blob_quota=lots&budget=0");
    let (_, body) = send(
        &app,
        post(&form, Some(&token), "http://127.0.0.1:4271", "en"),
    )
    .await;
    assert!(body.contains("value=\"lots\""), "{body}");
    assert!(body.contains("value=\"2\""), "{body}");
}

#[tokio::test]
async fn the_page_says_what_lowering_a_limit_does_and_which_setting_wins() {
    let (_archive, app, token) = app();
    let (_, body) = send(&app, get("/settings?lang=en", &token)).await;
    assert!(body.contains("Lowering a limit deletes nothing"), "{body}");
    assert!(
        body.contains("replaces the saved value and is saved in its place; an option left out keeps what is saved here"),
        "{body}"
    );
    for (lang, words) in [
        ("ru", "Уменьшение ограничения ничего не удаляет"),
        ("kk", "Шектеуді азайту ештеңені жоймайды"),
    ] {
        let (_, body) = send(&app, get(&format!("/settings?lang={lang}"), &token)).await;
        assert!(body.contains(words), "{body}");
    }
}
