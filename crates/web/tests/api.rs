//! `/api/v1` answers in the shapes `qoima list --json` and `qoima show --json` print.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::{app, get, header, send};
use serde_json::{Value, json};

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn records_are_listed_as_the_cli_lists_them() {
    let (archive, app, token) = app();
    let (response, body) = send(&app, get("/api/v1/records", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(
        header(&response, "content-security-policy"),
        qoima_web::security::CSP
    );
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        keys(&page),
        [
            "has_more",
            "not_yet_searchable",
            "page",
            "page_size",
            "records"
        ]
    );
    assert_eq!(page["not_yet_searchable"], 0);
    assert_eq!(page["page"], 0);
    assert_eq!(page["page_size"], 50);
    assert_eq!(page["has_more"], false);
    let records = page["records"].as_array().unwrap();
    let ids: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let newest_first: Vec<String> = archive
        .records
        .iter()
        .rev()
        .map(|r| r.id().to_hex())
        .collect();
    assert_eq!(ids, newest_first);
    // Exactly the fields of `qoima list --json` (crates/cli/src/output.rs `summary_json`).
    let first_testimony = &records[1];
    let trusted = archive.trusted.public();
    assert_eq!(
        *first_testimony,
        json!({
            "id": archive.records[2].id().to_hex(),
            "kind": "testimony",
            "author": trusted.to_hex(),
            "author_fingerprint": trusted.fingerprint().to_string(),
            "author_trust": {"trust": "trusted", "name": "Aigerim"},
            "seq": 3,
            "created_at": qoima_core::format_ms(archive.records[2].body().created.unix_ms),
            "title": "Свидетельство 3",
            "suspect": false,
        })
    );
    assert_eq!(records[0]["author_trust"], json!({"trust": "unknown"}));
}

#[tokio::test]
async fn filters_and_their_errors() {
    let (_archive, app, token) = app();
    let (_, body) = send(&app, get("/api/v1/records?kind=incident", &token)).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
    assert_eq!(page["records"][0]["title"], "Разгон у акимата");

    let (_, body) = send(&app, get("/api/v1/records?author=Aigerim", &token)).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["records"].as_array().unwrap().len(), 3);

    let (response, body) = send(&app, get("/api/v1/records?kind=poem", &token)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "bad_request", "message": "unknown kind \"poem\""})
    );
    let (response, _) = send(&app, get("/api/v1/records?page=100000", &token)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // A query past the form's 200 characters is cut there: what follows is not searched.
    let encoded = |text: &str| -> String { text.bytes().map(|b| format!("%{b:02X}")).collect() };
    let words = format!("акимата{} несуществующее", " акимата".repeat(25));
    assert!(words.chars().count() > qoima_web::reading::WORDS_MAX + 10);
    let query = |words: &str| format!("/api/v1/records?q={}", encoded(words));
    let (response, body) = send(&app, get(&query(&words), &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        page["records"].as_array().unwrap().len(),
        1,
        "the cut part unsearched"
    );
    let (_, body) = send(&app, get(&query("акимата несуществующее"), &token)).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        page["records"].as_array().unwrap().len(),
        0,
        "every word counts"
    );
}

#[tokio::test]
async fn a_record_is_shown_as_the_cli_shows_it() {
    let (archive, app, token) = app();
    let record = &archive.records[3];
    let (response, body) = send(
        &app,
        get(
            &format!("/api/v1/records/{}", &record.id().to_hex()[..10]),
            &token,
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = serde_json::from_str(&body).unwrap();
    // Exactly the fields of `qoima show --json` (crates/cli/src/commands/show.rs) for a
    // record without a sealed part.
    assert_eq!(
        keys(&view),
        [
            "attachments",
            "author",
            "author_fingerprint",
            "author_trust",
            "created_at",
            "id",
            "kind",
            "prev",
            "provenance",
            "record",
            "seq",
            "signature",
            "stored_at",
            "suspect",
            "title"
        ]
    );
    assert_eq!(view["id"], record.id().to_hex());
    assert_eq!(view["kind"], "incident");
    assert_eq!(view["signature"], "valid");
    assert_eq!(view["prev"], Value::Null);
    assert_eq!(view["attachments"], json!([{"state": "missing"}]));
    assert_eq!(view["record"], serde_json::to_value(record.body()).unwrap());
    let provenance = view["provenance"].as_array().unwrap();
    assert_eq!(provenance.len(), 1);
    assert_eq!(
        keys(&provenance[0]),
        ["bundle", "origin", "received_at", "source"]
    );
    assert_eq!(provenance[0]["source"], "local");
}

#[tokio::test]
async fn an_unknown_record_is_a_json_404() {
    let (_archive, app, token) = app();
    let (response, body) = send(&app, get("/api/v1/records/ffffffff", &token)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "not_found");
    let (response, body) = send(&app, get("/api/v1/records/xy", &token)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "bad_request");
}
