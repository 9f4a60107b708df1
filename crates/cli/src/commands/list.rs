//! `qoima list` and `qoima search`.

use std::process::ExitCode;

use qoima_core::{AuthorKey, Fingerprint};
use qoima_store::{ListQuery, Store};

use super::{parse_kind, parse_since};
use crate::cli::ListArgs;
use crate::context::Context;
use crate::exit::UsageError;
use crate::output::print_summaries;

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
    print_summaries(&store.list(&query)?, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub fn search(ctx: &Context, text: &str, limit: usize, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    print_summaries(&store.search(text, limit)?, json)?;
    Ok(ExitCode::SUCCESS)
}

/// A public key in hex, a fingerprint of an author present in the archive, or `me`.
fn resolve_author(store: &Store, text: &str) -> anyhow::Result<AuthorKey> {
    if text == "me" {
        return Ok(store.persona_secret(None)?.public());
    }
    if let Ok(key) = text.parse::<AuthorKey>() {
        return Ok(key);
    }
    let Some(fingerprint) = Fingerprint::parse(text) else {
        anyhow::bail!(UsageError(format!(
            "{text:?} is neither a public key (64 hex characters), a fingerprint (XXXX-XXXX-XXXX-XXXX) nor \"me\""
        )));
    };
    store
        .authors()?
        .into_iter()
        .find(|key| key.fingerprint() == fingerprint)
        .ok_or_else(|| qoima_store::StoreError::NotFound(format!("author {text}")).into())
}
