//! Every bound the formats impose, in one place. Anything read from a file or a peer is
//! checked against these before memory is allocated for it.

/// The most bytes bincode may claim while decoding one value. Individual callers cap the
/// input itself lower (see [`decode_canonical`](crate::encoding::decode_canonical)).
pub const DECODE_LIMIT_BYTES: usize = 256 * 1024 * 1024;

/// Largest signed record (body + signature). Testimony text is long; media goes in blobs.
pub const RECORD_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Longest title, in bytes.
pub const TITLE_BYTES_MAX: usize = 1024;
/// Longest free text, in bytes.
pub const TEXT_BYTES_MAX: usize = 1024 * 1024;
/// Longest short string field (language, tag, place name, media type, references…).
pub const SHORT_BYTES_MAX: usize = 512;
/// Most tags on one record.
pub const TAGS_MAX: usize = 64;
/// Most attachments on one record.
pub const ATTACHMENTS_MAX: usize = 256;
/// Most links from one record.
pub const LINKS_MAX: usize = 256;
/// Most recipients of one sealed part.
pub const SEALED_RECIPIENTS_MAX: usize = 16;
/// Largest encapsulated or wrapped key of one sealed recipient entry, of any suite.
pub const SEALED_KEY_BYTES_MAX: usize = 256;

/// Largest blob (attachment) a bundle may carry: 64 GiB, far above any phone video.
pub const BLOB_BYTES_MAX: u64 = 64 * 1024 * 1024 * 1024;
/// Most items (records + blobs) in one bundle.
pub const BUNDLE_ITEMS_MAX: usize = 2 * 1024 * 1024;
/// Largest encoded manifest: every item costs at most 44 bytes.
pub const MANIFEST_BYTES_MAX: usize = 96 * 1024 * 1024;
/// Longest collection name, in bytes.
pub const COLLECTION_BYTES_MAX: usize = 128;
