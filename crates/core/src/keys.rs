//! Author identities: the Ed25519 key an author signs with, and the fingerprint people
//! compare aloud to know they hold the same key.
//!
//! The author key is deliberately unrelated to any network identity of a device: who
//! wrote a record must not be learnable from who relayed it.

use std::fmt;
use std::str::FromStr;

use bincode::{Decode, Encode};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::hash::parse_hex32;

/// Why bytes or text are not a usable author key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 64 hex characters.
    #[error("an author key is 64 hexadecimal characters")]
    BadText,
    /// Not a point on the curve, not its canonical encoding, or a weak (small-order) key
    /// that could sign for anyone.
    #[error("not a valid Ed25519 public key")]
    NotAKey,
}

/// An author's public key (Ed25519, 32 bytes). Printed as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct AuthorKey(pub [u8; 32]);

impl AuthorKey {
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// The short form people read to each other to check they have the same key.
    pub fn fingerprint(&self) -> Fingerprint {
        let digest = blake3::derive_key("qoima 2026-11 author key fingerprint v1", &self.0);
        let mut short = [0u8; 10];
        short.copy_from_slice(&digest[..10]);
        Fingerprint(short)
    }

    /// The key as a verifier, refusing points off the curve, weak (small-order) keys and
    /// non-canonical encodings (keys are compared by their bytes: one key, one spelling).
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::NotAKey)?;
        if key.is_weak() || key.to_edwards().compress().to_bytes() != self.0 {
            return Err(KeyError::NotAKey);
        }
        Ok(key)
    }
}

impl fmt::Display for AuthorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for AuthorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthorKey({})", self.fingerprint())
    }
}

impl FromStr for AuthorKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex32(s).map(AuthorKey).map_err(|_| KeyError::BadText)
    }
}

impl serde::Serialize for AuthorKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for AuthorKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// 80 bits of a key's hash, printed as four groups of four base32 letters and digits
/// (`ABCD-EFGH-IJKL-MNOP`): short enough to read over a phone, long enough that nobody can
/// make a second key with the same fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 10]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = data_encoding::BASE32_NOPAD.encode(&self.0);
        for (i, chunk) in text.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl Fingerprint {
    /// Parses `ABCD-EFGH-IJKL-MNOP` (dashes, spaces and case are ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let cleaned: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .ok()?;
        Some(Fingerprint(bytes.try_into().ok()?))
    }
}

/// An author's secret signing key. Never printed, never serialised by this crate; the
/// store keeps it sealed under the passphrase.
pub struct AuthorSecret(SigningKey);

impl AuthorSecret {
    /// The key for a 32-byte secret seed (which must come from a CSPRNG).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        AuthorSecret(SigningKey::from_bytes(seed))
    }

    /// The seed, for sealing into the key file.
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public half.
    pub fn public(&self) -> AuthorKey {
        AuthorKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `context || message`: the context keeps a signature made for one purpose
    /// from being valid for another.
    pub(crate) fn sign_with_context(&self, context: &[u8], message: &[u8]) -> [u8; 64] {
        let mut input = Vec::with_capacity(context.len() + message.len());
        input.extend_from_slice(context);
        input.extend_from_slice(message);
        self.0.sign(&input).to_bytes()
    }
}

/// Verifies a signature made by [`AuthorSecret::sign_with_context`] under the format's
/// signature rule (FORMAT.md, "Signatures"): ZIP-215's cofactored equation
/// [8][s]B = [8]R + [8][k]A with `s` canonical, and an author key that is the canonical
/// encoding of a point not of small order. The rule is the same one by one and in a
/// [`SignatureBatch`], so which records a node accepts never depends on how it checked them.
pub fn verify_with_context(
    key: &AuthorKey,
    context: &[u8],
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    match key.signature_key() {
        Ok(verifier) => verify_one(&verifier, context, message, signature),
        Err(_) => false,
    }
}

fn verify_one(
    verifier: &ed25519_zebra::VerificationKey,
    context: &[u8],
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    let input = [context, message].concat();
    let signature = ed25519_zebra::Signature::from_bytes(signature);
    verifier.verify(&signature, &input).is_ok()
}

impl AuthorKey {
    /// The key as ZIP-215 verification uses it, after the checks the format adds to
    /// ZIP-215 (which alone accepts any encoding of any point): the encoding must be the
    /// canonical one, since keys are identities compared by their bytes, and the point
    /// must not be of small order, since such a key verifies signatures nobody made.
    fn signature_key(&self) -> Result<ed25519_zebra::VerificationKey, KeyError> {
        self.verifying_key()?;
        ed25519_zebra::VerificationKey::try_from(self.0).map_err(|_| KeyError::NotAKey)
    }
}

