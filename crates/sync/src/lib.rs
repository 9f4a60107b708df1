//! Reconciling two archives: which records does each side lack?
//!
//! # Brief overview
//!
//! * [`ArchiveIndex`] is the sorted set of `(claimed creation time, record id)` a node
//!   holds, kept up to date as records arrive, and read directly by the negentropy
//!   protocol (no sealed copy is made per session).
//! * [`Initiator`] drives one reconciliation: [`Initiator::start`] gives the first
//!   message, [`Initiator::step`] takes each reply and gives the next message or the
//!   result: the ids to fetch and the ids the other side lacks.
//! * [`respond`] answers one message; the responder keeps no state between messages.
//! * [`fetch_batches`] cuts a list of wanted ids into bounded requests.
//!
//! The protocol is range-based set reconciliation (negentropy, protocol version 1):
//! both sides compare fingerprints of ranges of the sorted set and split only ranges
//! that differ, so the bytes exchanged grow with the size of the difference, not of the
//! archive, in a logarithmic number of round trips.
//!
//! **Architecture Invariant:** this crate knows nothing of libp2p, SQLite or files.

#![deny(missing_docs)]

mod index;
mod position;
mod session;

pub use index::ArchiveIndex;
pub use position::Position;
pub use session::{
    FRAME_BYTES_MAX, IDS_PER_REPLY_MAX, Initiator, Limits, Outcome, Step, SyncError, fetch_batches,
    respond,
};
