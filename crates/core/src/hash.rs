//! 32-byte BLAKE3 digests that name things: records, blobs, bundles.
//!
//! Each use gets its own type so that a blob hash can never be passed where a record id
//! is expected. They print and parse as lowercase hex, the form users copy around.

use std::fmt;
use std::str::FromStr;

use bincode::{Decode, Encode};

/// A raw 32-byte digest.
pub type Hash32 = [u8; 32];

/// Why a string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 hexadecimal characters, got {0:?}")]
pub struct ParseHashError(pub String);

pub(crate) fn parse_hex32(s: &str) -> Result<Hash32, ParseHashError> {
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(s.as_bytes())
        .map_err(|_| ParseHashError(s.to_owned()))?;
    bytes.try_into().map_err(|_| ParseHashError(s.to_owned()))
}

macro_rules! digest_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
        pub struct $name(pub Hash32);

        impl $name {
            /// The digest bytes.
            pub fn as_bytes(&self) -> &Hash32 {
                &self.0
            }

            /// Lowercase hex, 64 characters.
            pub fn to_hex(&self) -> String {
                data_encoding::HEXLOWER.encode(&self.0)
            }

            /// The first 12 hex characters: enough to tell records apart on a screen.
            pub fn short(&self) -> String {
                self.to_hex()[..12].to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = ParseHashError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex32(s).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(
    /// The id of a record: BLAKE3 of its signed bytes, exactly as received.
    RecordId
);
digest_type!(
    /// The address of an attachment: BLAKE3 of its bytes.
    BlobHash
);
digest_type!(
    /// The id of a bundle: BLAKE3 of its manifest bytes (which name everything inside).
    BundleId
);

digest_type!(
    /// A SHA-256 digest of an attachment, kept beside BLAKE3 because forensic and court
    /// tooling (ProofMode, OpenArchive, evidence registers) speak SHA-256.
    Sha256Digest
);

digest_type!(
    /// An X25519 public key that records are sealed to (published in an `EncryptionKey`
    /// record; never derived from a signing key).
    SealingKey
);

impl RecordId {
    /// The id of these signed record bytes.
    pub fn of(signed_bytes: &[u8]) -> Self {
        Self(*blake3::hash(signed_bytes).as_bytes())
    }
}

impl BlobHash {
    /// The address of these blob bytes (for small blobs; stream large ones through
    /// `blake3::Hasher`).
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects_wrong_length() {
        let id = RecordId::of(b"x");
        assert_eq!(id.to_hex().parse::<RecordId>().unwrap(), id);
        assert_eq!(id.to_hex().to_uppercase().parse::<RecordId>().unwrap(), id);
        assert!("abcd".parse::<RecordId>().is_err());
        assert!("zz".repeat(32).parse::<RecordId>().is_err());
    }
}
