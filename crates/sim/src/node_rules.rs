//! The node's scheduling rules the simulation follows, copied with their sources. The
//! simulator does not depend on `qoima-node` (libp2p, SQLCipher): these values are
//! restated here, and a change there must be repeated here.

use qoima_sync::Limits;

/// A node starts a session with every peer when it connects
/// (`crates/node/src/event_loop/mod.rs`, `ConnectionEstablished` → `start_session`) and
/// with every connected peer on each tick of `sync_interval`
/// (`crates/node/src/config.rs`: 60 s).
pub const SYNC_INTERVAL_MS: u64 = 60_000;

/// Round trips one reconciliation may take (`crates/node/src/session.rs`, `ROUNDS_MAX`).
pub const ROUNDS_MAX: u32 = 32;

/// Ids waiting to be fetched from one peer; a session that finds more stops there and
/// the next goes on (`crates/node/src/session.rs`, `QUEUED_IDS_MAX`).
pub const QUEUED_IDS_MAX: usize = 64 * 1024;

/// The limits a node's sessions run under (`PeerSync::LIMITS`).
pub const LIMITS: Limits = Limits {
    rounds_max: ROUNDS_MAX,
    need_max: QUEUED_IDS_MAX,
};

/// A session that stops at a limit is followed at once by the next
/// (`crates/node/src/event_loop/syncing.rs`, `end_session`). The simulation allows this
/// many back to back per sync before waiting for the next tick, which only matters for
/// the modelled flood (honest differences fit in one session).
pub const SESSIONS_PER_SYNC_MAX: u32 = 8;

/// Ids in the first fetch request to a peer; each quick answer doubles the next, up to
/// [`FETCH_BATCH`] (`crates/node/src/session.rs`, `FETCH_BATCH_FIRST`).
pub const FETCH_BATCH_FIRST: usize = 64;

/// Ids per fetch request at most (`qoima_net::protocol::FETCH_IDS_MAX`).
pub const FETCH_BATCH: usize = 1024;

/// Fetch requests in flight per peer (`crates/node/src/session.rs`, `FETCHES_IN_FLIGHT`):
/// three batches share one round trip.
pub const FETCHES_IN_FLIGHT: usize = 3;

/// Gossipsub mesh size (`crates/net/src/gossip.rs`, `mesh_n(4)`): a new record is pushed
/// to this many connected peers, who forward it to theirs.
pub const GOSSIP_MESH: usize = 4;

/// A new record travels inline on gossip when its bundle is under
/// `INLINE_BUNDLE_BYTES_MAX` (64 KiB, `crates/net/src/gossip.rs`): a record of 1.5 KB
/// always does.
pub const INLINE_BUNDLE_BYTES_MAX: u64 = 64 * 1024;

/// The acceptance policy's default quotas (`crates/store/src/acceptance.rs`,
/// `Quotas::default`): records kept per unknown author per hour...
pub const RECORDS_PER_UNKNOWN_AUTHOR_PER_HOUR: u64 = 10_000;
/// ...and from all unknown authors together per hour.
pub const RECORDS_PER_HOUR_ALL_UNKNOWN: u64 = 50_000;
/// A declined id is remembered this long, so sync does not fetch it again
/// (`crates/store/src/acceptance.rs`, `DECLINED_FOR_MS`)...
pub const DECLINED_FOR_MS: u64 = 3_600_000;
/// ...and at most this many are remembered (`DECLINED_MAX`).
pub const DECLINED_MAX: usize = 65_536;

/// The hour the quotas count in.
pub const HOUR_MS: u64 = 3_600_000;
