//! Printing: tables for people, JSON for scripts.

use qoima_core::{AuthorKey, format_ms};
use qoima_store::RecordSummary;
use serde::Serialize;
use serde_json::json;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The JSON object for a listed record.
pub fn summary_json(summary: &RecordSummary) -> serde_json::Value {
    json!({
        "id": summary.id,
        "kind": summary.kind,
        "author": summary.author,
        "author_fingerprint": summary.author.fingerprint().to_string(),
        "seq": summary.seq,
        "created_at": format_ms(summary.created_ms),
        "title": summary.title,
    })
}

/// Prints listed records as a table, or JSON.
pub fn print_summaries(summaries: &[RecordSummary], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&summaries.iter().map(summary_json).collect::<Vec<_>>());
    }
    if summaries.is_empty() {
        eprintln!("No records.");
        return Ok(());
    }
    for s in summaries {
        let created = format_ms(s.created_ms);
        println!(
            "{}  {:<10}  {:<10}  {}  {}",
            s.id.short(),
            created.get(..10).unwrap_or(&created),
            s.kind.name(),
            short_fingerprint(&s.author),
            s.title
        );
    }
    Ok(())
}

/// The first group of an author's fingerprint, for dense listings.
pub fn short_fingerprint(key: &AuthorKey) -> String {
    key.fingerprint().to_string()[..9].to_owned()
}
