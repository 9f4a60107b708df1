//! `qoima trust add|list|remove`: the author keys this archive's owner believes.

use std::process::ExitCode;

use qoima_core::format_ms;
use qoima_store::{AuthorTrust, TrustAdded};
use serde_json::json;

use crate::context::Context;
use crate::output::{outln, print_json, safe};

pub fn add(ctx: &Context, key: &str, name: &str) -> anyhow::Result<ExitCode> {
    let mut store = ctx.store()?;
    let key = store.resolve_author(key)?;
    let fingerprint = key.fingerprint();
    let name_shown = safe(name);
    match store.trust_add(&key, name)? {
        TrustAdded::New => outln!("Trusted {name_shown}: {fingerprint}")?,
        TrustAdded::Renamed => outln!("Already trusted; now called {name_shown}: {fingerprint}")?,
        TrustAdded::Unchanged => outln!("Already trusted as {name_shown}: {fingerprint}")?,
    }
    outln!("Public key: {key}")?;
    outln!(
        "Records signed by this key now show as from {name_shown}. A signature shows who \
         vouched for a record, not that it is true."
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn list(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let trusted = ctx.store()?.trusted_keys()?;
    if json {
        let rows: Vec<_> = trusted
            .iter()
            .map(|t| {
                json!({
                    "name": t.name, "public_key": t.key,
                    "fingerprint": t.key.fingerprint().to_string(), "added_ms": t.added_ms,
                })
            })
            .collect();
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if trusted.is_empty() {
        outln!(
            "You trust no key yet. After comparing a fingerprint with its holder in person: \
             qoima trust add FINGERPRINT --name NAME"
        )?;
    }
    for t in &trusted {
        outln!(
            "{}  {}  trusted {}",
            t.key.fingerprint(),
            safe(&t.name),
            format_ms(t.added_ms)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(ctx: &Context, key: &str) -> anyhow::Result<ExitCode> {
    let mut store = ctx.store()?;
    let key = store.resolve_author(key)?;
    if store.trust_remove(&key)? {
        outln!(
            "No longer trusted: {}. Its records stay and show as from an unknown author.",
            key.fingerprint()
        )?;
    } else {
        outln!("{} was not trusted; nothing changed.", key.fingerprint())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// How a record's author is described to a person, e.g. under `qoima show`.
pub fn describe(trust: &AuthorTrust) -> String {
    match trust {
        AuthorTrust::Own { persona } => format!("you (persona {})", safe(persona)),
        AuthorTrust::Trusted { name } => format!("trusted: {}", safe(name)),
        AuthorTrust::Endorsed { name, by, hops } => format!(
            "endorsed: {} — vouched for by {} ({})",
            safe(name),
            safe(by),
            match hops {
                1 => "directly".to_owned(),
                n => format!("through {} other keys", n - 1),
            }
        ),
        AuthorTrust::Revoked { since_ms } => format!(
            "REVOKED: this key says it was compromised from {} on",
            format_ms(*since_ms)
        ),
        AuthorTrust::Unknown => "unknown: you have not trusted this key".to_owned(),
    }
}
