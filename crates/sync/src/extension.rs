//! The two messages qoima adds to negentropy, byte by byte (`bundles/PROTOCOL.md`,
//! "Scattered differences"). Their first byte lies outside negentropy's version range
//! (0x60–0x6f), so a message is one or the other by its first byte.
//!
//! * Estimate (0x71): `0x71 ‖ salt (16) ‖ from (a bound) ‖ a negentropy message`; the
//!   reply is `0x71 ‖ varint count ‖ 128 × zigzag varint sums ‖ the negentropy reply`,
//!   the count and the sums being over the responder's records at `from` and above.
//! * Symbols (0x72): `0x72 ‖ salt (16) ‖ from ‖ varint first ‖ varint count`; the reply
//!   is `0x72 ‖ count × symbol` (42 bytes each), the coded symbols `[first, first +
//!   count)` of the responder's records at `from` and above.

use crate::estimate::{SUMS, Sums};
use crate::position::{push_varint, read_varint};
use crate::sketch::{SALT_BYTES, SYMBOL_BYTES, Salt, Symbol};
use crate::{FRAME_BYTES_MAX, Position, SyncError};

/// First byte of an estimate request and its reply.
const TAG_ESTIMATE: u8 = 0x71;
/// First byte of a symbols request and its reply.
const TAG_SYMBOLS: u8 = 0x72;
/// Bytes an estimate adds around a negentropy message, at most: the tag, the salt, a
/// bound (at most 10 + 1 + 32 bytes), the count and the sums (at most 10 bytes each).
pub const EXTENSION_BYTES_MAX: usize = 2 * (1 + SALT_BYTES + 43 + 10 + SUMS * 10);
/// Symbols one reply may hold: it stays within a reconciliation frame.
pub const SYMBOLS_PER_REPLY_MAX: usize = FRAME_BYTES_MAX / SYMBOL_BYTES;
/// Symbols anyone may ask about: past this a difference is left to range-based
/// reconciliation, which resumes across sessions.
pub const SYMBOLS_MAX: u64 = 1 << 17;

/// A reconciliation message, by its first byte.
#[derive(Debug)]
pub(crate) enum Request<'a> {
    /// Plain negentropy.
    Negentropy(&'a [u8]),
    /// A session's first message, asking for the estimate beside the negentropy reply.
    Estimate {
        salt: Salt,
        from: Position,
        negentropy: &'a [u8],
    },
    /// Coded symbols of a sketch.
    Symbols {
        salt: Salt,
        from: Position,
        first: u64,
        count: usize,
    },
}

pub(crate) fn estimate_request(salt: &Salt, from: &Position, negentropy: &[u8]) -> Vec<u8> {
    let mut out = vec![TAG_ESTIMATE];
    out.extend_from_slice(salt);
    from.write(&mut out);
    out.extend_from_slice(negentropy);
    out
}

pub(crate) fn symbols_request(salt: &Salt, from: &Position, first: u64, count: usize) -> Vec<u8> {
    let mut out = vec![TAG_SYMBOLS];
    out.extend_from_slice(salt);
    from.write(&mut out);
    push_varint(&mut out, first);
    push_varint(&mut out, count as u64);
    out
}

pub(crate) fn parse_request(bytes: &[u8]) -> Result<Request<'_>, SyncError> {
    let Some((&tag, mut rest)) = bytes.split_first() else {
        return Err(malformed("an empty message"));
    };
    match tag {
        TAG_ESTIMATE => {
            let salt = read_salt(&mut rest)?;
            let from = Position::read(&mut rest).ok_or_else(|| malformed("a bad bound"))?;
            Ok(Request::Estimate {
                salt,
                from,
                negentropy: rest,
            })
        }
        TAG_SYMBOLS => {
            let salt = read_salt(&mut rest)?;
            let from = Position::read(&mut rest).ok_or_else(|| malformed("a bad bound"))?;
            let first = read_varint(&mut rest).ok_or_else(|| malformed("a bad first symbol"))?;
            let count = read_varint(&mut rest).ok_or_else(|| malformed("a bad symbol count"))?;
            if !rest.is_empty() {
                return Err(malformed("bytes after a symbols request"));
            }
            if count == 0
                || count > SYMBOLS_PER_REPLY_MAX as u64
                || first.saturating_add(count) > SYMBOLS_MAX
            {
                return Err(malformed("symbols out of range"));
            }
            Ok(Request::Symbols {
                salt,
                from,
                first,
                count: count as usize,
            })
        }
        _ => Ok(Request::Negentropy(bytes)),
    }
}

