//! Sealing the content of a record to its recipients, and opening it.
//!
//! A random content key per record encrypts the [`SealedContent`] (ChaCha20-Poly1305 under
//! a key derived from it with BLAKE3, nonce zero: each derived key encrypts one message);
//! the content key itself is sealed to each recipient with HPKE (RFC 9180, base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305; the `hpke` crate). Both
//! bind the author key as associated data, so a sealed part lifted into another author's
//! record does not open. Recipients are not named; a reader tries its key on every entry.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;

use super::body::{SEAL_SUITE_HPKE_X25519_CHACHA, Sealed, SealedContent, SealedRecipient};
use super::sealed_attachment::ContentKey;
use super::validate::check_sealed_content;
use crate::encoding::{decode_canonical, encode};
use crate::hash::SealingKey;
use crate::keys::AuthorKey;
use crate::limits::{RECORD_BYTES_MAX, SEALED_RECIPIENTS_MAX};

type Kem = X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// HPKE `info`: what the wrapped key is for.
const HPKE_INFO: &[u8] = b"qoima sealed record content key v1";
/// BLAKE3 context deriving the content cipher's key from the content key.
const CONTENT_KEY_CONTEXT: &str = "qoima 2026-11 sealed record content v1";

/// Why content could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Sealing needs at least one recipient.
    #[error("a sealed record needs at least one recipient")]
    NoRecipients,
    /// More recipients than the format allows.
    #[error("{0} recipients, over the limit of {SEALED_RECIPIENTS_MAX}")]
    TooManyRecipients(usize),
    /// The key cannot be sealed to (a degenerate X25519 point).
    #[error("the encryption key {0} cannot be sealed to")]
    BadRecipientKey(String),
    /// The content key opened for this reader, but what it protects does not: only the
    /// author can have made it so.
    #[error("the sealed part opens but its content is damaged: {0}")]
    Damaged(String),
    /// The content does not keep the format's field rules.
    #[error("sealed content: {0}")]
    Field(String),
}

/// An X25519 secret for opening sealed records: 32 bytes from which HPKE derives the key
/// pair (RFC 9180 `DeriveKeyPair`), kept like a persona's seed.
#[derive(Clone)]
pub struct SealingSecret {
    seed: [u8; 32],
}

impl SealingSecret {
    /// The secret with this seed (32 random bytes when new).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        SealingSecret { seed }
    }

    /// The seed, to be kept secret.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The public key others seal to.
    pub fn public(&self) -> SealingKey {
        let (_, public) = Kem::derive_keypair(&self.seed);
        SealingKey(public.to_bytes().into())
    }
}

impl std::fmt::Debug for SealingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingSecret({})", self.public().short())
    }
}

/// Seals `content`, written by `author`, under `key` (made with [`ContentKey::random`]
/// for this record alone; its sealed attachments are encrypted under it first), so that
/// only `recipients` can read it.
pub fn seal(
    content: &SealedContent,
    author: &AuthorKey,
    recipients: &[SealingKey],
    key: &ContentKey,
    rng: &mut impl CryptoRng,
) -> Result<Sealed, SealError> {
    check_sealed_content(content).map_err(SealError::Field)?;
    let content_key = key.0;
    let entries = wrap_key(&content_key, recipients, HPKE_INFO, author.as_bytes(), rng)?;
    let ciphertext = content_cipher(&content_key)
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: &encode(content),
                aad: author.as_bytes(),
            },
        )
        .map_err(|_| SealError::Field("content too long to encrypt".into()))?;
    Ok(Sealed {
        recipients: entries,
        ciphertext,
    })
}

/// Opens `sealed` (from a record by `author`) with `secret`: `Ok(None)` when it is not
/// sealed to this secret, which is the normal case for everyone but the recipients. The
/// content key opens the record's sealed attachments.
pub fn open(
    sealed: &Sealed,
    author: &AuthorKey,
    secret: &SealingSecret,
) -> Result<Option<(SealedContent, ContentKey)>, SealError> {
    let Some(content_key) = unwrap_key(&sealed.recipients, HPKE_INFO, author.as_bytes(), secret)?
    else {
        return Ok(None);
    };
    let plain = content_cipher(&content_key)
        .decrypt(
            &Nonce::default(),
            Payload {
                msg: &sealed.ciphertext,
                aad: author.as_bytes(),
            },
        )
        .map_err(|_| SealError::Damaged("the content does not authenticate".into()))?;
    let content: SealedContent = decode_canonical(&plain, RECORD_BYTES_MAX)
        .map_err(|e| SealError::Damaged(e.to_string()))?;
    check_sealed_content(&content).map_err(SealError::Damaged)?;
    Ok(Some((content, ContentKey(content_key))))
}

/// Wraps `key` for each of `recipients` with HPKE (suite 1) under `info` and `aad`. The
/// entries come out sorted by their (random) encapsulated keys, so their order says
/// nothing about the order the recipients were named in.
pub fn wrap_key(
    key: &[u8; 32],
    recipients: &[SealingKey],
    info: &[u8],
    aad: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<SealedRecipient>, SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    if recipients.len() > SEALED_RECIPIENTS_MAX {
        return Err(SealError::TooManyRecipients(recipients.len()));
    }
    let mut entries = Vec::with_capacity(recipients.len());
    for recipient in recipients {
        let bad = || SealError::BadRecipientKey(recipient.short());
        let public =
            <Kem as hpke::Kem>::PublicKey::from_bytes(recipient.as_bytes()).map_err(|_| bad())?;
        let (enc, wrapped_key) = hpke::single_shot_seal_with_rng::<HpkeAead, Kdf, Kem>(
            &OpModeS::Base,
            &public,
            info,
            key,
            aad,
            rng,
        )
        .map_err(|_| bad())?;
        entries.push(SealedRecipient {
            suite: SEAL_SUITE_HPKE_X25519_CHACHA,
            enc: enc.to_bytes().to_vec(),
            wrapped_key,
        });
    }
    entries.sort_by(|a, b| a.enc.cmp(&b.enc));
    Ok(entries)
}

/// The key wrapped for `secret` among `entries` (by [`wrap_key`] with the same `info`
/// and `aad`), if any; entries of unknown suites are passed over.
pub fn unwrap_key(
    entries: &[SealedRecipient],
    info: &[u8],
    aad: &[u8],
    secret: &SealingSecret,
) -> Result<Option<[u8; 32]>, SealError> {
    let (private, _) = Kem::derive_keypair(&secret.seed);
    let Some(key) = entries
        .iter()
        .filter(|r| r.suite == SEAL_SUITE_HPKE_X25519_CHACHA)
        .find_map(|r| {
            let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&r.enc).ok()?;
            hpke::single_shot_open::<HpkeAead, Kdf, Kem>(
                &OpModeR::Base,
                &private,
                &enc,
                info,
                &r.wrapped_key,
                aad,
            )
            .ok()
        })
    else {
        return Ok(None);
    };
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| SealError::Damaged("the wrapped key is not 32 bytes".into()))?;
    Ok(Some(key))
}

fn content_cipher(content_key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&blake3::derive_key(CONTENT_KEY_CONTEXT, content_key).into())
}
