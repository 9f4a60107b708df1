//! How widely a difference is spread over the archive, read from the responder's first
//! negentropy reply.
//!
//! The reply splits every top-level range that differs into (up to) sixteen ranges of
//! the responder's records, each with its fingerprint. Comparing those with our own
//! fingerprints of the same ranges says how many of them differ: new records, the usual
//! difference, sit together at the end of the time order and touch a handful; a
//! difference scattered over the archive (records written offline over weeks, met
//! later) touches nearly all. Range-based reconciliation lists every small range it
//! touches in full, so a scattered difference is the case for the sketch.

use negentropy::{Bound, FINGERPRINT_SIZE, ID_SIZE, NegentropyStorageBase, PROTOCOL_VERSION};

use crate::ArchiveIndex;
use crate::position::{MODE_FINGERPRINT, MODE_ID_LIST, MODE_SKIP, read_varint};

/// One range of a negentropy message: its upper bound, and its fingerprint when it is
/// described by one.
struct Range<'a> {
    upper: Bound,
    fingerprint: Option<&'a [u8]>,
}

/// Calls `each` for every range of a negentropy message, in order; `None` when the
/// message does not parse (the engine reports that error) or `each` gives up.
fn for_each_range<'a>(
    message: &'a [u8],
    mut each: impl FnMut(Range<'a>) -> Option<()>,
) -> Option<()> {
    let (&version, mut rest) = message.split_first()?;
    if u64::from(version) != PROTOCOL_VERSION {
        return None;
    }
    let mut last_timestamp = 0u64;
    while !rest.is_empty() {
        let timestamp = match read_varint(&mut rest)? {
            0 => u64::MAX,
            code => (code - 1).saturating_add(last_timestamp),
        };
        last_timestamp = timestamp;
        let len = usize::try_from(read_varint(&mut rest)?).ok()?;
        let prefix = rest.get(..len)?;
        rest = &rest[len..];
        let upper = Bound::with_timestamp_and_id(timestamp, prefix).ok()?;
        let fingerprint = match read_varint(&mut rest)? {
            MODE_SKIP => None,
            MODE_FINGERPRINT => {
                let fingerprint = rest.get(..FINGERPRINT_SIZE)?;
                rest = &rest[FINGERPRINT_SIZE..];
                Some(fingerprint)
            }
            MODE_ID_LIST => {
                let count = usize::try_from(read_varint(&mut rest)?).ok()?;
                rest = rest.get(count.checked_mul(ID_SIZE)?..)?;
                None
            }
            _ => return None,
        };
        each(Range { upper, fingerprint })?;
    }
    Some(())
}

/// How many ranges a negentropy message describes by fingerprint: an upper bound of
/// how many can differ from ours, known to its sender.
pub(crate) fn fingerprint_ranges(message: &[u8]) -> Option<usize> {
    let mut count = 0;
    for_each_range(message, |range| {
        count += usize::from(range.fingerprint.is_some());
        Some(())
    })?;
    Some(count)
}

/// Of the ranges a negentropy message describes by fingerprint, how many differ from
/// ours. `None` when the message does not parse (the engine reports that error).
pub(crate) fn differing_ranges(index: &ArchiveIndex, message: &[u8]) -> Option<usize> {
    let size = index.len();
    let mut lower = 0;
    let mut differing = 0;
    for_each_range(message, |range| {
        let upper = index.find_lower_bound(lower, size, &range.upper);
        if let Some(theirs) = range.fingerprint {
            let ours = index.fingerprint(lower, upper).ok()?.to_bytes();
            differing += usize::from(theirs != ours);
        }
        lower = upper.max(lower);
        Some(())
    })?;
    Some(differing)
}
