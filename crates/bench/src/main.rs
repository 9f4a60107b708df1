//! `qoima-bench`: end-to-end benchmarks of qoima's import, attachment and query paths,
//! each run in one process so that its ratios compare like with like on the same,
//! possibly noisy, machine. Run in release mode:
//!
//! ```text
//! cargo run --release -p qoima-bench -- import-records [--records 100000] [--text-bytes 1000]
//! cargo run --release -p qoima-bench -- blob [--size-mib 1024]
//! cargo build --release -p qoima-cli && cargo run --release -p qoima-bench -- query [--records 1000000]
//! cargo run -p qoima-bench -- search-recall
//! ```
//!
//! * `import-records` signs a bundle of N records by a few authors (in parallel), writes
//!   it to a temporary file, then measures under the format's signature rule (ZIP-215):
//!   (a) `SignatureBatch` over the same signatures in chunks of 512 on one thread, (b) the
//!   same on all cores, (c) single verification one by one on one thread (and, for
//!   comparison, the previous rule `verify_strict`, and `VerifiedRecord::from_bytes`, the
//!   full per-record check), (d) `Store::import_bundle` of the file into a fresh store
//!   inside a one-thread rayon pool, (e) the same on all cores. It prints records/s and
//!   the ratios (e)/(b), (d)/(a). Goal: import ≥ 0.8 × batch verification on all cores.
//! * `blob` writes a pseudo-random file, then times `cat FILE > OUT` (alone and followed
//!   by fsync of OUT, since the store syncs what it writes), `Store::add_blob_file` (what
//!   `qoima add evidence --attach FILE` does), `Store::export` with attachments to a
//!   bundle file and `Store::import_bundle` of it into a fresh store. Peak RSS of export
//!   and import is measured in child processes (this binary's hidden `blob-child`
//!   subcommand reports its own `VmHWM`). Goal: ≥ 0.5 × cat, peak RSS < 100 MB.
//! * `query` builds an archive of N varied records (kinds, Russian and Kazakh text, a
//!   rare name), keeps it under `target/bench-data/` for the next run, then times `list`
//!   (default, `--kind`, `--author`) and `search` (common, rare, Kazakh word), median of
//!   20 runs each, through the library and through `target/release/qoima`. Goal: each
//!   under 100 ms.
//!
//! * `search-recall` stores the 30 queries' records of
//!   `crates/store/tests/data/search_recall.json` and prints recall and precision of
//!   search with word forms and with words as typed (as before word forms).
//!
//! * `at-rest` compares import, search and attachments with and without encryption at
//!   rest, as ratios in one run, and times `wipe` on a large archive (default 10 GiB).
//! * `blob-transfer` sends one attachment (default 1 GiB) between two `qoima node`
//!   processes over `/qoima/blobs/1` (on loopback, or with `--netns` between two network
//!   namespaces), against a plain TCP copy of the same file in the same run; then again
//!   with the receiver killed at 50 % and restarted. Prints times, the ratio to the TCP
//!   copy, bytes sent over the size (goal ≤ 1.05 when resumed) and both nodes' peak RSS
//!   (goal < 100 MiB).
//! * `flood` times a full sync of N records to a node (in a child process) alone and
//!   while another peer floods it with valid but useless gossip; prints the throughput
//!   ratio (goal ≥ 0.8) and the victim's peak RSS (goal < 200 MB).
//!
//! * `thin-link` (root) runs two nodes in two network namespaces over 256 kbit/s each
//!   way (`tc tbf`), 5 % loss (nftables) and 300 ms added each way (the hidden
//!   `delay-proxy`, since this kernel has no `netem`): 100,000 shared records and 1,000
//!   on one side only, written last or spread over the archive; prints the time to
//!   converge and the bytes carried against the ids-only and ids-plus-records floors.
//!
//! Nothing is written outside a temporary directory, the `--dir` given, or (for `query`)
//! `target/bench-data/`.

mod at_rest;
mod blob;
mod corpus;
mod delay_proxy;
mod flood;

