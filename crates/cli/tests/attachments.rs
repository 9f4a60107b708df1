//! Attachments between two `qoima node` processes: a large one waits until asked for,
//! `qoima fetch --wait` brings it, `qoima show` says where it is.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

fn attachment_states(home: &Path, id: &str) -> Option<Vec<String>> {
    let out = qoima(home, &["show", id, "--json"]);
    if !out.status.success() {
        return None;
    }
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(
        value["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["state"].as_str().unwrap().to_owned())
            .collect(),
    )
}

#[test]
fn a_large_attachment_waits_for_fetch_and_then_arrives_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (home(dir.path(), "a"), home(dir.path(), "b"));
    let video: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let file = dir.path().join("evidence.bin");
    std::fs::write(&file, &video).unwrap();
    let out = qoima(
        &a,
        &[
            "add",
            "incident",
            "--title",
            "Evidence",
            "--attach",
            file.to_str().unwrap(),
            "--consent",
            "share",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let a_port = free_port();
    let _node_a = start_node(&a, a_port, &[], "pw");
    let a_addr = format!("/ip4/127.0.0.1/tcp/{a_port}");
    // B fetches nothing over 1 MB without being asked.
    let _node_b = start_node_with(&b, free_port(), &[a_addr], "pw", &["--fetch-up-to", "1MB"]);
    eventually("the record to reach B", Duration::from_secs(60), || {
        attachment_states(&b, &id).is_some()
    });
    assert_eq!(attachment_states(&b, &id).unwrap(), ["missing"]);
    let shown = qoima(&b, &["show", &id]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("not here yet"),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );

    let fetched = qoima(&b, &["fetch", &id, "--wait"]);
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    assert_eq!(attachment_states(&b, &id).unwrap(), ["present"]);
    let out = dir.path().join("out.qb");
    let export = qoima(&b, &["export", out.to_str().unwrap(), "--with-attachments"]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    // The exported bundle verifies, attachment included.
    let verify = qoima(&b, &["verify", out.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
