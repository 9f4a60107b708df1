//! Witness safety at rest, as a user runs qoima: markers written in a record (title,
//! text, place, witness reference) and in an attachment, in Cyrillic and Latin, must be
//! found nowhere under the data directory after `add`, a sync between two nodes, an
//! `import`, a `search` and a stop; no file there opens as an SQLite database; every
//! file is owner-only. Commands beside a running node get the key from it (no
//! passphrase), `lock` makes it forget the key, and `wipe` leaves no archive.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const PASSPHRASE: &str = "correct horse battery staple";

/// The markers, one per place a witness could be exposed.
const TITLE: &str = "TitleMarkerQoimaZx";
const TEXT: &str = "ТекстМаркерЖанаөзен";
const PLACE: &str = "PlaceMarkerМахамбет";
const WITNESS: &str = "СвидетельМаркерҚ7";
const ATTACHMENT: &str = "AttachmentMarker-Қазақстан-фото";

fn qoima_env(home: &Path, args: &[&str], passphrase: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qoima"));
    command
        .args(args)
        .env("QOIMA_HOME", home)
        .env_remove("QOIMA_PASSPHRASE")
        .stdin(Stdio::null());
    if let Some(passphrase) = passphrase {
        command.env("QOIMA_PASSPHRASE", passphrase);
    }
    command.output().unwrap()
}

fn qoima(home: &Path, args: &[&str]) -> Output {
    qoima_env(home, args, Some(PASSPHRASE))
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Ids listed by `home`, asking without a passphrase: only a running node can answer.
fn ids_via_node(home: &Path) -> Vec<String> {
    let out = qoima_env(home, &["list", "--json"], None);
    if !out.status.success() {
        return Vec::new();
    }
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every spelling of `marker` that would betray it in a file.
fn spellings(marker: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (case, text) in [
        ("as written", marker.to_owned()),
        ("lowercase", marker.to_lowercase()),
    ] {
        out.push((format!("{case}, UTF-8"), text.as_bytes().to_vec()));
        let utf16: Vec<u16> = text.encode_utf16().collect();
        out.push((
            format!("{case}, UTF-16LE"),
            utf16.iter().flat_map(|u| u.to_le_bytes()).collect(),
        ));
        out.push((
            format!("{case}, UTF-16BE"),
            utf16.iter().flat_map(|u| u.to_be_bytes()).collect(),
        ));
    }
    out
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files_under(&entry.path(), out);
        }
        out.push(entry.path());
    }
}

/// No marker in any spelling in any file under `home`; no SQLite header; owner-only.
fn assert_nothing_readable(home: &Path) {
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(home).unwrap().permissions().mode() & 0o777,
        0o700,
        "the data directory is owner-only"
    );
    let mut paths = Vec::new();
    files_under(home, &mut paths);
    let needles: Vec<(String, Vec<u8>)> = [TITLE, TEXT, PLACE, WITNESS, ATTACHMENT]
        .iter()
        .flat_map(|m| {
            spellings(m)
                .into_iter()
                .map(move |(how, bytes)| (format!("{m} ({how})"), bytes))
        })
        .collect();
    for path in &paths {
        let meta = std::fs::symlink_metadata(path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{} is owner-only", path.display());
            continue;
        }
        if !meta.is_file() {
            continue;
        }
        assert_eq!(mode, 0o600, "{} is owner-only", path.display());
        let bytes = std::fs::read(path).unwrap();
        assert!(
            !bytes.starts_with(b"SQLite format 3\0"),
            "{} opens as a plain SQLite database",
            path.display()
        );
        for (what, needle) in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} contains {what}",
                path.display()
            );
        }
    }
}

