//! `qoima import` and `qoima verify` on every test vector in `bundles/vectors`: the exit
//! status, the counts and the reason a person reads; nothing invalid is stored.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bundles/vectors")
}

fn qoima(home: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .env("QOIMA_HOME", home)
        .env("QOIMA_PASSPHRASE", "pw")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Imports `file` into a fresh archive and checks the exit status, that the output says
/// `says`, and that exactly `stored` records are in the archive afterwards.
#[track_caller]
fn check(file: &str, code: i32, says: &str, stored: usize) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    assert_eq!(qoima(&home, &["init"]).0, 0);
    let path = vectors().join(file);
    let (got, out) = qoima(&home, &["import", path.to_str().unwrap()]);
    assert_eq!(got, code, "{file}: {out}");
    assert!(out.contains(says), "{file}: expected {says:?} in:\n{out}");
    let (_, listed) = qoima(&home, &["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        stored,
        "{file}: records stored"
    );
    let (verified, report) = qoima(&home, &["verify", path.to_str().unwrap()]);
    assert_eq!(verified, code, "{file}: verify exit status\n{report}");
}

#[test]
fn every_vector_imports_as_specified() {
    check(
        "valid-small.qb",
        0,
        "3 new, 0 already present, 0 rejected",
        3,
    );
    check(
        "valid-with-blob.qb",
        0,
        "2 new, 0 already present, 0 rejected; attachments: 1 new",
        2,
    );
    check(
        "valid-two-authors.qb",
        0,
        "2 new, 0 already present, 0 rejected",
        2,
    );
    check(
        "valid-empty.qb",
        0,
        "0 new, 0 already present, 0 rejected",
        0,
    );
    check("valid-v2.qb", 0, "4 new, 0 already present, 0 rejected", 4);
    // B is not the author of the record it retracts: both are kept.
    check(
        "retraction-by-another-key.qb",
        0,
        "2 new, 0 already present, 0 rejected",
        2,
    );
    check(
        "endorsement-loop.qb",
        0,
        "3 new, 0 already present, 0 rejected",
        3,
    );
    check(
        "sealed-unknown-suite.qb",
        0,
        "1 new, 0 already present, 0 rejected",
        1,
    );
    let hash = "content does not match its hash in the manifest";
    check("record-byte-flipped.qb", 1, hash, 2);
    check("blob-byte-flipped.qb", 1, hash, 2);
    let signature = "not imported: bundle signature does not verify";
    check("manifest-byte-flipped.qb", 1, signature, 0);
    check("bad-bundle-signature.qb", 1, signature, 0);
    check(
        "truncated.qb",
        1,
        "damaged: truncated: the file ends inside item 1 (a record)",
        1,
    );
    check(
        "wrong-magic.qb",
        1,
        "not imported: not a qoima bundle (wrong magic bytes)",
        0,
    );
    check(
        "unsupported-version.qb",
        1,
        "bundle format version 2 is not supported",
        0,
    );
    check(
        "manifest-length-huge.qb",
        1,
        "manifest length 4294967295 exceeds the limit",
        0,
    );
    check(
        "trailing-data.qb",
        1,
        "unexpected data after the last item",
        3,
    );
    check(
        "length-2-60.qb",
        1,
        "item 0 claims 1152921504606846976 bytes, over the record limit",
        0,
    );
    check("duplicate-item.qb", 1, "item 1 is listed twice", 0);
    let forged = "signature does not verify against the author key the record names";
    check("wrong-author-signature.qb", 1, forged, 1);
    check("malleated-signature.qb", 1, forged, 1);
    check("weak-author-key.qb", 1, forged, 1);
    check("non-canonical-record.qb", 1, "non-canonical encoding", 1);
    check(
        "trailing-bytes-record.qb",
        1,
        "unexpected bytes after the end of the value",
        1,
    );
    check(
        "record-version-3.qb",
        1,
        "record format version 3 is not supported",
        1,
    );
    check(
        "endorsement-of-itself.qb",
        1,
        "a key cannot endorse itself",
        1,
    );
    check(
        "key-record-version-1.qb",
        1,
        "needs format version 2, not 1",
        1,
    );
}

#[test]
fn the_table_covers_every_vector() {
    let source = include_str!("vectors.rs");
    for entry in std::fs::read_dir(vectors()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            source.contains(&format!("\"{name}\"")),
            "{name} is not checked"
        );
    }
}
