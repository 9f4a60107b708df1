//! `qoima verify`: a full report on a bundle file or a stored record. Exit 0 only when
//! every hash and signature holds.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use fs_err as fs;
use indicatif::ProgressBar;
use qoima_core::bundle::{BundleReader, Item};
use qoima_core::{VerifiedRecord, format_ms};
use serde_json::{Value, json};
use sha2::Digest;

use crate::context::Context;
use crate::exit;
use crate::output::{outln, print_json, safe};

pub fn run(ctx: &Context, target: &str, json: bool) -> anyhow::Result<ExitCode> {
    let (report, valid) = if Path::new(target).is_file() {
        verify_bundle(ctx, Path::new(target))?
    } else {
        verify_record(ctx, target)?
    };
    if json {
        print_json(&report)?;
    } else {
        print_lines(&report)?;
        outln!(
            "{}",
            if valid {
                "All checks passed."
            } else {
                "VERIFICATION FAILED."
            }
        )?;
    }
    Ok(ExitCode::from(if valid { exit::OK } else { exit::INVALID }))
}

fn verify_bundle(ctx: &Context, path: &Path) -> anyhow::Result<(Value, bool)> {
    let file = fs::File::open(path)?;
    let progress = ProgressBar::new(file.metadata()?.len());
    let input = std::io::BufReader::with_capacity(1024 * 1024, progress.wrap_read(file));
    let input = crate::sealed::bundle_input(input, path, || Ok(ctx.store()?.sealing_secrets()?))?;
    let mut reader = match BundleReader::open(input) {
        Ok(reader) => reader,
        Err(e) => {
            let report =
                json!({ "file": path, "valid": false, "bundle": { "error": e.to_string() } });
            return Ok((report, false));
        }
    };
    let manifest = reader.manifest().clone();
    let mut valid = true;
    let mut records = Vec::new();
    let mut blobs = Vec::new();
    let mut fatal = None;
    loop {
        match reader.next_item() {
            Ok(None) => break,
            Err(e) => {
                fatal = Some(e.to_string());
                valid = false;
                break;
            }
            Ok(Some(Item::Record { index, id, bytes })) => {
                let checked = bytes.map_err(|e| e.to_string()).and_then(|b| {
                    VerifiedRecord::from_bytes_with_id(b, id).map_err(|e| e.to_string())
                });
                valid &= checked.is_ok();
                records.push(match checked {
                    Ok(record) => json!({
                        "index": index, "id": id, "hash": "ok", "signature": "valid",
                        "author": record.body().author,
                        "author_fingerprint": record.body().author.fingerprint().to_string(),
                        "title": record.body().title,
                    }),
                    Err(reason) => json!({ "index": index, "id": id, "error": reason }),
                });
            }
            Ok(Some(Item::Blob(blob))) => {
                let (index, hash, size) = (blob.index(), blob.hash(), blob.size());
                match blob.finish() {
                    Ok(Ok(())) => blobs.push(
                        json!({ "index": index, "blake3": hash, "size": size, "hash": "ok" }),
                    ),
                    Ok(Err(e)) => {
                        valid = false;
                        blobs.push(json!({ "index": index, "blake3": hash, "size": size, "error": e.to_string() }));
                    }
                    Err(e) => {
                        valid = false;
                        fatal = Some(e.to_string());
                        break;
                    }
                }
            }
        }
    }
    progress.finish_and_clear();
    let report = json!({
        "file": path,
        "valid": valid,
        "bundle": {
            "id": reader.id(),
            "signature": "valid",
            "bundler": manifest.bundler,
            "bundler_fingerprint": manifest.bundler.fingerprint().to_string(),
            "collection": manifest.collection,
            "created_at": format_ms(manifest.created_ms),
            "items": manifest.items.len(),
        },
        "records": records,
        "blobs": blobs,
        "error": fatal,
    });
    Ok((report, valid))
}

