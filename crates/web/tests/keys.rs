//! The keys and trust page: own fingerprints in groups, trusted keys, and trusting or
//! no longer trusting a key, each behind a confirmation.

#![allow(clippy::unwrap_used)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Archive, HOST, PORT, archive, get, send};
use qoima_web::{Ui, UiToken, router};

/// The sample archive with a persona of its own, "Мен".
fn app_with_persona() -> (Archive, Router, UiToken, qoima_core::AuthorKey) {
    let (archive, mut store) = archive();
    let own = store.new_persona("Мен").unwrap().key;
    let token = UiToken::generate().unwrap();
    let app = router(Ui::new(store, token.clone()), PORT);
    (archive, app, token, own)
}

fn post_form(path: &str, token: &UiToken, fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Request::post(path)
        .header("host", HOST)
        .header("origin", format!("http://{HOST}"))
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// The fingerprint as the page shows it large: groups in spans.
fn grouped(fingerprint: qoima_core::Fingerprint) -> String {
    fingerprint
        .to_string()
        .split('-')
        .map(|g| format!("<span class=\"group\">{g}</span> "))
        .collect()
}

async fn keys_page(app: &Router, token: &UiToken) -> String {
    let (response, body) = send(app, get("/keys?lang=en", token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    body
}

#[tokio::test]
async fn own_fingerprints_are_large_in_groups_and_trusted_keys_are_listed() {
    let (archive, app, token, own) = app_with_persona();
    for (lang, title) in [
        ("en", "<h1>Keys &#38; trust</h1>"),
        ("ru", "<h1>Ключи и доверие</h1>"),
        ("kk", "<h1>Кілттер мен сенім</h1>"),
    ] {
        let (response, body) = send(&app, get(&format!("/keys?lang={lang}"), &token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(body.contains(title), "{body}");
        assert!(
            !body.contains('⟦'),
            "a message is missing in {lang}: {body}"
        );
        assert!(body.contains("href=\"/keys\""), "the menu links to it");
    }
    let body = keys_page(&app, &token).await;
    assert!(body.contains("<bdi>Мен</bdi>"), "{body}");
    assert!(body.contains(&grouped(own.fingerprint())), "{body}");
    assert!(body.contains(&own.to_hex()));
    let aigerim = archive
        .trusted
        .public()
        .fingerprint()
        .to_string()
        .replace('-', " ");
    assert!(
        body.contains("<strong><bdi>Aigerim</bdi></strong>"),
        "{body}"
    );
    assert!(body.contains(&format!("{aigerim} ")), "{body}");
    assert!(body.contains("trusted directly, since 20"), "{body}");
}

#[tokio::test]
async fn a_key_is_trusted_only_after_the_comparison_is_confirmed() {
    let (archive, app, token, _) = app_with_persona();
    let stranger = archive.stranger.public();
    let fingerprint = stranger.fingerprint().to_string();

    // First step: shown back, nothing saved.
    let (response, body) = send(
        &app,
        post_form(
            "/keys/trust?lang=en",
            &token,
            &[("key", &fingerprint.to_lowercase()), ("name", "Saule")],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("<h1>Compare before trusting</h1>"), "{body}");
    assert!(body.contains(&grouped(stranger.fingerprint())), "{body}");
    assert!(body.contains(
        "<input type=\"checkbox\" name=\"compared\" value=\"yes\" required> I compared this fingerprint with the person, aloud or on paper, and it is the same."
    ));
    assert!(!keys_page(&app, &token).await.contains("Saule"));

    // Sent without the box ticked: still nothing saved.
    let (response, body) = send(
        &app,
        post_form(
            "/keys/trust?lang=en",
            &token,
            &[
                ("key", &stranger.to_hex()),
                ("name", "Saule"),
                ("step", "confirm"),
            ],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains(
        "Nothing was saved: tick the box once you have compared the fingerprint with the person."
    ));
    assert!(!keys_page(&app, &token).await.contains("Saule"));

    // Confirmed: saved.
    let (response, body) = send(
        &app,
        post_form(
            "/keys/trust?lang=en",
            &token,
            &[
                ("key", &stranger.to_hex()),
                ("name", "Saule"),
                ("step", "confirm"),
                ("compared", "yes"),
            ],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        body.contains(&format!("Trusted Saule: {fingerprint}.")),
        "{body}"
    );
    assert!(body.contains("<strong><bdi>Saule</bdi></strong>"));
}

#[tokio::test]
async fn bad_keys_and_names_are_refused_with_their_reason_and_nothing_is_saved() {
    let (archive, app, token, own) = app_with_persona();
    let before = keys_page(&app, &token).await;
    let unknown = qoima_core::fixtures::author(77)
        .public()
        .fingerprint()
        .to_string();
    let aigerim = archive.trusted.public().fingerprint().to_string();
    let stranger = archive.stranger.public().fingerprint().to_string();
    let own = own.fingerprint().to_string();
    for (key, name, said) in [
        ("", "X", "Paste a fingerprint or a public key."),
        (
            "ABCD-EFGH-IJKL",
            "X",
            "This has 12 characters: a fingerprint has 16 (dashes and spaces aside), a public key 64. Check that nothing was left out.",
        ),
        (
            "ABCD-EFGH-IJKL-MN0!",
            "X",
            "This has characters that are in no fingerprint or key.",
        ),
        (
            &unknown,
            "X",
            "No key with this fingerprint has reached this archive yet. Ask the person for their whole public key and paste it.",
        ),
        (&own, "X", "This is your own key (Мен): it needs no trust."),
        (&aigerim, "X", "You already trust this key, as Aigerim."),
        (
            &stranger,
            "",
            "Give a name of 1 to 64 characters, without line breaks.",
        ),
    ] {
        let (response, body) = send(
            &app,
            post_form(
                "/keys/trust?lang=en",
                &token,
                &[
                    ("key", key),
                    ("name", name),
                    ("step", "confirm"),
                    ("compared", "yes"),
                ],
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{key}");
        assert!(
            body.contains(&format!("<p class=\"warning\" role=\"alert\">{said}")),
            "{key}: {body}"
        );
    }
    assert_eq!(keys_page(&app, &token).await, before, "nothing saved");

    // In Russian, with its plural.
    let (_, body) = send(
        &app,
        post_form(
            "/keys/trust?lang=ru",
            &token,
            &[("key", "ABCD-EFGH-IJKL"), ("name", "X")],
        ),
    )
    .await;
    assert!(
        body.contains("Здесь 12 знаков: в отпечатке их 16"),
        "{body}"
    );
}

#[tokio::test]
async fn trust_is_removed_only_after_confirming() {
    let (archive, app, token, _) = app_with_persona();
    let key = archive.trusted.public().to_hex();
    let (response, body) = send(
        &app,
        post_form("/keys/untrust?lang=en", &token, &[("key", &key)]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("<h1>Stop trusting this key?</h1>"), "{body}");
    assert!(
        keys_page(&app, &token)
            .await
            .contains("<strong><bdi>Aigerim</bdi></strong>")
    );

    let (response, body) = send(
        &app,
        post_form(
            "/keys/untrust?lang=en",
            &token,
            &[("key", &key), ("confirmed", "yes")],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("No longer trusted: Aigerim ("), "{body}");
    assert!(
        !keys_page(&app, &token)
            .await
            .contains("<strong><bdi>Aigerim</bdi></strong>")
    );
}

#[tokio::test]
async fn posts_from_elsewhere_change_no_trust() {
    let (archive, app, token, _) = app_with_persona();
    let fields = [
        ("key", archive.stranger.public().to_hex()),
        ("name", "Saule".to_owned()),
        ("step", "confirm".to_owned()),
        ("compared", "yes".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut no_cookie = post_form("/keys/trust", &token, &fields);
    no_cookie.headers_mut().remove("cookie");
    assert_eq!(
        send(&app, no_cookie).await.0.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut foreign = post_form("/keys/trust", &token, &fields);
    foreign
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert_eq!(send(&app, foreign).await.0.status(), StatusCode::FORBIDDEN);
    let key = archive.trusted.public().to_hex();
    let mut foreign = post_form(
        "/keys/untrust",
        &token,
        &[("key", &key), ("confirmed", "yes")],
    );
    foreign
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert_eq!(send(&app, foreign).await.0.status(), StatusCode::FORBIDDEN);
    let page = keys_page(&app, &token).await;
    assert!(!page.contains("Saule"));
    assert!(page.contains("<strong><bdi>Aigerim</bdi></strong>"));
}

#[tokio::test]
async fn keys_trusted_through_an_endorsement_are_listed_apart_with_who_vouches_and_no_button() {
    let (archive, mut store) = archive();
    // Aigerim, trusted in the sample archive, vouches for Bekzat's key.
    let bekzat = qoima_core::fixtures::author(77);
    let endorsement = qoima_core::fixtures::key_record(
        &archive.trusted,
        4,
        Some(archive.records[2].id()),
        qoima_core::RecordKind::KeyEndorsement,
        qoima_core::Details::KeyEndorsement {
            key: bekzat.public(),
            name: "Бекзат".into(),
            since_ms: 0,
        },
    );
    let bundle = qoima_core::fixtures::bundle(&archive.trusted, &[endorsement], &[]);
    let report = store
        .import_bundle(&bundle[..], qoima_store::Source::File("k.qb".into()))
        .unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    let token = UiToken::generate().unwrap();
    let app = router(Ui::new(store, token.clone()), PORT);

    let body = keys_page(&app, &token).await;
    let endorsed =
        &body[body.find("<h2 id=\"endorsed\">").unwrap()..body.find("<h2 id=\"add\">").unwrap()];
    assert!(
        endorsed.contains("Keys trusted through an endorsement"),
        "{endorsed}"
    );
    assert!(
        endorsed.contains("<strong><bdi>Бекзат</bdi></strong>"),
        "{endorsed}"
    );
    assert!(endorsed.contains("vouched for by Aigerim"), "{endorsed}");
    let fingerprint = bekzat.public().fingerprint().to_string().replace('-', " ");
    assert!(endorsed.contains(&fingerprint), "{endorsed}");
    assert!(
        endorsed.contains("stopping trusting that key removes it"),
        "{endorsed}"
    );
    // Not trusted directly: no button, and not among the keys trusted directly.
    assert!(!endorsed.contains("<form"), "{endorsed}");
    assert!(!body.contains(&bekzat.public().to_hex()), "{body}");
    for (lang, words) in [
        ("ru", "поручился: Aigerim"),
        ("kk", "кепіл болған: Aigerim"),
    ] {
        let (_, body) = send(&app, get(&format!("/keys?lang={lang}"), &token)).await;
        assert!(body.contains(words), "{body}");
    }

    // Stopping trusting Aigerim takes Bekzat off the list too.
    let key = archive.trusted.public().to_hex();
    let (response, _) = send(
        &app,
        post_form(
            "/keys/untrust?lang=en",
            &token,
            &[("key", &key), ("confirmed", "yes")],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = keys_page(&app, &token).await;
    assert!(!body.contains("Бекзат"), "{body}");
    assert!(
        body.contains("No key is trusted through an endorsement."),
        "{body}"
    );
}
