//! `blob-transfer`: one large attachment between two `qoima node` processes over
//! `/qoima/blobs/1`, against a plain TCP copy of the same file in the same run.
//!
//! Both nodes run in child processes (this binary's hidden `transfer-node`), so that
//! each one's peak memory can be read from `/proc/<pid>/status`. The receiver holds the
//! record that refers to the attachment, not the attachment; the time runs from its
//! start to the attachment being installed, verified, in its encrypted store. The TCP
//! copy (hidden `tcp-copy`) reads the file, sends it over one connection, writes it and
//! syncs it: the floor any transfer of these bytes between these two places has.
//!
//! A second transfer kills the receiver (SIGKILL) once half the attachment is stored
//! and starts it again; the sender counts the attachment bytes it sent in all, against
//! the attachment's size (goal ≤ 1.05).
//!
//! With `--netns` (root), the two processes of each pair run in two network namespaces
//! joined by a veth pair, instead of on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use qoima_core::{Attachment, VerifiedRecord, fixtures};
use qoima_node::{BlobPolicy, NodeConfig, control};
use qoima_store::{AttachmentState, Source, Store};

use crate::util::{Table, WorkDir, bench_key, peak_rss_kib_of, secs};

const MIB: u64 = 1024 * 1024;
/// Longest any one transfer may take before the benchmark gives up.
const STALL: Duration = Duration::from_secs(1800);

/// `blob-transfer` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the attachment, in MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// Run the two sides in two network namespaces joined by a veth pair (needs root
    /// and `ip`), instead of on loopback.
    #[arg(long)]
    netns: bool,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// `transfer-node` (hidden): runs a node on `--home`, prints its address, runs until its
/// standard input closes.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    #[arg(long)]
    home: PathBuf,
    #[arg(long)]
    listen: String,
    #[arg(long)]
    peer: Option<String>,
}

/// `tcp-copy` (hidden): with `--listen`, accepts one connection and writes what it
/// brings to `--file`, synced; otherwise sends `--file` to `--to`.
#[derive(Debug, clap::Args)]
pub struct TcpCopyArgs {
    #[arg(long)]
    file: PathBuf,
    #[arg(long)]
    listen: Option<String>,
    #[arg(long)]
    to: Option<String>,
}

pub fn node(args: NodeArgs) -> anyhow::Result<()> {
    let mut config = NodeConfig::new(args.home.clone(), bench_key());
    config.listen = vec![args.listen.parse()?];
    config.peers = args
        .peer
        .iter()
        .map(|p| p.parse())
        .collect::<Result<_, _>>()?;
    config.mdns = false;
    config.blob_policy = BlobPolicy {
        fetch_up_to: u64::MAX,
        ..BlobPolicy::default()
    };
    crate::util::serve_node_until_stdin_closes(config)
}

pub fn tcp_copy(args: TcpCopyArgs) -> anyhow::Result<()> {
    let mut buffer = vec![0u8; MIB as usize];
    if let Some(listen) = args.listen {
        let listener = TcpListener::bind(&listen)?;
        println!("{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let (mut stream, _) = listener.accept()?;
        let mut out = std::fs::File::create(&args.file)?;
        loop {
            let n = stream.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            out.write_all(&buffer[..n])?;
        }
        out.sync_all()?;
    } else {
        let to = args.to.context("tcp-copy needs --listen or --to")?;
        let mut stream = TcpStream::connect(&to)?;
        let mut file = std::fs::File::open(&args.file)?;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            stream.write_all(&buffer[..n])?;
        }
    }
    Ok(())
}

/// Where the two sides of a pair run: both on loopback, or each in its namespace.
pub(crate) struct Places {
    namespaces: Option<Namespaces>,
}

struct Namespaces {
    sender: String,
    receiver: String,
}

const SENDER_IP: &str = "10.78.0.1";
const RECEIVER_IP: &str = "10.78.0.2";

impl Places {
    pub(crate) fn new(netns: bool) -> anyhow::Result<Places> {
        if !netns {
            return Ok(Places { namespaces: None });
        }
        let prefix = format!("qb-{}", std::process::id());
        let namespaces = Namespaces {
            sender: format!("{prefix}-s"),
            receiver: format!("{prefix}-r"),
        };
        // Made before the namespaces, so that a failure half-way removes what was made
        // (`Drop`).
        let places = Places {
            namespaces: Some(namespaces),
        };
        let ns = places.namespaces.as_ref().expect("just set");
        for name in [&ns.sender, &ns.receiver] {
            ip(&["netns", "add", name])?;
            ip(&["-n", name, "link", "set", "lo", "up"])?;
        }
        ip(&[
            "-n",
            &ns.sender,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &ns.receiver,
        ])?;
        for (name, addr) in [(&ns.sender, SENDER_IP), (&ns.receiver, RECEIVER_IP)] {
            ip(&[
                "-n",
                name,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ])?;
            ip(&["-n", name, "link", "set", "eth0", "up"])?;
        }
        Ok(places)
    }

