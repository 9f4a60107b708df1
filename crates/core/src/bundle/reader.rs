//! Reading a bundle from any byte stream, checking it as it goes.
//!
//! [`BundleReader::open`] reads the header and manifest and checks the manifest's
//! signature before anything else is believed. Each [`Item`] is then checked against the
//! hash the manifest gives for it. A record whose bytes do not match is reported and the
//! stream continues (the sizes are known); a stream that ends early is fatal.

use std::io::{self, Read};

use super::format::*;
use crate::encoding::{DecodeError, decode_canonical};
use crate::hash::{BlobHash, BundleId, RecordId};
use crate::keys::verify_with_context;
use crate::limits::MANIFEST_BYTES_MAX;

/// Why a bundle as a whole cannot be read. Nothing from it may be trusted beyond the
/// items already returned.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with the bundle magic.
    #[error("not a qoima bundle (wrong magic bytes)")]
    BadMagic,
    /// A format version this build does not read.
    #[error(
        "bundle format version {0} is not supported (this version reads {BUNDLE_FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
    /// The manifest length field is over the limit.
    #[error("manifest length {0} exceeds the limit of {MANIFEST_BYTES_MAX} bytes")]
    ManifestTooLong(u64),
    /// The manifest does not decode canonically.
    #[error("manifest: {0}")]
    ManifestEncoding(DecodeError),
    /// The manifest breaks a rule of the format.
    #[error("manifest: {0}")]
    ManifestInvalid(String),
    /// The manifest signature does not verify under the bundler key it names.
    #[error("bundle signature does not verify against the bundler key it names")]
    BadSignature,
    /// The stream ended before the header, manifest or an item was complete.
    #[error("truncated: the file ends inside {0}")]
    Truncated(String),
    /// Bytes follow the last item.
    #[error("unexpected data after the last item")]
    TrailingData,
}

/// Why one item of a bundle is refused. The rest of the bundle may still be good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// The item's bytes do not hash to what the manifest says.
    #[error("item {index}: content does not match its hash in the manifest (corrupted or altered)")]
    HashMismatch {
        /// Position in the manifest.
        index: usize,
    },
}

/// One item read from a bundle.
pub enum Item<'a, R> {
    /// A record: its bytes if they hash to the manifest's id (the signature is the
    /// caller's to check, so it can be done in parallel), else why not.
    Record {
        /// Position in the manifest.
        index: usize,
        /// The id the manifest gives.
        id: RecordId,
        /// The bytes, or why they are refused.
        bytes: Result<Vec<u8>, ItemError>,
    },
    /// A blob, to be streamed through [`BlobItem`]'s `Read` and then
    /// [`finished`](BlobItem::finish).
    Blob(BlobItem<'a, R>),
}

/// A blob being read from a bundle. Read it to the end, then call
/// [`finish`](BlobItem::finish) to learn whether it matches its hash. A blob dropped
/// unfinished is skipped when the next item is asked for.
pub struct BlobItem<'a, R> {
    index: usize,
    hash: BlobHash,
    size: u64,
    reader: &'a mut BundleReader<R>,
    // Boxed: the hasher's state is ~2 KB, which would bloat every `Item`.
    hasher: Box<blake3::Hasher>,
}

/// Reads a bundle item by item. See the [module docs](self).
pub struct BundleReader<R> {
    input: R,
    manifest: Manifest,
    id: BundleId,
    next_index: usize,
    /// Bytes of the current blob not yet consumed by its [`BlobItem`].
    blob_remaining: u64,
}

impl<R: Read> BundleReader<R> {
    /// Reads and checks the header and manifest.
    pub fn open(mut input: R) -> Result<Self, BundleError> {
        let mut header = [0u8; HEADER_LEN];
        read_exact_or(&mut input, &mut header, || "the header".into())?;
        if header[..8] != BUNDLE_MAGIC {
            return Err(BundleError::BadMagic);
        }
        let version = u16::from_le_bytes([header[8], header[9]]);
        if version != BUNDLE_FORMAT_VERSION {
            return Err(BundleError::UnsupportedVersion(version));
        }
        let manifest_len = u32::from_le_bytes([header[10], header[11], header[12], header[13]]);
        if manifest_len as usize > MANIFEST_BYTES_MAX {
            return Err(BundleError::ManifestTooLong(manifest_len.into()));
        }
        // Read through `take` so a lying length costs only what the stream really holds.
        let mut manifest_bytes = Vec::new();
        (&mut input)
            .take(manifest_len.into())
            .read_to_end(&mut manifest_bytes)?;
        if manifest_bytes.len() != manifest_len as usize {
            return Err(BundleError::Truncated("the manifest".into()));
        }
        let mut signature = [0u8; 64];
        read_exact_or(&mut input, &mut signature, || {
            "the manifest signature".into()
        })?;
        let manifest: Manifest = decode_canonical(&manifest_bytes, MANIFEST_BYTES_MAX)
            .map_err(BundleError::ManifestEncoding)?;
        if !verify_with_context(
            &manifest.bundler,
            MANIFEST_SIGNATURE_CONTEXT,
            &manifest_bytes,
            &signature,
        ) {
            return Err(BundleError::BadSignature);
        }
        manifest.check().map_err(BundleError::ManifestInvalid)?;
        let id = Manifest::id_of(&manifest_bytes);
        Ok(BundleReader {
            input,
            manifest,
            id,
            next_index: 0,
            blob_remaining: 0,
        })
    }

