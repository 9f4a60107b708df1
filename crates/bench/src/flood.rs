//! `flood`: honest sync while one peer floods valid but useless gossip.
//!
//! An honest node holds N records; a victim node, in a child process (so its own peak
//! memory can be read from `/proc/<pid>/status`), starts empty but for one record and
//! syncs them all from the honest node. Timed twice in one run: alone, and while a
//! flooder (a real libp2p swarm speaking qoima's gossip) sends the victim as many
//! distinct valid bundles of the victim's one record as its connection carries. Reports
//! the throughput ratio (goal ≥ 0.8) and the victim's peak RSS during the flood (goal
//! < 200 MB).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{AuthorSecret, VerifiedRecord, fixtures};
use qoima_net::gossip::{GossipMessage, topic};
use qoima_net::libp2p::{Multiaddr, identity};
use qoima_net::{NetConfig, build_swarm};
use qoima_node::{Node, NodeConfig, control};
use qoima_store::Source;

use crate::corpus::{Corpus, Flavour, write_bundle};
use crate::util::{Table, WorkDir, secs};

/// `flood` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records the victim syncs.
    #[arg(long, default_value_t = 20_000)]
    records: usize,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// `flood-victim` (hidden): runs a node on `--home`, prints its TCP address, runs until
/// its standard input closes.
#[derive(Debug, clap::Args)]
pub struct VictimArgs {
    #[arg(long)]
    home: PathBuf,
    #[arg(long)]
    peer: String,
}

pub fn victim(args: VictimArgs) -> anyhow::Result<()> {
    let mut config = NodeConfig::new(args.home.clone(), crate::util::bench_key());
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse()?];
    config.peers = vec![args.peer.parse()?];
    config.mdns = false;
    crate::util::serve_node_until_stdin_closes(config)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let work = WorkDir::new(args.dir.as_deref())?;
    eprintln!("signing {} records…", args.records);
    let mut corpus = Corpus::new(8, 1000, Flavour::Plain);
    let records = corpus.next(args.records);
    let bundle = work.path().join("all.qb");
    write_bundle(&bundle, &fixtures::author(99), &records)?;
    drop(records);
    let source_home = work.fresh("source")?;
    crate::util::open_store(&source_home)?
        .import_bundle(std::fs::File::open(&bundle)?, Source::File("all.qb".into()))?;

    // The victim's one record, which the flood re-wraps again and again.
    let author = fixtures::author(98);
    let seed = VerifiedRecord::sign(&fixtures::body(&author, 1, None, "the one"), &author)?;

    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(async {
        let mut config = NodeConfig::new(source_home.clone(), crate::util::bench_key());
        config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse()?];
        config.mdns = false;
        config.control_socket = false;
        let source = Node::start(config).await.map_err(anyhow::Error::msg)?;
        let status = source.status().await.context("status")?;
        let addr = status
            .listen_addrs
            .iter()
            .find(|a| a.contains("/tcp/"))
            .context("no TCP listener")?;
        let source_addr = format!("{addr}/p2p/{}", status.peer_id);

        let quiet = sync_once(&work, "quiet", &source_addr, &seed, args.records, false).await?;
        let flooded = sync_once(&work, "flooded", &source_addr, &seed, args.records, true).await?;
        source.shutdown().await;
        anyhow::Ok((quiet, flooded))
    })?;
    let (quiet, flooded) = result;
    let mut table = Table::new(&[
        "sync",
        "time",
        "records/s",
        "victim peak RSS",
        "flood messages sent",
    ]);
    for (label, run) in [("alone", &quiet), ("while one peer floods", &flooded)] {
        table.row(vec![
            label.into(),
            secs(run.time),
            format!("{:.0}", args.records as f64 / run.time.as_secs_f64()),
            format!("{} MiB", run.peak_rss_kib / 1024),
            run.flood_sent.to_string(),
        ]);
    }
    println!(
        "Sync of {} records (~1 KB) to a node while another peer floods it with valid but useless gossip",
        args.records
    );
    table.print();
    println!(
        "throughput with the flood / without: {:.2} (goal ≥ 0.8); victim peak RSS during the flood: {} MiB (goal < 200)",
        quiet.time.as_secs_f64() / flooded.time.as_secs_f64(),
        flooded.peak_rss_kib / 1024
    );
    Ok(())
}

