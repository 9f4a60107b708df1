//! Signing and verifying records.
//!
//! Signed record bytes = canonical body bytes ‖ 64-byte Ed25519 signature over
//! [`RECORD_SIGNATURE_CONTEXT`] ‖ body bytes. The record id is BLAKE3 of those signed
//! bytes exactly as received; nothing is ever re-encoded before hashing or verifying.

use super::body::{RECORD_FORMAT_V2, RecordBody};
use super::validate::check_body;
use crate::encoding::{DecodeError, decode_canonical, encode};
use crate::hash::RecordId;
use crate::keys::{AuthorSecret, KeyCache, SignatureBatch};
use crate::limits::RECORD_BYTES_MAX;

/// Domain-separation prefix of record signatures, so that no other qoima signature (a
/// bundle manifest, a future message) can ever be taken for a record's.
pub const RECORD_SIGNATURE_CONTEXT: &[u8] = b"qoima record v1\0";

const SIGNATURE_LEN: usize = 64;

/// Why bytes are not a valid record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Shorter than a signature.
    #[error("record is {0} bytes, too short to hold a signature")]
    TooShort(usize),
    /// Longer than [`RECORD_BYTES_MAX`].
    #[error("record is {0} bytes, over the limit of {RECORD_BYTES_MAX}")]
    TooLong(usize),
    /// The body does not decode canonically.
    #[error("record body: {0}")]
    Encoding(#[from] DecodeError),
    /// A field breaks the format's rules.
    #[error("record field: {0}")]
    Field(String),
    /// Made by a later version of the format: neither valid nor invalid to this reader,
    /// which cannot decode it (and so must not blame whoever passed it on).
    #[error(
        "record format version {0} is not supported (this version reads 1 and 2): a later qoima made it"
    )]
    UnsupportedVersion(u16),
    /// The signature is not the named author's signature over these bytes.
    #[error("signature does not verify against the author key the record names")]
    BadSignature,
    /// The secret key offered for signing is not the record's author.
    #[error("the record names a different author than the signing key")]
    WrongSigner,
}

/// A record whose bytes were checked: canonical, within limits, signed by its author.
/// Made by [`VerifiedRecord::sign`] or [`VerifiedRecord::from_bytes`], and no other way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecord {
    id: RecordId,
    bytes: Vec<u8>,
    body: RecordBody,
}

impl VerifiedRecord {
    /// Checks `body` against the format's limits and signs it with `secret`, which must be
    /// the body's author.
    pub fn sign(body: &RecordBody, secret: &AuthorSecret) -> Result<VerifiedRecord, RecordError> {
        if body.author != secret.public() {
            return Err(RecordError::WrongSigner);
        }
        check_body(body).map_err(RecordError::Field)?;
        let mut bytes = encode(body);
        let signature = secret.sign_with_context(RECORD_SIGNATURE_CONTEXT, &bytes);
        bytes.extend_from_slice(&signature);
        if bytes.len() > RECORD_BYTES_MAX {
            return Err(RecordError::TooLong(bytes.len()));
        }
        Ok(VerifiedRecord {
            id: RecordId::of(&bytes),
            bytes,
            body: body.clone(),
        })
    }