fn verify_record(ctx: &Context, id: &str) -> anyhow::Result<(Value, bool)> {
    let store = ctx.store()?;
    let id = store.resolve(id)?;
    let stored = match store.get(&id) {
        Ok(stored) => stored,
        Err(qoima_store::StoreError::Corrupt(reason)) => {
            return Ok((
                json!({ "record": { "id": id, "error": reason }, "valid": false }),
                false,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let body = stored.record.body();
    let mut valid = true;
    let mut attachments = Vec::new();
    for a in &body.attachments {
        let reader = match store.read_blob(&a.blake3) {
            Ok(reader) => reader,
            Err(qoima_store::StoreError::Tampered(reason)) => {
                valid = false;
                attachments.push(json!({
                    "blake3": a.blake3, "file_name": a.file_name,
                    "status": format!("TAMPERED: {reason}"),
                }));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let Some(reader) = reader else {
            attachments.push(
                json!({ "blake3": a.blake3, "file_name": a.file_name, "status": "not held here" }),
            );
            continue;
        };
        let (blake3, sha256, size) = match hash_reader(reader) {
            Ok(hashes) => hashes,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                valid = false;
                attachments.push(json!({
                    "blake3": a.blake3, "file_name": a.file_name,
                    "status": format!("TAMPERED: {e}"),
                }));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let ok = blake3 == *a.blake3.as_bytes() && sha256 == a.sha256.0 && size == a.size;
        valid &= ok;
        attachments.push(json!({
            "blake3": a.blake3, "file_name": a.file_name, "size": size,
            "status": if ok { "ok" } else { "MISMATCH: the stored file differs from what the record names" },
        }));
    }
    let report = json!({
        "record": {
            "id": id, "hash": "ok", "signature": "valid",
            "author": body.author, "author_fingerprint": body.author.fingerprint().to_string(),
            "author_trust": store.author_trust(&body.author)?,
            "title": body.title,
        },
        "attachments": attachments,
        "valid": valid,
    });
    Ok((report, valid))
}

fn hash_reader(mut file: impl Read) -> std::io::Result<([u8; 32], [u8; 32], u64)> {
    let mut blake = blake3::Hasher::new();
    let mut sha = sha2::Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        blake.update(&buf[..n]);
        sha.update(&buf[..n]);
        size += n as u64;
    }
    Ok((*blake.finalize().as_bytes(), sha.finalize().into(), size))
}

/// The human form of a report: one line per check.
fn print_lines(report: &Value) -> anyhow::Result<()> {
    // Every string in the report may come from the bundle or the record (a collection
    // name, a file name, an error quoting either): escaped before it reaches a terminal.
    if let Some(bundle) = report.get("bundle") {
        match bundle.get("error") {
            Some(error) => outln!("bundle:     INVALID: {}", text(error))?,
            None => outln!(
                "bundle:     {} signature valid, signed by {} ({} items, collection {})",
                text(&bundle["id"]),
                text(&bundle["bundler_fingerprint"]),
                bundle["items"],
                text(&bundle["collection"])
            )?,
        }
    }
    let items = report
        .get("records")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for record in items {
        match record.get("error") {
            Some(error) => outln!(
                "record {:>4} {}  INVALID: {}",
                record["index"],
                text(&record["id"]),
                text(error)
            )?,
            None => outln!(
                "record {:>4} {}  hash ok, signature valid ({})",
                record["index"],
                text(&record["id"]),
                text(&record["author_fingerprint"])
            )?,
        }
    }
    for blob in report
        .get("blobs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match blob.get("error") {
            Some(error) => outln!(
                "blob   {:>4} {}  INVALID: {}",
                blob["index"],
                text(&blob["blake3"]),
                text(error)
            )?,
            None => outln!(
                "blob   {:>4} {}  hash ok ({} bytes)",
                blob["index"],
                text(&blob["blake3"]),
                blob["size"]
            )?,
        }
    }
    if let Some(record) = report.get("record") {
        match record.get("error") {
            Some(error) => outln!("record {}  INVALID: {}", text(&record["id"]), text(error))?,
            None => outln!(
                "record {}  hash ok, signature valid ({}; {})",
                text(&record["id"]),
                text(&record["author_fingerprint"]),
                trust_text(&record["author_trust"])
            )?,
        }
    }
    for a in report
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        outln!(
            "attached {} {}: {}",
            text(&a["blake3"]),
            text(&a["file_name"]),
            text(&a["status"])
        )?;
    }
    if let Some(error) = report.get("error").filter(|e| !e.is_null()) {
        outln!("bundle:     DAMAGED: {}", text(error))?;
    }
    Ok(())
}

/// A string of the report, escaped: it may come from the bundle or the record.
fn text(v: &Value) -> String {
    match v.as_str() {
        Some(s) => safe(s).into_owned(),
        None => safe(&v.to_string()).into_owned(),
    }
}

/// The author's trust as `show` words it, from the report's `author_trust`.
fn trust_text(trust: &Value) -> String {
    match serde_json::from_value(trust.clone()) {
        Ok(trust) => super::trust::describe(&trust),
        Err(_) => text(trust),
    }
}
