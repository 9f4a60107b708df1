//! The server on a real loopback socket: binding the next free port, a browser's unlock
//! and first page over HTTP/1.1, the lock button reaching the node, and shutting down.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{HOST, archive, send};
use qoima_web::{NodeControl, PORTS_TRIED, Ui, UiToken, bind_local, router, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One HTTP/1.1 request with `Connection: close`; the whole response as text.
async fn http(port: u16, request_head: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request_head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn a_taken_port_moves_the_server_to_the_next_free_one() {
    let taken = bind_local(0).await.unwrap();
    let port = taken.local_addr().unwrap().port();
    if port > u16::MAX - PORTS_TRIED {
        // The system gave a port at the very top; the next ones do not exist.
        let result = bind_local(port).await;
        assert!(result.is_ok() || matches!(result, Err(qoima_web::WebError::NoPort { .. })));
        return;
    }
    let next = bind_local(port).await.unwrap();
    let addr = next.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    assert!(
        addr.port() > port && addr.port() < port + PORTS_TRIED,
        "{port} → {addr}"
    );
}

#[tokio::test]
async fn a_browser_unlocks_and_reads_the_archive_over_loopback() {
    let (_archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let listener = bind_local(0).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let ui = Ui::new(store, token.clone());
    let codes = ui.unlock_codes();
    let server = tokio::spawn(serve(listener, ui, async {
        let _ = stopped.await;
    }));

    let url = codes.url(addr).unwrap();
    let path = url
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .expect(&url);
    assert!(path.starts_with("/unlock?code="), "{url}");
    assert!(
        !url.contains(token.as_str()),
        "the token never leaves the server"
    );
    let unlocked = http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(
        unlocked.starts_with("HTTP/1.1 303 See Other\r\n"),
        "{unlocked}"
    );
    assert!(unlocked.contains(&format!(
        "\r\nset-cookie: qoima_ui_{port}={}; HttpOnly; SameSite=Strict; Path=/\r\n",
        token.as_str()
    )));

    let page = http(
        port,
        &format!(
            "GET /?lang=kk HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: qoima_ui_{port}={}\r\nConnection: close\r\n\r\n",
            token.as_str()
        ),
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("<h1>Мұрағат</h1>"));
    assert!(page.contains("4 жазба"));

    let rebound = http(
        port,
        &format!(
            "GET / HTTP/1.1\r\nHost: attacker.example:{port}\r\nCookie: qoima_ui_{port}={}\r\nConnection: close\r\n\r\n",
            token.as_str()
        ),
    )
    .await;
    assert!(
        rebound.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
        "{rebound}"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

/// A node that counts how often it was asked to lock.
struct CountingNode(AtomicUsize);

impl NodeControl for CountingNode {
    fn lock(&self) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// A node that cannot take the request (its loop is busy or gone).
struct BusyNode;

impl NodeControl for BusyNode {
    fn lock(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn the_lock_button_locks_the_node_only_from_the_interfaces_own_page() {
    let (_archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let node = Arc::new(CountingNode(AtomicUsize::new(0)));
    let app = router(
        Ui::new(store, token.clone()).with_node(node.clone()),
        common::PORT,
    );
    let lock = |origin: &str| {
        Request::post("/lock?lang=ru")
            .header("host", HOST)
            .header("origin", origin)
            .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
            .body(Body::empty())
            .unwrap()
    };
    let (response, _) = send(&app, lock("http://evil.example")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(node.0.load(Ordering::SeqCst), 0);
    let (response, body) = send(&app, lock("http://127.0.0.1:4271")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("<h1>Заблокировано</h1>"), "{body}");
    assert_eq!(node.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_lock_the_node_did_not_take_is_not_reported_as_done() {
    let (_archive, store) = archive();
    let token = UiToken::generate().unwrap();
    let app = router(
        Ui::new(store, token.clone()).with_node(Arc::new(BusyNode)),
        common::PORT,
    );
    let request = Request::post("/lock?lang=kk")
        .header("host", HOST)
        .header("origin", "http://127.0.0.1:4271")
        .header("cookie", format!("qoima_ui_4271={}", token.as_str()))
        .body(Body::empty())
        .unwrap();
    let (response, body) = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("<h1>Түйін құлыпталмады</h1>"), "{body}");
    assert!(!body.contains("Құлыпталды"), "{body}");
}

/// A server on a fresh port of loopback within `limits`, and the means to stop it.
async fn limited_server(
    limits: qoima_web::ServerLimits,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), qoima_web::WebError>>,
    tempfile::TempDir,
) {
    let (archive, store) = archive();
    let listener = bind_local(0).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(qoima_web::serve_with(
        listener,
        Ui::new(store, UiToken::generate().unwrap()),
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    (port, stop, server, archive.dir)
}

const HALF_A_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";

#[tokio::test]
async fn a_request_whose_headers_never_end_is_dropped_after_the_timeout() {
    let limits = qoima_web::ServerLimits {
        header_read_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let (port, _stop, _server, _dir) = limited_server(limits).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(HALF_A_REQUEST).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut rest),
    )
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
}

#[tokio::test]
async fn a_half_sent_request_does_not_hold_the_server_after_a_stop() {
    // The header timeout is far longer than the wait for a stop: only the latter can
    // end this server in time.
    let limits = qoima_web::ServerLimits {
        header_read_timeout: std::time::Duration::from_secs(600),
        stop_wait: std::time::Duration::from_millis(500),
        ..Default::default()
    };
    let (port, stop, server, _dir) = limited_server(limits).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(HALF_A_REQUEST).await.unwrap();
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(60), server).await;
    assert!(ended.is_ok(), "the stop waited for the half-sent request");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test]
async fn past_the_connection_bound_a_client_waits_until_a_connection_ends() {
    let limits = qoima_web::ServerLimits {
        connections: 1,
        ..Default::default()
    };
    let (port, _stop, _server, _dir) = limited_server(limits).await;
    let holder = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut waiting = tokio::spawn(http(
        port,
        "GET /assets/style.css HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    ));
    // The first connection holds the only slot: the second is not served meanwhile.
    let early = tokio::time::timeout(std::time::Duration::from_secs(1), &mut waiting).await;
    assert!(early.is_err(), "served past the bound: {early:?}");
    drop(holder);
    let answer = tokio::time::timeout(std::time::Duration::from_secs(60), waiting)
        .await
        .expect("answered once the first connection ended")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}
