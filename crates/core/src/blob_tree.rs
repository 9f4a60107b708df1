//! Verified streaming of attachments: the BLAKE3 tree of a blob cut into 16 KiB chunk
//! groups, its outboard, and the encoding of ranges of groups (`bao-tree`).
//!
//! The root of the tree is the plain BLAKE3 hash of the blob, the hash signed records
//! already carry, whatever the group size: grouping only decides which inner hashes are
//! kept (the outboard, 64 bytes per pair of groups, 0.4 % of the blob) and how much data
//! is checked at once. A range of groups travels with the inner hashes that connect it
//! to the root, so a receiver that knows only the root and the size checks every group
//! on arrival, in any order, from any sender.
//!
//! Everything here is pure: bytes in, bytes out.

use std::io;

use bao_tree::io::outboard::PreOrderMemOutboard;
use bao_tree::io::sync::{DecodeResponseIter, ReadAt, Size};
use bao_tree::io::{BaoContentItem, DecodeError, EncodeError, Leaf};
use bao_tree::iter::BaoChunk;
use bao_tree::{BaoTree, BlockSize, ChunkNum, ChunkRanges};

use crate::BlobHash;

/// Chunk groups are 2^4 BLAKE3 chunks of 1 KiB.
const GROUP_CHUNK_LOG: u8 = 4;
/// Bytes per chunk group: the unit checked on arrival and the segment of encrypted
/// attachment files.
pub const GROUP_LEN: usize = 16 * 1024;
const CHUNKS_PER_GROUP: u64 = 1 << GROUP_CHUNK_LOG;

/// Number of chunk groups of a blob of `size` bytes (an empty blob has one, empty).
pub fn groups(size: u64) -> u64 {
    size.div_ceil(GROUP_LEN as u64).max(1)
}

/// Length of group `index` of a blob of `size` bytes.
pub fn group_len(size: u64, index: u64) -> usize {
    let start = index * GROUP_LEN as u64;
    (size.saturating_sub(start)).min(GROUP_LEN as u64) as usize
}

/// Bytes of the outboard of a blob of `size` bytes.
pub fn outboard_len(size: u64) -> u64 {
    tree(size).outboard_size()
}

fn tree(size: u64) -> BaoTree {
    BaoTree::new(size, BlockSize::from_chunk_log(GROUP_CHUNK_LOG))
}

fn chunk_ranges(first_group: u64, count: u64) -> ChunkRanges {
    ChunkRanges::from(
        ChunkNum(first_group * CHUNKS_PER_GROUP)
            ..ChunkNum((first_group + count) * CHUNKS_PER_GROUP),
    )
}

/// The chaining value of group `index` (its bytes `data`) in the tree of a blob of
/// `size` bytes: the leaf hash the outboard is built from. For a blob of one group it
/// is the blob's hash itself.
pub fn group_cv(size: u64, index: u64, data: &[u8]) -> [u8; 32] {
    use blake3::hazmat::HasherExt;
    if groups(size) == 1 {
        return *blake3::hash(data).as_bytes();
    }
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(index * GROUP_LEN as u64);
    hasher.update(data);
    hasher.finalize_non_root()
}

/// The inner hashes of a blob's tree (pre-order pairs, no size prefix), with the root
/// they lead to.
#[derive(Clone, PartialEq, Eq)]
pub struct Outboard {
    size: u64,
    root: BlobHash,
    pairs: Vec<u8>,
}

impl std::fmt::Debug for Outboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outboard({:?}, {} bytes)", self.root, self.size)
    }
}

/// Why stored outboard bytes cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("outboard of {found} bytes, expected {expected} for a blob of {size} bytes")]
pub struct OutboardLengthError {
    /// Bytes found.
    pub found: usize,
    /// Bytes a blob of this size has.
    pub expected: u64,
    /// The blob's size.
    pub size: u64,
}

