//! The qoima node: one archive, one network identity, one event loop.
//!
//! # Brief overview
//!
//! * [`NodeConfig`] says where the archive is and how to reach the network.
//! * [`Node::start`] opens the archive, builds the swarm and spawns the event loop; the
//!   returned [`Node`] is a handle to ask it for [`Status`] or to stop it.
//! * The event loop (`event_loop/`) owns the swarm and the reconciliation index. The
//!   archive lives on its own thread (`store_worker.rs`), so a slow disk never stalls
//!   the network; the loop talks to it over a bounded channel.
//! * Records written beside the node (`qoima add`, `qoima import` in another process)
//!   are announced on gossip as soon as the command tells the node over the control
//!   socket (`written`), or at the latest when the node next polls the archive (1 s).
//! * A local control socket (`control.rs`) answers `qoima status` and `qoima peers`.
//!
//! **Architecture Invariant:** only the event loop touches the swarm; only the store
//! worker touches the archive.

#![deny(missing_docs)]

mod addresses;
mod bans;
mod config;
pub mod control;
mod event_loop;
mod identity;
mod peers;
mod session;
mod store_worker;
pub mod transfers;
mod work;

pub use config::{NodeConfig, UiUnlock};
pub use event_loop::{Locker, Node, StatusReader, WrittenNotifier};
pub use qoima_core::status::{AttachmentLimits, PeerStatus, Status, TransferStatus};
/// Network addresses, as the command line parses them.
pub use qoima_net::libp2p::Multiaddr;
/// The status types, where they used to live (`qoima_core::status` now).
pub mod status {
    pub use qoima_core::status::*;
}
pub use transfers::BlobPolicy;
