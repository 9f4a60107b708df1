//! The one serialisation boundary: bincode 2.0.1 with a fixed configuration, and the
//! canonical-decoding rule that makes "same value" mean "same bytes".
//!
//! bincode's decoder is lenient: it accepts a varint spelled with more bytes than needed
//! and ignores bytes left after a value. Two byte strings for one value would give one
//! record two ids and let a signature be replayed under a new hash. So every value from
//! outside is decoded with [`decode_canonical`], which additionally requires that the
//! whole input was consumed and that re-encoding the value yields the input exactly.
//! Signed data contains no maps (iteration order) and no floats (several NaNs).

use bincode::config::{Configuration, LittleEndian, Varint};
use bincode::{Decode, Encode};

use crate::limits;

/// The configuration every qoima structure is encoded with: little-endian, variable-length
/// integers (bincode's `standard()`), no limit (limits are applied per call).
pub const CONFIG: Configuration<LittleEndian, Varint> = bincode::config::standard();

/// Why bytes are not a canonical encoding of the expected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// bincode could not decode the bytes (bad tag, bad UTF-8, length over the limit, …).
    #[error("undecodable: {0}")]
    Malformed(String),
    /// The value ended before the input did.
    #[error("{0} unexpected bytes after the end of the value")]
    TrailingBytes(usize),
    /// The bytes decode, but are not the canonical spelling of the value.
    #[error("non-canonical encoding (re-encoding the value gives different bytes)")]
    NonCanonical,
    /// The input is longer than this kind of value may ever be.
    #[error("{len} bytes exceeds the limit of {limit}")]
    TooLong {
        /// Input length.
        len: usize,
        /// The limit for this kind of value.
        limit: usize,
    },
}

/// Encodes `value` with [`CONFIG`].
pub fn encode<T: Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec only fails on a writer error, which a Vec never gives.
    bincode::encode_to_vec(value, CONFIG).expect("encoding into a Vec cannot fail")
}

/// Decodes `bytes` as exactly one canonical `T`, never allocating more than `limit` bytes
/// for it; `limit` also caps `bytes.len()`.
pub fn decode_canonical<T: Decode<()> + Encode>(
    bytes: &[u8],
    limit: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLong {
            len: bytes.len(),
            limit,
        });
    }
    // The byte-length of the input bounds every allocation the decoder claims, because
    // bincode checks each container length against the remaining limit before allocating.
    let config = CONFIG.with_limit::<{ limits::DECODE_LIMIT_BYTES }>();
    let (value, used): (T, usize) = bincode::decode_from_slice(bytes, config)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - used));
    }
    if encode(&value) != bytes {
        return Err(DecodeError::NonCanonical);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Encode, Decode)]
    struct Pair {
        n: u64,
        s: String,
    }

    #[test]
    fn accepts_only_the_canonical_spelling() {
        let value = Pair {
            n: 5,
            s: "қойма".into(),
        };
        let bytes = encode(&value);
        assert_eq!(decode_canonical::<Pair>(&bytes, 1024).unwrap(), value);

        // 5 spelled as a 3-byte varint (0xfb = "u16 follows").
        let mut long = vec![0xfb, 5, 0];
        long.extend_from_slice(&bytes[1..]);
        assert_eq!(
            decode_canonical::<Pair>(&long, 1024),
            Err(DecodeError::NonCanonical)
        );

        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            decode_canonical::<Pair>(&trailing, 1024),
            Err(DecodeError::TrailingBytes(1))
        );

        assert!(matches!(
            decode_canonical::<Pair>(&bytes, 3),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn huge_claimed_length_is_refused_before_allocating() {
        // n = 0, then a string length of 2^60 (0xfd = "u64 follows").
        let mut bytes = vec![0, 0xfd];
        bytes.extend_from_slice(&(1u64 << 60).to_le_bytes());
        let err = decode_canonical::<Pair>(&bytes, 1024).unwrap_err();
        assert!(matches!(err, DecodeError::Malformed(_)), "{err:?}");
    }
}
