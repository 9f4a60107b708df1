//! The network side of a qoima node: libp2p transports, discovery, gossip and the
//! sync protocol. It moves bytes and checks their shape; what the bytes mean (records,
//! bundles, the archive) is decided by the node.
//!
//! # Brief overview
//!
//! * [`Behaviour`] combines connection limits, identify, ping, mDNS, gossipsub, the sync
//!   and stem protocols and a block list. [`build_swarm`] makes a swarm of it over TCP
//!   (Noise, Yamux) and QUIC, or, for a closed group, over TCP with a pre-shared key
//!   (libp2p `pnet`) only.
//! * [`protocol`] is the sync wire protocol: [`SyncRequest`], [`SyncResponse`], their
//!   size limits and the codec.
//! * [`blobs`] is the attachment protocol: verified ranges of blobs.
//! * [`stem`] is the stem hop: a new record handed to one peer that publishes it.
//! * [`network_key`] reads and writes a closed group's key file.
//! * [`gossip`] is the gossip wire format ([`GossipMessage`]), topic names, message ids
//!   and peer-scoring parameters.
//!
//! The libp2p identity of a node is its own key, unrelated to any author key; gossip is
//! unsigned at the libp2p layer (`MessageAuthenticity::Anonymous`) because bundles carry
//! their own signatures, and a signature by the PeerId would tie documents to a device.

#![deny(missing_docs)]

// The derived `BehaviourEvent` enum has undocumented variants (one per field).
#[allow(missing_docs)]
mod behaviour;
pub mod blobs;
pub mod gossip;
pub mod network_key;
pub mod protocol;
pub mod stem;

pub use behaviour::{
    BLOB_RANGE_TIMEOUT, Behaviour, BehaviourEvent, HANDSHAKE_TIMEOUT, NetConfig, STEM_TIMEOUT,
    YAMUX_STREAMS_MAX, build_swarm,
};
pub use blobs::{BlobRequest, BlobResponse};
pub use gossip::GossipMessage;
pub use network_key::NetworkKeyError;
pub use protocol::{
    ProtocolViolation, SyncRequest, SyncResponse, protocol_violation, violation_of_inbound,
    violation_of_outbound,
};
pub use stem::{StemRequest, StemResponse};

/// Re-exported so the node names the same libp2p types.
pub use libp2p;
