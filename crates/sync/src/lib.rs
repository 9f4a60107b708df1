//! Reconciling two archives: which records does each side lack?
//!
//! # Brief overview
//!
//! * [`ArchiveIndex`] is the sorted set of `(claimed creation time, record id)` a node
//!   holds, kept up to date as records arrive, and read directly by the negentropy
//!   protocol (no sealed copy is made per session).
//! * [`Initiator`] drives one session: [`Initiator::start`] gives the first message,
//!   [`Initiator::step`] takes each reply and gives the next message or the [`Outcome`]:
//!   the ids to fetch, the ids the other side lacks, and whether the reconciliation is
//!   complete. A session stops at its [`Limits`] (rounds, ids to fetch) without error;
//!   the next one starts from the [`Position`] it reached, so any difference is
//!   reconciled in as many sessions as it takes (see below).
//! * [`respond`] answers one message; the responder keeps no state between messages.
//!   [`Initiator::start_salted`] takes the random salt the sketch's hashes are keyed by.
//! * [`fetch_batches`] cuts a list of wanted ids into bounded requests.
//!
//! The protocol is range-based set reconciliation (negentropy, protocol version 1):
//! both sides compare fingerprints of ranges of the sorted set and split only ranges
//! that differ, so the bytes exchanged grow with the size of the difference, not of the
//! archive, in a logarithmic number of round trips.
//!
//! # Scattered differences: a sketch beside the ranges
//!
//! negentropy lists any range of fewer than 32 records in full, so a difference spread
//! thinly over the archive costs about twenty listed ids per differing id. The first
//! message of a session therefore also asks for 128 numbers that estimate the size of
//! the difference (`estimate.rs`), and the initiator reads the first
//! reply to see how many of its ranges differ (`spread.rs`). A difference
//! that touches many ranges and is small next to the archive is then found with a
//! rateless sketch (`sketch.rs`): the responder sends coded symbols, about
//! 1.4 per differing id, and the initiator peels the difference out of them. Everything
//! else (new records at the end, a node far behind, a sketch that does not decode) goes
//! on as negentropy, so the resuming below is untouched. The two added messages are
//! described byte by byte in `bundles/PROTOCOL.md`.
//!
//! # Large differences: sessions that resume
//!
//! A session sends at most [`Limits::rounds_max`] messages of at most
//! [`FRAME_BYTES_MAX`] bytes. negentropy cuts an oversized message at the frame limit and
//! folds everything after the cut into one range for the next round, so the ranges it
//! settles (finds equal, or lists in full and compares) form a growing prefix of the
//! `(time, id)` order. When a session runs out of rounds, its next message, never sent,
//! begins with a skip up to the end of that prefix: the [`Outcome`] reports it as
//! [`Outcome::resume`], and the next session starts from there ([`Initiator::start`]):
//! its first message skips everything below and reconciles only the rest. The responder
//! does not know: it answers any negentropy message about its whole index, and a first
//! message that begins with a skip is ordinary negentropy.
//!
//! Restarting from the beginning instead does not converge. The side that starts only
//! fetches what it lacks; records it holds and the peer lacks stay, so every range that
//! holds one still differs, and its ids are listed again, round after round, session
//! after session: the same prefix is redone forever once the initiator holds more than a
//! few percent of records the peer lacks.
//!
//! Why resuming converges: within a session, the first range still open is always at the
//! front of the next message, where the frame cut never reaches, and each message splits
//! it into 16 by its sender's records (the initiator's, then the responder's), until one
//! side holds fewer than 32 records in it and lists them, which settles it (a list cut at
//! the frame limit still settles the part it covers). So a session of at least
//! `2 + log16(records in the index)` rounds (8 for 16 million records; the node allows 32)
//! settles at least its first range and moves [`Outcome::resume`] forward. A session
//! stopped early by its budget of ids to fetch ([`Limits::need_max`]) may not move it,
//! but it found records that are fetched before the next session, which then finds
//! fewer. The position only grows, and at infinity the pass is complete
//! ([`Outcome::complete`]).
//!
//! How many sessions, at the frame limit and 32 rounds (the tests assert these):
//! * A side that lacks `N` records and holds none the peer lacks receives 31,244 ids per
//!   reply, so it takes `ceil(N / (31,244 * rounds_max))` sessions: two for 1.1 million.
//!   With the node's budget of 65,536 ids to fetch, a session stops after two replies:
//!   `ceil(N / 62,488)` sessions, each fetched before the next.
//! * When both hold records the other lacks, every range that differs is listed by both.
//!   Where the responder holds more than the initiator, its replies overflow the frame;
//!   each cut folds the rest of the order into one range that takes about three rounds to
//!   split down again, so a session settles about one full reply in three. Measured: two
//!   nodes of 700,000 records, 600,000 of them unknown to the other: 2 sessions for one to
//!   fetch from the other, then 4 (about 140,000 records each) for the other to fetch
//!   back from the now 1.3 million. The bound asserted is looser: after a ramp of four
//!   rounds, one full reply in five, `ceil(R / 156,220)` sessions for a responder holding
//!   `R` records in ranges that differ.
//!
//! A pass that resumes takes what lies below its position as it was when settled:
//! records the peer gains there later are found by the next pass, which starts from
//! [`Position::START`] (or sooner, by gossip).
//!
//! **Architecture Invariant:** this crate knows nothing of libp2p, SQLite or files.

#![deny(missing_docs)]

mod estimate;
mod extension;
mod index;
mod position;
mod session;
mod sketch;
mod spread;

pub use extension::{EXTENSION_BYTES_MAX, SYMBOLS_MAX, SYMBOLS_PER_REPLY_MAX};
pub use index::ArchiveIndex;
pub use position::Position;
pub use session::{
    FRAME_BYTES_MAX, IDS_PER_REPLY_MAX, Initiator, Limits, Outcome, Step, SyncError, fetch_batches,
    respond,
};
pub use sketch::{SALT_BYTES, SYMBOL_BYTES, Salt};
