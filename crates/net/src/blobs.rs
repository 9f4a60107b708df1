//! The attachment protocol, `/qoima/blobs/1`: verified ranges of blobs over libp2p
//! request-response.
//!
//! # Goals
//!
//! * Every byte checked on arrival against the BLAKE3 hash in a signed record: a range
//!   travels as a `bao-tree` encoding in 16 KiB chunk groups
//!   ([`qoima_core::blob_tree`]), so it verifies from any sender, in any order.
//! * Resumable and spread over peers: a request names a range of groups, so a transfer
//!   cut off anywhere continues from where it stopped, from whichever peer has the blob.
//! * Bounded: a request is a few dozen bytes, a response at most [`RANGE_GROUPS_MAX`]
//!   groups (4 MiB) and their inner hashes.
//!
//! # Why request-response and not a raw stream
//!
//! Bounded responses of up to 4 MiB, several in flight per peer, reuse the limits,
//! timeouts and back-pressure this node already has for sync (a new yamux stream per
//! request; a stream's window starts at 256 KiB and grows). `libp2p-stream` is alpha and
//! rust-libp2p issue 5410 reports a deadlock over TCP+Noise+Yamux, the only transport of
//! a closed group. A fresh stream per range also means a slow or dead stream costs one
//! range, which is fetched again elsewhere.
//!
//! # Wire
//!
//! One request and one response per stream, each a 4-byte little-endian length and
//! canonical bincode of [`BlobRequest`] / [`BlobResponse`].
//!
//! * A node only asks for blobs referenced by records it holds, giving the size the
//!   record states; a node only serves blobs referenced by records it holds (and may
//!   share) with that exact size, never an arbitrary hash, and answers
//!   [`BlobResponse::NotHeld`] otherwise.
//! * [`BlobResponse::Range`] holds exactly the `bao-tree` 0.17 encoding of the requested
//!   groups (pre-order, 16 KiB groups, no size prefix): anything else is the sender's
//!   fault, as the receiver can tell from the bytes alone.

use std::io;

use bincode::{Decode, Encode};
use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use qoima_core::blob_tree;

use crate::protocol::{ProtocolViolation, read_message, write_message};

/// The protocol name, versioned. The chunk-group size (16 KiB) is part of the version.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/qoima/blobs/1");
/// Most chunk groups one request may ask for: 4 MiB of data.
pub const RANGE_GROUPS_MAX: u32 = 256;
/// Largest request.
pub const REQUEST_BYTES_MAX: usize = 128;
/// Largest response: [`RANGE_GROUPS_MAX`] groups with their inner hashes.
pub const RESPONSE_BYTES_MAX: usize = blob_tree_encoded_max() as usize + 64;
/// Longest reason in a refusal.
pub const REFUSAL_BYTES_MAX: usize = 256;
/// Blob streams one connection may have open at once, each way.
pub const MAX_CONCURRENT_STREAMS: usize = 16;

const fn blob_tree_encoded_max() -> u64 {
    // blob_tree::encoded_len_max(RANGE_GROUPS_MAX), spelled out for a const.
    RANGE_GROUPS_MAX as u64 * blob_tree::GROUP_LEN as u64 + (RANGE_GROUPS_MAX as u64 + 64) * 64
}

/// A range of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct BlobRequest {
    /// BLAKE3 of the blob (the root of its tree).
    pub hash: [u8; 32],
    /// Its size, as the record the requester holds states it.
    pub size: u64,
    /// The first chunk group wanted.
    pub first_group: u64,
    /// How many groups (1 ..= [`RANGE_GROUPS_MAX`]).
    pub groups: u32,
}

impl BlobRequest {
    /// Checks the parts of a request whose sizes no honest peer exceeds.
    pub fn check(&self) -> Result<(), ProtocolViolation> {
        if self.groups == 0 || self.groups > RANGE_GROUPS_MAX {
            return Err(ProtocolViolation::WrongSize {
                what: "groups in a range",
                len: self.groups as usize,
                limit: RANGE_GROUPS_MAX as usize,
            });
        }
        Ok(())
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum BlobResponse {
    /// The `bao-tree` encoding of the requested groups.
    Range(Vec<u8>),
    /// This node does not hold (or may not serve) that blob with that size, or the
    /// range is outside it.
    NotHeld,
    /// Too much work in flight here: ask again later, or elsewhere.
    Busy,
}

/// Reads and writes [`BlobRequest`] / [`BlobResponse`] with their limits.
#[derive(Debug, Clone, Default)]
pub struct Codec;

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = BlobRequest;
    type Response = BlobResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<BlobRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let request: BlobRequest = read_message(io, REQUEST_BYTES_MAX).await?;
        request.check().map_err(ProtocolViolation::into_io)?;
        Ok(request)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<BlobResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, RESPONSE_BYTES_MAX).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: BlobRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &request, REQUEST_BYTES_MAX).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: BlobResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &response, RESPONSE_BYTES_MAX).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use futures::executor::block_on;
    use libp2p::request_response::Codec as _;

    use super::*;
    use crate::protocol_violation;

    #[test]
    fn the_response_limit_fits_the_largest_range() {
        assert_eq!(
            blob_tree_encoded_max(),
            blob_tree::encoded_len_max(u64::from(RANGE_GROUPS_MAX))
        );
    }

    #[test]
    fn a_request_for_too_many_groups_is_a_violation() {
        let request = BlobRequest {
            hash: [1; 32],
            size: 1 << 30,
            first_group: 0,
            groups: RANGE_GROUPS_MAX + 1,
        };
        let mut wire = Vec::new();
        block_on(write_message(
            &mut futures::io::Cursor::new(&mut wire),
            &request,
            REQUEST_BYTES_MAX,
        ))
        .unwrap();
        let err = block_on(Codec.read_request(&PROTOCOL, &mut &wire[..])).unwrap_err();
        assert!(matches!(
            protocol_violation(&err),
            Some(ProtocolViolation::WrongSize {
                what: "groups in a range",
                ..
            })
        ));
    }
}