/// Author keys already decompressed and checked, so that verifying many records by few
/// authors (an import) does not redo that work for every record. Bounded: it forgets
/// everything past [`KeyCache::CAPACITY`] keys.
#[derive(Default)]
pub struct KeyCache {
    keys: std::collections::HashMap<[u8; 32], Option<ed25519_zebra::VerificationKey>>,
}

impl KeyCache {
    /// Keys kept before the cache starts over.
    pub const CAPACITY: usize = 4096;

    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The checked key, or `None` for bytes that are not a usable author key.
    fn get(&mut self, key: &AuthorKey) -> Option<ed25519_zebra::VerificationKey> {
        if self.keys.len() >= Self::CAPACITY && !self.keys.contains_key(&key.0) {
            self.keys.clear();
        }
        *self
            .keys
            .entry(key.0)
            .or_insert_with(|| key.signature_key().ok())
    }

    /// As [`verify_with_context`], reusing the decompressed key.
    pub fn verify(
        &mut self,
        key: &AuthorKey,
        context: &[u8],
        message: &[u8],
        signature: &[u8; 64],
    ) -> bool {
        match self.get(key) {
            Some(verifier) => verify_one(&verifier, context, message, signature),
            None => false,
        }
    }
}

/// Signatures checked together: one multi-scalar multiplication for the whole batch
/// instead of one double-scalar multiplication each, under the same rule as
/// [`verify_with_context`] (ZIP-215's batch equation is cofactored too, so it accepts a
/// batch exactly when every signature in it is valid alone, but for a chance of 2^-128
/// per bad batch with random coefficients the signers cannot predict).
///
/// A failed batch says only that some signature is bad; [`SignatureBatch::verify`]
/// then checks each one alone, so the verdict on every signature is the single one.
#[derive(Default)]
pub struct SignatureBatch {
    batch: ed25519_zebra::batch::Verifier,
    /// Queued signatures in order, each `None` when its key was refused before queueing.
    items: Vec<Option<ed25519_zebra::batch::Item>>,
}

impl SignatureBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signatures queued so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Queues a signature made by [`AuthorSecret::sign_with_context`]; its verdict is at
    /// the same position in what [`SignatureBatch::verify`] returns.
    pub fn queue(
        &mut self,
        keys: &mut KeyCache,
        key: &AuthorKey,
        context: &[u8],
        message: &[u8],
        signature: &[u8; 64],
    ) {
        // A refused key is refused here, as one by one: ZIP-215 alone would take it.
        let item = keys.get(key).map(|verifier| {
            let input = [context, message].concat();
            let signature = ed25519_zebra::Signature::from_bytes(signature);
            ed25519_zebra::batch::Item::from((verifier.into(), signature, &input[..]))
        });
        if let Some(item) = &item {
            self.batch.queue(item.clone());
        }
        self.items.push(item);
    }

    /// Each queued signature's verdict, in order. `seed` must be 32 bytes the signers
    /// cannot predict (from the operating system's generator): the batch's random
    /// coefficients are drawn from it.
    pub fn verify(self, seed: &[u8; 32]) -> Vec<bool> {
        let all_keys_usable = self.items.iter().all(Option::is_some);
        if all_keys_usable && self.batch.verify(SeededRng::new(seed)).is_ok() {
            return vec![true; self.items.len()];
        }
        self.items
            .into_iter()
            .map(|item| item.is_some_and(|item| item.verify_single().is_ok()))
            .collect()
    }
}

/// The batch's coefficients: BLAKE3's output stream keyed by a seed from the operating
/// system, so a batch costs one system call rather than one per signature.
struct SeededRng(blake3::OutputReader);

impl SeededRng {
    fn new(seed: &[u8; 32]) -> Self {
        SeededRng(blake3::Hasher::new_keyed(seed).finalize_xof())
    }
}

impl rand_core::TryRng for SeededRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut bytes = [0; 4];
        self.0.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0; 8];
        self.0.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_short_and_parses_back() {
        let key = AuthorSecret::from_seed(&[7; 32]).public();
        let fp = key.fingerprint();
        let text = fp.to_string();
        assert_eq!(text.len(), 19, "{text}");
        assert_eq!(Fingerprint::parse(&text.to_lowercase()), Some(fp));
    }

    #[test]
    fn signature_is_bound_to_context_and_key() {
        let secret = AuthorSecret::from_seed(&[1; 32]);
        let sig = secret.sign_with_context(b"a", b"msg");
        assert!(verify_with_context(&secret.public(), b"a", b"msg", &sig));
        assert!(!verify_with_context(&secret.public(), b"b", b"msg", &sig));
        let other = AuthorSecret::from_seed(&[2; 32]).public();
        assert!(!verify_with_context(&other, b"a", b"msg", &sig));
    }

    #[test]
    fn weak_key_is_refused() {
        // The identity point encodes as 1 followed by zeros: small order.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert_eq!(
            AuthorKey(weak).verifying_key().unwrap_err(),
            KeyError::NotAKey
        );
    }
}
