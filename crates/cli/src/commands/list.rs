//! `qoima list` and `qoima search`.

use std::process::ExitCode;

use qoima_core::AuthorKey;
use qoima_store::{AuthorTrust, ListQuery, RecordSummary, Store};

use super::{parse_kind, parse_since};
use crate::cli::ListArgs;
use crate::context::Context;
use crate::output::{Listed, print_summaries};

pub fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let query = ListQuery {
        kind: args.kind.as_deref().map(parse_kind).transpose()?,
        author: args
            .author
            .as_deref()
            .map(|a| resolve_author(&store, a))
            .transpose()?,
        since_ms: args.since.as_deref().map(parse_since).transpose()?,
        limit: args.limit,
    };
    print_summaries(&with_trust(&store, store.list(&query)?)?, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub fn search(ctx: &Context, text: &str, limit: usize, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    print_summaries(&with_trust(&store, store.search(text, limit)?)?, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Each listed record with whether its author is trusted and whether it is suspect
/// (signed after its key's revocation).
fn with_trust(store: &Store, summaries: Vec<RecordSummary>) -> anyhow::Result<Vec<Listed>> {
    // Once per author, not per row: a listing is mostly a few authors' records, and the
    // trust of an unknown author walks the endorsements.
    let mut trust_of: std::collections::HashMap<AuthorKey, AuthorTrust> = Default::default();
    summaries
        .into_iter()
        .map(|summary| {
            let trust = match trust_of.get(&summary.author) {
                Some(trust) => trust.clone(),
                None => {
                    let trust = store.author_trust(&summary.author)?;
                    trust_of.insert(summary.author, trust.clone());
                    trust
                }
            };
            let suspect = matches!(trust, AuthorTrust::Revoked { .. })
                && store.is_suspect(&summary.author, summary.created_ms, summary.stored_ms)?;
            Ok(Listed {
                summary,
                trust,
                suspect,
            })
        })
        .collect()
}

/// `me`, or what [`Store::resolve_author`] understands: a public key, a fingerprint of
/// a key known here, or the name a key is trusted under.
fn resolve_author(store: &Store, text: &str) -> anyhow::Result<AuthorKey> {
    if text == "me" {
        return Ok(store.persona_secret(None)?.public());
    }
    Ok(store.resolve_author(text)?)
}
