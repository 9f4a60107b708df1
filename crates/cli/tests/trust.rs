//! `qoima trust`: a key trusted after comparing fingerprints shows as trusted under
//! `list`, `show` and `verify`; unknown fingerprints, bad names and one's own key are
//! refused with a reason.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::*;

fn text(home: &Path, args: &[&str]) -> String {
    let out = qoima(home, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail; its exit status and standard error.
fn refused(home: &Path, args: &[&str]) -> (i32, String) {
    let out = qoima(home, args);
    assert!(!out.status.success(), "{args:?} should fail");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_trusted_author_shows_as_trusted_everywhere_until_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (lawyer, me) = (home(dir.path(), "lawyer"), home(dir.path(), "me"));
    let id = text(
        &lawyer,
        &[
            "add",
            "testimony",
            "--title",
            "Detained at the square",
            "--consent",
            "share",
        ],
    )
    .trim()
    .to_owned();
    let bundle = dir.path().join("drop.qb");
    text(&lawyer, &["export", bundle.to_str().unwrap()]);
    text(&me, &["import", bundle.to_str().unwrap()]);
    let fingerprint = json(&lawyer, &["key", "show", "--json"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();

    // Before: unknown.
    let listed = json(&me, &["list", "--json"]);
    assert_eq!(listed[0]["author_trust"]["trust"], "unknown");
    assert!(text(&me, &["show", &id]).contains("trust:     unknown"));

    // Trusted by fingerprint (as read aloud: lower case, spaces for dashes).
    let spoken = fingerprint.to_lowercase().replace('-', " ");
    let added = text(
        &me,
        &["trust", "add", &spoken, "--name", "Aigerim (lawyer)"],
    );
    assert!(
        added.contains(&format!("Trusted Aigerim (lawyer): {fingerprint}")),
        "{added}"
    );
    let trusted = json(&me, &["trust", "list", "--json"]);
    assert_eq!(trusted.as_array().unwrap().len(), 1);
    assert_eq!(trusted[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(trusted[0]["name"], "Aigerim (lawyer)");

    let listed = json(&me, &["list", "--json"]);
    assert_eq!(listed[0]["author_trust"]["trust"], "trusted");
    assert_eq!(listed[0]["author_trust"]["name"], "Aigerim (lawyer)");
    assert!(text(&me, &["list"]).contains("Aigerim (law"));
    let shown = json(&me, &["show", &id, "--json"]);
    assert_eq!(shown["author_trust"]["name"], "Aigerim (lawyer)");
    assert!(text(&me, &["show", &id]).contains("trust:     trusted: Aigerim (lawyer)"));
    let verified = text(&me, &["verify", &id]);
    assert!(
        verified.contains("signature valid") && verified.contains("trusted: Aigerim (lawyer)"),
        "{verified}"
    );
    // The trusted name also picks the author's records.
    let by_name = json(&me, &["list", "--author", "Aigerim (lawyer)", "--json"]);
    assert_eq!(by_name.as_array().unwrap().len(), 1);

    // The author's own archive says it is theirs.
    assert_eq!(
        json(&lawyer, &["list", "--json"])[0]["author_trust"]["trust"],
        "own"
    );

    // Removed by name: unknown again, the record stays.
    text(&me, &["trust", "remove", "Aigerim (lawyer)"]);
    let listed = json(&me, &["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["author_trust"]["trust"], "unknown");
    assert!(
        json(&me, &["trust", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn unknown_fingerprints_bad_names_and_ones_own_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let me = home(dir.path(), "me");
    let (code, err) = refused(&me, &["trust", "add", "AAAA-BBBB-CCCC-DDDD", "--name", "x"]);
    assert_eq!(code, 3, "not found: {err}");
    assert!(err.contains("give the whole public key"), "{err}");
    let (_, err) = refused(&me, &["trust", "add", "not a key", "--name", "x"]);
    assert!(err.contains("neither a public key"), "{err}");

    let stranger = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";
    let (_, err) = refused(&me, &["trust", "add", stranger, "--name", ""]);
    assert!(err.contains("1 to 64 characters"), "{err}");

    let mine = json(&me, &["key", "show", "--json"])["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, err) = refused(&me, &["trust", "add", &mine, "--name", "me"]);
    assert!(err.contains("own persona"), "{err}");
    assert!(
        json(&me, &["trust", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}
