//! Records about records and keys, as people use them: `retract`, `key revoke`,
//! `key revocation-cert`, `key sealing` with `add --seal-to`, and `trust endorse`,
//! carried between archives by bundle files.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod samples;

use std::path::Path;

use common::*;

fn text(home: &Path, args: &[&str]) -> String {
    let out = qoima(home, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn refused(home: &Path, args: &[&str]) -> (i32, String) {
    let out = qoima(home, args);
    assert!(!out.status.success(), "{args:?} should fail");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn fingerprint(home: &Path) -> String {
    json(home, &["key", "show", "--json"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Exports everything `from` holds and imports it into `to`.
fn carry(dir: &Path, from: &Path, to: &Path, name: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    text(from, &["export", file.to_str().unwrap()]);
    text(to, &["import", file.to_str().unwrap()]);
    file
}

fn testimony(home: &Path, title: &str) -> String {
    text(
        home,
        &["add", "testimony", "--title", title, "--consent", "share"],
    )
}

#[test]
fn a_retraction_deletes_the_record_here_and_wherever_it_is_carried() {
    let dir = tempfile::tempdir().unwrap();
    let (author, other) = (home(dir.path(), "author"), home(dir.path(), "other"));
    let id = testimony(&author, "Written under pressure");
    carry(dir.path(), &author, &other, "first.qb");
    assert_eq!(
        json(&other, &["list", "--json"]).as_array().unwrap().len(),
        1
    );

    // Someone else cannot retract it.
    let (code, says) = refused(&other, &["retract", &id]);
    assert_eq!(code, 2, "{says}");
    assert!(says.contains("only its author can retract it"), "{says}");

    let retraction = text(&author, &["retract", &id, "--reason", "forced"]);
    let (_, says) = refused(&author, &["show", &id]);
    assert!(says.contains("its author retracted it"), "{says}");
    let listed = json(&author, &["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "only the retraction");
    assert_eq!(listed[0]["id"], retraction.as_str());

    carry(dir.path(), &author, &other, "second.qb");
    let (_, says) = refused(&other, &["show", &id]);
    assert!(says.contains("its author retracted it"), "{says}");
    // The old file still holds the record; importing it again brings nothing back.
    text(
        &other,
        &["import", dir.path().join("first.qb").to_str().unwrap()],
    );
    refused(&other, &["show", &id]);
}

#[test]
fn a_revoked_key_makes_its_later_records_suspect_and_a_kept_certificate_revokes_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let (me, friend) = (home(dir.path(), "me"), home(dir.path(), "friend"));
    let before = testimony(&me, "Before the seizure");
    let cert = dir.path().join("revocation.qb");
    text(
        &me,
        &[
            "key",
            "revocation-cert",
            cert.to_str().unwrap(),
            "--reason",
            "kept on paper",
        ],
    );
    // Made, not published: nothing is revoked yet.
    let shown = json(&me, &["show", &before, "--json"]);
    assert_eq!(shown["author_trust"]["trust"], "own");
    let (code, says) = refused(&me, &["key", "revocation-cert", cert.to_str().unwrap()]);
    assert_eq!(code, 2, "an existing file is never replaced: {says}");
    assert!(says.contains("already exists"), "{says}");

    carry(dir.path(), &me, &friend, "records.qb");
    text(&friend, &["import", cert.to_str().unwrap()]);
    let shown = json(&friend, &["show", &before, "--json"]);
    assert_eq!(shown["author_trust"]["trust"], "revoked");
    assert_eq!(shown["suspect"], false, "seen before the revocation");

    // The seized key writes on; the friend's node sees it after the revocation.
    let after = testimony(&me, "Confession");
    carry(dir.path(), &me, &friend, "later.qb");
    let shown = json(&friend, &["show", &after, "--json"]);
    assert_eq!(shown["suspect"], true);
    let shown = text(&friend, &["show", &after]);
    assert!(shown.contains("SUSPECT"), "{shown}");
    let listed = json(&friend, &["list", "--json"]);
    let suspect: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["suspect"] == true)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(suspect, vec![after.clone()]);

    // On paper, typed back sloppily, it revokes as well.
    let paper = dir.path().join("revocation.txt");
    text(
        &me,
        &["key", "revocation-cert", paper.to_str().unwrap(), "--paper"],
    );
    let printed = std::fs::read_to_string(&paper).unwrap();
    assert!(
        printed.starts_with("-----BEGIN QOIMA BUNDLE-----"),
        "{printed}"
    );
    let (begin, rest) = printed.split_at(printed.find('\n').unwrap());
    let (body, end) = rest.split_at(rest.find("-----END").unwrap());
    let typed = dir.path().join("typed.txt");
    std::fs::write(
        &typed,
        format!("{begin}\n{}{end}", body.to_lowercase().replace(' ', "")),
    )
    .unwrap();
    let elsewhere = home(dir.path(), "elsewhere");
    carry(dir.path(), &me, &elsewhere, "records-2.qb");
    text(&elsewhere, &["import", typed.to_str().unwrap()]);
    assert_eq!(
        json(&elsewhere, &["show", &before, "--json"])["author_trust"]["trust"],
        "revoked"
    );

    // `key revoke` without --yes and without a terminal refuses.
    let (code, says) = refused(&me, &["key", "revoke"]);
    assert_eq!(code, 2, "{says}");
    text(&me, &["key", "revoke", "--yes", "--reason", "seized"]);
    assert_eq!(
        json(&me, &["show", &before, "--json"])["author_trust"]["trust"],
        "revoked"
    );
}

#[test]
fn a_sealed_testimony_reads_for_its_recipient_and_its_author_and_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    let (ngo, witness, courier) = (
        home(dir.path(), "ngo"),
        home(dir.path(), "witness"),
        home(dir.path(), "courier"),
    );
    let ngo_key = text(&ngo, &["key", "sealing"]);
    assert_eq!(ngo_key.len(), 64);
    carry(dir.path(), &ngo, &witness, "ngo-key.qb");

    // Not yet possible to a key whose sealing key is not here.
    let (code, says) = refused(
        &witness,
        &[
            "add",
            "testimony",
            "--title",
            "t",
            "--seal-to",
            &fingerprint(&courier),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        says.contains("no record here is signed by") || says.contains("no key for sealed records"),
        "{says}"
    );

    // Sealing goes only to a key you trust.
    let (code, says) = refused(
        &witness,
        &[
            "add",
            "testimony",
            "--title",
            "t",
            "--seal-to",
            &fingerprint(&ngo),
        ],
    );
    assert_eq!(code, 2, "{says}");
    assert!(says.contains("you do not trust"), "{says}");
    text(
        &witness,
        &["trust", "add", &fingerprint(&ngo), "--name", "NGO"],
    );
    let marker = "Айгерим-Нурланқызы-87015550000";
    let id = text(
        &witness,
        &[
            "add",
            "testimony",
            "--title",
            "Detention near the akimat",
            "--text",
            marker,
            "--witness",
            "W-Айгерим",
            "--consent",
            "share",
            "--seal-to",
            &fingerprint(&ngo),
            "--public-title",
            "A testimony for the NGO",
            "--public-text",
            "Detained at the akimat on 5 January; details sealed.",
        ],
    );
    let own = json(&witness, &["show", &id, "--json"]);
    assert_eq!(own["title"], "A testimony for the NGO");
    assert_eq!(
        own["record"]["text"],
        "Detained at the akimat on 5 January; details sealed."
    );
    assert_eq!(own["sealed"]["readable"], true, "the author reads it too");
    assert_eq!(own["sealed"]["content"]["text"], marker);

    let file = carry(dir.path(), &witness, &courier, "drop.qb");
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
        "the sealed text is not in the bundle in clear"
    );
    let carried = json(&courier, &["show", &id, "--json"]);
    assert_eq!(carried["signature"], "valid");
    assert_eq!(carried["sealed"]["readable"], false);
    assert!(carried["sealed"].get("content").is_none());
    let shown = text(&courier, &["show", &id]);
    assert!(shown.contains("not readable here"), "{shown}");

    text(&ngo, &["import", file.to_str().unwrap()]);
    let read = json(&ngo, &["show", &id, "--json"]);
    assert_eq!(read["sealed"]["readable"], true);
    assert_eq!(read["sealed"]["content"]["text"], marker);
    assert_eq!(
        read["sealed"]["content"]["details"]["witness_ref"],
        "W-Айгерим"
    );
    // A sealed photo: carried as ciphertext, opened by the recipient byte for byte.
    let photo = dir.path().join("p.bin");
    let photo_bytes: Vec<u8> = b"PHOTO-OF-THE-DETAINEE-"
        .iter()
        .cycle()
        .take(200_000)
        .copied()
        .collect();
    std::fs::write(&photo, &photo_bytes).unwrap();
    let with_photo = text(
        &witness,
        &[
            "add",
            "evidence",
            "--title",
            "p",
            "--attach",
            photo.to_str().unwrap(),
            "--consent",
            "share",
            "--seal-to",
            &fingerprint(&ngo),
        ],
    );
    let exported = dir.path().join("photo-full.qb");
    text(
        &witness,
        &["export", exported.to_str().unwrap(), "--with-attachments"],
    );
    let bytes = std::fs::read(&exported).unwrap();
    assert!(!bytes.windows(22).any(|w| w == b"PHOTO-OF-THE-DETAINEE-"));
    text(&courier, &["import", exported.to_str().unwrap()]);
    let out = dir.path().join("courier.bin");
    let (code, says) = refused(
        &courier,
        &["attachment", &with_photo, "1", out.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{says}");
    assert!(says.contains("sealed, and not to you"), "{says}");
    assert!(!out.exists());
    text(&ngo, &["import", exported.to_str().unwrap()]);
    let out = dir.path().join("ngo.bin");
    text(
        &ngo,
        &["attachment", &with_photo, "1", out.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&out).unwrap(), photo_bytes);
    let shown = text(&ngo, &["show", &with_photo]);
    assert!(shown.contains("attachment-1.bin"), "{shown}");
}

#[test]
fn an_endorsement_makes_a_key_endorsed_for_those_who_trust_the_endorser() {
    let dir = tempfile::tempdir().unwrap();
    let (madina, ruslan, me) = (
        home(dir.path(), "madina"),
        home(dir.path(), "ruslan"),
        home(dir.path(), "me"),
    );
    let id = testimony(&ruslan, "From Ruslan");
    carry(dir.path(), &ruslan, &madina, "r.qb");
    text(
        &madina,
        &[
            "trust",
            "endorse",
            &fingerprint(&ruslan),
            "--name",
            "Руслан",
        ],
    );
    // I never met Ruslan; I trust Madina.
    carry(dir.path(), &ruslan, &me, "r2.qb");
    carry(dir.path(), &madina, &me, "m.qb");
    assert_eq!(
        json(&me, &["show", &id, "--json"])["author_trust"]["trust"],
        "unknown"
    );
    text(
        &me,
        &["trust", "add", &fingerprint(&madina), "--name", "Мадина"],
    );
    let trust = &json(&me, &["show", &id, "--json"])["author_trust"];
    assert_eq!(trust["trust"], "endorsed");
    assert_eq!(trust["name"], "Руслан");
    assert_eq!(trust["by"], "Мадина");
    assert_eq!(trust["hops"], 1);
    let shown = text(&me, &["show", &id]);
    assert!(
        shown.contains("endorsed: Руслан — vouched for by Мадина (directly)"),
        "{shown}"
    );
}

#[test]
fn a_bundle_sealed_to_a_recipient_opens_only_in_the_recipients_archive() {
    let dir = tempfile::tempdir().unwrap();
    let (ngo, me, checkpoint) = (
        home(dir.path(), "ngo"),
        home(dir.path(), "me"),
        home(dir.path(), "checkpoint"),
    );
    text(&ngo, &["key", "sealing"]);
    carry(dir.path(), &ngo, &me, "ngo-key.qb");
    text(&me, &["trust", "add", &fingerprint(&ngo), "--name", "NGO"]);
    let marker = "Жаңаөзен-тізім-2022";
    let id = testimony(&me, marker);
    let drop = dir.path().join("drop.qb");
    text(
        &me,
        &[
            "export",
            drop.to_str().unwrap(),
            "--seal-to",
            &fingerprint(&ngo),
        ],
    );
    let bytes = std::fs::read(&drop).unwrap();
    assert!(bytes.starts_with(b"qoima-r\0"));
    assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()));

    // Found at a checkpoint: nothing opens it there.
    let (code, says) = refused(&checkpoint, &["import", drop.to_str().unwrap()]);
    assert_eq!(code, 4, "{says}");
    assert!(says.contains("sealed to other recipients"), "{says}");
    let (code, _) = refused(&checkpoint, &["verify", drop.to_str().unwrap()]);
    assert_eq!(code, 4);

    let imported = text(&ngo, &["import", drop.to_str().unwrap()]);
    assert!(imported.contains("new"), "{imported}");
    assert_eq!(json(&ngo, &["show", &id, "--json"])["title"], marker);
    // Refused together with a passphrase, and to a key whose sealing key is not here.
    let (code, _) = refused(
        &me,
        &[
            "export",
            "x.qb",
            "--passphrase",
            "--seal-to",
            &fingerprint(&ngo),
        ],
    );
    assert_eq!(code, 2);
    let (code, says) = refused(
        &me,
        &[
            "export",
            dir.path().join("y.qb").to_str().unwrap(),
            "--seal-to",
            &fingerprint(&checkpoint),
        ],
    );
    assert_ne!(code, 0, "{says}");
}

#[test]
fn the_untouched_original_travels_sealed_while_the_cleaned_copy_is_public() {
    let dir = tempfile::tempdir().unwrap();
    let (ngo, me, courier) = (
        home(dir.path(), "ngo"),
        home(dir.path(), "me"),
        home(dir.path(), "courier"),
    );
    text(&ngo, &["key", "sealing"]);
    carry(dir.path(), &ngo, &me, "ngo-key.qb");
    text(&me, &["trust", "add", &fingerprint(&ngo), "--name", "NGO"]);
    let marker = "GPS 43.2383N 76.9453E Canon-Serial-QX81";
    let photo = dir.path().join("IMG_20220105_143012.png");
    let original = samples::png_with_text(marker);
    std::fs::write(&photo, &original).unwrap();
    let id = text(
        &me,
        &[
            "add",
            "evidence",
            "--title",
            "At the square",
            "--attach",
            photo.to_str().unwrap(),
            "--consent",
            "share",
            "--seal-original-to",
            "NGO",
        ],
    );
    let shown = json(&me, &["show", &id, "--json"]);
    let links = shown["record"]["links"].as_array().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["kind"], "derived_from");
    let original_id = links[0]["target"].as_str().unwrap().to_owned();

    let drop = dir.path().join("all.qb");
    text(
        &me,
        &["export", drop.to_str().unwrap(), "--with-attachments"],
    );
    let bytes = std::fs::read(&drop).unwrap();
    assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()));
    for home in [&courier, &ngo] {
        text(home, &["import", drop.to_str().unwrap()]);
    }
    // Everyone gets the cleaned copy; only the NGO the original.
    let cleaned = dir.path().join("cleaned.png");
    text(
        &courier,
        &["attachment", &id, "1", cleaned.to_str().unwrap()],
    );
    let cleaned = std::fs::read(&cleaned).unwrap();
    assert!(
        !cleaned
            .windows(marker.len())
            .any(|w| w == marker.as_bytes())
    );
    let (code, _) = refused(
        &courier,
        &[
            "attachment",
            &original_id,
            "1",
            dir.path().join("x").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    let kept = dir.path().join("original.png");
    text(
        &ngo,
        &["attachment", &original_id, "1", kept.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&kept).unwrap(), original);
}