impl Outboard {
    /// Builds the tree of a blob of `size` bytes from the chaining values of all its
    /// groups, in order ([`group_cv`]); the root is the blob's BLAKE3 hash.
    ///
    /// # Panics
    /// If `cvs` does not hold exactly [`groups`]`(size)` values.
    pub fn from_group_cvs(size: u64, cvs: &[[u8; 32]]) -> Outboard {
        use blake3::hazmat::{Mode, merge_subtrees_non_root, merge_subtrees_root};
        assert_eq!(
            cvs.len() as u64,
            groups(size),
            "one chaining value per group"
        );
        let tree = tree(size);
        let mut pre_order = PreOrderMemOutboard {
            root: blake3::Hash::from_bytes([0; 32]),
            tree,
            data: vec![0u8; tree.outboard_size() as usize],
        };
        let mut stack: Vec<[u8; 32]> = Vec::new();
        for item in tree.post_order_chunks_iter() {
            match item {
                BaoChunk::Leaf { start_chunk, .. } => {
                    stack.push(cvs[(start_chunk.0 / CHUNKS_PER_GROUP) as usize]);
                }
                BaoChunk::Parent { is_root, node, .. } => {
                    let right = stack.pop().expect("a parent follows its two children");
                    let left = stack.pop().expect("a parent follows its two children");
                    let pair = (
                        blake3::Hash::from_bytes(left),
                        blake3::Hash::from_bytes(right),
                    );
                    // Saving into a buffer of the right length cannot fail.
                    let _ = bao_tree::io::sync::OutboardMut::save(&mut pre_order, node, &pair);
                    stack.push(if is_root {
                        *merge_subtrees_root(&left, &right, Mode::Hash).as_bytes()
                    } else {
                        merge_subtrees_non_root(&left, &right, Mode::Hash)
                    });
                }
            }
        }
        let root = stack.pop().expect("a tree has a root");
        Outboard {
            size,
            root: BlobHash(root),
            pairs: pre_order.data,
        }
    }

    /// An outboard read back from storage, for the blob `root` of `size` bytes. Only the
    /// length is checked here: ranges encoded from wrong pairs fail at the receiver.
    pub fn from_parts(
        size: u64,
        root: BlobHash,
        pairs: Vec<u8>,
    ) -> Result<Outboard, OutboardLengthError> {
        let expected = outboard_len(size);
        if pairs.len() as u64 != expected {
            return Err(OutboardLengthError {
                found: pairs.len(),
                expected,
                size,
            });
        }
        Ok(Outboard { size, root, pairs })
    }

    /// The blob's hash.
    pub fn root(&self) -> BlobHash {
        self.root
    }

    /// The blob's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The inner hashes, to store.
    pub fn pairs(&self) -> &[u8] {
        &self.pairs
    }

    fn bao(&self) -> PreOrderMemOutboard<&[u8]> {
        PreOrderMemOutboard {
            root: blake3::Hash::from_bytes(self.root.0),
            tree: tree(self.size),
            data: &self.pairs,
        }
    }
}

/// Hashes a blob as it streams past, group by group, and builds its outboard.
pub struct GroupHasher {
    size: u64,
    pending: Vec<u8>,
    cvs: Vec<[u8; 32]>,
}

impl GroupHasher {
    /// For a blob of `size` bytes.
    pub fn new(size: u64) -> GroupHasher {
        GroupHasher {
            size,
            pending: Vec::with_capacity(GROUP_LEN),
            cvs: Vec::with_capacity(groups(size).min(1 << 20) as usize),
        }
    }

    /// The next bytes of the blob.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.pending.is_empty() && data.len() >= GROUP_LEN {
                let index = self.cvs.len() as u64;
                self.cvs
                    .push(group_cv(self.size, index, &data[..GROUP_LEN]));
                data = &data[GROUP_LEN..];
                continue;
            }
            let take = (GROUP_LEN - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == GROUP_LEN {
                let index = self.cvs.len() as u64;
                self.cvs.push(group_cv(self.size, index, &self.pending));
                self.pending.clear();
            }
        }
    }

    /// The outboard (and so the hash) of the bytes seen, or `None` if they were not
    /// `size` bytes.
    pub fn finish(mut self) -> Option<Outboard> {
        let seen = self.cvs.len() as u64 * GROUP_LEN as u64 + self.pending.len() as u64;
        if seen != self.size {
            return None;
        }
        if !self.pending.is_empty() || self.size == 0 {
            let index = self.cvs.len() as u64;
            self.cvs.push(group_cv(self.size, index, &self.pending));
        }
        Some(Outboard::from_group_cvs(self.size, &self.cvs))
    }
}

/// The encoded bytes of groups `first_group .. first_group + count` of a blob: the
/// inner hashes that connect them to the root, then their data, interleaved as the
/// receiver checks them. `data` holds exactly the bytes of those groups.
pub fn encode_range(
    outboard: &Outboard,
    first_group: u64,
    count: u64,
    data: &[u8],
) -> Result<Vec<u8>, RangeError> {
    let (start, expected) = range_bytes(outboard.size, first_group, count)?;
    if data.len() as u64 != expected {
        return Err(RangeError::Outside);
    }
    let window = Window { start, data };
    let mut out = Vec::with_capacity(data.len() + data.len() / 128 + 1024);
    bao_tree::io::sync::encode_ranges(
        window,
        outboard.bao(),
        &chunk_ranges(first_group, count),
        &mut out,
    )
    .map_err(|e| match e {
        EncodeError::Io(e) => RangeError::Io(e.to_string()),
        other => RangeError::Io(other.to_string()),
    })?;
    Ok(out)
}

