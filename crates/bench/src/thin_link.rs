//! `thin-link` (root): two `qoima node` processes in two network namespaces, joined by
//! a link as thin as a phone's in a shutdown: each side sends at most 256 kbit/s
//! (`tc tbf`), drops 5 % of the packets it sends at random (nftables), and every byte is
//! held 300 ms in each direction by a user-space proxy (`delay-proxy`; this kernel has no
//! `netem`). Both archives hold the same 100,000 records; one holds 1,000 more, written
//! either last (new records) or at times spread over the archive (written offline and met
//! later). Measured: the time from the first node's start until the other holds every
//! record, and the bytes the proxy carried each way, against two lower bounds: the ids
//! of the difference alone, and those ids plus the records themselves.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use qoima_core::{RecordId, VerifiedRecord, fixtures};
use qoima_node::control;
use qoima_store::Source;

use crate::corpus::{Corpus, Flavour, write_bundle};
use crate::transfer::{Places, Process};
use crate::util::{Table, WorkDir, secs};

/// `thin-link` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records both archives hold.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Records only one side holds.
    #[arg(long, default_value_t = 1_000)]
    new: usize,
    /// Sending rate of each side, kbit/s.
    #[arg(long, default_value_t = 256)]
    rate_kbit: u32,
    /// Time each byte is held in each direction, ms.
    #[arg(long, default_value_t = 300)]
    delay_ms: u64,
    /// Packets each side drops at random, percent.
    #[arg(long, default_value_t = 5)]
    loss_percent: u32,
    /// Give up (and fail) if a case has not converged after this many seconds.
    #[arg(long, default_value_t = 3600)]
    deadline_s: u64,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// One way of placing the records only one side holds.
#[derive(Debug, Clone, Copy)]
enum Case {
    Newest,
    Scattered,
}

struct Run {
    time: Duration,
    towards: u64,
    back: u64,
    /// Bytes on the wire (IP packets, retransmissions included) each side's link sent.
    wire_holder: u64,
    wire_lacker: u64,
    difference_bytes: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let work = WorkDir::new(args.dir.as_deref())?;
    eprintln!("signing {} shared records…", args.records);
    let mut corpus = Corpus::new(8, 1000, Flavour::Plain);
    let shared = corpus.next(args.records);
    let shared_file = work.path().join("shared.qb");
    write_bundle(&shared_file, &fixtures::author(99), &shared)?;
    let span_minutes = (args.records / corpus.authors().len()) as u64;
    let newest = corpus.next(args.new);
    let scattered = scattered_records(args.new, span_minutes);
    drop(shared);

    let places = Places::new(true)?;
    shape(&places, &args)?;
    let mut table = Table::new(&[
        "the records only one side holds",
        "time",
        "bytes holder → other",
        "bytes other → holder",
        "bytes, both ways",
        "on the wire (IP, resent included)",
        "× ids of the difference",
        "× ids + records",
        "time at the link's rate",
    ]);
    for (case, extra) in [(Case::Newest, &newest), (Case::Scattered, &scattered)] {
        eprintln!("{case:?}: preparing both archives…");
        let run = run_case(&work, &places, &args, &shared_file, extra)?;
        let ids = (args.new * 32) as u64;
        let floor = ids + run.difference_bytes;
        let at_rate =
            Duration::from_secs_f64(floor as f64 * 8.0 / (f64::from(args.rate_kbit) * 1000.0));
        let total = run.towards + run.back;
        table.row(vec![
            match case {
                Case::Newest => "written last (new records)".into(),
                Case::Scattered => "spread over the archive's time".into(),
            },
            secs(run.time),
            run.towards.to_string(),
            run.back.to_string(),
            total.to_string(),
            (run.wire_holder + run.wire_lacker).to_string(),
            format!("{:.1}", total as f64 / ids as f64),
            format!("{:.2}", total as f64 / floor as f64),
            secs(at_rate),
        ]);
    }
    println!(
        "Two nodes over {} kbit/s each way, {} ms added each way, {} % loss each way: \
         {} shared records, {} on one side only",
        args.rate_kbit, args.delay_ms, args.loss_percent, args.records, args.new
    );
    println!("(bytes: everything the proxy carried, libp2p's own traffic included)");
    table.print();
    Ok(())
}

/// `count` records by one author, claiming times spread over `span_minutes` of the
/// shared records' time (each record names a previous one that is not here, as a chain
/// met only in part does).
fn scattered_records(count: usize, span_minutes: u64) -> Vec<VerifiedRecord> {
    let author = fixtures::author(200);
    let step = (span_minutes / count as u64).max(1);
    let text = "Записано без связи и передано позже. ".repeat(25);
    (0..count as u64)
        .map(|k| {
            let seq = 2 + k * step;
            let prev = Some(RecordId([7; 32]));
            let body = fixtures::body(&author, seq, prev, &text);
            VerifiedRecord::sign(&body, &author).expect("within the format's limits")
        })
        .collect()
}

/// The link: rate, loss and (through the proxy) delay, on both sides.
fn shape(places: &Places, args: &Args) -> anyhow::Result<()> {
    for sender in [true, false] {
        let ns = places.namespace(sender).context("namespaces")?;
        run_in(
            ns,
            "tc",
            &[
                "qdisc",
                "add",
                "dev",
                "eth0",
                "root",
                "tbf",
                "rate",
                &format!("{}kbit", args.rate_kbit),
                "burst",
                "4kb",
                "latency",
                "1s",
            ],
            None,
        )?;
        let rules = format!(
            "table inet qoima_thin_link {{\n  chain out {{\n    type filter hook output priority 0;\n    \
             oifname \"eth0\" numgen random mod 100 < {} drop\n  }}\n}}\n",
            args.loss_percent
        );
        run_in(ns, "nft", &["-f", "-"], Some(&rules))?;
    }
    Ok(())
}

