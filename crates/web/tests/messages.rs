//! Every message the code and the templates use exists in English, Russian and Kazakh,
//! and the three languages define the same messages (each may spread them over several files).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qoima_web::i18n::{Lang, Tr};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Fluent file of a language, joined: each page may keep its messages in a file
/// of its own (`locales/ru/write.ftl`); the loader reads them all.
fn fluent_text(lang: &str) -> String {
    let mut files = Vec::new();
    files_under(&crate_dir().join("locales").join(lang), "ftl", &mut files);
    files.sort();
    assert!(!files.is_empty(), "no Fluent file for {lang}");
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The ids a language's Fluent files define: lines that start with `id =`.
fn defined(lang: &str) -> BTreeSet<String> {
    fluent_text(lang)
        .lines()
        .filter_map(|line| {
            let (id, _) = line.split_once(" =")?;
            let is_id = id.starts_with(|c: char| c.is_ascii_lowercase())
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            is_id.then(|| id.to_owned())
        })
        .collect()
}

fn files_under(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// The literal ids passed to `t`, `tn`, `ta`, `targs` or wrapped in `msg`, in the
/// templates and in the code outside its tests.
fn used() -> BTreeSet<String> {
    let mut files = Vec::new();
    files_under(&crate_dir().join("templates"), "html", &mut files);
    files_under(&crate_dir().join("src"), "rs", &mut files);
    let mut ids = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap();
        for call in [".t(", ".tn(", ".ta(", ".targs(", "msg("] {
            for (at, _) in text.match_indices(call) {
                // A literal first argument, maybe on the next line.
                let Some(rest) = text[at + call.len()..].trim_start().strip_prefix('"') else {
                    continue;
                };
                let id = &rest[..rest.find('"').unwrap()];
                ids.insert(id.to_owned());
            }
        }
    }
    ids
}

#[test]
fn every_used_message_exists_in_every_language() {
    let used = used();
    // The scan finds the calls (a sample of each way of calling).
    for id in [
        "app-name",
        "archive-on-page",
        "record-signed-by",
        "trust-endorsed",
        "kind-testimony",
    ] {
        assert!(used.contains(id), "{id} not found by the scan: {used:?}");
    }
    for lang in ["en", "ru", "kk"] {
        let defined = defined(lang);
        let missing: Vec<_> = used.difference(&defined).collect();
        assert!(missing.is_empty(), "locales/{lang} lacks {missing:?}");
        let dangling: Vec<_> = referenced(lang).difference(&defined).cloned().collect();
        assert!(dangling.is_empty(), "locales/{lang} refers to {dangling:?}");
    }
}

/// The messages a Fluent file's messages use in their text (`{ archive-count }`).
fn referenced(lang: &str) -> BTreeSet<String> {
    let text = fluent_text(lang);
    text.split("{ ")
        .skip(1)
        .filter_map(|rest| rest.split_once(" }").map(|(inside, _)| inside))
        .filter(|inside| {
            inside.starts_with(|c: char| c.is_ascii_lowercase())
                && inside.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_three_files_define_the_same_messages_and_none_unused() {
    let en = defined("en");
    assert_eq!(defined("ru"), en);
    assert_eq!(defined("kk"), en);
    let mut used = used();
    for lang in ["en", "ru", "kk"] {
        used.extend(referenced(lang));
    }
    let unused: Vec<_> = en.difference(&used).collect();
    assert!(unused.is_empty(), "defined but never used: {unused:?}");
}

/// The names of every argument the English messages take (`{ $name }`), but the
/// numbers `count` and `hops`.
fn argument_names() -> Vec<&'static str> {
    let text = fluent_text("en");
    let mut names = BTreeSet::new();
    for piece in text.split('$').skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
            .collect();
        if !name.is_empty() && name != "count" && name != "hops" {
            names.insert(name);
        }
    }
    names
        .into_iter()
        .map(|name| &*Box::leak(name.into_boxed_str()))
        .collect()
}

#[test]
fn every_message_resolves_in_every_language() {
    for lang in Lang::ALL {
        let tr = Tr::new(lang);
        for id in defined("en") {
            // Every argument any message takes (read from the Fluent files); a message
            // missing one does not resolve.
            let mut args: Vec<(&'static str, fluent_templates::fluent_bundle::FluentValue)> =
                argument_names()
                    .iter()
                    .map(|name| (*name, "x".into()))
                    .collect();
            args.extend([("count", 2.into()), ("hops", 1.into())]);
            // The peers and settings pages.
            args.extend(
                [
                    "ago", "known", "used", "budget", "have", "size", "value", "unit", "field",
                    "max",
                ]
                .map(|name| (name, "x".into())),
            );
            let text = tr.targs(&id, &args);
            assert!(
                !text.contains('⟦') && !text.is_empty(),
                "{id} in {lang:?}: {text}"
            );
        }
    }
}

#[test]
fn no_message_is_defined_twice_in_a_language() {
    for lang in ["en", "ru", "kk"] {
        let mut seen = BTreeSet::new();
        for line in fluent_text(lang).lines() {
            let Some((id, _)) = line.split_once(" =") else {
                continue;
            };
            if id.starts_with(|c: char| c.is_ascii_lowercase()) && !id.contains(' ') {
                assert!(seen.insert(id.to_owned()), "{lang}: {id} defined twice");
            }
        }
    }
}
