//! How a node is set up.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use qoima_net::libp2p::Multiaddr;
use qoima_store::ArchiveKey;

/// The TCP and UDP port a node listens on unless told otherwise ("qoima" on a phone
/// keypad is 76462; this is shorter and unassigned).
pub const DEFAULT_PORT: u16 = 4270;

/// Everything a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The data directory (archive, node key, control socket).
    pub home: PathBuf,
    /// The key the archive is encrypted under (from the key file). The node holds it
    /// while it runs and hands it to local commands over the control socket.
    pub archive_key: ArchiveKey,
    /// Addresses to listen on. Empty: TCP and QUIC on all interfaces, port
    /// [`DEFAULT_PORT`], or any free port if that one is taken.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start and to keep redialing.
    pub peers: Vec<Multiaddr>,
    /// Discover peers on the local network by mDNS.
    pub mdns: bool,
    /// The collection to sync.
    pub collection: String,
    /// How often to reconcile with every connected peer (also done on every new
    /// connection).
    pub sync_interval: Duration,
    /// How often to look for records written by other processes that did not say so
    /// over the control socket (`qoima add` and `import` do).
    pub poll_interval: Duration,
    /// Gossipsub heartbeat.
    pub heartbeat: Duration,
    /// Serve the control socket for `qoima status` / `qoima peers`.
    pub control_socket: bool,
    /// A closed group's pre-shared key (`qoima network-key new`): only nodes holding the
    /// same key can connect. TCP only (libp2p's private networks do not cover QUIC).
    pub network_key: Option<[u8; 32]>,
    /// Use a fresh network identity for this run instead of `node.key`, so peers cannot
    /// recognise this device from one run to the next.
    pub ephemeral_identity: bool,
    /// Which attachments are fetched without asking, the storage quota and each run's
    /// byte budget. Saved in the archive when the node starts; from then on the node
    /// follows what is saved there, so a change saved while it runs (the settings page)
    /// applies within a second.
    pub blob_policy: crate::BlobPolicy,
    /// Makes an address that opens the local web interface once, if one is served
    /// beside this node: handed over the control socket to the data directory's owner
    /// only (`qoima ui`), never written to disk.
    pub ui_unlock: Option<UiUnlock>,
}

/// Makes the web interface's one-time opening addresses. The node knows nothing of the
/// interface but this: whoever serves it (the command line) says how to make one.
#[derive(Clone)]
pub struct UiUnlock(Arc<dyn Fn() -> Option<String> + Send + Sync>);

impl UiUnlock {
    /// From `mint`, which returns a fresh address, or `None` if it cannot make one.
    pub fn new(mint: impl Fn() -> Option<String> + Send + Sync + 'static) -> UiUnlock {
        UiUnlock(Arc::new(mint))
    }

    /// A fresh address, valid once.
    pub fn mint(&self) -> Option<String> {
        (self.0)()
    }
}

impl std::fmt::Debug for UiUnlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UiUnlock(…)")
    }
}

impl NodeConfig {
    /// Defaults for a node on `home`, whose archive is encrypted under `archive_key`.
    pub fn new(home: PathBuf, archive_key: ArchiveKey) -> NodeConfig {
        NodeConfig {
            home,
            archive_key,
            listen: Vec::new(),
            peers: Vec::new(),
            mdns: true,
            collection: "default".into(),
            sync_interval: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            heartbeat: Duration::from_secs(1),
            control_socket: true,
            network_key: None,
            ephemeral_identity: false,
            blob_policy: crate::BlobPolicy::default(),
            ui_unlock: None,
        }
    }
}
