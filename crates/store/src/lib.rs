//! The node's archive on disk: records and their index in SQLite, attachments as
//! content-addressed files, and the author key sealed under the passphrase.
//!
//! # Brief overview
//!
//! * [`Store`] opens a data directory and is the only way to read or change it:
//!   [`Store::append_local`] for records made here, [`Store::import_bundle`] for bundle
//!   files and [`Store::import_network_bundle`] for (records-only) bundles from peers,
//!   [`Store::list`] / [`Store::search`] / [`Store::get`] to read (records become
//!   searchable after they are stored, by [`Store::index_pending_search`], which every
//!   search runs first, up to a bound), [`Store::export`] to write a bundle, [`Store::bundle_of`] and
//!   [`Store::quarantine`] to serve peers and heal what rotted on disk.
//! * [`keyfile`] seals the author key (and the key that will encrypt the archive) under
//!   the passphrase with Argon2id and XChaCha20-Poly1305.
//!
//! Layout of a data directory:
//!
//! ```text
//! key            sealed key file (see keyfile)
//! archive.db     SQLite, WAL mode: records, full-text index, provenance, blob index
//! blobs/ab/…     one file per attachment, named by its BLAKE3 hash in hex
//! tmp/           blob files being written; emptied when the store opens
//! ```
//!
//! Durability: a record is reported stored only after its transaction committed with
//! `synchronous = FULL`; a blob file is synced and renamed into place before the
//! transaction that mentions it commits, so a crash leaves either nothing or a complete,
//! verified file.

#![deny(missing_docs)]

mod acceptance;
mod archive;
pub mod at_rest;
mod attachment_policy;
mod bans;
mod blobs;
mod error;
mod export;
pub mod fsutil;
mod import;
pub mod keyfile;
mod network;
mod personas;
mod query;
#[doc(hidden)]
pub mod recall_set;
mod schema;
pub mod sealed_bundle;
mod sealing;
mod search;
mod search_query;
mod standing;
mod stemming;
mod transfer;
mod trust;
mod unattached;
pub mod views;
pub mod wipe;

pub use acceptance::{Acceptance, DECLINED_MAX, Declined, Policy, Quotas};
pub use archive::{Source, Store};
pub use at_rest::keys::ArchiveKey;
pub use attachment_policy::BlobPolicy;
pub use blobs::BlobReader;

/// The database file in a data directory.
pub const DB_FILE: &str = "archive.db";
/// The node's network key, sealed under the archive key.
pub const NODE_KEY_FILE: &str = "node.key";
pub use bans::Ban;
pub use blobs::StoredBlob;
pub use error::StoreError;
pub use export::{ExportQuery, ExportReport, SealToError, throwaway_bundler};
pub use import::{ImportReport, Rejection, SenderFault};
pub use network::{ADDRS_PER_PEER_MAX, ArrivedRecord, KnownPeer, PEERS_MAX, Served};
pub use personas::{MAIN_PERSONA, PERSONAS_MAX, Persona};
pub use query::{ListQuery, ProvenanceEntry, RecordSummary, StoredRecord};
pub use sealing::Opened;
pub use search::{SEARCH_INDEX_BATCH, SEARCH_OWN_INDEXING_MAX};
pub use search_query::Matching;
pub use transfer::{AcceptError, AttachmentState, BlobFiles, PartialBlob, WantedBlob};
pub use trust::{
    AuthorTrust, ENDORSED_LISTED_MAX, EndorsedKey, JudgedRecord, TRUSTED_MAX, TrustAdded,
    TrustedKey,
};
