//! Bundles: signed, self-verifying, streamable containers of records and blobs.
//!
//! ```text
//! header    8-byte magic "qoima-b\0", u16 LE format version, u32 LE manifest length
//! manifest  canonical bincode Manifest { bundler, created_ms, collection, items }
//! signature 64-byte Ed25519 by `bundler` over MANIFEST_SIGNATURE_CONTEXT ‖ manifest
//! items     each item's bytes, in manifest order, exactly `size` bytes each
//! ```
//!
//! The manifest names the BLAKE3 hash and size of every item, so a reader that has
//! checked the manifest signature can check every item as it streams past, holding only
//! one record (≤ 2 MiB) or one blob buffer in memory. The bundle id is BLAKE3 of the
//! manifest bytes. `bundles/FORMAT.md` specifies every byte.

mod format;
mod reader;
mod writer;

pub use format::{
    BUNDLE_FORMAT_VERSION, BUNDLE_MAGIC, HEADER_LEN, ItemKind, ItemRef, MANIFEST_SIGNATURE_CONTEXT,
    Manifest,
};
pub use reader::{BlobItem, BundleError, BundleReader, Item, ItemError, blob_read_error};
pub use writer::{BundleWriter, WriteError};
