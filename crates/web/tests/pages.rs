//! The archive and record pages as a browser gets them, in each language.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, app, get, header, send};
use std::time::Duration;
use tower::ServiceExt as _;

/// Where each record's title first appears on the page.
fn positions(body: &str, titles: &[&str]) -> Vec<usize> {
    titles
        .iter()
        .map(|title| {
            body.find(&format!("<bdi>{title}</bdi>"))
                .unwrap_or_else(|| panic!("{title} missing from {body}"))
        })
        .collect()
}

#[tokio::test]
async fn the_archive_lists_records_newest_first_in_each_language() {
    let (_archive, app, token) = app();
    let newest_first = [
        "Разгон у акимата",
        "Свидетельство 3",
        "Свидетельство 2",
        "Свидетельство 1",
    ];
    for (lang, heading, count, kind, trusted) in [
        (
            "en",
            "<h1>Archive</h1>",
            "4 records",
            "Testimony",
            "trusted: Aigerim",
        ),
        (
            "ru",
            "<h1>Архив</h1>",
            "4 записи",
            "Свидетельство",
            "доверенный: Aigerim",
        ),
        (
            "kk",
            "<h1>Мұрағат</h1>",
            "4 жазба",
            "Куәлік",
            "сенімді: Aigerim",
        ),
    ] {
        let (response, body) = send(&app, get(&format!("/?lang={lang}"), &token)).await;
        assert_eq!(response.status(), StatusCode::OK, "{lang}");
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{body}");
        assert!(body.contains(heading), "{lang}: {body}");
        assert!(body.contains(count), "{lang}: {body}");
        assert!(body.contains(kind), "{lang}: {body}");
        assert!(body.contains(trusted), "{lang}: {body}");
        assert!(
            !body.contains('⟦'),
            "a message is missing in {lang}: {body}"
        );
        let found = positions(&body, &newest_first);
        assert!(found.is_sorted(), "{lang}: not newest first: {found:?}");
        // The switcher and the lock button are there.
        for code in ["kk", "ru", "en"] {
            assert!(body.contains(&format!("href=\"?lang={code}\"")), "{body}");
        }
        assert!(body.contains("<form class=\"lock\" method=\"post\" action=\"/lock\">"));
        // The choice is remembered.
        assert_eq!(
            header(&response, "set-cookie"),
            format!("qoima_lang={lang}; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000")
        );
    }
}

#[tokio::test]
async fn the_language_comes_from_the_cookie_then_accept_language() {
    let (_archive, app, token) = app();
    let request = Request::get("/")
        .header("host", HOST)
        .header(
            "cookie",
            format!("qoima_lang=kk; qoima_ui_4271={}", token.as_str()),
        )
        .header("accept-language", "ru")
        .body(Body::empty())
        .unwrap();
    let (response, body) = send(&app, request).await;
    assert!(body.contains("<h1>Мұрағат</h1>"), "{body}");
    assert!(response.headers().get("set-cookie").is_none());
    let request = Request::get("/")
        .header("host", HOST)
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .header("accept-language", "de, ru;q=0.8")
        .body(Body::empty())
        .unwrap();
    let (_, body) = send(&app, request).await;
    assert!(body.contains("<h1>Архив</h1>"), "{body}");
}

