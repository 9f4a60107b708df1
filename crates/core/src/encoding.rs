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

/// Decodes `bytes` as exactly one canonical `T`, refusing inputs longer than `limit`.
/// Memory reserved while decoding stays within 32 times `bytes.len()` (rounded up to one of
/// a few fixed ceilings, the smallest being 4 KiB), whatever lengths the input claims.
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
    let (value, used): (T, usize) =
        decode_bounded(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - used));
    }
    if encode(&value) != bytes {
        return Err(DecodeError::NonCanonical);
    }
    Ok(value)
}

/// Most bytes of memory bincode may reserve per byte of input. bincode reserves the
/// in-memory size of what it is about to build before reading it, and for any encoding
/// that can decode that stays under 24 bytes per input byte (the worst is a `Vec<String>`
/// of empty strings: 1 byte each encoded, 24 in memory, 8 more counted for each length).
const CLAIM_PER_INPUT_BYTE: usize = 32;

/// Decodes with bincode's memory limit at the smallest of a few ceilings that is at least
/// [`CLAIM_PER_INPUT_BYTE`] times the input length.
///
/// bincode checks each claimed container length against its limit before allocating, so
/// the limit must follow the input: with one fixed limit of [`limits::DECODE_LIMIT_BYTES`],
/// a 114-byte record claiming a 200 MiB string made it reserve 200 MiB before finding the
/// input short. The limit is a compile-time constant in bincode, hence the ladder.
fn decode_bounded<T: Decode<()>>(bytes: &[u8]) -> Result<(T, usize), bincode::error::DecodeError> {
    let need = bytes.len().saturating_mul(CLAIM_PER_INPUT_BYTE);
    macro_rules! first_ceiling_above_need {
        ($($ceiling:expr),*) => {
            $(
                if need <= $ceiling {
                    return bincode::decode_from_slice(bytes, CONFIG.with_limit::<{ $ceiling }>());
                }
            )*
        };
    }
    first_ceiling_above_need!(1 << 12, 1 << 16, 1 << 20, 1 << 24, 1 << 26);
    // Only manifests are this long, and they need under 2 bytes of memory per input byte.
    bincode::decode_from_slice(bytes, CONFIG.with_limit::<{ limits::DECODE_LIMIT_BYTES }>())
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
    fn claimed_length_is_bounded_by_the_input_not_by_the_global_limit() {
        // n = 0, then a string length of 200 MiB: under DECODE_LIMIT_BYTES, so only a
        // limit that follows the input refuses it before reserving the memory (the error
        // would otherwise be the input ending early, after the allocation).
        let mut bytes = vec![0, 0xfd];
        bytes.extend_from_slice(&(200u64 << 20).to_le_bytes());
        let err = decode_canonical::<Pair>(&bytes, 1024).unwrap_err();
        assert_eq!(err, DecodeError::Malformed("LimitExceeded".into()));
    }

    #[test]
    fn densest_valid_encoding_fits_its_memory_ceiling() {
        // One byte per empty string, 24 bytes of memory each: the worst ratio there is.
        for count in [1, 100, 10_000, 300_000] {
            let value = vec![String::new(); count];
            let bytes = encode(&value);
            assert_eq!(
                decode_canonical::<Vec<String>>(&bytes, usize::MAX).unwrap(),
                value,
                "{count}"
            );
        }
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
