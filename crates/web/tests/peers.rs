//! The peers and sync page and `GET /api/v1/status`, with a node behind the interface
//! that reports a fixed state, one that never answers, and none at all.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use common::{PORT, archive, get, header, send};
use qoima_core::status::{AttachmentLimits, PeerStatus, Status, TransferStatus};
use qoima_web::status::{Pending, STATUS_WAIT};
use qoima_web::{NodeControl, Ui, UiToken, router};

const NODE_ID: &str = "12D3KooWNodeNodeNodeNodeNodeNodeNodeNodeNodeSELF0001";
const PEER_A: &str = "12D3KooWPeerAPeerAPeerAPeerAPeerAPeerAPeerAPEERA00001";
const PEER_B: &str = "12D3KooWPeerBPeerBPeerBPeerBPeerBPeerBPeerBPEERB00002";

/// A node that reports `status`, or never answers when it is `None`.
struct FakeNode {
    status: Option<Status>,
}

impl NodeControl for FakeNode {
    fn lock(&self) -> bool {
        false
    }

    fn status(&self) -> Pending<Status> {
        match self.status.clone() {
            Some(status) => Box::pin(async move { Some(status) }),
            None => Box::pin(std::future::pending()),
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn peer(id: &str, connected: bool) -> PeerStatus {
    PeerStatus {
        peer_id: id.into(),
        connected,
        addrs: vec!["/ip4/192.168.1.20/tcp/4270".into()],
        last_sync_ms: 0,
        last_sync_new: 0,
        received_since_start: 0,
        declined_since_start: 0,
        sketched_since_start: 0,
        strikes: 0,
        throttled: 0,
        banned_until_ms: 0,
        blob_bytes_received: 0,
        blob_bytes_sent: 0,
    }
}

/// A node with one peer synced 3 minutes ago (it brought 3 records), one banned, and
/// an attachment half fetched.
fn status() -> Status {
    let now = now_ms();
    let mut synced = peer(PEER_A, true);
    synced.last_sync_ms = now - 3 * 60_000 - 5_000;
    synced.last_sync_new = 3;
    synced.received_since_start = 21;
    synced.declined_since_start = 4;
    let mut banned = peer(PEER_B, false);
    banned.strikes = 7;
    banned.banned_until_ms = now + 3_600_000;
    Status {
        peer_id: NODE_ID.into(),
        listen_addrs: vec!["/ip4/0.0.0.0/tcp/4270".into()],
        collection: "default".into(),
        records: 4,
        gossip_peers: 1,
        peers: vec![synced, banned],
        transfers: vec![TransferStatus {
            blob: "ab".repeat(32),
            size: 2_000_000,
            have: 500_000,
            bytes_per_second: 250_000,
            peers: 2,
        }],
        closed_group: false,
        attachments: AttachmentLimits {
            fetch_up_to: 256_000_000,
            quota: None,
            budget: Some(100_000_000),
            budget_used: 25_000_000,
        },
    }
}

fn app_with(node: Option<FakeNode>) -> (common::Archive, axum::Router, UiToken) {
    let (archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let mut ui = Ui::new(store, token.clone());
    if let Some(node) = node {
        ui = ui.with_node(Arc::new(node));
    }
    (archive, router(ui, PORT), token)
}

#[tokio::test]
async fn the_page_shows_peers_sync_and_transfers_in_russian() {
    let (_archive, app, token) = app_with(Some(FakeNode {
        status: Some(status()),
    }));
    let (response, body) = send(&app, get("/peers?lang=ru", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("<h1>Узлы и синхронизация</h1>"), "{body}");
    assert!(body.contains("4 записи"), "{body}");
    assert!(body.contains("подключено: 1, известно: 2"), "{body}");
    // Short ids only, and never an address.
    assert!(body.contains("…deSELF0001"), "{body}");
    assert!(body.contains("…PEERA00001"), "{body}");
    assert!(!body.contains(PEER_A), "{body}");
    assert!(!body.contains("192.168.1.20"), "{body}");
    assert!(body.contains("3 минуты назад"), "{body}");
    assert!(body.contains("принесла 3 записи"), "{body}");
    assert!(body.contains("<td>21</td>"), "{body}");
    assert!(body.contains("<td>4</td>"), "{body}");
    assert!(body.contains("<td>7</td>"), "{body}");
    assert!(body.contains("<td>до "), "{body}");
    // The bar, with its text for readers that do not show it.
    assert!(
        body.contains("<progress value=\"250\" max=\"1000\">500,0 КБ из 2,0 МБ (25%)</progress>"),
        "{body}"
    );
    assert!(body.contains("250,0 КБ/с"), "{body}");
    assert!(body.contains("от 2 узлов"), "{body}");
    assert!(body.contains("использовано 25,0 МБ из 100,0 МБ"), "{body}");
    assert!(body.contains("<a href=\"/peers\">Обновить</a>"), "{body}");
    assert!(!body.contains("http-equiv"), "{body}");
    assert!(!body.contains("<script"), "{body}");
    assert!(!body.contains('⟦'), "{body}");
}

#[tokio::test]
async fn the_page_says_so_in_each_language() {
    let (_archive, app, token) = app_with(Some(FakeNode {
        status: Some(status()),
    }));
    for (lang, heading, ago) in [
        ("en", "<h1>Peers and sync</h1>", "3 minutes ago"),
        ("kk", "<h1>Түйіндер және синхрондау</h1>", "3 минут бұрын"),
    ] {
        let (response, body) = send(&app, get(&format!("/peers?lang={lang}"), &token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(body.contains(heading), "{body}");
        assert!(body.contains(ago), "{body}");
        assert!(!body.contains('⟦'), "{body}");
    }
}

#[tokio::test]
async fn long_lists_are_cut_and_the_rest_counted() {
    let mut many = status();
    many.peers = (0..57)
        .map(|n| peer(&format!("12D3KooWmany{n:040}"), true))
        .collect();
    let (_archive, app, token) = app_with(Some(FakeNode { status: Some(many) }));
    let (_, body) = send(&app, get("/peers?lang=ru", &token)).await;
    assert_eq!(body.matches("<th scope=\"row\"").count(), 50, "{body}");
    assert!(body.contains("и ещё 7"), "{body}");
}

#[tokio::test]
async fn a_node_that_does_not_answer_is_waited_for_two_seconds_then_said() {
    let (_archive, app, token) = app_with(Some(FakeNode { status: None }));
    let started = Instant::now();
    let (response, body) = send(&app, get("/peers?lang=en", &token)).await;
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        body.contains("The node did not answer within 2 seconds."),
        "{body}"
    );
    assert!(waited >= STATUS_WAIT, "{waited:?}");
    // Not waiting for ever; generous, as the machine may be loaded.
    assert!(waited < STATUS_WAIT + Duration::from_secs(20), "{waited:?}");

    let (response, body) = send(&app, get("/api/v1/status", &token)).await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "node_not_answering");
}

#[tokio::test]
async fn without_a_node_the_page_and_the_api_say_so() {
    let (_archive, app, token) = app_with(None);
    let (response, body) = send(&app, get("/peers?lang=ru", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Интерфейс работает без узла"), "{body}");
    let (response, body) = send(&app, get("/api/v1/status", &token)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "no_node");
}

#[tokio::test]
async fn the_api_gives_the_status_as_qoima_status_json_does() {
    let (_archive, app, token) = app_with(Some(FakeNode {
        status: Some(status()),
    }));
    let (response, body) = send(&app, get("/api/v1/status", &token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "application/json");
    let parsed: Status = serde_json::from_str(&body).unwrap();
    let mut expected = status();
    // The fixed status is made afresh each time; only the times may differ.
    expected.peers[0].last_sync_ms = parsed.peers[0].last_sync_ms;
    expected.peers[1].banned_until_ms = parsed.peers[1].banned_until_ms;
    assert_eq!(parsed, expected);
}

#[tokio::test]
async fn the_page_and_the_api_need_the_cookie() {
    let (_archive, app, _token) = app_with(Some(FakeNode {
        status: Some(status()),
    }));
    for path in ["/peers", "/api/v1/status"] {
        let request = axum::http::Request::get(path)
            .header("host", common::HOST)
            .body(axum::body::Body::empty())
            .unwrap();
        let (response, body) = send(&app, request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(!body.contains("SELF0001"), "{body}");
    }
}
