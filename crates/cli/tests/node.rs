//! `qoima node` as a process: two nodes on loopback, records added beside a running node
//! reach the other, `status` and `peers` answer, SIGTERM stops cleanly and a restarted
//! node resumes.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

fn status(home: &Path) -> Option<Value> {
    let out = qoima(home, &["status", "--json"]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn ids(home: &Path) -> Vec<String> {
    let mut ids: Vec<String> = json(home, &["list", "--json", "--limit", "100000"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn two_node_processes_sync_report_and_stop_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (home(dir.path(), "a"), home(dir.path(), "b"));
    let no_node = qoima(&a, &["status"]);
    assert_eq!(no_node.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&no_node.stderr).contains("no node is running"));

    let a_port = free_port();
    let mut node_a = start_node(&a, a_port, &[], "pw");
    eventually("node A to answer", Duration::from_secs(30), || {
        status(&a).is_some()
    });
    let a_id = status(&a).unwrap()["peer_id"].as_str().unwrap().to_owned();
    let a_addr = format!("/ip4/127.0.0.1/tcp/{a_port}/p2p/{a_id}");
    let _node_b = start_node(&b, free_port(), &[a_addr], "pw");
    eventually("the nodes to connect", Duration::from_secs(30), || {
        status(&b).is_some_and(|s| {
            s["peers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["connected"] == true)
        })
    });

    // Without consent to share, a record stays here: written first, it has had every
    // chance to travel by the time the shared one below has reached B.
    let held = qoima(&a, &["add", "testimony", "--title", "Not to be shared"]);
    assert!(held.status.success());
    let held = String::from_utf8(held.stdout).unwrap().trim().to_owned();

    // Written beside the running node, by another process.
    let added = qoima(
        &a,
        &[
            "add",
            "testimony",
            "--title",
            "Written while the node runs",
            "--consent",
            "share",
        ],
    );
    let id = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    eventually("the record to reach B", Duration::from_secs(20), || {
        ids(&b).contains(&id)
    });
    assert!(ids(&a).contains(&held));
    assert!(
        !ids(&b).contains(&held),
        "a record without consent to share travelled"
    );

    let peers = json(&b, &["peers", "--json"]);
    let peer = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer_id"] == a_id.as_str())
        .unwrap();
    assert_eq!(peer["connected"], true);
    assert!(
        peer["addrs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains(&a_port.to_string()))
    );

    // SIGTERM: a clean stop, socket gone, status says no node.
    let pid = node_a.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = node_a.0.wait().unwrap();
    assert!(exit.success(), "node exited with {exit:?}");
    assert!(!a.join("node.sock").exists());
    assert_eq!(qoima(&a, &["status"]).status.code(), Some(3));

    // Records written while A is down reach it when it comes back (B redials it).
    let later = qoima(
        &b,
        &[
            "add",
            "incident",
            "--title",
            "While A was down",
            "--consent",
            "share",
        ],
    );
    let later = String::from_utf8(later.stdout).unwrap().trim().to_owned();
    let _node_a = start_node(&a, a_port, &[], "pw");
    // A dials B (remembered from B's identify) as it starts, and B redials A with a
    // doubling backoff (at 2, 4, 8, 16, 32 and 64 s after A stopped); the deadline
    // covers the longest wait a slow restart on a loaded machine can meet.
    eventually_showing(
        "A to catch up after restart",
        Duration::from_secs(90),
        || ids(&a).contains(&later),
        || {
            format!(
                "----- A's log (both runs), last lines:\n{}\n----- B's log, last lines:\n{}",
                log_tail(&a, 80),
                log_tail(&b, 80)
            )
        },
    );
    let shared_by_a: Vec<String> = ids(&a).into_iter().filter(|id| *id != held).collect();
    assert_eq!(
        shared_by_a,
        ids(&b),
        "everything but the held-back record is on both"
    );

    // stderr is a file here, not a terminal: the logs must be plain text.
    for home in [&a, &b] {
        let log = std::fs::read_to_string(home.with_extension("log")).unwrap();
        assert!(log.contains("INFO"), "the node logged: {log}");
        assert!(
            !log.contains("\x1b["),
            "colour codes in a log file: {log:?}"
        );
    }
}