/// The responder's answer to an estimate request.
#[derive(Debug)]
pub(crate) struct EstimateReply<'a> {
    pub(crate) count: u64,
    pub(crate) sums: Sums,
    pub(crate) negentropy: &'a [u8],
}

pub(crate) fn estimate_reply(count: usize, sums: &Sums, negentropy: &[u8]) -> Vec<u8> {
    let mut out = vec![TAG_ESTIMATE];
    push_varint(&mut out, count as u64);
    for sum in sums {
        push_varint(&mut out, zigzag(*sum));
    }
    out.extend_from_slice(negentropy);
    out
}

pub(crate) fn parse_estimate_reply(bytes: &[u8]) -> Result<EstimateReply<'_>, SyncError> {
    let Some((&TAG_ESTIMATE, mut rest)) = bytes.split_first() else {
        return Err(malformed("not an estimate reply"));
    };
    let count = read_varint(&mut rest).ok_or_else(|| malformed("a bad count"))?;
    let mut sums = [0; SUMS];
    for sum in &mut sums {
        *sum = unzigzag(read_varint(&mut rest).ok_or_else(|| malformed("a bad sum"))?);
    }
    Ok(EstimateReply {
        count,
        sums,
        negentropy: rest,
    })
}

pub(crate) fn symbols_reply(symbols: &[Symbol]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + symbols.len() * SYMBOL_BYTES);
    out.push(TAG_SYMBOLS);
    for symbol in symbols {
        symbol.write(&mut out);
    }
    out
}

/// The symbols of a reply to a request for `count` of them (exactly that many), or
/// `None` for an empty reply: the responder declined to sketch.
pub(crate) fn parse_symbols_reply(
    bytes: &[u8],
    count: usize,
) -> Result<Option<Vec<Symbol>>, SyncError> {
    let Some((&TAG_SYMBOLS, rest)) = bytes.split_first() else {
        return Err(malformed("not a symbols reply"));
    };
    if rest.is_empty() {
        return Ok(None);
    }
    if rest.len() != count * SYMBOL_BYTES {
        return Err(malformed("a symbols reply of the wrong length"));
    }
    Ok(Some(
        rest.chunks_exact(SYMBOL_BYTES)
            .filter_map(Symbol::read)
            .collect(),
    ))
}

fn read_salt(bytes: &mut &[u8]) -> Result<Salt, SyncError> {
    let salt: Salt = bytes
        .get(..SALT_BYTES)
        .and_then(|salt| salt.try_into().ok())
        .ok_or_else(|| malformed("a cut salt"))?;
    *bytes = &bytes[SALT_BYTES..];
    Ok(salt)
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn malformed(what: &str) -> SyncError {
    SyncError::Malformed(what.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn zigzag_round_trips() {
        for n in [0, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
    }

    #[test]
    fn requests_round_trip_and_bad_ones_are_named() {
        let salt = [5; SALT_BYTES];
        let bytes = symbols_request(&salt, &Position::START, 100, 50);
        match parse_request(&bytes).unwrap() {
            Request::Symbols {
                salt: s,
                from,
                first,
                count,
            } => assert_eq!((s, from, first, count), (salt, Position::START, 100, 50)),
            other => panic!("{other:?}"),
        }
        let too_many = symbols_request(&salt, &Position::START, 0, SYMBOLS_PER_REPLY_MAX + 1);
        assert!(parse_request(&too_many).is_err());
        let too_far = symbols_request(&salt, &Position::START, SYMBOLS_MAX, 1);
        assert!(parse_request(&too_far).is_err());
        assert!(parse_request(&bytes[..10]).is_err());
        assert!(parse_request(&[]).is_err());
        let sums = [-3; SUMS];
        let reply = estimate_reply(7, &sums, &[0x61]);
        let parsed = parse_estimate_reply(&reply).unwrap();
        assert_eq!(
            (parsed.count, parsed.sums, parsed.negentropy),
            (7, sums, &[0x61][..])
        );
        assert!(parse_estimate_reply(&reply[..20]).is_err());
        assert!(parse_symbols_reply(&[TAG_SYMBOLS, 0], 1).is_err());
        assert_eq!(parse_symbols_reply(&[TAG_SYMBOLS], 1), Ok(None));
    }
}
