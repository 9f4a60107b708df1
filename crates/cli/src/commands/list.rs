//! `qoima list` and `qoima search`.

use std::process::ExitCode;

use qoima_core::AuthorKey;
use qoima_store::{ListQuery, Store};

use super::{parse_kind, parse_since};
use crate::cli::ListArgs;
use crate::context::Context;
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
        place: args.place.clone(),
        limit: args.limit,
        ..ListQuery::default()
    };
    print_summaries(&store.judge(store.list(&query)?)?, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub fn search(ctx: &Context, text: &str, limit: usize, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    print_summaries(&store.judge(store.search(text, limit)?)?, json)?;
    Ok(ExitCode::SUCCESS)
}

/// `me`, or what [`Store::resolve_author`] understands: a public key, a fingerprint of
/// a key known here, or the name a key is trusted under.
fn resolve_author(store: &Store, text: &str) -> anyhow::Result<AuthorKey> {
    if text == "me" {
        return Ok(store.persona_secret(None)?.public());
    }
    Ok(store.resolve_author(text)?)
}