#[tokio::test]
async fn the_archive_filters_by_kind_and_searches() {
    let (_archive, app, token) = app();
    let (_, body) = send(&app, get("/?kind=incident&lang=en", &token)).await;
    assert!(body.contains("On this page: 1 record<"), "{body}");
    assert!(body.contains("<bdi>Разгон у акимата</bdi>"));
    assert!(!body.contains("<bdi>Свидетельство"));
    assert!(body.contains("<option value=\"incident\" selected>Incident</option>"));

    let (_, body) = send(
        &app,
        get("/?q=%D0%B0%D0%BA%D0%B8%D0%BC%D0%B0%D1%82&lang=ru", &token),
    )
    .await;
    assert!(body.contains("1 запись"), "{body}");
    assert!(body.contains("<bdi>Разгон у акимата</bdi>"));
    assert!(body.contains("value=\"акимат\""), "{body}");

    let (_, body) = send(
        &app,
        get(
            "/?q=%D0%BF%D0%BB%D0%BE%D1%89%D0%B0%D0%B4%D1%8C&kind=testimony&lang=ru",
            &token,
        ),
    )
    .await;
    assert!(body.contains("3 записи"), "{body}");
    assert!(!body.contains("Разгон"), "{body}");

    // Since a day: the incident is claimed a day after the testimonies.
    let (_, body) = send(&app, get("/?since=2022-01-06&lang=en", &token)).await;
    assert!(body.contains("On this page: 1 record<"), "{body}");
    assert!(body.contains("<bdi>Разгон у акимата</bdi>"));
    assert!(body.contains("value=\"2022-01-06\""), "{body}");
    let (_, body) = send(
        &app,
        get(
            "/?since=2022-01-06&q=%D0%BF%D0%BB%D0%BE%D1%89%D0%B0%D0%B4%D1%8C&lang=en",
            &token,
        ),
    )
    .await;
    assert!(body.contains("On this page: 1 record<"), "{body}");
    let (_, body) = send(&app, get("/?since=yesterday&lang=en", &token)).await;
    assert!(
        body.contains("The date in the address is not understood"),
        "{body}"
    );
    assert!(body.contains("4 records"), "{body}");

    let (response, body) = send(&app, get("/?kind=poem&lang=en", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        body.contains("The kind in the address is not known"),
        "{body}"
    );
    assert!(body.contains("4 records"), "{body}");
}

#[tokio::test]
async fn the_archive_filters_by_place_in_any_form_of_its_name() {
    let (_archive, app, token) = app();
    // "Алмате": the incident's place is "Алматы, площадь Республики".
    let almate = "%D0%90%D0%BB%D0%BC%D0%B0%D1%82%D0%B5";
    let (_, body) = send(&app, get(&format!("/?place={almate}&lang=ru"), &token)).await;
    assert!(body.contains("1 запись"), "{body}");
    assert!(body.contains("<bdi>Разгон у акимата</bdi>"), "{body}");
    assert!(body.contains("name=\"place\" value=\"Алмате\""), "{body}");

    // Every record carries "almaty" as a tag, none in its place: words find them all,
    // the place filter none.
    let (_, body) = send(&app, get("/?q=almaty&lang=en", &token)).await;
    assert!(body.contains("On this page: 4 records<"), "{body}");
    let (_, body) = send(&app, get("/?place=almaty&lang=en", &token)).await;
    assert!(body.contains("On this page: 0 records<"), "{body}");

    // With words and kind, each narrowing the others.
    let (_, body) = send(
        &app,
        get(
            &format!("/?place={almate}&q=almaty&kind=incident&lang=en"),
            &token,
        ),
    )
    .await;
    assert!(body.contains("On this page: 1 record<"), "{body}");
    let (_, body) = send(
        &app,
        get(&format!("/?place={almate}&kind=testimony&lang=en"), &token),
    )
    .await;
    assert!(body.contains("On this page: 0 records<"), "{body}");

    // A filter not understood is said, and the place still applies.
    let (_, body) = send(
        &app,
        get(&format!("/?place={almate}&kind=poem&lang=en"), &token),
    )
    .await;
    assert!(
        body.contains("The kind in the address is not known"),
        "{body}"
    );
    assert!(body.contains("On this page: 1 record<"), "{body}");

    // The API takes the same parameter.
    let (response, body) = send(
        &app,
        get(&format!("/api/v1/records?place={almate}"), &token),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["records"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(page["records"][0]["title"], "Разгон у акимата");
}

#[tokio::test]
async fn an_authors_fingerprint_narrows_the_archive_to_them_and_back() {
    let (archive, app, token) = app();
    let fingerprint = archive.stranger.public().fingerprint().to_string();
    let (_, body) = send(&app, get("/?lang=en", &token)).await;
    let link = format!("<a class=\"fingerprint\" href=\"/?author={fingerprint}\"");
    assert!(body.contains(&link), "{body}");

    let (_, body) = send(
        &app,
        get(&format!("/?author={fingerprint}&lang=en"), &token),
    )
    .await;
    assert!(body.contains("On this page: 1 record<"), "{body}");
    assert!(
        body.contains(&format!("Only records signed by {fingerprint}.")),
        "{body}"
    );
    // The form keeps the author, so a search stays among their records.
    assert!(
        body.contains(&format!(
            "<input type=\"hidden\" name=\"author\" value=\"{fingerprint}\">"
        )),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/?\">Show every author</a>"),
        "{body}"
    );

    let (_, body) = send(
        &app,
        get(&format!("/?author={fingerprint}&q=almaty&lang=ru"), &token),
    )
    .await;
    assert!(body.contains("1 запись"), "{body}");
    assert!(body.contains("Только записи, подписанные"), "{body}");
    assert!(
        body.contains("href=\"/?q=almaty\">Показать всех авторов"),
        "{body}"
    );
}

#[tokio::test]
async fn the_record_page_shows_the_fingerprint_and_what_a_signature_means() {
    let (archive, app, token) = app();
    let record = &archive.records[3];
    let fingerprint = archive.stranger.public().fingerprint().to_string();
    let (response, body) = send(
        &app,
        get(
            &format!("/records/{}?lang=en", record.id().to_hex()),
            &token,
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!body.contains('⟦'), "{body}");
    assert!(
        body.contains("<h1><bdi>Разгон у акимата</bdi></h1>"),
        "{body}"
    );
    assert!(body.contains("<bdi>Толпу разогнали у акимата.</bdi>"));
    assert!(body.contains("<bdi>Алматы, площадь Республики</bdi>"));
    assert!(body.contains(&format!(
        "<a class=\"fingerprint\" href=\"/?author={fingerprint}\">{fingerprint}</a>"
    )));
    assert!(body.contains(&format!(
        "Signature valid: key {fingerprint} vouched for exactly these bytes."
    )));
    assert!(
        body.contains("A signature shows who vouched for a record, not that what it says is true.")
    );
    assert!(body.contains("unknown key"));
    assert!(
        body.contains("<bdi>photo.jpg</bdi> · <bdi>image/jpeg</bdi> · 15 bytes · not here yet")
    );
    assert!(body.contains("written on this device"));
    assert!(body.contains("<dd>2022-01-06 12:35 UTC</dd>"), "{body}");

    // The fingerprint links to the author's records.
    let (_, list) = send(
        &app,
        get(&format!("/?author={fingerprint}&lang=en"), &token),
    )
    .await;
    assert!(list.contains("On this page: 1 record<"), "{list}");
    assert!(list.contains("<bdi>Разгон у акимата</bdi>"));

    let (_, body) = send(
        &app,
        get(
            &format!("/records/{}?lang=ru", record.id().to_hex()),
            &token,
        ),
    )
    .await;
    assert!(!body.contains('⟦'), "{body}");
    assert!(body.contains(&format!(
        "Подпись верна: ключ {fingerprint} поручился именно за эти байты."
    )));
    assert!(body.contains(
        "Подпись показывает, кто поручился за запись, а не то, что сказанное в ней правда."
    ));
    assert!(body.contains("15 байт"), "{body}");

    let (_, body) = send(
        &app,
        get(
            &format!("/records/{}?lang=kk", &record.id().to_hex()[..8]),
            &token,
        ),
    )
    .await;
    assert!(!body.contains('⟦'), "{body}");
    assert!(body.contains(&format!(
        "Қолтаңба жарамды: {fingerprint} кілті дәл осы байттарға кепілдік берді."
    )));
}

#[tokio::test]
async fn an_unknown_record_is_a_translated_not_found() {
    let (_archive, app, token) = app();
    let (response, body) = send(&app, get("/records/ffffffff?lang=kk", &token)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body.contains("Бұл мұрағатта мұндай жазба жоқ"), "{body}");
    let (response, body) = send(&app, get("/records/zz?lang=ru", &token)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body.contains("В этом архиве нет такой записи"), "{body}");
}

#[tokio::test]
async fn html_in_a_record_is_shown_as_text() {
    let (archive, store) = common::archive();
    let mut store = store;
    let author = qoima_core::fixtures::author(9);
    let mut body = qoima_core::fixtures::body(&author, 1, None, "<script>alert(1)</script>");
    body.title = "<img src=x onerror=alert(1)>".into();
    let record = qoima_core::VerifiedRecord::sign(&body, &author).unwrap();
    store.insert_local(&record).unwrap();
    let token = qoima_web::UiToken::generate().unwrap();
    let app = qoima_web::router(qoima_web::Ui::new(store, token.clone()), common::PORT);
    let (_, page) = send(
        &app,
        get(&format!("/records/{}", record.id().to_hex()), &token),
    )
    .await;
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    drop(archive);
}

#[tokio::test]
async fn an_image_that_is_here_is_previewed_and_nothing_else_is_served() {
    let (archive, mut store) = common::archive();
    let image = b"\x89PNG\r\n\x1a\n not really a picture".to_vec();
    let text = b"plain notes".to_vec();
    store.add_blob_bytes(&image).unwrap();
    store.add_blob_bytes(&text).unwrap();
    let author = qoima_core::fixtures::author(5);
    let mut body = qoima_core::fixtures::body(&author, 1, None, "Фото с места.");
    body.attachments = vec![
        qoima_core::fixtures::attachment(&image, "image/png", "square.png"),
        qoima_core::fixtures::attachment(&text, "text/plain", "notes.txt"),
    ];
    let record = qoima_core::VerifiedRecord::sign(&body, &author).unwrap();
    store.insert_local(&record).unwrap();
    let token = qoima_web::UiToken::generate().unwrap();
    let app = qoima_web::router(qoima_web::Ui::new(store, token.clone()), common::PORT);
    let id = record.id().to_hex();

    let (_, page) = send(&app, get(&format!("/records/{id}?lang=en"), &token)).await;
    assert!(
        page.contains(&format!(
            "<img class=\"preview\" src=\"/records/{id}/attachments/0\" alt=\"Preview of the attached image\">"
        )),
        "{page}"
    );
    assert!(!page.contains("attachments/1"), "{page}");
    assert!(
        page.contains("<bdi>notes.txt</bdi> · <bdi>text/plain</bdi> · 11 bytes · here"),
        "{page}"
    );

    let (response, body) =
        common::send_bytes(&app, get(&format!("/records/{id}/attachments/0"), &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(body, image);
    for n in ["1", "2"] {
        let (response, _) =
            send(&app, get(&format!("/records/{id}/attachments/{n}"), &token)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{n}");
    }
    // An image not here yet has no preview.
    let missing = archive.records[3].id().to_hex();
    let (response, _) = send(
        &app,
        get(&format!("/records/{missing}/attachments/0"), &token),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // And nothing without the cookie.
    let request = Request::get(format!("/records/{id}/attachments/0"))
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn previews_are_read_a_few_at_a_time_and_the_rest_wait_their_turn() {
    let (_archive, mut store) = common::archive();
    let image = b"\x89PNG\r\n\x1a\n not really a picture".to_vec();
    store.add_blob_bytes(&image).unwrap();
    let author = qoima_core::fixtures::author(5);
    let mut body = qoima_core::fixtures::body(&author, 1, None, "Фото с места.");
    body.attachments = vec![qoima_core::fixtures::attachment(
        &image,
        "image/png",
        "square.png",
    )];
    let record = qoima_core::VerifiedRecord::sign(&body, &author).unwrap();
    store.insert_local(&record).unwrap();
    let token = qoima_web::UiToken::generate().unwrap();
    let app = qoima_web::router(qoima_web::Ui::new(store, token.clone()), common::PORT);
    let preview = format!("/records/{}/attachments/0", record.id().to_hex());

    // Four previews whose bytes the connection has not taken yet hold every turn.
    let mut held = Vec::new();
    for _ in 0..4 {
        let response = app.clone().oneshot(get(&preview, &token)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        held.push(response);
    }
    let mut fifth = tokio::spawn(app.clone().oneshot(get(&preview, &token)));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut fifth)
            .await
            .is_err(),
        "a fifth preview was read while four held their turns"
    );
    // One is taken by its connection: the fifth gets its turn.
    let first = held.pop().unwrap();
    let bytes = axum::body::to_bytes(first.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), image.as_slice());
    let fifth = tokio::time::timeout(Duration::from_secs(10), fifth)
        .await
        .expect("the fifth preview got no turn after one was taken")
        .unwrap()
        .unwrap();
    assert_eq!(fifth.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(fifth.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), image.as_slice());
}