/// Where groups `first_group .. + count` start in the blob, and how many bytes they
/// hold; `Outside` if any of them is past the end.
pub fn range_bytes(size: u64, first_group: u64, count: u64) -> Result<(u64, u64), RangeError> {
    let end = first_group.checked_add(count).ok_or(RangeError::Outside)?;
    if count == 0 || end > groups(size) {
        return Err(RangeError::Outside);
    }
    let start = first_group * GROUP_LEN as u64;
    let stop = (end * GROUP_LEN as u64).min(size);
    Ok((start, stop.saturating_sub(start)))
}

/// Why an encoded range was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The range asks for groups the blob does not have.
    #[error("the range is outside the attachment")]
    Outside,
    /// A group's data does not hash to what the tree says: altered or wrong bytes.
    #[error("chunk group {0} does not match the attachment's hash")]
    BadGroup(u64),
    /// An inner hash does not match: altered or wrong bytes.
    #[error("inner hash of the attachment's tree does not match")]
    BadInnerHash,
    /// The encoding ended before the range did.
    #[error("the encoded range is cut short")]
    Truncated,
    /// More bytes followed the range.
    #[error("{0} unexpected bytes after the encoded range")]
    Trailing(usize),
    /// Writing or reading failed on this side.
    #[error("{0}")]
    Io(String),
}

/// Checks the encoded groups `first_group .. + count` of the blob `root` of `size` bytes
/// and hands each verified group (index, bytes) to `accept`, in order. Nothing
/// unverified is ever handed over; the first bad byte stops the decoding.
pub fn decode_range(
    root: &BlobHash,
    size: u64,
    first_group: u64,
    count: u64,
    encoded: &[u8],
    mut accept: impl FnMut(u64, &[u8]),
) -> Result<(), RangeError> {
    range_bytes(size, first_group, count)?;
    let ranges = chunk_ranges(first_group, count);
    let mut cursor = io::Cursor::new(encoded);
    let items = DecodeResponseIter::new(
        blake3::Hash::from_bytes(root.0),
        tree(size),
        &mut cursor,
        &ranges,
    );
    for item in items {
        match item {
            Ok(BaoContentItem::Parent(_)) => {}
            Ok(BaoContentItem::Leaf(Leaf { offset, data })) => {
                accept(offset / GROUP_LEN as u64, &data);
            }
            Err(DecodeError::LeafHashMismatch(chunk)) => {
                return Err(RangeError::BadGroup(chunk.0 / CHUNKS_PER_GROUP));
            }
            Err(DecodeError::ParentHashMismatch(_)) => return Err(RangeError::BadInnerHash),
            Err(DecodeError::LeafNotFound(_) | DecodeError::ParentNotFound(_)) => {
                return Err(RangeError::Truncated);
            }
            Err(DecodeError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(RangeError::Truncated);
            }
            Err(DecodeError::Io(e)) => return Err(RangeError::Io(e.to_string())),
        }
    }
    let trailing = encoded.len() - cursor.position() as usize;
    if trailing > 0 {
        return Err(RangeError::Trailing(trailing));
    }
    Ok(())
}

/// The largest encoding of `count` groups: their data plus at most one pair of inner
/// hashes per group and per level of the tree.
pub fn encoded_len_max(count: u64) -> u64 {
    count * GROUP_LEN as u64 + (count + 64) * 64
}

/// The bytes of a few groups, seen at their offsets in the whole blob.
struct Window<'a> {
    start: u64,
    data: &'a [u8],
}

impl ReadAt for Window<'_> {
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Some(at) = pos.checked_sub(self.start) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "read before the range",
            ));
        };
        let at = (at as usize).min(self.data.len());
        let n = buf.len().min(self.data.len() - at);
        buf[..n].copy_from_slice(&self.data[at..at + n]);
        Ok(n)
    }
}