    /// The namespace of one side, when there are namespaces.
    pub(crate) fn namespace(&self, sender: bool) -> Option<&str> {
        let ns = self.namespaces.as_ref()?;
        Some(if sender { &ns.sender } else { &ns.receiver })
    }

    pub(crate) fn ip_of(&self, sender: bool) -> &'static str {
        match (&self.namespaces, sender) {
            (None, _) => "127.0.0.1",
            (Some(_), true) => SENDER_IP,
            (Some(_), false) => RECEIVER_IP,
        }
    }

    /// This binary, run on the sender's or the receiver's side.
    pub(crate) fn command(&self, sender: bool) -> anyhow::Result<Command> {
        let exe = std::env::current_exe()?;
        Ok(match &self.namespaces {
            None => Command::new(exe),
            Some(ns) => {
                let mut command = Command::new("ip");
                let name = if sender { &ns.sender } else { &ns.receiver };
                command.args(["netns", "exec", name]).arg(exe);
                command
            }
        })
    }
}

impl Drop for Places {
    fn drop(&mut self) {
        if let Some(ns) = &self.namespaces {
            // Deleting a namespace deletes its end of the veth pair, and so the pair.
            let _ = ip(&["netns", "del", &ns.sender]);
            let _ = ip(&["netns", "del", &ns.receiver]);
        }
    }
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("ip")
        .args(args)
        .status()
        .context("running ip (iproute2)")?;
    anyhow::ensure!(status.success(), "ip {} failed", args.join(" "));
    Ok(())
}

/// A child process that prints one line (its address) and runs until its stdin closes.
pub(crate) struct Process {
    child: Child,
    pub(crate) line: String,
}

impl Process {
    pub(crate) fn spawn(mut command: Command) -> anyhow::Result<Process> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        anyhow::ensure!(!line.is_empty(), "the child process exited before starting");
        Ok(Process {
            child,
            line: line.trim().to_owned(),
        })
    }

    /// Peak RSS of the process itself (not of `ip netns exec` before it exec'd: same pid).
    fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        peak_rss_kib_of(self.child.id())
    }

    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        self.child.wait()?;
        Ok(())
    }

    fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

fn spawn_node(
    places: &Places,
    sender: bool,
    home: &Path,
    peer: Option<&str>,
) -> anyhow::Result<Process> {
    let mut command = places.command(sender)?;
    command
        .arg("transfer-node")
        .arg("--home")
        .arg(home)
        .args(["--listen", &format!("/ip4/{}/tcp/0", places.ip_of(sender))]);
    if let Some(peer) = peer {
        command.args(["--peer", peer]);
    }
    Process::spawn(command)
}

/// The record that refers to the attachment, in a bundle of its own.
fn record_bundle(attachment: Attachment) -> anyhow::Result<Vec<u8>> {
    let author = fixtures::author(70);
    let mut body = fixtures::body(&author, 1, None, "a long video of the square");
    body.attachments = vec![attachment];
    let record = VerifiedRecord::sign(&body, &author)?;
    Ok(fixtures::bundle(&author, &[record], &[]))
}

fn holding_the_record(home: &Path, bundle: &[u8]) -> anyhow::Result<Store> {
    let mut store = crate::util::open_store(home)?;
    store.import_bundle(bundle, Source::File("record.qb".into()))?;
    Ok(store)
}

struct Transfer {
    time: Duration,
    sent: u64,
    sender_rss_kib: u64,
    receiver_rss_kib: u64,
}

/// Attachment bytes the node at `home` has sent to all its peers.
fn blob_bytes_sent(home: &Path) -> anyhow::Result<u64> {
    let status = control::query_status(home).map_err(anyhow::Error::msg)?;
    Ok(status.peers.iter().map(|p| p.blob_bytes_sent).sum())
}

