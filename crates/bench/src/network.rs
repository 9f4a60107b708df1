//! Benchmarks of the network side: reconciliation cost, a full sync against an import,
//! gossip latency across 20 nodes, and a node's start-up time and memory on a large
//! archive.
//!
//! ```text
//! cargo run --release -p qoima-bench -- reconcile [--records 100000] [--diff 1000]
//! cargo run --release -p qoima-bench -- sync-full [--records 100000]
//! cargo run --release -p qoima-bench -- gossip [--nodes 20] [--records 50]
//! cargo build --release -p qoima-cli && cargo run --release -p qoima-bench -- node-start [--records 1000000]
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use qoima_core::fixtures;
use qoima_node::{Multiaddr, Node, NodeConfig};
use qoima_store::Source;
use qoima_sync::{ArchiveIndex, Initiator, Limits, Position, Step, respond};

use crate::corpus::{Corpus, Flavour, write_bundle};
use crate::util::{Table, WorkDir, median, ms, secs, timed};

/// `reconcile`: two archives of N records differing by D on each side.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// Records in each archive.
    #[arg(long, default_value_t = 100_000)]
    records: u32,
    /// Records only one side has, on each side.
    #[arg(long, default_value_t = 1_000)]
    diff: u32,
}

fn id(n: u32) -> [u8; 32] {
    *blake3::hash(&n.to_le_bytes()).as_bytes()
}

/// Claimed creation times over a month, in record order.
fn created_ms(n: u32) -> i64 {
    1_640_995_200_000 + i64::from(n) * 26_000
}

/// Where the records only one side holds sit in the month's time order.
#[derive(Clone, Copy)]
enum Placement {
    /// At the end: new records, the usual difference.
    Newest,
    /// Anywhere in the month: records written offline and met later.
    Scattered,
}

pub fn reconcile(args: ReconcileArgs) -> anyhow::Result<()> {
    let mut table = Table::new(&[
        "case",
        "method",
        "bytes exchanged",
        "round trips",
        "ratio to ids of the difference",
        "ratio to all ids",
    ]);
    let n = args.records;
    let d = args.diff;
    let cases = [
        (
            format!("{d} each side, among the newest"),
            n,
            d,
            d,
            Placement::Newest,
        ),
        (
            format!("{d} each side, spread over the month"),
            n,
            d,
            d,
            Placement::Scattered,
        ),
        (
            format!("{} each side, spread", d / 10),
            n,
            d / 10,
            d / 10,
            Placement::Scattered,
        ),
        (
            format!("{} each side, spread", d * 5),
            n,
            d * 5,
            d * 5,
            Placement::Scattered,
        ),
        (
            format!("{} new on one side only", d * 10),
            n,
            0,
            d * 10,
            Placement::Newest,
        ),
        (
            format!("{} on one side only, spread", d * 10),
            n,
            0,
            d * 10,
            Placement::Scattered,
        ),
    ];
    for (label, records, only_a, only_b, placement) in cases {
        let row = reconcile_case(records, only_a, only_b, placement)?;
        let difference_ids = (only_a + only_b) as usize * 32;
        let all_ids = records as usize * 32;
        table.row(vec![
            label,
            if row.sketched { "sketch" } else { "ranges" }.into(),
            row.bytes.to_string(),
            row.round_trips.to_string(),
            format!("{:.2}", row.bytes as f64 / difference_ids as f64),
            format!("{:.3}", row.bytes as f64 / all_ids as f64),
        ]);
    }
    println!(
        "Reconciliation of two archives of about {n} records (one session, the node's limits)"
    );
    table.print();
    println!("Goals: ratio to the difference ≤ 3 (≤ 1 for new records), round trips ≤ 4.");
    Ok(())
}

struct ReconcileRow {
    bytes: usize,
    round_trips: u32,
    sketched: bool,
}

/// One session between two archives sharing `records - max(only_a, only_b)` records,
/// each adding its own.
fn reconcile_case(
    records: u32,
    only_a: u32,
    only_b: u32,
    placement: Placement,
) -> anyhow::Result<ReconcileRow> {
    let common = records - only_a.max(only_b);
    let place = |n: u32, side: u32| -> (i64, [u8; 32]) {
        let at = match placement {
            Placement::Scattered => {
                crate::corpus::mix(u64::from(n) * 7 + u64::from(side)) as u32 % records
            }
            Placement::Newest => common + n,
        };
        (created_ms(at), id(1_000_000 * (side + 1) + n))
    };
    let shared = (0..common).map(|n| (created_ms(n), id(n)));
    let a = ArchiveIndex::from_entries(shared.clone().chain((0..only_a).map(|n| place(n, 0))));
    let b = ArchiveIndex::from_entries(shared.chain((0..only_b).map(|n| place(n, 1))));
    let (mut initiator, mut message) = Initiator::start(
        &a,
        &Position::START,
        Limits {
            rounds_max: 32,
            need_max: 65_536,
        },
    );
    let mut bytes = message.len();
    let mut round_trips = 0;
    let outcome = loop {
        let reply = respond(&b, &message)?;
        round_trips += 1;
        bytes += reply.len();
        match initiator.step(&a, &reply)? {
            Step::Send(next) => {
                bytes += next.len();
                message = next;
            }
            Step::Done(outcome) => break outcome,
        }
    };
    anyhow::ensure!(
        outcome.complete
            && outcome.need.len() == only_b as usize
            && outcome.have.len() == only_a as usize,
        "reconciliation found {} / {} instead of {only_b} / {only_a}",
        outcome.need.len(),
        outcome.have.len(),
    );
    Ok(ReconcileRow {
        bytes,
        round_trips,
        sketched: outcome.sketched,
    })
}