mod import_records;
mod network;
mod query;
mod search_recall;
mod thin_link;
mod transfer;
mod util;
mod web_pages;

use clap::{Parser, Subcommand};

/// End-to-end benchmarks of qoima: import against signature verification, attachments
/// against cat, list and search on a large archive.
#[derive(Debug, Parser)]
#[command(name = "qoima-bench")]
struct Cli {
    #[command(subcommand)]
    command: Benchmark,
}

#[derive(Debug, Subcommand)]
enum Benchmark {
    /// Import of a bundle of signed records against verifying its signatures alone.
    ImportRecords(import_records::Args),
    /// A large attachment: add, export, import against cat; peak memory.
    Blob(blob::Args),
    /// list and search on a large archive, library and binary.
    Query(query::Args),
    /// Search recall and precision on 30 queries, with and without word forms.
    SearchRecall(search_recall::Args),
    /// Reconciliation of two archives differing by 1%: bytes and round trips.
    Reconcile(network::ReconcileArgs),
    /// Full sync of N records to an empty node, against importing them.
    SyncFull(network::SyncFullArgs),
    /// Time for a new record to reach every node of a sparse network.
    Gossip(network::GossipArgs),
    /// Start-up time and memory of `qoima node` on a large archive.
    NodeStart(network::NodeStartArgs),
    /// What encryption at rest costs (import, search, attachments) and how long a wipe
    /// takes.
    AtRest(at_rest::Args),
    /// Honest sync while one peer floods valid but useless gossip: throughput ratio and
    /// the victim's peak memory.
    Flood(flood::Args),
    /// The victim node of `flood`, in its own process.
    #[command(hide = true)]
    FloodVictim(flood::VictimArgs),
    /// A large attachment between two nodes over the network, against a TCP copy;
    /// killed at half and resumed; peak memory of both nodes.
    BlobTransfer(transfer::Args),
    /// One side of `blob-transfer`: a node in its own process.
    #[command(hide = true)]
    TransferNode(transfer::NodeArgs),
    /// One side of `blob-transfer`'s plain TCP copy.
    #[command(hide = true)]
    TcpCopy(transfer::TcpCopyArgs),
    /// One export or import for `blob`, reporting its own peak memory.
    #[command(hide = true)]
    BlobChild(blob::ChildArgs),
    /// Two nodes over a thin, slow, lossy link between network namespaces (root): time
    /// and bytes to converge on 1,000 records one side lacks.
    ThinLink(thin_link::Args),
    /// A TCP proxy that delays every byte, for `thin-link`.
    #[command(hide = true)]
    DelayProxy(delay_proxy::Args),
    /// The web interface's pages and API on the archive of `query`: server time.
    WebPages(web_pages::Args),
}

fn main() -> anyhow::Result<()> {
    // `RUST_LOG=qoima_node=debug` shows what the benchmarked nodes do; quiet otherwise.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    match Cli::parse().command {
        Benchmark::ImportRecords(args) => import_records::run(args),
        Benchmark::Blob(args) => blob::run(args),
        Benchmark::Query(args) => query::run(args),
        Benchmark::SearchRecall(args) => search_recall::run(args),
        Benchmark::BlobChild(args) => blob::child(args),
        Benchmark::Reconcile(args) => network::reconcile(args),
        Benchmark::SyncFull(args) => network::sync_full(args),
        Benchmark::Gossip(args) => network::gossip(args),
        Benchmark::NodeStart(args) => network::node_start(args),
        Benchmark::AtRest(args) => at_rest::run(args),
        Benchmark::Flood(args) => flood::run(args),
        Benchmark::FloodVictim(args) => flood::victim(args),
        Benchmark::BlobTransfer(args) => transfer::run(args),
        Benchmark::TransferNode(args) => transfer::node(args),
        Benchmark::TcpCopy(args) => transfer::tcp_copy(args),
        Benchmark::ThinLink(args) => thin_link::run(args),
        Benchmark::DelayProxy(args) => delay_proxy::run(args),
        Benchmark::WebPages(args) => web_pages::run(args),
    }
}