/// One transfer to a fresh receiver; with `kill_at_half`, the receiver is killed once
/// half is stored, and started again.
fn transfer(
    work: &WorkDir,
    places: &Places,
    sender_home: &Path,
    bundle: &[u8],
    attachment: &Attachment,
    kill_at_half: bool,
) -> anyhow::Result<Transfer> {
    let name = if kill_at_half {
        "receiver-killed"
    } else {
        "receiver"
    };
    let home = work.fresh(name)?;
    let receiver_store = holding_the_record(&home, bundle)?;
    let sender = spawn_node(places, true, sender_home, None)?;
    let start = Instant::now();
    let mut receiver = spawn_node(places, false, &home, Some(&sender.line))?;
    if kill_at_half {
        loop {
            let have = control::query_status(&home)
                .ok()
                .and_then(|s| s.transfers.first().map(|t| t.have))
                .unwrap_or(0);
            if have >= attachment.size / 2 {
                break;
            }
            anyhow::ensure!(start.elapsed() < STALL, "the first half stalled at {have}");
            std::thread::sleep(Duration::from_millis(5));
        }
        receiver.kill()?;
        receiver = spawn_node(places, false, &home, Some(&sender.line))?;
    }
    while receiver_store.attachment_state(&attachment.blake3)? != AttachmentState::Present {
        anyhow::ensure!(start.elapsed() < STALL, "the transfer stalled");
        std::thread::sleep(Duration::from_millis(5));
    }
    let time = start.elapsed();
    let result = Transfer {
        time,
        sent: blob_bytes_sent(sender_home)?,
        sender_rss_kib: sender.peak_rss_kib()?,
        receiver_rss_kib: receiver.peak_rss_kib()?,
    };
    receiver.stop()?;
    sender.stop()?;
    drop(receiver_store);
    crate::util::remove_dir(&home)?;
    Ok(result)
}

/// The file sent over one TCP connection and written, synced, on the other side.
fn tcp_copy_time(work: &WorkDir, places: &Places, file: &Path) -> anyhow::Result<Duration> {
    let out = work.path().join("tcp-copy.out");
    let mut sink = places.command(false)?;
    sink.arg("tcp-copy")
        .arg("--file")
        .arg(&out)
        .args(["--listen", &format!("{}:0", places.ip_of(false))]);
    let mut sink = Process::spawn(sink)?;
    let start = Instant::now();
    let mut source = places.command(true)?;
    source
        .arg("tcp-copy")
        .arg("--file")
        .arg(file)
        .args(["--to", &sink.line]);
    anyhow::ensure!(source.status()?.success(), "tcp-copy source failed");
    anyhow::ensure!(sink.child.wait()?.success(), "tcp-copy sink failed");
    let time = start.elapsed();
    std::fs::remove_file(&out)?;
    Ok(time)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let work = WorkDir::new(args.dir.as_deref())?;
    let places = Places::new(args.netns)?;
    let size = args.size_mib * MIB;
    let file = work.path().join("video.bin");
    eprintln!("writing a {} MiB attachment…", args.size_mib);
    crate::blob::random_file(&file, size)?;
    let sender_home = work.fresh("sender")?;
    let stored = crate::util::open_store(&sender_home)?.add_blob_file(&file)?;
    let attachment = Attachment {
        blake3: stored.blake3,
        sha256: stored.sha256,
        size: stored.size,
        media_type: "video/mp4".into(),
        file_name: "square.mp4".into(),
    };
    let bundle = record_bundle(attachment.clone())?;
    crate::util::open_store(&sender_home)?
        .import_bundle(&bundle[..], Source::File("record.qb".into()))?;

    eprintln!("plain TCP copy…");
    let tcp = tcp_copy_time(&work, &places, &file)?;
    eprintln!("node to node…");
    let whole = transfer(&work, &places, &sender_home, &bundle, &attachment, false)?;
    eprintln!("node to node, the receiver killed at half and started again…");
    let resumed = transfer(&work, &places, &sender_home, &bundle, &attachment, true)?;

    let place = if args.netns {
        "two network namespaces (veth)"
    } else {
        "loopback"
    };
    println!(
        "A {} MiB attachment between two processes on {place}",
        args.size_mib
    );
    let mut table = Table::new(&[
        "transfer",
        "time",
        "MiB/s",
        "× TCP copy time",
        "bytes sent / size",
        "sender peak RSS",
        "receiver peak RSS",
    ]);
    let rate = |t: Duration| format!("{:.0}", size as f64 / MIB as f64 / t.as_secs_f64());
    table.row(vec![
        "plain TCP copy (file → socket → file, synced)".into(),
        secs(tcp),
        rate(tcp),
        "1.00".into(),
        "1.000".into(),
        "-".into(),
        "-".into(),
    ]);
    for (label, run) in [
        ("qoima node → qoima node", &whole),
        ("the same, receiver killed at 50 % and restarted", &resumed),
    ] {
        table.row(vec![
            label.into(),
            secs(run.time),
            rate(run.time),
            format!("{:.2}", run.time.as_secs_f64() / tcp.as_secs_f64()),
            format!("{:.3}", run.sent as f64 / size as f64),
            format!("{} MiB", run.sender_rss_kib / 1024),
            format!("{} MiB", run.receiver_rss_kib / 1024),
        ]);
    }
    table.print();
    println!(
        "goals: under 4 s for 1 GiB; killed and resumed ≤ 1.05 × the size sent; peak RSS of \
         either node < 100 MiB"
    );
    Ok(())
}
