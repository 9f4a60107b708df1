//! `qoima node` serves the web interface on loopback and `qoima ui` hands its address to
//! the owner of the data directory: a real node process, real HTTP over a socket.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// Sends one HTTP/1.1 GET for `path` with `host` and `cookie`; the whole answer.
fn get(port: u16, path: &str, host: &str, cookie: Option<&str>) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// Sends one HTTP/1.1 POST for `path` from a page of the interface itself.
fn post(port: u16, path: &str, host: &str, cookie: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nCookie: {cookie}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The JSON body of an HTTP answer.
fn body_json(answer: &str) -> serde_json::Value {
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap()
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

#[test]
fn the_node_serves_the_interface_and_qoima_ui_hands_over_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    let added = qoima(
        &home,
        &[
            "add",
            "testimony",
            "--title",
            "Задержание",
            "--text",
            "Троих увезли.",
            "--consent",
            "share",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let id = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    let no_node = qoima(&home, &["ui", "--no-open"]);
    assert_eq!(no_node.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&no_node.stderr).contains("no node is running"));

    let (port, ui_port) = two_free_ports();
    let ui_port = ui_port.to_string();
    let _node = start_node_with(&home, port, &[], "pw", &["--ui-port", &ui_port]);
    eventually("the node to answer", Duration::from_secs(30), || {
        qoima(&home, &["status"]).status.success()
    });
    let out = qoima(&home, &["ui", "--no-open"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let rest = url.strip_prefix("http://127.0.0.1:").expect(&url);
    let (port, path) = rest.split_once('/').unwrap();
    let port: u16 = port.parse().unwrap();
    assert!(path.starts_with("unlock?code="), "{url}");
    let host = format!("127.0.0.1:{port}");
    // Each `qoima ui` gets a code of its own.
    let again = qoima(&home, &["ui", "--no-open"]);
    let again = String::from_utf8(again.stdout).unwrap();
    assert!(
        again
            .trim()
            .starts_with(&format!("http://{host}/unlock?code=")),
        "{again}"
    );
    assert_ne!(again.trim(), url);

    // Without the cookie: refused. With the address: the cookie, HttpOnly and strict.
    assert!(status_line(&get(port, "/", &host, None)).contains(" 401 "));
    let unlocked = get(port, &format!("/{path}"), &host, None);
    assert!(status_line(&unlocked).contains(" 303 "), "{unlocked}");
    let set_cookie = unlocked
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a cookie is set");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap();
    assert!(cookie.starts_with(&format!("qoima_ui_{port}=")), "{cookie}");
    // The code is used up: a second browser with the same address is not let in.
    let replayed = get(port, &format!("/{path}"), &host, None);
    assert!(status_line(&replayed).contains(" 403 "), "{replayed}");
    assert!(!replayed.contains("set-cookie"), "{replayed}");
    let page = get(port, "/?lang=ru", &host, Some(cookie));
    assert!(status_line(&page).contains(" 200 "), "{page}");
    assert!(page.contains("<html lang=\"ru\""), "{page}");
    // The API answers with the very JSON the command line prints.
    let api_record = get(port, &format!("/api/v1/records/{id}"), &host, Some(cookie));
    assert!(status_line(&api_record).contains(" 200 "), "{api_record}");
    assert_eq!(
        body_json(&api_record),
        json(&home, &["show", "--json", &id])
    );
    let api_list = get(port, "/api/v1/records", &host, Some(cookie));
    assert_eq!(
        body_json(&api_list)["records"],
        json(&home, &["list", "--json"])
    );
    // The node's own state, asked in process: the same peer id `qoima status` gives.
    let status = qoima(&home, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let peer_id = status["peer_id"].as_str().unwrap().to_owned();
    let api = get(port, "/api/v1/status", &host, Some(cookie));
    assert!(status_line(&api).contains(" 200 "), "{api}");
    let json = api.split_once("\r\n\r\n").unwrap().1;
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(json["peer_id"], peer_id.as_str());
    assert_eq!(json["closed_group"], false);
    let peers = get(port, "/peers?lang=en", &host, Some(cookie));
    assert!(status_line(&peers).contains(" 200 "), "{peers}");
    let short = &peer_id[peer_id.len() - 10..];
    assert!(peers.contains(&format!("…{short}")), "{peers}");
    assert!(!peers.contains(&peer_id), "{peers}");
    // A page whose name was made to point here (DNS rebinding) is not answered.
    let rebound = get(port, "/", &format!("evil.example:{port}"), Some(cookie));
    assert!(status_line(&rebound).contains(" 421 "), "{rebound}");

    // The lock button stops the node and the interface with it.
    let locked = post(port, "/lock?lang=en", &host, cookie);
    assert!(status_line(&locked).contains(" 200 "), "{locked}");
    assert!(locked.contains("<h1>Locked</h1>"), "{locked}");
    eventually(
        "the node and its interface to stop",
        Duration::from_secs(30),
        || {
            TcpStream::connect(("127.0.0.1", port)).is_err()
                && qoima(&home, &["status"]).status.code() == Some(3)
        },
    );
}

#[test]
fn a_node_started_without_the_interface_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path(), "a");
    let _node = start_node_with(&home, free_port(), &[], "pw", &["--no-ui"]);
    eventually("the node to answer", Duration::from_secs(30), || {
        qoima(&home, &["status"]).status.success()
    });
    let out = qoima(&home, &["ui", "--no-open"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("serves no web interface"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