struct Run {
    time: Duration,
    peak_rss_kib: u64,
    flood_sent: u64,
}

/// Starts a victim process that syncs from `source`, optionally flooded, and times it
/// until it holds every record.
async fn sync_once(
    work: &WorkDir,
    name: &str,
    source: &str,
    seed: &VerifiedRecord,
    records: usize,
    flood: bool,
) -> anyhow::Result<Run> {
    let home = work.fresh(name)?;
    crate::util::open_store(&home)?.insert_local(seed)?;
    let child = Victim::spawn(&home, source)?;
    let start = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let flooder = if flood {
        let target: Multiaddr = child.addr.parse()?;
        let (seed, sent) = (seed.clone(), Arc::clone(&sent));
        Some(tokio::spawn(run_flooder(target, seed, sent)))
    } else {
        None
    };
    // The victim holds its own record, the source's, and (after sync) the victim's.
    let wanted = records as u64 + 1;
    loop {
        let held = control::query_status(&home).map(|s| s.records).unwrap_or(0);
        if held >= wanted {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(1800),
            "sync stalled at {held}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let time = start.elapsed();
    let peak_rss_kib = child.peak_rss_kib()?;
    if let Some(task) = flooder {
        task.abort();
    }
    let flood_sent = sent.load(Ordering::Relaxed);
    child.stop()?;
    Ok(Run {
        time,
        peak_rss_kib,
        flood_sent,
    })
}

struct Victim {
    process: Child,
    addr: String,
}

impl Victim {
    fn spawn(home: &Path, source: &str) -> anyhow::Result<Victim> {
        let mut process = Command::new(std::env::current_exe()?)
            .args(["flood-victim", "--home"])
            .arg(home)
            .args(["--peer", source])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = process.stdout.take().context("victim stdout")?;
        let mut addr = String::new();
        BufReader::new(stdout).read_line(&mut addr)?;
        Ok(Victim {
            process,
            addr: addr.trim().to_owned(),
        })
    }

    fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        crate::util::peak_rss_kib_of(self.process.id())
    }

    fn stop(mut self) -> anyhow::Result<()> {
        drop(self.process.stdin.take());
        self.process.wait()?;
        Ok(())
    }
}

/// Floods `target` with distinct valid bundles of `seed` (each signed by a fresh key)
/// until aborted, counting in `sent` those gossipsub took.
async fn run_flooder(target: Multiaddr, seed: VerifiedRecord, sent: Arc<AtomicU64>) {
    let config = NetConfig {
        mdns: false,
        ..Default::default()
    };
    let Ok(mut swarm) = build_swarm(identity::Keypair::generate_ed25519(), &config) else {
        return;
    };
    let topic = topic("default");
    let _ = swarm.behaviour_mut().gossipsub.subscribe(&topic);
    if swarm.dial(target).is_err() {
        return;
    }
    let mut n = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            _ = swarm.select_next_some() => {}
            _ = tick.tick() => {
                for _ in 0..50 {
                    n += 1;
                    let message = GossipMessage::Bundle(rewrap(&seed, n)).to_bytes();
                    if swarm.behaviour_mut().gossipsub.publish(topic.clone(), message).is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

/// `seed` in a bundle signed by a key made for it alone.
fn rewrap(seed: &VerifiedRecord, n: u64) -> Vec<u8> {
    let key = AuthorSecret::from_seed(blake3::hash(&n.to_le_bytes()).as_bytes());
    let manifest = Manifest {
        bundler: key.public(),
        created_ms: 0,
        collection: "default".into(),
        items: vec![ItemRef {
            kind: ItemKind::Record,
            hash: *seed.id().as_bytes(),
            size: seed.bytes().len() as u64,
        }],
    };
    let mut out = Vec::new();
    if let Ok(mut writer) = BundleWriter::new(&mut out, manifest, &key) {
        let _ = writer.write_record(seed.bytes());
        let _ = writer.finish();
    }
    out
}
