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
    /// Not a point on the curve, or a weak (small-order) key that could sign for anyone.
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

    /// The key as a verifier, refusing points off the curve and weak keys.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::NotAKey)?;
        if key.is_weak() {
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

/// Verifies a signature made by [`AuthorSecret::sign_with_context`], strictly: weak keys,
/// small-order `R` and non-canonical `s` are refused, so a signature has one valid spelling.
pub(crate) fn verify_with_context(
    key: &AuthorKey,
    context: &[u8],
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    match key.verifying_key() {
        Ok(verifier) => verify_strict_with_context(&verifier, context, message, signature),
        Err(_) => false,
    }
}

fn verify_strict_with_context(
    verifier: &VerifyingKey,
    context: &[u8],
    message: &[u8],
    signature: &[u8; 64],
) -> bool {
    let mut input = Vec::with_capacity(context.len() + message.len());
    input.extend_from_slice(context);
    input.extend_from_slice(message);
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    verifier.verify_strict(&input, &signature).is_ok()
}

/// Author keys already decompressed and checked, so that verifying many records by few
/// authors (an import) does not redo that work for every record. Bounded: it forgets
/// everything past [`KeyCache::CAPACITY`] keys.
#[derive(Default)]
pub struct KeyCache {
    keys: std::collections::HashMap<[u8; 32], Option<VerifyingKey>>,
}

impl KeyCache {
    /// Keys kept before the cache starts over.
    pub const CAPACITY: usize = 4096;

    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// As [`verify_with_context`], reusing the decompressed key.
    pub(crate) fn verify(
        &mut self,
        key: &AuthorKey,
        context: &[u8],
        message: &[u8],
        signature: &[u8; 64],
    ) -> bool {
        if self.keys.len() >= Self::CAPACITY && !self.keys.contains_key(&key.0) {
            self.keys.clear();
        }
        let verifier = self
            .keys
            .entry(key.0)
            .or_insert_with(|| key.verifying_key().ok());
        match verifier {
            Some(verifier) => verify_strict_with_context(verifier, context, message, signature),
            None => false,
        }
    }
}

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