impl Size for Window<'_> {
    fn size(&self) -> io::Result<Option<u64>> {
        Ok(Some(self.start + self.data.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn blob(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn outboard_of(data: &[u8]) -> Outboard {
        let mut hasher = GroupHasher::new(data.len() as u64);
        for piece in data.chunks(5000) {
            hasher.update(piece);
        }
        hasher.finish().unwrap()
    }

    #[test]
    fn the_root_is_the_plain_blake3_hash_for_every_size() {
        for len in [
            0,
            1,
            1024,
            GROUP_LEN - 1,
            GROUP_LEN,
            GROUP_LEN + 1,
            3 * GROUP_LEN + 7,
            1 << 20,
        ] {
            let data = blob(len);
            let outboard = outboard_of(&data);
            assert_eq!(
                outboard.root().0,
                *blake3::hash(&data).as_bytes(),
                "len {len}"
            );
            assert_eq!(outboard.pairs().len() as u64, outboard_len(len as u64));
        }
    }

    #[test]
    fn the_outboard_is_the_one_bao_tree_computes() {
        let data = blob(5 * GROUP_LEN + 100);
        let ours = outboard_of(&data);
        let theirs = PreOrderMemOutboard::create(&data, BlockSize::from_chunk_log(GROUP_CHUNK_LOG));
        assert_eq!(ours.pairs(), &theirs.data[..]);
    }

    #[test]
    fn every_range_decodes_to_its_groups() {
        let data = blob(7 * GROUP_LEN + 123);
        let outboard = outboard_of(&data);
        let size = data.len() as u64;
        for first in 0..groups(size) {
            for count in 1..=groups(size) - first {
                let (start, len) = range_bytes(size, first, count).unwrap();
                let part = &data[start as usize..(start + len) as usize];
                let encoded = encode_range(&outboard, first, count, part).unwrap();
                assert!(encoded.len() as u64 <= encoded_len_max(count));
                let mut got = Vec::new();
                decode_range(&outboard.root(), size, first, count, &encoded, |i, g| {
                    assert_eq!(i, first + got.len() as u64 / GROUP_LEN as u64);
                    got.extend_from_slice(g);
                })
                .unwrap();
                assert_eq!(got, part);
            }
        }
    }

    #[test]
    fn an_altered_byte_is_named_and_nothing_after_it_is_accepted() {
        let data = blob(4 * GROUP_LEN);
        let outboard = outboard_of(&data);
        let encoded = encode_range(&outboard, 0, 4, &data).unwrap();
        let mut bad = encoded.clone();
        let last = bad.len() - 10; // inside the last group
        bad[last] ^= 1;
        let mut accepted = Vec::new();
        let result = decode_range(&outboard.root(), data.len() as u64, 0, 4, &bad, |i, _| {
            accepted.push(i)
        });
        assert_eq!(result, Err(RangeError::BadGroup(3)));
        assert_eq!(accepted, [0, 1, 2]);
    }

    #[test]
    fn cut_short_and_trailing_bytes_are_refused() {
        let data = blob(2 * GROUP_LEN);
        let outboard = outboard_of(&data);
        let encoded = encode_range(&outboard, 0, 2, &data).unwrap();
        let size = data.len() as u64;
        let cut = &encoded[..encoded.len() - 1];
        assert_eq!(
            decode_range(&outboard.root(), size, 0, 2, cut, |_, _| {}),
            Err(RangeError::Truncated)
        );
        let mut long = encoded.clone();
        long.push(0);
        assert_eq!(
            decode_range(&outboard.root(), size, 0, 2, &long, |_, _| {}),
            Err(RangeError::Trailing(1))
        );
    }

    #[test]
    fn a_range_past_the_end_is_outside() {
        assert_eq!(
            range_bytes(GROUP_LEN as u64, 1, 1),
            Err(RangeError::Outside)
        );
        assert_eq!(
            range_bytes(GROUP_LEN as u64, 0, 0),
            Err(RangeError::Outside)
        );
        assert_eq!(range_bytes(10, u64::MAX, 2), Err(RangeError::Outside));
        assert_eq!(range_bytes(0, 0, 1), Ok((0, 0)));
    }

    #[test]
    fn a_wrong_size_is_caught_at_the_last_group() {
        // The length is authenticated by the last group only: earlier groups are the
        // blob's true bytes whatever size is assumed, the last one fails.
        let data = blob(4 * GROUP_LEN);
        let outboard = outboard_of(&data);
        let last = &data[3 * GROUP_LEN..];
        let encoded = encode_range(&outboard, 3, 1, last).unwrap();
        let claimed = 4 * GROUP_LEN as u64 - 1;
        assert!(decode_range(&outboard.root(), claimed, 3, 1, &encoded, |_, _| {}).is_err());
    }
}