    /// Verifies signed record bytes from anywhere (a file, a peer, the store).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<VerifiedRecord, RecordError> {
        let id = RecordId::of(&bytes);
        Self::from_bytes_with_id(bytes, id)
    }

    /// As [`VerifiedRecord::from_bytes`], when the caller has already hashed the bytes
    /// (a bundle reader checks every item's hash as it reads it).
    pub fn from_bytes_with_id(bytes: Vec<u8>, id: RecordId) -> Result<VerifiedRecord, RecordError> {
        Self::from_bytes_cached(bytes, id, &mut KeyCache::new())
    }

    /// As [`VerifiedRecord::from_bytes_with_id`], reusing author keys decompressed for
    /// earlier records (the same checks, less repeated work).
    pub fn from_bytes_cached(
        bytes: Vec<u8>,
        id: RecordId,
        keys: &mut KeyCache,
    ) -> Result<VerifiedRecord, RecordError> {
        let (body, body_len) = check_unsigned(&bytes, id)?;
        let (body_bytes, signature) = split_signature(&bytes, body_len);
        if !keys.verify(
            &body.author,
            RECORD_SIGNATURE_CONTEXT,
            body_bytes,
            signature,
        ) {
            return Err(RecordError::BadSignature);
        }
        Ok(VerifiedRecord { id, bytes, body })
    }

    /// As [`VerifiedRecord::from_bytes_cached`] for many records, their signatures checked
    /// in one [`SignatureBatch`]: each result is exactly the one `from_bytes_cached` gives
    /// for that record (the signature rule is the same one by one and in a batch, and a
    /// failed batch is checked again one by one). `seed` must come from the operating
    /// system's generator: see [`SignatureBatch::verify`].
    pub fn from_bytes_batch(
        records: Vec<(RecordId, Vec<u8>)>,
        keys: &mut KeyCache,
        seed: &[u8; 32],
    ) -> Vec<Result<VerifiedRecord, RecordError>> {
        let mut batch = SignatureBatch::new();
        // Records whose signature is queued, with the position of its verdict.
        let mut checked: Vec<Result<(usize, VerifiedRecord), RecordError>> =
            Vec::with_capacity(records.len());
        for (id, bytes) in records {
            checked.push(check_unsigned(&bytes, id).map(|(body, body_len)| {
                let (body_bytes, signature) = split_signature(&bytes, body_len);
                let position = batch.len();
                batch.queue(
                    keys,
                    &body.author,
                    RECORD_SIGNATURE_CONTEXT,
                    body_bytes,
                    signature,
                );
                (position, VerifiedRecord { id, bytes, body })
            }));
        }
        let verdicts = batch.verify(seed);
        checked
            .into_iter()
            .map(|result| {
                let (position, record) = result?;
                if verdicts[position] {
                    Ok(record)
                } else {
                    Err(RecordError::BadSignature)
                }
            })
            .collect()
    }

    /// BLAKE3 of the signed bytes.
    pub fn id(&self) -> RecordId {
        self.id
    }

    /// The signed bytes, exactly as received or made.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The decoded body.
    pub fn body(&self) -> &RecordBody {
        &self.body
    }

    /// The signed bytes, giving up the rest.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Every check of a record but its signature, in the order [`VerifiedRecord::from_bytes`]
/// makes them: the decoded body and the length of its bytes.
fn check_unsigned(bytes: &[u8], id: RecordId) -> Result<(RecordBody, usize), RecordError> {
    debug_assert_eq!(id, RecordId::of(bytes));
    if bytes.len() > RECORD_BYTES_MAX {
        return Err(RecordError::TooLong(bytes.len()));
    }
    let Some(body_len) = bytes.len().checked_sub(SIGNATURE_LEN) else {
        return Err(RecordError::TooShort(bytes.len()));
    };
    let body_bytes = &bytes[..body_len];
    // The version comes first; a later one may lay out the rest differently.
    if let Ok((version, _)) =
        bincode::decode_from_slice::<u16, _>(body_bytes, crate::encoding::CONFIG)
        && version > RECORD_FORMAT_V2
    {
        return Err(RecordError::UnsupportedVersion(version));
    }
    let body: RecordBody = decode_canonical(body_bytes, RECORD_BYTES_MAX)?;
    check_body(&body).map_err(RecordError::Field)?;
    Ok((body, body_len))
}

/// The body bytes and the signature after them; `body_len` is the length less the
/// signature's, as [`check_unsigned`] found it.
fn split_signature(bytes: &[u8], body_len: usize) -> (&[u8], &[u8; SIGNATURE_LEN]) {
    let (body_bytes, signature) = bytes.split_at(body_len);
    let signature = signature
        .try_into()
        .expect("split at SIGNATURE_LEN from the end");
    (body_bytes, signature)
}
