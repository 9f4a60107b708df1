//! The bundle's header and manifest: types, constants and the manifest's own rules.

use std::collections::HashSet;

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::hash::{BundleId, Hash32};
use crate::keys::AuthorKey;
use crate::limits::{BLOB_BYTES_MAX, BUNDLE_ITEMS_MAX, COLLECTION_BYTES_MAX, RECORD_BYTES_MAX};

/// The first eight bytes of every bundle file.
pub const BUNDLE_MAGIC: [u8; 8] = *b"qoima-b\0";
/// The bundle format version this crate writes and reads.
pub const BUNDLE_FORMAT_VERSION: u16 = 1;
/// Magic, version and manifest length.
pub const HEADER_LEN: usize = 8 + 2 + 4;
/// Domain-separation prefix of manifest signatures.
pub const MANIFEST_SIGNATURE_CONTEXT: &[u8] = b"qoima bundle manifest v1\0";

/// What a bundle holds, signed by whoever made the bundle (who need not be the author of
/// its records: each record carries its author's own signature).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Manifest {
    /// The key that signs this manifest.
    pub bundler: AuthorKey,
    /// When the bundle was made, ms since the epoch, by the bundler's clock.
    pub created_ms: i64,
    /// The collection the bundle belongs to.
    pub collection: String,
    /// Every item that follows, in order.
    pub items: Vec<ItemRef>,
}

/// One item of a bundle: its kind, hash and exact size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ItemRef {
    /// Record or blob.
    pub kind: ItemKind,
    /// BLAKE3 of the item's bytes (a record id or a blob hash).
    #[serde(serialize_with = "hex32")]
    pub hash: Hash32,
    /// Exact length of the item's bytes.
    pub size: u64,
}

fn hex32<S: serde::Serializer>(hash: &Hash32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&data_encoding::HEXLOWER.encode(hash))
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// Signed record bytes.
    Record,
    /// Attachment bytes.
    Blob,
}

impl Manifest {
    /// The bundle id: BLAKE3 of the encoded manifest.
    pub fn id_of(manifest_bytes: &[u8]) -> BundleId {
        BundleId(*blake3::hash(manifest_bytes).as_bytes())
    }

    /// Checks the manifest's own rules: sizes within limits, no item listed twice.
    pub fn check(&self) -> Result<(), String> {
        if self.collection.len() > COLLECTION_BYTES_MAX {
            return Err(format!("collection name over {COLLECTION_BYTES_MAX} bytes"));
        }
        if self.items.len() > BUNDLE_ITEMS_MAX {
            return Err(format!(
                "{} items, over the limit of {BUNDLE_ITEMS_MAX}",
                self.items.len()
            ));
        }
        let mut seen = HashSet::with_capacity(self.items.len());
        for (index, item) in self.items.iter().enumerate() {
            let max = match item.kind {
                ItemKind::Record => RECORD_BYTES_MAX as u64,
                ItemKind::Blob => BLOB_BYTES_MAX,
            };
            if item.size > max {
                return Err(format!(
                    "item {index} claims {} bytes, over the {} limit of {max}",
                    item.size,
                    match item.kind {
                        ItemKind::Record => "record",
                        ItemKind::Blob => "blob",
                    }
                ));
            }
            if !seen.insert(item.hash) {
                return Err(format!("item {index} is listed twice"));
            }
        }
        Ok(())
    }

    /// Number of record items.
    pub fn record_count(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.kind == ItemKind::Record)
            .count()
    }

    /// Number of blob items.
    pub fn blob_count(&self) -> usize {
        self.items.len() - self.record_count()
    }

    /// Total bytes of all items.
    pub fn payload_bytes(&self) -> u64 {
        self.items.iter().map(|i| i.size).sum()
    }
}
