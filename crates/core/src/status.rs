//! What a running node reports of itself: what `qoima status` and `qoima peers` show,
//! and the web interface's peers page. Plain data, here so that the node (which fills
//! it) and the interface (which shows it, and must not depend on the node) share one
//! shape, the same in `qoima status --json` and `GET /api/v1/status`.

use serde::{Deserialize, Serialize};

/// A running node's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The node's libp2p peer id.
    pub peer_id: String,
    /// Addresses it listens on.
    pub listen_addrs: Vec<String>,
    /// The collection it syncs.
    pub collection: String,
    /// Records in the archive.
    pub records: u64,
    /// Connected peers subscribed to the collection's gossip topic.
    pub gossip_peers: usize,
    /// Peers currently connected, then peers met before.
    pub peers: Vec<PeerStatus>,
    /// Attachments being fetched.
    #[serde(default)]
    pub transfers: Vec<TransferStatus>,
    /// Whether the node runs in a closed group (`qoima node --network-key`): it talks
    /// only to nodes holding the same key.
    #[serde(default)]
    pub closed_group: bool,
    /// What the node fetches of attachments without being asked, this run.
    #[serde(default)]
    pub attachments: AttachmentLimits,
}

/// The attachment policy of a running node, as given on its command line
/// (`--fetch-up-to`, `--blob-quota`, `--budget`), and how much of the budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttachmentLimits {
    /// The largest attachment fetched without being asked, in bytes.
    pub fetch_up_to: u64,
    /// Total attachment bytes kept; none: no limit.
    pub quota: Option<u64>,
    /// Attachment bytes this run may receive; none: no limit.
    pub budget: Option<u64>,
    /// Attachment bytes received this run, counted against the budget.
    pub budget_used: u64,
}

/// An attachment being fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferStatus {
    /// Its BLAKE3 hash, hex.
    pub blob: String,
    /// Its size in bytes.
    pub size: u64,
    /// Bytes verified and stored so far.
    pub have: u64,
    /// Bytes per second over the last few seconds.
    pub bytes_per_second: u64,
    /// Peers it is being fetched from now.
    pub peers: usize,
}

/// One peer, as this node knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// libp2p peer id.
    pub peer_id: String,
    /// Connected now.
    pub connected: bool,
    /// Known addresses.
    pub addrs: Vec<String>,
    /// Last successful sync, ms since the epoch (0 = never).
    pub last_sync_ms: i64,
    /// Records the last sync brought.
    pub last_sync_new: u64,
    /// Records received from it since this node started (sync and gossip).
    pub received_since_start: u64,
    /// Valid records from it that this node's acceptance policy did not keep (local
    /// choice: no strike), since this node started.
    #[serde(default)]
    pub declined_since_start: u64,
    /// Reconciliations with it, since this node started, that found a difference
    /// scattered over the archive with the sketch rather than by ranges.
    #[serde(default)]
    pub sketched_since_start: u64,
    /// Invalid messages it sent, net of those forgiven with time.
    pub strikes: u32,
    /// Its gossip messages ignored unread because it sent too many valid but useless
    /// ones (no strike: throttling is not blame).
    #[serde(default)]
    pub throttled: u64,
    /// When its ban ends, ms since the epoch (0 = not banned).
    #[serde(default)]
    pub banned_until_ms: i64,
    /// Attachment bytes received from it since this node started.
    #[serde(default)]
    pub blob_bytes_received: u64,
    /// Attachment bytes sent to it since this node started.
    #[serde(default)]
    pub blob_bytes_sent: u64,
}
