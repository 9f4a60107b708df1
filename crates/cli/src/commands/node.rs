//! `qoima node`, `qoima status`, `qoima peers`.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use qoima_core::format_ms;
use qoima_node::{Multiaddr, Node, NodeConfig, Status, control};
use qoima_web::NodeControl;

use crate::cli::NodeArgs;
use crate::context::Context;
use crate::exit::UsageError;
use crate::output::{errln, outln, print_json, safe};

pub fn run(ctx: &Context, args: NodeArgs) -> anyhow::Result<ExitCode> {
    // A bad key file is reported before anything else happens.
    let network_key = match &args.network_key {
        Some(path) => Some(super::network_key::read(path)?),
        None => None,
    };
    if control::query_status(ctx.home()).is_ok() {
        anyhow::bail!("a node is already running on {}", ctx.home().display());
    }
    // The passphrase is asked once, here; the node then holds the key while it runs.
    let secrets = if ctx.key_path().exists() {
        ctx.secrets()?
    } else {
        // First run on this machine: make the archive and the author key, as `init` does.
        let secrets = super::init::create(ctx)?;
        outln!()?;
        secrets
    };
    // Opened (and, for an archive from an older version, encrypted in place) before
    // the network starts.
    let mut store = ctx.open_store(&secrets.archive_key, Some(&secrets.author))?;
    let policy = policy_from(store.policy()?, &args);
    store.set_policy(&policy)?;
    // Saved by the node as it starts, like the acceptance policy here.
    let blob_policy = blob_policy_from(store.blob_policy()?, &args);
    drop(store);
    let filter = match args.verbose {
        0 => "info,libp2p_mdns=warn,libp2p_gossipsub=warn",
        1 => "debug,libp2p=info",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("QOIMA_LOG")
                .unwrap_or_else(|_| filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person watching; a log file or pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let mut config = NodeConfig::new(ctx.home().to_owned(), secrets.archive_key.clone());
    drop(secrets);
    config.listen = parse_addrs(&args.listen)?;
    config.peers = parse_addrs(&args.peer)?;
    config.mdns = !args.no_mdns;
    config.ephemeral_identity = args.new_identity;
    config.collection = args.collection;
    config.sync_interval = Duration::from_secs(args.sync_every.max(1));
    config.blob_policy = blob_policy;
    config.network_key = network_key;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let wipe_asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    runtime.block_on(async {
        let ui = if args.no_ui {
            None
        } else {
            bind_ui(args.ui_port).await
        };
        let codes = qoima_web::UnlockCodes::default();
        if let Some((listener, _)) = &ui
            && let Ok(addr) = listener.local_addr()
        {
            let codes = codes.clone();
            config.ui_unlock = Some(qoima_node::UiUnlock::new(move || codes.url(addr).ok()));
        }
        let archive_key = config.archive_key.clone();
        let node = Node::start(config).await.map_err(anyhow::Error::msg)?;
        let (stop_ui, ui_stopped) = tokio::sync::oneshot::channel::<()>();
        let server = match ui {
            Some((listener, token)) => {
                let store = ctx.open_store(&archive_key, None)?;
                let lock: Arc<dyn NodeControl> = Arc::new(LockTheNode {
                    locker: node.locker(),
                    status: node.status_reader(),
                    written: node.written_notifier(),
                    home: ctx.home().to_owned(),
                    wipe_asked: Arc::clone(&wipe_asked),
                });
                let ui = qoima_web::Ui::new(store, token)
                    .with_unlock_codes(codes)
                    .with_node(lock);
                Some(tokio::spawn(qoima_web::serve(listener, ui, async {
                    let _ = ui_stopped.await;
                })))
            }
            None => None,
        };
        drop(archive_key);
        node.run_until_signal()
            .await
            .context("waiting for a stop signal")?;
        let _ = stop_ui.send(());
        // The server bounds its own stop (`qoima_web::STOP_WAIT`), so this returns soon
        // after a lock whatever its connections hold.
        if let Some(server) = server
            && let Ok(Err(e)) = server.await
        {
            tracing::warn!("the web interface stopped with an error: {e}");
        }
        anyhow::Ok(())
    })?;
    // Connections the server left behind close with the runtime, and the archive with
    // them, before its files go.
    drop(runtime);
    if wipe_asked.load(std::sync::atomic::Ordering::SeqCst) {
        qoima_store::wipe::remove_archive(ctx.home())?;
        tracing::info!("wiped from the web interface: the archive's key and files are gone");
    }
    Ok(ExitCode::SUCCESS)
}

/// Binds the web interface on loopback, at `port` or the next free one, with a fresh
/// token: the listener and the token. A node runs without the interface rather than not
/// at all when no port is free.
async fn bind_ui(port: u16) -> Option<(tokio::net::TcpListener, qoima_web::UiToken)> {
    let bound = async {
        let listener = qoima_web::bind_local(port).await?;
        let token = qoima_web::UiToken::generate()?;
        Ok::<_, qoima_web::WebError>((listener, token))
    };
    match bound.await {
        Ok((listener, token)) => {
            match listener.local_addr() {
                Ok(at) if at.port() != port => tracing::warn!(
                    "port {port} is taken by another program; the web interface is on http://{at} (open it with `qoima ui`)"
                ),
                Ok(at) => tracing::info!("web interface on http://{at} (open it with `qoima ui`)"),
                Err(_) => {}
            }
            Some((listener, token))
        }
        Err(e) => {
            tracing::warn!("running without the web interface: {e}");
            None
        }
    }
}

/// The interface's lock button: the node's own lock, in this process, so the page says
/// "locked" only once the node has taken the request; its status, for the peers page,
/// asked of the event loop as `qoima status` asks it over the control socket. Its wipe
/// button: the key file destroyed at once, as `qoima wipe` does, then the lock; `run`
/// removes the files once the node has stopped. And the interface's imports: the node
/// is told at once of imports and written records, as `qoima import` and `qoima add`
/// tell it over the control socket.
struct LockTheNode {
    locker: qoima_node::Locker,
    status: qoima_node::StatusReader,
    written: qoima_node::WrittenNotifier,
    home: std::path::PathBuf,
    wipe_asked: Arc<std::sync::atomic::AtomicBool>,
}

impl NodeControl for LockTheNode {
    fn lock(&self) -> bool {
        self.locker.lock()
    }

    fn wipe(&self) -> bool {
        // The key first: from then on nothing in the archive can be read, whatever
        // happens to the rest.
        if let Err(e) = qoima_store::wipe::destroy_key(&self.home) {
            tracing::error!("wipe from the web interface: the key file was not destroyed: {e}");
            return false;
        }
        self.wipe_asked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if !self.locker.lock() {
            // The key file is gone; the node holds the key in memory only until it stops.
            tracing::error!(
                "wipe from the web interface: the key file is destroyed, but the node did not take the stop; stop it (Ctrl-C) and run `qoima wipe`"
            );
            return false;
        }
        true
    }

    fn status(&self) -> qoima_web::status::Pending<Status> {
        let reader = self.status.clone();
        Box::pin(async move { reader.status().await })
    }

    fn written(&self) -> bool {
        self.written.written()
    }
}

/// The saved policy with what this command line changes laid over it.
fn policy_from(saved: qoima_store::Policy, args: &crate::cli::NodeArgs) -> qoima_store::Policy {
    let mut policy = saved;
    if let Some(accept) = args.accept {
        policy.accept = match accept {
            crate::cli::AcceptArg::Open => qoima_store::Acceptance::Open,
            crate::cli::AcceptArg::Trusted => qoima_store::Acceptance::Trusted,
        };
    }
    if let Some(n) = args.quota_records {
        policy.quotas.records_per_hour = (n > 0).then_some(n);
    }
    if let Some(bytes) = args.quota_bytes {
        policy.quotas.bytes_per_author = (bytes > 0).then_some(bytes);
    }
    if let Some(n) = args.quota_unknown {
        policy.quotas.unknown_per_hour = (n > 0).then_some(n);
    }
    policy
}

/// The saved attachment policy with what this command line changes laid over it: an
/// option given wins, one left out keeps the saved value (0 clears a limit).
fn blob_policy_from(
    saved: qoima_node::BlobPolicy,
    args: &crate::cli::NodeArgs,
) -> qoima_node::BlobPolicy {
    let mut policy = saved;
    if let Some(bytes) = args.fetch_up_to {
        policy.fetch_up_to = bytes;
    }
    if let Some(bytes) = args.blob_quota {
        policy.quota = (bytes > 0).then_some(bytes);
    }
    if let Some(bytes) = args.budget {
        policy.budget = (bytes > 0).then_some(bytes);
    }
    policy
}

pub fn status(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let status = query(ctx)?;
    if json {
        print_json(&status)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("node:       {}", status.peer_id)?;
    for addr in &status.listen_addrs {
        outln!("listening:  {}", safe(&addr.to_string()))?;
    }
    outln!("collection: {}", safe(&status.collection))?;
    outln!("records:    {}", status.records)?;
    let connected = status.peers.iter().filter(|p| p.connected).count();
    outln!(
        "peers:      {connected} connected, {} known",
        status.peers.len()
    )?;
    if status.transfers.is_empty() {
        outln!("fetching:   no attachments")?;
    }
    for t in &status.transfers {
        outln!(
            "fetching:   {} {} of {} ({}%) at {}/s from {} peer{}",
            &t.blob[..12],
            human_bytes(t.have),
            human_bytes(t.size),
            percent(t.have, t.size),
            human_bytes(t.bytes_per_second),
            t.peers,
            if t.peers == 1 { "" } else { "s" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `1.4 GB`, `350 kB`: sizes as people read them.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Whole percent of `part` in `whole` (100 for an empty whole).
pub fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        100
    } else {
        (part.min(whole) as u128 * 100 / whole as u128) as u64
    }
}

pub fn peers(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let status = query(ctx)?;
    if json {
        print_json(&status.peers)?;
        return Ok(ExitCode::SUCCESS);
    }
    if status.peers.is_empty() {
        errln!("No peers yet.");
    }
    for peer in &status.peers {
        let sync = match peer.last_sync_ms {
            0 => "never synced".to_owned(),
            at => format!(
                "last sync {} brought {} records",
                format_ms(at),
                peer.last_sync_new
            ),
        };
        outln!(
            "{} {}  {sync}{}{}",
            if peer.connected {
                "connected"
            } else {
                "known    "
            },
            peer.peer_id,
            if peer.strikes > 0 {
                format!(", {} invalid messages", peer.strikes)
            } else {
                String::new()
            },
            if peer.declined_since_start > 0 {
                format!(
                    ", {} valid records not kept by your --accept policy",
                    peer.declined_since_start
                )
            } else {
                String::new()
            }
        )?;
        for addr in &peer.addrs {
            // Addresses are what peers say about themselves.
            outln!("    {}", safe(&addr.to_string()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn lock(ctx: &Context) -> anyhow::Result<ExitCode> {
    control::lock(ctx.home())?;
    outln!("The node forgot the archive key and stopped. Once other qoima commands still")?;
    outln!("running have ended, nothing in the archive can be read on this device until the")?;
    outln!("passphrase is typed again.")?;
    Ok(ExitCode::SUCCESS)
}

fn query(ctx: &Context) -> anyhow::Result<Status> {
    Ok(control::query_status(ctx.home())?)
}

fn parse_addrs(texts: &[String]) -> anyhow::Result<Vec<Multiaddr>> {
    texts
        .iter()
        .map(|text| {
            text.parse::<Multiaddr>().map_err(|e| {
                UsageError(format!(
                    "{text:?} is not a network address ({e}); write e.g. /ip4/192.168.1.20/tcp/4270"
                ))
                .into()
            })
        })
        .collect()
}