    /// The checked manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The bundle id.
    pub fn id(&self) -> BundleId {
        self.id
    }

    /// The next item, or `None` after the last one (having checked nothing follows it).
    pub fn next_item(&mut self) -> Result<Option<Item<'_, R>>, BundleError> {
        if self.blob_remaining > 0 {
            let index = self.next_index - 1;
            let skipped = io::copy(
                &mut (&mut self.input).take(self.blob_remaining),
                &mut io::sink(),
            )?;
            if skipped != self.blob_remaining {
                return Err(BundleError::Truncated(format!("item {index} (a blob)")));
            }
            self.blob_remaining = 0;
        }
        let index = self.next_index;
        let Some(item) = self.manifest.items.get(index).copied() else {
            let mut probe = [0u8; 1];
            return match self.input.read(&mut probe)? {
                0 => Ok(None),
                _ => Err(BundleError::TrailingData),
            };
        };
        self.next_index += 1;
        match item.kind {
            ItemKind::Record => {
                // The manifest check bounded `size` by RECORD_BYTES_MAX.
                let mut bytes = vec![0u8; item.size as usize];
                read_exact_or(&mut self.input, &mut bytes, || {
                    format!("item {index} (a record)")
                })?;
                let id = RecordId(item.hash);
                let bytes = if RecordId::of(&bytes) == id {
                    Ok(bytes)
                } else {
                    Err(ItemError::HashMismatch { index })
                };
                Ok(Some(Item::Record { index, id, bytes }))
            }
            ItemKind::Blob => {
                self.blob_remaining = item.size;
                Ok(Some(Item::Blob(BlobItem {
                    index,
                    hash: BlobHash(item.hash),
                    size: item.size,
                    reader: self,
                    hasher: Box::new(blake3::Hasher::new()),
                })))
            }
        }
    }
}

impl<R: Read> BlobItem<'_, R> {
    /// Position in the manifest.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The hash the manifest gives.
    pub fn hash(&self) -> BlobHash {
        self.hash
    }

    /// The size the manifest gives.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads whatever the caller left unread, then compares the hash of all the blob's
    /// bytes with the manifest's.
    pub fn finish(mut self) -> Result<Result<(), ItemError>, BundleError> {
        let index = self.index;
        io::copy(&mut self, &mut io::sink()).map_err(|e| blob_read_error(e, index))?;
        Ok(
            if BlobHash(*self.hasher.finalize().as_bytes()) == self.hash {
                Ok(())
            } else {
                Err(ItemError::HashMismatch { index: self.index })
            },
        )
    }
}

impl<R: Read> Read for BlobItem<'_, R> {
    /// Reads the blob's bytes; an early end of the stream is an `UnexpectedEof` error.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.reader.blob_remaining;
        if remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.reader.input.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "bundle ends inside a blob",
            ));
        }
        self.reader.blob_remaining -= n as u64;
        if n >= 128 * 1024 {
            self.hasher.update_rayon(&buf[..n]);
        } else {
            self.hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Turns an error from reading a blob into a [`BundleError`], naming the blob when the
/// stream ended inside it.
pub fn blob_read_error(error: io::Error, index: usize) -> BundleError {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => BundleError::Truncated(format!("item {index} (a blob)")),
        _ => BundleError::Io(error),
    }
}

fn read_exact_or(
    input: &mut impl Read,
    buf: &mut [u8],
    what: impl FnOnce() -> String,
) -> Result<(), BundleError> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => BundleError::Truncated(what()),
        _ => BundleError::Io(e),
    })
}