fn run_in(
    namespace: &str,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", namespace, program])
        .args(args);
    command.stdin(if stdin.is_some() {
        std::process::Stdio::piped()
    } else {
        std::process::Stdio::null()
    });
    let mut child = command
        .spawn()
        .with_context(|| format!("running {program} in {namespace}"))?;
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(text.as_bytes())?;
    }
    anyhow::ensure!(
        child.wait()?.success(),
        "{program} {} failed",
        args.join(" ")
    );
    Ok(())
}

fn run_case(
    work: &WorkDir,
    places: &Places,
    args: &Args,
    shared_file: &Path,
    extra: &[VerifiedRecord],
) -> anyhow::Result<Run> {
    let holder = work.fresh("holder")?;
    let lacker = work.fresh("lacker")?;
    for home in [&holder, &lacker] {
        crate::util::open_store(home)?.import_bundle(
            std::fs::File::open(shared_file)?,
            Source::File("shared.qb".into()),
        )?;
    }
    let extra_file = work.path().join("extra.qb");
    let difference_bytes: u64 = extra.iter().map(|r| r.bytes().len() as u64).sum();
    write_bundle(&extra_file, &fixtures::author(98), extra)?;
    crate::util::open_store(&holder)?.import_bundle(
        std::fs::File::open(&extra_file)?,
        Source::File("extra.qb".into()),
    )?;
    let expected = (args.records + args.new) as u64;

    // The node that lacks the records listens in its namespace; the proxy beside it is
    // the only way in; the holder listens on its own loopback only, so the other side
    // cannot dial it around the proxy.
    let mut lacker_node = places.command(false)?;
    lacker_node
        .arg("transfer-node")
        .arg("--home")
        .arg(&lacker)
        .args(["--listen", &format!("/ip4/{}/tcp/0", places.ip_of(false))]);
    let lacker_node = Process::spawn(lacker_node)?;
    let (lacker_tcp, peer_id) = split_multiaddr(&lacker_node.line)?;
    let stats = work.path().join("proxy-stats");
    let mut proxy = places.command(false)?;
    proxy
        .arg("delay-proxy")
        .args(["--listen", &format!("{}:0", places.ip_of(false))])
        .args(["--to", &lacker_tcp])
        .args(["--delay-ms", &args.delay_ms.to_string()])
        .arg("--stats")
        .arg(&stats);
    let proxy = Process::spawn(proxy)?;
    let proxy_addr: std::net::SocketAddr = proxy.line.parse()?;
    let start = Instant::now();
    let mut holder_node = places.command(true)?;
    holder_node
        .arg("transfer-node")
        .arg("--home")
        .arg(&holder)
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .args([
            "--peer",
            &format!(
                "/ip4/{}/tcp/{}/p2p/{peer_id}",
                proxy_addr.ip(),
                proxy_addr.port()
            ),
        ]);
    let wire_before = (wire_bytes(places, true)?, wire_bytes(places, false)?);
    let holder_node = Process::spawn(holder_node)?;
    let deadline = Duration::from_secs(args.deadline_s);
    loop {
        let records = control::query_status(&lacker).map_or(0, |s| s.records);
        if records >= expected {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < deadline,
            "no convergence: {records} of {expected} records after {:?}",
            start.elapsed()
        );
        // Polling the node's status against the deadline above.
        std::thread::sleep(Duration::from_millis(100));
    }
    let time = start.elapsed();
    let wire_holder = wire_bytes(places, true)? - wire_before.0;
    let wire_lacker = wire_bytes(places, false)? - wire_before.1;
    // The proxy writes its final counts as it stops.
    proxy.stop()?;
    let counts = std::fs::read_to_string(&stats)?;
    let mut numbers = counts.split_whitespace().map(str::parse::<u64>);
    let (Some(Ok(towards)), Some(Ok(back))) = (numbers.next(), numbers.next()) else {
        anyhow::bail!("unreadable proxy stats {counts:?}");
    };
    holder_node.stop()?;
    lacker_node.stop()?;
    crate::util::remove_dir(&holder)?;
    crate::util::remove_dir(&lacker)?;
    Ok(Run {
        time,
        // The proxy stands before the node lacking the records: "towards" is what the
        // holder sent it.
        towards,
        back,
        wire_holder,
        wire_lacker,
        difference_bytes,
    })
}

/// Bytes one side's link has sent so far, as its `tbf` qdisc counts them.
fn wire_bytes(places: &Places, sender: bool) -> anyhow::Result<u64> {
    let ns = places.namespace(sender).context("namespaces")?;
    let out = Command::new("ip")
        .args([
            "netns", "exec", ns, "tc", "-s", "qdisc", "show", "dev", "eth0",
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let sent = text
        .split_whitespace()
        .skip_while(|word| *word != "Sent")
        .nth(1)
        .and_then(|n| n.parse().ok());
    sent.with_context(|| format!("no byte count in tc's output: {text}"))
}

/// `/ip4/A/tcp/P/p2p/ID` as `A:P` and `ID`.
fn split_multiaddr(addr: &str) -> anyhow::Result<(String, String)> {
    let parts: Vec<&str> = addr.split('/').collect();
    match parts.as_slice() {
        ["", "ip4", ip, "tcp", port, "p2p", id] => Ok((format!("{ip}:{port}"), (*id).to_owned())),
        _ => anyhow::bail!("unexpected node address {addr}"),
    }
}
