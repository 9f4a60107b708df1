//! `qoima list` and `qoima search`.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use qoima_core::AuthorKey;
use qoima_store::{ListQuery, Store};

use super::{parse_kind, parse_since};
use crate::cli::ListArgs;
use crate::context::Context;
use crate::output::{errln, print_summaries};

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
    if query.place.is_some() {
        make_everything_searchable(&store)?;
    }
    print_summaries(&store.judge(store.list(&query)?)?, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub fn search(ctx: &Context, text: &str, limit: usize, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    make_everything_searchable(&store)?;
    print_summaries(&store.judge(store.search(text, limit)?)?, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Indexes every record still waiting for the search index, so the results are
/// complete: a search does only a bounded part of that work itself (the node does the
/// rest in the background), and after an upgrade that remade the index, every record
/// waits. A person at a terminal would rather wait once, seeing how long, than miss
/// records. What is left when another process holds the archive is left to the search.
fn make_everything_searchable(store: &Store) -> anyhow::Result<()> {
    let pending = store.search_pending_count()?;
    if pending <= qoima_store::SEARCH_OWN_INDEXING_MAX as u64 {
        return Ok(());
    }
    errln!("Making {pending} records searchable (once, after an upgrade or a large import)…");
    let progress = ProgressBar::new(pending).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} records (about {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        match store.index_pending_search(qoima_store::SEARCH_INDEX_BATCH) {
            Ok(indexed) => {
                progress.inc(indexed as u64);
                if indexed < qoima_store::SEARCH_INDEX_BATCH {
                    break;
                }
            }
            Err(e) => {
                progress.finish_and_clear();
                errln!(
                    "Not all of them could be made searchable now ({e}); the results may miss some."
                );
                return Ok(());
            }
        }
    }
    progress.finish_and_clear();
    Ok(())
}

/// `me`, or what [`Store::resolve_author`] understands: a public key, a fingerprint of
/// a key known here, or the name a key is trusted under.
fn resolve_author(store: &Store, text: &str) -> anyhow::Result<AuthorKey> {
    if text == "me" {
        return Ok(store.persona_secret(None)?.public());
    }
    Ok(store.resolve_author(text)?)
}
