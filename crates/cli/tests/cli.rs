//! The `qoima` binary end to end, as a person or a script would use it, on temporary
//! data directories.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod samples;

use samples::png_with_text;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `qoima` with `args` against the data directory `home`.
fn qoima(home: &Path, args: &[&str]) -> Run {
    qoima_with(home, args, "test passphrase")
}

fn qoima_with(home: &Path, args: &[&str], passphrase: &str) -> Run {
    qoima_env(home, args, &[("QOIMA_PASSPHRASE", passphrase)])
}

/// `qoima ARGS` on `home` with these environment variables.
fn qoima_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .env("QOIMA_HOME", home)
        .envs(env.iter().copied())
        .output()
        .expect("qoima runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs and expects exit status `code`, returning stdout.
#[track_caller]
fn expect(home: &Path, args: &[&str], code: i32) -> String {
    let run = qoima(home, args);
    assert_eq!(
        run.code, code,
        "qoima {args:?}\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run.stdout
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn new_home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    expect(&home, &["init"], 0);
    (dir, home)
}

/// `qoima add ARGS`, with consent to share unless ARGS say otherwise, so that the
/// record travels (records without it are held back; see `held_back_records_…`).
fn add(home: &Path, args: &[&str]) -> String {
    let consent: &[&str] = if args.contains(&"--consent") || args.contains(&"--from") {
        &[]
    } else {
        &["--consent", "share"]
    };
    let id = expect(home, &[&["add"], args, consent].concat(), 0)
        .trim()
        .to_owned();
    assert_eq!(id.len(), 64, "add prints the new record's id: {id:?}");
    id
}

#[test]
fn init_refuses_to_overwrite_and_key_show_needs_the_passphrase() {
    let (_dir, home) = new_home();
    let run = qoima(&home, &["init"]);
    assert_eq!(run.code, 4);
    assert!(
        run.stderr.contains("refusing to overwrite"),
        "{}",
        run.stderr
    );
    let key = json(&expect(&home, &["key", "show", "--json"], 0));
    let fingerprint = key["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 19, "four groups of four: {fingerprint}");
    assert_eq!(key["public_key"].as_str().unwrap().len(), 64);
    let wrong = qoima_with(&home, &["key", "show"], "not it");
    assert_eq!(wrong.code, 4);
    assert!(
        wrong.stderr.contains("wrong passphrase"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn commands_before_init_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = qoima(dir.path(), &["list"]);
    assert_eq!(run.code, 4);
    assert!(run.stderr.contains("qoima init"), "{}", run.stderr);
}

#[test]
fn add_list_show_and_filters() {
    let (dir, home) = new_home();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(
        &photo,
        b"\xff\xd8\xff\xe0 not really a jpeg, but it starts like one",
    )
    .unwrap();
    let testimony = add(
        &home,
        &[
            "testimony",
            "--title",
            "Стрельба на площади",
            "--text",
            "Военные стреляли в толпу.",
            "--occurred-at",
            "2022-01-05T14:30+06:00",
            "--place",
            "Алматы",
            "--coords",
            "43.2383,76.9453",
            "--radius",
            "100",
            "--lang",
            "ru",
            "--tag",
            "almaty",
            "--tag",
            "january",
            "--witness",
            "W-17",
            "--relation",
            "eyewitness",
            // Not a real JPEG: it cannot be cleaned, so it is kept as it is, on request.
            "--keep-metadata",
            "--consent",
            "share",
            "--attach",
            photo.to_str().unwrap(),
        ],
    );
    let incident = add(
        &home,
        &[
            "incident",
            "--title",
            "Interruption of mobile internet",
            "--incident-type",
            "censorship",
            "--occurred-at",
            "2022-01-05/2022-01-10",
        ],
    );

    let listed = json(&expect(&home, &["list", "--json"], 0));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    for item in listed {
        for field in ["id", "kind", "author", "created_at", "title"] {
            assert!(item.get(field).is_some(), "{field} missing in {item}");
        }
    }
    assert_eq!(listed[0]["id"], incident.as_str(), "newest first");

    let only = json(&expect(
        &home,
        &["list", "--kind", "testimony", "--json"],
        0,
    ));
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["id"], testimony.as_str());
    // By place, in another form of its name; the incident has no place.
    let in_almaty = json(&expect(&home, &["list", "--place", "Алмате", "--json"], 0));
    assert_eq!(in_almaty.as_array().unwrap().len(), 1);
    assert_eq!(in_almaty[0]["id"], testimony.as_str());
    let elsewhere = json(&expect(&home, &["list", "--place", "Шымкент", "--json"], 0));
    assert_eq!(elsewhere.as_array().unwrap().len(), 0);
    let fingerprint = listed[0]["author_fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(
        json(&expect(
            &home,
            &["list", "--author", &fingerprint, "--json"],
            0
        ))
        .as_array()
        .unwrap()
        .len(),
        2
    );
    assert_eq!(
        json(&expect(&home, &["list", "--author", "me", "--json"], 0))
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        json(&expect(
            &home,
            &["list", "--since", "2100-01-01", "--json"],
            0
        ))
        .as_array()
        .unwrap()
        .len(),
        0
    );

    let shown = json(&expect(&home, &["show", &testimony[..10], "--json"], 0));
    let record = &shown["record"];
    assert_eq!(shown["seq"], 1);
    assert_eq!(record["occurred"]["precision"], "minute");
    assert_eq!(record["place"]["point"]["lat_e7"], 432_383_000);
    assert_eq!(record["details"]["witness_ref"], "W-17");
    assert_eq!(record["consent"]["share_with_organisations"], true);
    let attachment = &record["attachments"][0];
    assert_eq!(attachment["media_type"], "image/jpeg");
    assert_eq!(attachment["file_name"], "photo.jpg");
    assert_eq!(attachment["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(shown["provenance"][0]["source"], "local");
    let second = json(&expect(&home, &["show", &incident, "--json"], 0));
    assert_eq!(second["seq"], 2);
    assert_eq!(
        second["prev"],
        testimony.as_str(),
        "the author's chain links records"
    );

    let human = expect(&home, &["show", &testimony], 0);
    assert!(human.contains("not that what it says is true"), "{human}");
}

#[test]
fn add_from_json_with_every_field() {
    let (dir, home) = new_home();
    let from = dir.path().join("record.json");
    std::fs::write(
        &from,
        r#"{
          "kind": "detention",
          "title": "Задержание у акимата",
          "text": "Мужчину увезли без объяснений.",
          "occurred_at": "2022-01-06",
          "place": {"name": "Алматы, акимат", "lat": 43.238, "lon": 76.945, "radius_m": 500},
          "lang": "ru",
          "tags": ["detention", "almaty"],
          "details": {"type": "detention", "person_ref": "P-3", "facility": "СИЗО", "authority": "police"},
          "links": [],
          "consent": {"share_with_organisations": true, "publish": false, "use_in_court": true}
        }"#,
    )
    .unwrap();
    let id = add(&home, &["--from", from.to_str().unwrap()]);
    let shown = json(&expect(&home, &["show", &id, "--json"], 0));
    assert_eq!(shown["kind"], "detention");
    assert_eq!(shown["record"]["details"]["facility"], "СИЗО");
    assert_eq!(shown["record"]["consent"]["use_in_court"], true);

    std::fs::write(
        &from,
        r#"{"kind": "testimony", "title": "x", "titel": "typo"}"#,
    )
    .unwrap();
    let run = qoima(&home, &["add", "--from", from.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("unknown field"), "{}", run.stderr);
}

#[test]
fn usage_mistakes_exit_2_with_a_clear_message() {
    let (_dir, home) = new_home();
    for (args, says) in [
        (
            &[
                "add",
                "testimony",
                "--title",
                "t",
                "--occurred-at",
                "last week",
            ][..],
            "is not a time",
        ),
        (&["add", "--title", "t"][..], "say what kind of record"),
        (
            &["add", "testimony", "--text", "no title"][..],
            "needs a title",
        ),
        (&["list", "--kind", "rumour"][..], "unknown kind"),
        (
            &[
                "add",
                "testimony",
                "--title",
                "t",
                "--place",
                "x",
                "--coords",
                "91,0",
            ][..],
            "off the globe",
        ),
        (&["show", "xyz"][..], "is not a record id"),
    ] {
        let run = qoima(&home, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    let run = qoima(&home, &["show", "abcdef"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn search_finds_russian_kazakh_and_latin_text() {
    let (_dir, home) = new_home();
    let ru = add(
        &home,
        &[
            "testimony",
            "--title",
            "Задержания",
            "--text",
            "Протестующих задерживали у площади.",
        ],
    );
    let kk = add(
        &home,
        &[
            "testimony",
            "--title",
            "Куәлік",
            "--text",
            "Қарулы адамдар алаңға келді.",
        ],
    );
    let en = add(
        &home,
        &[
            "incident",
            "--title",
            "Internet shutdown",
            "--text",
            "Mobile data was cut nationwide.",
        ],
    );
    for (query, expected) in [
        ("протест", vec![&ru]),
        ("ПЛОЩАДИ", vec![&ru]),
        ("қарулы", vec![&kk]),
        ("АЛАҢҒА", vec![&kk]),
        ("shutdown", vec![&en]),
        ("mobile nationwide", vec![&en]),
        ("\"unbalanced AND (", vec![]),
    ] {
        let found = json(&expect(&home, &["search", query, "--json"], 0));
        let ids: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
        assert_eq!(ids, expected, "search {query:?}");
    }
}

#[test]
fn export_import_verify_round_trip_with_attachments() {
    let (dir, alice) = new_home();
    let video = dir.path().join("clip.mp4");
    let bytes: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&video, &bytes).unwrap();
    let with_clip = add(
        &alice,
        &[
            "evidence",
            "--title",
            "Видео с площади",
            "--attach",
            video.to_str().unwrap(),
        ],
    );
    add(&alice, &["testimony", "--title", "Second"]);
    let bundle = dir.path().join("out.qb");
    let out = expect(
        &alice,
        &["export", bundle.to_str().unwrap(), "--with-attachments"],
        0,
    );
    assert!(out.contains("2 records, 1 attachments"), "{out}");
    let verified = json(&expect(
        &alice,
        &["verify", bundle.to_str().unwrap(), "--json"],
        0,
    ));
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["records"].as_array().unwrap().len(), 2);
    assert_eq!(verified["blobs"][0]["hash"], "ok");

    let bob = dir.path().join("bob");
    expect(&bob, &["init"], 0);
    let first = expect(&bob, &["import", bundle.to_str().unwrap()], 0);
    assert!(
        first.contains("2 new, 0 already present, 0 rejected"),
        "{first}"
    );
    let again = expect(&bob, &["import", bundle.to_str().unwrap()], 0);
    assert!(
        again.contains("0 new, 2 already present, 0 rejected"),
        "{again}"
    );
    let shown = json(&expect(&bob, &["show", &with_clip, "--json"], 0));
    assert_eq!(
        shown["provenance"].as_array().unwrap().len(),
        1,
        "re-import adds no provenance"
    );
    assert_eq!(shown["provenance"][0]["source"], "file");
    assert_eq!(shown["provenance"][0]["origin"], "out.qb");
    let checked = json(&expect(&bob, &["verify", &with_clip, "--json"], 0));
    assert_eq!(checked["attachments"][0]["status"], "ok");

    // Tamper with the attachment bytes inside the bundle: import rejects the blob only.
    let mut damaged = std::fs::read(&bundle).unwrap();
    let last = damaged.len() - 10;
    damaged[last] ^= 0x55;
    let bad = dir.path().join("bad.qb");
    std::fs::write(&bad, &damaged).unwrap();
    let run = qoima(&bob, &["verify", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("does not match its hash"),
        "{}",
        run.stdout
    );
    let carol = dir.path().join("carol");
    expect(&carol, &["init"], 0);
    let run = qoima(&carol, &["import", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("2 new, 0 already present, 1 rejected"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("rejected item 2 (blob"),
        "{}",
        run.stdout
    );
}

#[test]
fn import_reports_each_file_and_exit_status_covers_all() {
    let (dir, home) = new_home();
    add(&home, &["testimony", "--title", "one"]);
    let good = dir.path().join("good.qb");
    expect(&home, &["export", good.to_str().unwrap()], 0);
    let junk = dir.path().join("junk.qb");
    std::fs::write(&junk, b"this is not a bundle at all").unwrap();
    let other = dir.path().join("other");
    expect(&other, &["init"], 0);
    let run = qoima(
        &other,
        &["import", good.to_str().unwrap(), junk.to_str().unwrap()],
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("good.qb: bundle"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("junk.qb: not imported: not a qoima bundle"),
        "{}",
        run.stdout
    );
    assert_eq!(
        json(&expect(&other, &["list", "--json"], 0))
            .as_array()
            .unwrap()
            .len(),
        1,
        "the good file was imported"
    );
}

/// Runs `qoima` with stdout a pipe whose reading end is already closed, as when the
/// reader (`| head -c0`) has gone before the command writes anything.
fn qoima_into_closed_pipe(home: &Path, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // the only reading end: every write now fails with EPIPE
    let out = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .env("QOIMA_HOME", home)
        .env("QOIMA_PASSPHRASE", "test passphrase")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("qoima runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_and_add_stores_once() {
    let (_dir, home) = new_home();
    let title = "Stored once although nobody read the id";
    let run = qoima_into_closed_pipe(&home, &["add", "testimony", "--title", title]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "", "nothing to report");
    let listed = json(&expect(&home, &["list", "--json"], 0));
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, [title], "stored exactly once");

    for args in [
        &["list"][..],
        &["list", "--json"],
        &["show", listed[0]["id"].as_str().unwrap()],
        &["verify", listed[0]["id"].as_str().unwrap()],
        &["key", "show"],
    ] {
        let run = qoima_into_closed_pipe(&home, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{args:?}");
    }
}

const FORGED: &str = "All checks passed.";

/// Human output must not carry raw control characters or bidi overrides from data, and
/// no line of it may be one that data forged. Line breaks are qoima's own.
#[track_caller]
fn assert_not_forged(output: &str) {
    for c in output.chars() {
        assert!(
            c == '\n'
                || !(c.is_control()
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)),
            "raw {c:?} in output:\n{output}"
        );
    }
    assert!(
        !output.lines().any(|line| line == FORGED),
        "a forged line in output:\n{output}"
    );
}

#[test]
fn data_cannot_forge_terminal_output() {
    let (dir, home) = new_home();
    // Records may hold line breaks, tabs and bidi controls (the format refuses other
    // control characters); bundle collection names and file names may hold anything.
    let title = format!("Title\n{FORGED}\u{2067}\t");
    let id = add(
        &home,
        &[
            "testimony",
            "--title",
            &title,
            "--text",
            &format!("First line\n{FORGED}\n\u{202d}x"),
            "--place",
            &format!("\u{2066}Алматы\n{FORGED}"),
            "--tag",
            "\u{202e}txt.exe",
            "--witness",
            &format!("W\n{FORGED}"),
        ],
    );
    let listed = expect(&home, &["list"], 0);
    assert_not_forged(&listed);
    assert!(
        listed.contains("Title\\nAll checks passed.\\u{2067}\\t"),
        "{listed}"
    );
    let shown = expect(&home, &["show", &id], 0);
    assert_not_forged(&shown);
    assert!(shown.contains("\\u{202e}txt.exe"), "{shown}");
    assert!(shown.contains("\\u{2066}Алматы\\nAll"), "{shown}");
    assert!(
        shown.contains("    First line\n    All checks passed.\n    \\u{202d}x\n"),
        "text keeps its lines, indented: {shown}"
    );
    // JSON is exact: the data as written, escaped only by JSON's rules.
    let record = json(&expect(&home, &["show", &id, "--json"], 0));
    assert_eq!(record["title"], title.as_str());

    // A bundle whose collection name and file name carry the same.
    let bundle = dir.path().join(format!("evil\n{FORGED}\x1b[2J.qb"));
    let bundle = bundle.to_str().unwrap();
    let collection = format!("c\n{FORGED}\x1b]8;;https://example.invalid\x07");
    expect(&home, &["export", bundle, "--collection", &collection], 0);
    let verified = expect(&home, &["verify", bundle], 0);
    let lines: Vec<&str> = verified.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| **l == FORGED).count(),
        1,
        "only qoima's own verdict:\n{verified}"
    );
    assert_eq!(lines.last(), Some(&FORGED));
    assert_not_forged(&lines[..lines.len() - 1].join("\n"));
    assert!(
        verified.contains("collection c\\nAll checks passed."),
        "{verified}"
    );

    // Damaged, so the verdict is a failure: nothing in the output may claim otherwise.
    let mut damaged = std::fs::read(bundle).unwrap();
    let at = damaged.len() - 10; // inside the last record's signature
    damaged[at] ^= 0x55;
    let damaged_path = dir.path().join(format!("damaged\n{FORGED}\x1b[2J.qb"));
    std::fs::write(&damaged_path, &damaged).unwrap();
    let damaged_path = damaged_path.to_str().unwrap();
    let run = qoima(&home, &["verify", damaged_path]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_not_forged(&run.stdout);
    assert!(
        run.stdout.ends_with("VERIFICATION FAILED.\n"),
        "{}",
        run.stdout
    );

    let other = dir.path().join("other");
    expect(&other, &["init"], 0);
    let run = qoima(&other, &["import", damaged_path]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_not_forged(&run.stdout);
    assert!(run.stdout.contains("rejected item"), "{}", run.stdout);
    let imported = expect(&other, &["import", bundle], 0);
    assert_not_forged(&imported);
    assert!(imported.contains("evil\\nAll checks passed."), "{imported}");
    let shown = expect(&other, &["show", &id], 0);
    assert_not_forged(&shown);
    assert!(
        shown.contains("from file evil\\nAll checks passed."),
        "{shown}"
    );
}

#[test]
fn concurrent_inits_make_exactly_one_archive_and_keep_the_winners_key() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let spawn = |passphrase: &str| {
        Command::new(env!("CARGO_BIN_EXE_qoima"))
            .arg("init")
            .env("QOIMA_HOME", &home)
            .env("QOIMA_PASSPHRASE", passphrase)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Both start before either finishes: each takes about half a second deriving its
    // key from the passphrase, after the check for an existing key and before writing.
    let (first, second) = (spawn("passphrase one"), spawn("passphrase two"));
    let outcomes = [
        ("passphrase one", first.wait_with_output().unwrap()),
        ("passphrase two", second.wait_with_output().unwrap()),
    ];
    let winners: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| o.status.success())
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let (winning_passphrase, winner) = winners[0];
    let (losing_passphrase, loser) = outcomes.iter().find(|(_, o)| !o.status.success()).unwrap();
    assert_eq!(loser.status.code(), Some(4));
    let complaint = String::from_utf8_lossy(&loser.stderr);
    assert!(
        complaint.contains("an archive already exists in"),
        "{complaint}"
    );

    let fingerprint = String::from_utf8_lossy(&winner.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Fingerprint: ").map(str::to_owned))
        .unwrap();
    let key = qoima_with(&home, &["key", "show", "--json"], winning_passphrase);
    assert_eq!(key.code, 0, "{}", key.stderr);
    assert_eq!(json(&key.stdout)["fingerprint"], fingerprint.as_str());
    let other = qoima_with(&home, &["key", "show"], losing_passphrase);
    assert_eq!(other.code, 4, "the loser's key did not replace it");
    let mut names: Vec<String> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        !names.iter().any(|n| n.starts_with(".qoima-partial")),
        "no half-written key left: {names:?}"
    );
}

#[test]
fn exported_bundles_are_signed_by_a_one_time_key_unless_sign_as_me() {
    let (dir, home) = new_home();
    add(&home, &["testimony", "--title", "Carried on a stick"]);
    let me = json(&expect(&home, &["key", "show", "--json"], 0))["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bundler = |file: &str| {
        let report = json(&expect(&home, &["verify", file, "--json"], 0));
        assert_eq!(report["records"][0]["author"], me.as_str());
        report["bundle"]["bundler"].as_str().unwrap().to_owned()
    };

    // The archive is encrypted at rest: exporting needs the passphrase (for the archive
    // key), and a wrong one writes nothing.
    let (one, two) = (dir.path().join("one.qb"), dir.path().join("two.qb"));
    let refused = qoima_with(&home, &["export", one.to_str().unwrap()], "not it");
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(!one.exists());
    for file in [&one, &two] {
        expect(&home, &["export", file.to_str().unwrap()], 0);
    }
    let (one, two) = (
        bundler(one.to_str().unwrap()),
        bundler(two.to_str().unwrap()),
    );
    assert_ne!(one, me, "the bundle does not name its courier");
    assert_ne!(two, me);
    assert_ne!(one, two, "a new key for every bundle");

    let vouched = dir.path().join("vouched.qb");
    let vouched = vouched.to_str().unwrap();
    let run = qoima_with(&home, &["export", vouched, "--sign-as-me"], "not it");
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!Path::new(vouched).exists());
    expect(&home, &["export", vouched, "--sign-as-me"], 0);
    assert_eq!(bundler(vouched), me);
}

/// `qoima add --occurred-at '2022-01-05T14:30:15.éé'` and `list --since` with the same
/// value panicked (exit 101): the time parser cut the text inside a multi-byte character.
#[test]
fn non_ascii_fraction_of_a_second_is_a_usage_error_not_a_panic() {
    let (_dir, home) = new_home();
    let when = "2022-01-05T14:30:15.éé";
    for args in [
        &["add", "testimony", "--title", "t", "--occurred-at", when][..],
        &["list", "--since", when],
        &["export", "out.qb", "--since", when],
    ] {
        let run = qoima(&home, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a time: write 2022-01-05"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let listed = json(&expect(&home, &["list", "--json"], 0));
    assert_eq!(listed.as_array().unwrap().len(), 0, "nothing was stored");
}

#[test]
fn attached_photos_lose_their_metadata_and_name_unless_kept() {
    let (dir, home) = new_home();
    let marker = "GPS 43.2383N 76.9453E Canon-Serial-QX81";
    let photo = dir.path().join("IMG_20220105_143012.png");
    let original = png_with_text(marker);
    std::fs::write(&photo, &original).unwrap();

    let run = qoima(
        &home,
        &[
            "add",
            "evidence",
            "--title",
            "p",
            "--consent",
            "share",
            "--attach",
            photo.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("removed text"),
        "the notice says what went: {}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&photo).unwrap(),
        original,
        "the user's file is untouched"
    );
    let id = run.stdout.trim().to_owned();
    let shown = json(&expect(&home, &["show", &id, "--json"], 0));
    let attachment = &shown["record"]["attachments"][0];
    assert_eq!(attachment["file_name"], "attachment-1.png", "{shown}");
    assert!(attachment["size"].as_u64().unwrap() < original.len() as u64);

    let kept = qoima(
        &home,
        &[
            "add",
            "evidence",
            "--title",
            "k",
            "--consent",
            "share",
            "--keep-metadata",
            "--attach",
            photo.to_str().unwrap(),
        ],
    );
    assert_eq!(kept.code, 0, "{}", kept.stderr);

    let bundle = dir.path().join("out.qb");
    expect(
        &home,
        &["export", bundle.to_str().unwrap(), "--with-attachments"],
        0,
    );
    let bytes = std::fs::read(&bundle).unwrap();
    let count = bytes
        .windows(marker.len())
        .filter(|w| *w == marker.as_bytes())
        .count();
    assert_eq!(
        count, 1,
        "only the copy attached with --keep-metadata carries the marker"
    );
    assert!(
        bytes.windows(12).any(|w| w == b"IMG_20220105"),
        "--keep-metadata keeps the name"
    );
}

#[test]
fn held_back_records_without_consent_are_not_exported_unless_asked() {
    let (dir, home) = new_home();
    let private = qoima(&home, &["add", "testimony", "--title", "Held back here"]);
    assert_eq!(private.code, 0, "{}", private.stderr);
    assert!(
        private.stderr.contains("never offered to peers"),
        "{}",
        private.stderr
    );
    let shared = add(&home, &["testimony", "--title", "Shared"]);
    let private = private.stdout.trim().to_owned();

    let plain = dir.path().join("plain.qb");
    expect(&home, &["export", plain.to_str().unwrap()], 0);
    let listed = json(&expect(
        &home,
        &["verify", plain.to_str().unwrap(), "--json"],
        0,
    ));
    let ids: Vec<&str> = listed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [shared.as_str()]);

    let all = dir.path().join("all.qb");
    expect(
        &home,
        &["export", all.to_str().unwrap(), "--include-unshared"],
        0,
    );
    let listed = json(&expect(
        &home,
        &["verify", all.to_str().unwrap(), "--json"],
        0,
    ));
    assert_eq!(listed["records"].as_array().unwrap().len(), 2);
    assert!(listed.to_string().contains(&private));
}

/// `qoima ARGS` with a sealed bundle's passphrase in the environment.
fn qoima_sealed(home: &Path, args: &[&str], bundle_passphrase: &str) -> Run {
    qoima_env(
        home,
        args,
        &[
            ("QOIMA_PASSPHRASE", "test passphrase"),
            ("QOIMA_BUNDLE_PASSPHRASE", bundle_passphrase),
        ],
    )
}

#[test]
fn a_sealed_bundle_reveals_nothing_and_opens_only_with_its_passphrase() {
    let (dir, home) = new_home();
    let marker = "ПечатьМаркер SealedMarker";
    let id = add(&home, &["testimony", "--title", marker, "--witness", "W-9"]);
    let sealed = dir.path().join("stick.qb");
    let run = qoima_sealed(
        &home,
        &["export", sealed.to_str().unwrap(), "--passphrase"],
        "river stone",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(&sealed).unwrap();
    for needle in [
        marker.as_bytes(),
        marker.to_lowercase().as_bytes(),
        b"W-9",
        b"qoima-b",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the sealed file shows {:?}",
            String::from_utf8_lossy(needle)
        );
    }

    let (_other_dir, other) = new_home();
    let wrong = qoima_sealed(&other, &["import", sealed.to_str().unwrap()], "not it");
    assert_eq!(wrong.code, 4, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("wrong passphrase"),
        "{}",
        wrong.stderr
    );
    assert_eq!(expect(&other, &["list", "--json"], 0).trim(), "[]");

    let mut tampered = bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let bad = dir.path().join("tampered.qb");
    std::fs::write(&bad, &tampered).unwrap();
    let refused = qoima_sealed(&other, &["import", bad.to_str().unwrap()], "river stone");
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert_eq!(expect(&other, &["list", "--json"], 0).trim(), "[]");

    let verified = qoima_sealed(
        &other,
        &["verify", sealed.to_str().unwrap(), "--json"],
        "river stone",
    );
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    let imported = qoima_sealed(&other, &["import", sealed.to_str().unwrap()], "river stone");
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    assert!(imported.stdout.contains("1 new"), "{}", imported.stdout);
    let shown = json(&expect(&other, &["show", &id, "--json"], 0));
    assert_eq!(shown["record"]["title"], marker);
}
