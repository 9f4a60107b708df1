//! The sync protocol, `/qoima/sync/1`: reconciliation rounds and record fetches over
//! libp2p request-response.
//!
//! # Goals
//!
//! * Bandwidth near the size of the difference between two archives (negentropy).
//! * Every message bounded before it is read: a peer can never make us allocate more
//!   than [`REQUEST_BYTES_MAX`] or [`RESPONSE_BYTES_MAX`].
//! * Fetched records arrive as an ordinary bundle, verified like any bundle.
//!
//! # Non-goals
//!
//! * Blob (attachment) transfer: attachments travel in bundle files for now.
//! * Authenticating the responder: records are signed by their authors; the bundle
//!   around them is signed by a throw-away key so it names no one.
//!
//! # Wire
//!
//! Each request and response is a 4-byte little-endian length, then that many bytes of
//! canonical bincode (`qoima_core::encoding::CONFIG`) of [`SyncRequest`] or
//! [`SyncResponse`]. One request and one response per stream.

use std::io;

use bincode::{Decode, Encode};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use qoima_core::encoding::{decode_canonical, encode};

/// The protocol name, versioned.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/qoima/sync/1");
/// Largest request: a reconciliation frame (1,000,000 bytes) or 1024 ids, with room to spare.
pub const REQUEST_BYTES_MAX: usize = 1024 * 1024;
/// Largest response: a bundle of fetched records.
pub const RESPONSE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most ids in one fetch request.
pub const FETCH_IDS_MAX: usize = 1024;
/// A responder stops adding records to a fetch bundle past this many bytes; the
/// requester asks again for the rest.
pub const FETCH_BUNDLE_BYTES_TARGET: usize = 8 * 1024 * 1024;

/// What one node asks another.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum SyncRequest {
    /// One reconciliation message about a collection.
    Reconcile {
        /// Collection name.
        collection: String,
        /// A negentropy message.
        message: Vec<u8>,
    },
    /// The records with these ids.
    Fetch {
        /// Collection name.
        collection: String,
        /// Record ids (at most [`FETCH_IDS_MAX`]).
        ids: Vec<[u8; 32]>,
    },
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum SyncResponse {
    /// The next negentropy message.
    Reconcile(Vec<u8>),
    /// A bundle with those of the requested records the responder holds (possibly
    /// fewer, if they would exceed [`FETCH_BUNDLE_BYTES_TARGET`]).
    Bundle(Vec<u8>),
    /// The request was refused, and why (unknown collection, too many ids, busy).
    Refused(String),
}

/// Reads and writes [`SyncRequest`] / [`SyncResponse`] with their length limits.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    /// Write messages even when over the limits (only to test that peers refuse them).
    #[doc(hidden)]
    pub unchecked_writes: bool,
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, REQUEST_BYTES_MAX).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, RESPONSE_BYTES_MAX).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let limit = if self.unchecked_writes {
            usize::MAX
        } else {
            REQUEST_BYTES_MAX
        };
        write_message(io, &request, limit).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let limit = if self.unchecked_writes {
            usize::MAX
        } else {
            RESPONSE_BYTES_MAX
        };
        write_message(io, &response, limit).await
    }
}

async fn read_message<T, M>(io: &mut T, limit: usize) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
    M: Decode<()> + Encode,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes exceeds the limit of {limit}"),
        ));
    }
    let mut bytes = Vec::with_capacity(len);
    io.take(len as u64).read_to_end(&mut bytes).await?;
    if bytes.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "message cut short",
        ));
    }
    decode_canonical(&bytes, limit)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

async fn write_message<T, M>(io: &mut T, message: &M, limit: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
    M: Encode,
{
    let bytes = encode(message);
    if bytes.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "message of {} bytes exceeds the limit of {limit}",
                bytes.len()
            ),
        ));
    }
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("message over 4 GiB"))?;
    io.write_all(&len.to_le_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let request = SyncRequest::Fetch {
            collection: "default".into(),
            ids: vec![[7; 32]; 3],
        };
        let mut wire = Vec::new();
        block_on(write_message(
            &mut futures::io::Cursor::new(&mut wire),
            &request,
            REQUEST_BYTES_MAX,
        ))
        .unwrap();
        let back: SyncRequest = block_on(read_message(&mut &wire[..], REQUEST_BYTES_MAX)).unwrap();
        assert_eq!(back, request);

        let mut huge = (u32::MAX).to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 16]);
        let err = block_on(read_message::<_, SyncRequest>(
            &mut &huge[..],
            REQUEST_BYTES_MAX,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("exceeds the limit"), "{err}");

        let cut = &wire[..wire.len() - 1];
        assert!(
            block_on(read_message::<_, SyncRequest>(
                &mut &cut[..],
                REQUEST_BYTES_MAX
            ))
            .is_err()
        );
    }
}
