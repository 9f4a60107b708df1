//! Where a reconciliation resumes, and the two places its bound meets the wire format.
//!
//! A negentropy message is a version byte followed by ranges; each range is an upper
//! bound, a mode and a payload, and starts where the previous one ended. A bound is a
//! timestamp (the difference from the previous bound plus one; zero means infinity) and
//! a prefix of an id, each length a varint (big-endian base 128, high bit = more).
//! Only the first range of a message is read here, and only a two-range message written.

use negentropy::{Bound, ID_SIZE, PROTOCOL_VERSION};

/// Range mode "skip": the sender holds this range settled and asks nothing about it.
pub(crate) const MODE_SKIP: u64 = 0;
/// Range mode "fingerprint": the sender's fingerprint of the range follows.
pub(crate) const MODE_FINGERPRINT: u64 = 1;
/// Range mode "id list": every id the sender holds in the range follows.
pub(crate) const MODE_ID_LIST: u64 = 2;

/// A place in the `(claimed creation time, id)` order of an [`ArchiveIndex`]. A
/// reconciliation started from a position takes everything below it as already
/// reconciled. [`Position::START`] is below every record.
///
/// [`ArchiveIndex`]: crate::ArchiveIndex
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    // Field order is the order of positions: time, then the id prefix padded with
    // zeros, which is how negentropy compares a bound with a record.
    timestamp: u64,
    id: [u8; ID_SIZE],
    id_len: u8,
}

impl Position {
    /// Below every record: a reconciliation of the whole index.
    pub const START: Position = Position {
        timestamp: 0,
        id: [0; ID_SIZE],
        id_len: 0,
    };

    /// The claimed creation time (ms) at this position, for progress reports.
    pub fn created_ms(&self) -> u64 {
        self.timestamp
    }

    /// Appends the position as the first bound of a message writes it.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let len = usize::from(self.id_len).min(ID_SIZE);
        push_varint(out, timestamp_code(self.timestamp));
        push_varint(out, len as u64);
        out.extend_from_slice(&self.id[..len]);
    }

    /// Reads a position written by [`Position::write`].
    pub(crate) fn read(bytes: &mut &[u8]) -> Option<Position> {
        let timestamp = match read_varint(bytes)? {
            0 => u64::MAX,
            code => code - 1,
        };
        let len = usize::try_from(read_varint(bytes)?).ok()?;
        if len > ID_SIZE {
            return None;
        }
        let prefix = bytes.get(..len)?;
        let mut id = [0; ID_SIZE];
        id[..len].copy_from_slice(prefix);
        *bytes = &bytes[len..];
        Some(Position {
            timestamp,
            id,
            id_len: len as u8,
        })
    }

    pub(crate) fn bound(&self) -> Bound {
        let mut bound = Bound::with_timestamp(self.timestamp);
        let len = usize::from(self.id_len).min(ID_SIZE);
        bound.item.id = negentropy::Id::from_byte_array(self.id);
        bound.id_len = len;
        bound
    }

    /// A message that, read by an initiator, says: everything below `self` is settled,
    /// and everything from `self` up differs from `fingerprint`. The initiator answers it
    /// with the first message of a reconciliation of `[self, infinity)`: a skip up to
    /// `self`, then its own split of the rest. `fingerprint` must differ from the
    /// initiator's own fingerprint of that range, or it would answer nothing.
    pub(crate) fn skip_to_then_differ(&self, fingerprint: &[u8]) -> Vec<u8> {
        let mut message = vec![PROTOCOL_VERSION as u8];
        // The first bound's timestamp is a difference from zero.
        self.write(&mut message);
        push_varint(&mut message, MODE_SKIP);
        // Infinity, an empty id prefix.
        push_varint(&mut message, 0);
        push_varint(&mut message, 0);
        push_varint(&mut message, MODE_FINGERPRINT);
        message.extend_from_slice(fingerprint);
        message
    }

    /// The bound of a message's first range if that range is a skip: everything below
    /// it is settled for the message's sender. `None` when the first range asks about
    /// something (nothing is settled) or the bytes do not parse.
    pub(crate) fn settled_by(message: &[u8]) -> Option<Position> {
        let (&version, mut rest) = message.split_first()?;
        if u64::from(version) != PROTOCOL_VERSION {
            return None;
        }
        let position = Position::read(&mut rest)?;
        if read_varint(&mut rest)? != MODE_SKIP {
            return None;
        }
        Some(position)
    }
}

/// A bound's timestamp as the first bound of a message writes it.
fn timestamp_code(timestamp: u64) -> u64 {
    if timestamp == u64::MAX {
        0
    } else {
        timestamp + 1
    }
}

pub(crate) fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    let mut groups = vec![(n & 0x7f) as u8];
    n >>= 7;
    while n > 0 {
        groups.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.extend(groups.iter().rev());
}

pub(crate) fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    loop {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        if n > u64::MAX >> 7 {
            return None;
        }
        n = (n << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn varints_round_trip_as_negentropy_writes_them() {
        for n in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut bytes = Vec::new();
            push_varint(&mut bytes, n);
            let mut slice = &bytes[..];
            assert_eq!(read_varint(&mut slice), Some(n));
            assert!(slice.is_empty());
        }
        let mut bytes = Vec::new();
        push_varint(&mut bytes, 300);
        assert_eq!(bytes, [0x82, 0x2c]);
    }

    #[test]
    fn a_skip_bound_is_read_back_and_anything_else_is_not() {
        let position = Position {
            timestamp: 1_700_000_000_000,
            id: [7; ID_SIZE],
            id_len: 3,
        };
        let message = position.skip_to_then_differ(&[0; 16]);
        let mut expected = position;
        expected.id = [0; ID_SIZE];
        expected.id[..3].copy_from_slice(&[7; 3]);
        assert_eq!(Position::settled_by(&message), Some(expected));
        assert_eq!(Position::settled_by(&[]), None);
        assert_eq!(Position::settled_by(&message[..4]), None);
        // Version 0x60 is not ours.
        assert_eq!(Position::settled_by(&[0x60, 0x01, 0x00, 0x00]), None);
        // A first range in fingerprint mode settles nothing.
        assert_eq!(Position::settled_by(&[0x61, 0x00, 0x00, 0x01]), None);
        // Ten continuation bytes overflow a u64.
        assert_eq!(
            Position::settled_by(&[
                0x61, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ]),
            None
        );
    }

    #[test]
    fn positions_order_like_negentropy_bounds() {
        let at = |byte| Position {
            timestamp: 5,
            id: [byte; ID_SIZE],
            id_len: ID_SIZE as u8,
        };
        let (low, high) = (at(1), at(2));
        assert!(Position::START < low && low < high);
        assert!(low.bound() < high.bound());
        assert_eq!(Position::START.bound(), Bound::new());
    }
}
