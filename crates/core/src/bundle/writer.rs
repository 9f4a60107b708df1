//! Writing a bundle to any byte sink, item by item, in manifest order.

use std::io::{self, Read, Write};

use super::format::*;
use crate::encoding::encode;
use crate::hash::BundleId;
use crate::keys::AuthorSecret;

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Writing (or reading a blob's source) failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The manifest breaks a rule of the format, or was not signed by its bundler.
    #[error("manifest: {0}")]
    Manifest(String),
    /// An item's bytes are not what the manifest promised: the source changed or is
    /// corrupt. The partial output must be discarded.
    #[error("item {index}: {reason}")]
    ItemMismatch {
        /// Position in the manifest.
        index: usize,
        /// What differs.
        reason: String,
    },
    /// `finish` was called before every item was written.
    #[error("{written} of {expected} items written")]
    Incomplete {
        /// Items written.
        written: usize,
        /// Items in the manifest.
        expected: usize,
    },
}

/// Writes a bundle: the signed manifest first, then each item, each checked against the
/// manifest before it leaves (so a corrupt source never yields a bundle that claims to be
/// good).
pub struct BundleWriter<W> {
    output: W,
    items: Vec<ItemRef>,
    next_index: usize,
    id: BundleId,
}

impl<W: Write> BundleWriter<W> {
    /// Writes the header, `manifest` and its signature by `bundler`.
    pub fn new(
        mut output: W,
        manifest: Manifest,
        bundler: &AuthorSecret,
    ) -> Result<Self, WriteError> {
        if manifest.bundler != bundler.public() {
            return Err(WriteError::Manifest(
                "bundler key is not the signing key".into(),
            ));
        }
        manifest.check().map_err(WriteError::Manifest)?;
        let manifest_bytes = encode(&manifest);
        let manifest_len = u32::try_from(manifest_bytes.len())
            .map_err(|_| WriteError::Manifest("manifest too large".into()))?;
        let signature = bundler.sign_with_context(MANIFEST_SIGNATURE_CONTEXT, &manifest_bytes);
        output.write_all(&BUNDLE_MAGIC)?;
        output.write_all(&BUNDLE_FORMAT_VERSION.to_le_bytes())?;
        output.write_all(&manifest_len.to_le_bytes())?;
        output.write_all(&manifest_bytes)?;
        output.write_all(&signature)?;
        Ok(BundleWriter {
            output,
            id: Manifest::id_of(&manifest_bytes),
            items: manifest.items,
            next_index: 0,
        })
    }

    /// The id of the bundle being written.
    pub fn id(&self) -> BundleId {
        self.id
    }

    /// Writes the next item, which must be a record with these signed bytes.
    pub fn write_record(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let (index, item) = self.expect_next(ItemKind::Record)?;
        if item.size != bytes.len() as u64 || *blake3::hash(bytes).as_bytes() != item.hash {
            return Err(mismatch(index, "record bytes differ from the manifest"));
        }
        self.output.write_all(bytes)?;
        Ok(())
    }

    /// Writes the next item, which must be a blob, copying it from `source` and hashing
    /// it on the way.
    pub fn write_blob(&mut self, source: impl Read) -> Result<(), WriteError> {
        let (index, item) = self.expect_next(ItemKind::Blob)?;
        let mut source = source.take(item.size);
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1024 * 1024];
        let mut copied = 0u64;
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if n >= 128 * 1024 {
                hasher.update_rayon(&buf[..n]);
            } else {
                hasher.update(&buf[..n]);
            }
            self.output.write_all(&buf[..n])?;
            copied += n as u64;
        }
        if copied != item.size {
            return Err(mismatch(
                index,
                "blob source is shorter than the manifest says",
            ));
        }
        if *hasher.finalize().as_bytes() != item.hash {
            return Err(mismatch(index, "blob source does not match its hash"));
        }
        Ok(())
    }

    /// Checks every item was written, flushes, and hands back the sink.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.next_index != self.items.len() {
            return Err(WriteError::Incomplete {
                written: self.next_index,
                expected: self.items.len(),
            });
        }
        self.output.flush()?;
        Ok(self.output)
    }

    fn expect_next(&mut self, kind: ItemKind) -> Result<(usize, ItemRef), WriteError> {
        let index = self.next_index;
        let item = *self
            .items
            .get(index)
            .ok_or_else(|| mismatch(index, "more items than the manifest lists"))?;
        if item.kind != kind {
            return Err(mismatch(index, "item kind differs from the manifest"));
        }
        self.next_index += 1;
        Ok((index, item))
    }
}

fn mismatch(index: usize, reason: &str) -> WriteError {
    WriteError::ItemMismatch {
        index,
        reason: reason.into(),
    }
}
