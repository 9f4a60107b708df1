//! The network side of a qoima node: libp2p transports, discovery, gossip and the
//! sync protocol. It moves bytes and checks their shape; what the bytes mean (records,
//! bundles, the archive) is decided by the node.
//!
//! # Brief overview
//!
//! * [`Behaviour`] combines identify, ping, mDNS, gossipsub, the sync protocol and a
//!   block list. [`build_swarm`] makes a swarm of it over TCP (Noise, Yamux) and QUIC.
//! * [`protocol`] is the sync wire protocol: [`SyncRequest`], [`SyncResponse`], their
//!   size limits and the codec.
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
pub mod gossip;
pub mod protocol;

pub use behaviour::{Behaviour, BehaviourEvent, NetConfig, build_swarm};
pub use gossip::GossipMessage;
pub use protocol::{SyncRequest, SyncResponse};

/// Re-exported so the node names the same libp2p types.
pub use libp2p;