#[test]
fn a_data_directory_reveals_no_marker_after_add_sync_import_search_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok(qoima(&a, &["init"]), "init a");
    ok(qoima(&b, &["init"]), "init b");

    let photo = dir.path().join("photo.bin");
    std::fs::write(&photo, ATTACHMENT.repeat(5000)).unwrap();
    let a_port = free_port();
    let _node_a = start_node(&a, a_port, &[], PASSPHRASE);
    let mut a_id = String::new();
    eventually("node A to answer", Duration::from_secs(30), || {
        let out = qoima(&a, &["status", "--json"]);
        if let Ok(status) = serde_json::from_slice::<Value>(&out.stdout) {
            a_id = status["peer_id"].as_str().unwrap_or_default().to_owned();
        }
        !a_id.is_empty()
    });
    let a_addr = format!("/ip4/127.0.0.1/tcp/{a_port}/p2p/{a_id}");
    let mut node_b = start_node(&b, free_port(), &[a_addr], PASSPHRASE);

    // Written beside the running node, without a passphrase: the node lends its key.
    let added = qoima_env(
        &a,
        &[
            "add",
            "testimony",
            "--title",
            TITLE,
            "--text",
            TEXT,
            "--place",
            PLACE,
            "--witness",
            WITNESS,
            "--relation",
            "eyewitness",
            "--attach",
            photo.to_str().unwrap(),
            "--consent",
            "share",
        ],
        None,
    );
    let id = ok(added, "add beside the node").trim().to_owned();
    eventually("the record to reach B", Duration::from_secs(30), || {
        ids_via_node(&b).contains(&id)
    });

    // A bundle carried by hand into B (the attachment too), then searched on both.
    let bundle = dir.path().join("carried.qb");
    ok(
        qoima_env(
            &a,
            &["export", bundle.to_str().unwrap(), "--with-attachments"],
            None,
        ),
        "export beside the node",
    );
    // The scan below can see a marker: the plain bundle, outside the data directory,
    // carries the record as signed.
    let carried = std::fs::read(&bundle).unwrap();
    assert!(carried.windows(TITLE.len()).any(|w| w == TITLE.as_bytes()));
    ok(
        qoima_env(&b, &["import", bundle.to_str().unwrap()], None),
        "import",
    );
    for home in [&a, &b] {
        let found = ok(
            qoima_env(home, &["search", TITLE, "--json"], None),
            "search",
        );
        assert!(found.contains(&id), "search finds the record: {found}");
        let shown = ok(qoima_env(home, &["show", &id, "--json"], None), "show");
        assert!(shown.contains(WITNESS) && shown.contains(PLACE));
    }
    let verified = ok(qoima_env(&b, &["verify", &id, "--json"], None), "verify");
    assert!(
        verified.contains("\"ok\""),
        "the attachment verifies on B: {verified}"
    );

    // `lock`: A forgets the key and stops; then nothing opens without the passphrase.
    ok(qoima(&a, &["lock"]), "lock");
    assert!(!a.join("node.sock").exists());
    let refused = qoima_env(&a, &["list"], None);
    assert!(
        !refused.status.success(),
        "list without a node or a passphrase"
    );
    let wrong = qoima_env(&a, &["list"], Some("not the passphrase"));
    assert_eq!(wrong.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));

    // B stops on SIGTERM.
    let pid = node_b.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(node_b.0.wait().unwrap().success());

    for home in [&a, &b] {
        assert_nothing_readable(home);
        // The logs (beside the data directory) name no record either.
        let log = std::fs::read(home.with_extension("log")).unwrap();
        for marker in [TITLE, TEXT, PLACE, WITNESS] {
            assert!(!log.windows(marker.len()).any(|w| w == marker.as_bytes()));
        }
    }
}

#[test]
fn after_a_wipe_every_command_says_there_is_no_archive() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    ok(qoima(&home, &["init"]), "init");
    let photo = dir.path().join("photo.bin");
    std::fs::write(&photo, ATTACHMENT.repeat(200_000)).unwrap(); // 7 MB
    for i in 0..20 {
        let title = format!("{TITLE} {i}");
        ok(
            qoima(
                &home,
                &[
                    "add",
                    "evidence",
                    "--title",
                    &title,
                    "--attach",
                    photo.to_str().unwrap(),
                ],
            ),
            "add",
        );
    }
    // A script must say --yes; without it and without a terminal nothing happens.
    let unconfirmed = qoima(&home, &["wipe"]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    assert!(home.join("key").exists());

    let wiped = ok(qoima(&home, &["wipe", "--yes"]), "wipe");
    assert!(wiped.contains("Wiped"), "{wiped}");
    assert!(!home.exists(), "nothing of the archive is left");
    for args in [
        vec!["list"],
        vec!["search", TITLE],
        vec!["key", "show"],
        vec!["export", dir.path().join("x.qb").to_str().unwrap()],
        vec!["wipe", "--yes"],
    ] {
        let out = qoima(&home, &args);
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("there is no archive"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