/// `sync-full`: N records from one node to an empty one, against importing them.
#[derive(Debug, clap::Args)]
pub struct SyncFullArgs {
    /// Records to sync.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

pub fn sync_full(args: SyncFullArgs) -> anyhow::Result<()> {
    let work = WorkDir::new(args.dir.as_deref())?;
    eprintln!("signing {} records…", args.records);
    let mut corpus = Corpus::new(8, 1000, Flavour::Plain);
    let records = corpus.next(args.records);
    let bundle = work.path().join("all.qb");
    write_bundle(&bundle, &fixtures::author(99), &records)?;
    drop(records);

    let source = work.fresh("source")?;
    let mut serving = crate::util::open_store(&source)?;
    serving.import_bundle(std::fs::File::open(&bundle)?, Source::File("all.qb".into()))?;
    // A node serving its archive has long made it searchable; left pending, the
    // serving node would index 100,000 records while it answers (its one store thread
    // busy for about ten seconds), which is not what a sync costs.
    serving.index_pending_search(usize::MAX)?;
    drop(serving);

    // The reference: `qoima import` of the same records, through the library.
    let imported = work.fresh("imported")?;
    let (report, import_time) = timed(|| -> anyhow::Result<_> {
        let mut store = crate::util::open_store(&imported)?;
        Ok(store.import_bundle(
            std::io::BufReader::new(std::fs::File::open(&bundle)?),
            Source::File("all.qb".into()),
        )?)
    });
    anyhow::ensure!(
        report?.records_new as usize == args.records,
        "import stored too few"
    );

    let runtime = tokio::runtime::Runtime::new()?;
    let target = work.fresh("target")?;
    crate::util::open_store(&target)?; // made beforehand, without quotas
    let sync_time = runtime.block_on(async {
        let a = Node::start(node_config(&source, vec![]))
            .await
            .map_err(anyhow::Error::msg)?;
        let a_addr = tcp_addr(&a).await?;
        let start = Instant::now();
        let b = Node::start(node_config(&target, vec![a_addr]))
            .await
            .map_err(anyhow::Error::msg)?;
        loop {
            let records = b.status().await.map(|s| s.records).unwrap_or(0);
            if records as usize >= args.records {
                break;
            }
            anyhow::ensure!(
                start.elapsed() < Duration::from_secs(1800),
                "sync stalled at {records}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = start.elapsed();
        a.shutdown().await;
        b.shutdown().await;
        anyhow::Ok(elapsed)
    })?;
    let mut table = Table::new(&["path", "time", "records/s"]);
    for (label, time) in [
        ("import of the bundle file", import_time),
        ("sync from a node on loopback", sync_time),
    ] {
        table.row(vec![
            label.into(),
            secs(time),
            format!("{:.0}", args.records as f64 / time.as_secs_f64()),
        ]);
    }
    println!(
        "Full sync of {} records (~1 KB) to an empty node",
        args.records
    );
    table.print();
    println!(
        "sync / import time: {:.2} (goal ≤ 1.3; the sync includes connecting, reconciling and start-up of the empty node)",
        sync_time.as_secs_f64() / import_time.as_secs_f64()
    );
    Ok(())
}

/// `gossip`: how fast a new record reaches every node of a sparse network.
#[derive(Debug, clap::Args)]
pub struct GossipArgs {
    /// Nodes in the network.
    #[arg(long, default_value_t = 20)]
    nodes: usize,
    /// Records to time.
    #[arg(long, default_value_t = 50)]
    records: usize,
}

pub fn gossip(args: GossipArgs) -> anyhow::Result<()> {
    let work = WorkDir::new(None)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        // Sparse: each node dials two earlier ones (a connected graph of average degree
        // about 4), never all of them.
        let mut nodes: Vec<(Node, std::path::PathBuf)> = Vec::new();
        let mut addrs: Vec<Multiaddr> = Vec::new();
        for i in 0..args.nodes {
            let home = work.fresh(&format!("n{i}"))?;
            let peers: Vec<Multiaddr> = match i {
                0 => vec![],
                1 => vec![addrs[0].clone()],
                _ => vec![
                    addrs[crate::corpus::mix(i as u64) as usize % i].clone(),
                    addrs[crate::corpus::mix(i as u64 + 1000) as usize % i].clone(),
                ],
            };
            let mut config = node_config(&home, peers);
            config.sync_interval = Duration::from_secs(3600); // only gossip carries news
            config.control_socket = true; // told of each record as `qoima add` does
            let node = Node::start(config).await.map_err(anyhow::Error::msg)?;
            addrs.push(tcp_addr(&node).await?);
            nodes.push((node, home));
        }
        // The mesh is ready when every node has at least one gossip peer.
        let start = Instant::now();
        loop {
            let mut ready = true;
            for (node, _) in &nodes {
                ready &= node.status().await.is_some_and(|s| s.gossip_peers > 0);
            }
            if ready {
                break;
            }
            anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "gossip mesh did not form");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await; // a few heartbeats to settle the mesh
        let author = fixtures::author(77);
        let mut latencies = Vec::new();
        let mut prev = None;
        for seq in 1..=args.records as u64 {
            let origin = &nodes[crate::corpus::mix(seq) as usize % nodes.len()].1;
            let record = qoima_core::VerifiedRecord::sign(&fixtures::body(&author, seq, prev, "gossip"), &author)?;
            prev = Some(record.id());
            let expected = seq;
            crate::util::open_store(origin)?.insert_local(&record)?;
            // From the moment the record is in the origin's archive.
            let start = Instant::now();
            let told = origin.clone();
            tokio::task::spawn_blocking(move || qoima_node::control::tell_written(&told))
                .await?
                .map_err(anyhow::Error::msg)?;
            loop {
                let mut everywhere = true;
                for (node, _) in &nodes {
                    everywhere &= node.status().await.is_some_and(|s| s.records >= expected);
                }
                if everywhere {
                    break;
                }
                anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "record {seq} did not spread");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            latencies.push(start.elapsed());
        }
        latencies.sort();
        println!(
            "Gossip over {} nodes (each dialing two earlier ones), {} records written at random nodes",
            args.nodes, args.records
        );
        let mut table = Table::new(&["median", "90th percentile", "worst"]);
        table.row(vec![ms(median(&latencies)), ms(latencies[latencies.len() * 9 / 10]), ms(latencies[latencies.len() - 1])]);
        table.print();
        println!("From the record being stored in the origin's archive (then its node is told over the control socket, as `qoima add` does) to every node holding it. Goal: median under 50 ms, worst under 150 ms.");
        for (node, _) in nodes {
            node.shutdown().await;
        }
        anyhow::Ok(())
    })
}

/// `node-start`: start-up time and memory of `qoima node` on a large archive.
#[derive(Debug, clap::Args)]
pub struct NodeStartArgs {
    /// Records in the archive (built by the `query` benchmark, cached under target/).
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
}

pub fn node_start(args: NodeStartArgs) -> anyhow::Result<()> {
    let dir = crate::util::target_dir()
        .join("bench-data")
        .join(format!("query-{}-t1000", args.records));
    anyhow::ensure!(
        dir.join("complete").is_file(),
        "no archive of {} records yet: build it with `qoima-bench query --records {}`",
        args.records,
        args.records
    );
    let archive = dir.join("home");
    let qoima = crate::util::target_dir().join("release/qoima");
    anyhow::ensure!(
        qoima.exists(),
        "build the binary first: cargo build --release -p qoima-cli"
    );
    let mut child = std::process::Command::new(&qoima)
        .args(["node", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"])
        .env("QOIMA_HOME", &archive)
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting qoima node")?;
    let start = Instant::now();
    let started = loop {
        let out = std::process::Command::new(&qoima)
            .args(["status", "--json"])
            .env("QOIMA_HOME", &archive)
            .output()?;
        if out.status.success() {
            break start.elapsed();
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(120),
            "the node did not answer"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    std::thread::sleep(Duration::from_secs(3));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
    let field = |name: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (rss, peak) = (field("VmRSS:"), field("VmHWM:"));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    println!(
        "qoima node on an archive of {} records ({})",
        args.records,
        archive.display()
    );
    let mut table = Table::new(&[
        "start-up (until `qoima status` answers)",
        "RSS after 3 s",
        "peak RSS",
    ]);
    table.row(vec![ms(started), rss, peak]);
    table.print();
    println!("Goals: start-up under 2 s, RSS under 300 MB.");
    Ok(())
}

fn node_config(home: &Path, peers: Vec<Multiaddr>) -> NodeConfig {
    let mut config = NodeConfig::new(home.to_owned(), crate::util::bench_key());
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid address")];
    config.peers = peers;
    config.mdns = false;
    config.control_socket = false;
    config
}

async fn tcp_addr(node: &Node) -> anyhow::Result<Multiaddr> {
    let status = node.status().await.context("node status")?;
    let addr = status
        .listen_addrs
        .iter()
        .find(|a| a.contains("/tcp/"))
        .context("no TCP listener")?;
    Ok(format!("{addr}/p2p/{}", status.peer_id).parse()?)
}
