//! `qoima-bench search-recall`: recall and precision of search on the set of 30 queries
//! with their expected records (`crates/store/tests/data/search_recall.json`), with word
//! forms (what `Store::search` does) and without (words matched as typed, as before
//! schema version 12). The store's test `search_recall.rs` holds the floor; this prints
//! the figures and each query's misses.

use qoima_store::Matching;
use qoima_store::recall_set::{RecallSet, Tally};

use crate::util::Table;

/// Options of `search-recall` (none: the set is fixed).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the benchmark and prints its table.
pub fn run(_args: Args) -> anyhow::Result<()> {
    let set = RecallSet::load();
    let dir = tempfile::tempdir()?;
    let mut store = crate::util::open_store(dir.path())?;
    let names = set.store_into(&mut store)?;
    println!(
        "search-recall: {} records, {} queries (crates/store/tests/data/search_recall.json)",
        set.records.len(),
        set.queries.len()
    );
    let mut table = Table::new(&[
        "query",
        "expected",
        "word forms: found",
        "missed",
        "as typed: found",
        "missed",
    ]);
    let (mut forms, mut typed) = (Tally::default(), Tally::default());
    for q in &set.queries {
        let mut cells = vec![q.query.clone(), q.expected.len().to_string()];
        for (matching, tally) in [
            (Matching::WordForms, &mut forms),
            (Matching::WordsAsTyped, &mut typed),
        ] {
            let got = names.measure(&store, q, matching, tally)?;
            let missed: Vec<&str> = q.expected.difference(&got).map(String::as_str).collect();
            cells.push(got.len().to_string());
            cells.push(missed.join(" "));
        }
        table.row(cells);
    }
    println!();
    table.print();
    println!();
    for (label, tally) in [
        ("with word forms", &forms),
        ("words as typed (before)", &typed),
    ] {
        println!(
            "  {label:<24} recall {:.3} ({} of {}), precision {:.3} ({} of {} found)",
            tally.recall(),
            tally.hits,
            tally.expected,
            tally.precision(),
            tally.hits,
            tally.found
        );
    }
    Ok(())
}
