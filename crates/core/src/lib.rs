//! The pure heart of qoima: records, bundles, keys, their canonical encoding and their
//! verification.
//!
//! # Brief overview
//!
//! * [`RecordBody`] is what an author writes: a testimony, an incident report, a detention.
//!   [`VerifiedRecord`] is that body in canonical bytes plus the author's Ed25519 signature;
//!   its [`RecordId`] is the BLAKE3 hash of exactly those bytes.
//! * [`AuthorKey`] / [`AuthorSecret`] are the author's identity, shown to people as a
//!   [`Fingerprint`].
//! * A bundle is the unit that moves between nodes: a signed [`bundle::Manifest`] naming
//!   the hash and size of every record and blob that follows it. [`bundle::BundleWriter`]
//!   writes one to any `Write`, [`bundle::BundleReader`] checks one while reading it from
//!   any `Read`, with memory bounded by the format's limits, not by the input.
//!
//! This crate opens no files and no sockets; callers hand it bytes or byte streams.
//! Everything from outside is decoded through [`encoding::decode_canonical`], which accepts
//! exactly one byte string per value, so a hash or a signature can never be evaded by a
//! second spelling of the same record.

#![deny(missing_docs)]

pub mod blob_tree;
pub mod bundle;
pub mod draft;
pub mod encoding;
pub mod fixtures;
mod hash;
mod keys;
pub mod limits;
mod record;
pub mod status;
mod time;

#[cfg(test)]
mod tests;

pub use hash::{BlobHash, BundleId, Hash32, ParseHashError, RecordId, SealingKey, Sha256Digest};
pub use keys::{
    AuthorKey, AuthorSecret, Fingerprint, KeyCache, KeyError, SignatureBatch, verify_with_context,
};
pub use record::{
    Attachment, Consent, ContentKey, Details, GeoPoint, IncidentType, Link, LinkKind, Place,
    RECORD_FORMAT_V2, RECORD_FORMAT_VERSION, RECORD_SIGNATURE_CONTEXT, RecordBody, RecordError,
    RecordKind, SEAL_SUITE_HPKE_X25519_CHACHA, SealError, Sealed, SealedAttachment, SealedContent,
    SealedRecipient, SealingSecret, SourceType, VerifiedRecord, WitnessRelation,
    decrypt_attachment, encrypt_attachment, open_sealed, seal, unwrap_key, wrap_key,
};
pub use time::{
    ClaimedTime, ClockSource, ParseTimeError, Precision, TimeSpan, format_ms, parse_instant_ms,
};
