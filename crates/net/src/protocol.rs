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
use libp2p::request_response::{InboundFailure, OutboundFailure};
use qoima_core::encoding::{DecodeError, decode_canonical, encode};

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

/// What a peer sent that no honest peer sends: the reason to strike it.
///
/// The codecs of this crate return it inside an [`io::Error`] of kind
/// [`io::ErrorKind::InvalidData`]; [`protocol_violation`] finds it again. A message cut
/// short (the connection closed, the stream was reset, a timeout) is never a violation:
/// honest peers lose connectivity all the time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolViolation {
    /// The length prefix announced more than this kind of message may hold; nothing past
    /// the prefix was read.
    #[error("message of {len} bytes exceeds the limit of {limit}")]
    Oversized {
        /// The announced length.
        len: usize,
        /// The limit for this kind of message.
        limit: usize,
    },
    /// The bytes are not the canonical encoding of the expected message (bad tag, trailing
    /// bytes, non-canonical integers, …).
    #[error("undecodable message: {0}")]
    Undecodable(DecodeError),
    /// The message decodes, but a part of it has a size no honest peer sends (for example
    /// an announcement of more ids than allowed).
    #[error("wrong size: {what} of {len} exceeds the limit of {limit}")]
    WrongSize {
        /// Which part.
        what: &'static str,
        /// Its size.
        len: usize,
        /// Its limit.
        limit: usize,
    },
}

impl ProtocolViolation {
    /// Wraps the violation in the error a codec returns.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// The protocol violation inside `error`, if a codec of this crate made it; `None` for
/// every other I/O error (end of stream, reset, timeout, …).
pub fn protocol_violation(error: &io::Error) -> Option<&ProtocolViolation> {
    error.get_ref()?.downcast_ref::<ProtocolViolation>()
}

/// The protocol violation behind a failed outbound request (the peer's response was
/// oversized or undecodable), if any. Timeouts, closed connections, dial failures and
/// unsupported protocols are not violations.
pub fn violation_of_outbound(failure: &OutboundFailure) -> Option<&ProtocolViolation> {
    match failure {
        OutboundFailure::Io(error) => protocol_violation(error),
        _ => None,
    }
}

/// The protocol violation behind a failed inbound request (the peer's request was
/// oversized or undecodable), if any. Timeouts and closed connections are not violations.
pub fn violation_of_inbound(failure: &InboundFailure) -> Option<&ProtocolViolation> {
    match failure {
        InboundFailure::Io(error) => protocol_violation(error),
        _ => None,
    }
}

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

/// Reads one length-prefixed canonical message of at most `limit` bytes.
pub(crate) async fn read_message<T, M>(io: &mut T, limit: usize) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
    M: Decode<()> + Encode,
{
    let bytes = read_frame(io, limit).await?;
    decode_canonical(&bytes, limit).map_err(|e| ProtocolViolation::Undecodable(e).into_io())
}

/// Reads one length prefix and the bytes it announces, refusing a length over `limit`
/// before allocating anything. A stream that ends early gives `UnexpectedEof`, not a
/// violation.
pub(crate) async fn read_frame<T>(io: &mut T, limit: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > limit {
        return Err(ProtocolViolation::Oversized { len, limit }.into_io());
    }
    let mut bytes = Vec::with_capacity(len);
    io.take(len as u64).read_to_end(&mut bytes).await?;
    if bytes.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "message cut short",
        ));
    }
    Ok(bytes)
}

/// Writes one length-prefixed canonical message, refusing (locally, before sending
/// anything) one over `limit`.
pub(crate) async fn write_message<T, M>(io: &mut T, message: &M, limit: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
    M: Encode,
{
    write_frame(io, &encode(message), limit).await
}

/// Writes one length prefix and `bytes`, then closes the writing side.
pub(crate) async fn write_frame<T>(io: &mut T, bytes: &[u8], limit: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
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
    io.write_all(bytes).await?;
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
        assert_eq!(
            protocol_violation(&err),
            Some(&ProtocolViolation::Oversized {
                len: u32::MAX as usize,
                limit: REQUEST_BYTES_MAX
            })
        );

        let cut = &wire[..wire.len() - 1];
        assert!(
            block_on(read_message::<_, SyncRequest>(
                &mut &cut[..],
                REQUEST_BYTES_MAX
            ))
            .is_err()
        );
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut wire = (body.len() as u32).to_le_bytes().to_vec();
        wire.extend_from_slice(body);
        wire
    }

    fn read_request(wire: &[u8]) -> io::Error {
        block_on(read_message::<_, SyncRequest>(
            &mut &wire[..],
            REQUEST_BYTES_MAX,
        ))
        .unwrap_err()
    }

    #[test]
    fn an_oversized_length_is_a_violation() {
        let wire = ((REQUEST_BYTES_MAX + 1) as u32).to_le_bytes();
        let err = read_request(&wire);
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            protocol_violation(&err),
            Some(&ProtocolViolation::Oversized {
                len: REQUEST_BYTES_MAX + 1,
                limit: REQUEST_BYTES_MAX
            })
        );
    }

    #[test]
    fn an_unknown_tag_is_a_violation() {
        let err = read_request(&framed(&[9, 0, 0]));
        assert!(matches!(
            protocol_violation(&err),
            Some(ProtocolViolation::Undecodable(DecodeError::Malformed(_)))
        ));
    }

    #[test]
    fn trailing_bytes_are_a_violation() {
        let mut body = encode(&SyncRequest::Fetch {
            collection: "c".into(),
            ids: vec![],
        });
        body.push(0);
        let err = read_request(&framed(&body));
        assert_eq!(
            protocol_violation(&err),
            Some(&ProtocolViolation::Undecodable(DecodeError::TrailingBytes(
                1
            )))
        );
    }

    #[test]
    fn a_non_canonical_integer_is_a_violation() {
        // Variant 0 spelled as a 3-byte varint (0xfb = u16 follows) instead of one byte.
        let err = read_request(&framed(&[0xfb, 0, 0, 0, 0]));
        assert!(
            matches!(
                protocol_violation(&err),
                Some(ProtocolViolation::Undecodable(_))
            ),
            "{err}"
        );
    }

    #[test]
    fn a_stream_cut_short_is_not_a_violation() {
        let wire = framed(&encode(&SyncRequest::Fetch {
            collection: "c".into(),
            ids: vec![[1; 32]],
        }));
        for cut in [0, 2, 4, wire.len() - 1] {
            let err = read_request(&wire[..cut]);
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
            assert_eq!(protocol_violation(&err), None, "cut at {cut}");
        }
    }

    #[test]
    fn failures_without_a_violation() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        let plain_invalid = io::Error::new(io::ErrorKind::InvalidData, "some other layer");
        assert_eq!(protocol_violation(&plain_invalid), None);
        assert_eq!(violation_of_outbound(&OutboundFailure::Io(eof)), None);
        assert_eq!(violation_of_outbound(&OutboundFailure::Timeout), None);
        assert_eq!(
            violation_of_outbound(&OutboundFailure::ConnectionClosed),
            None
        );
        assert_eq!(
            violation_of_outbound(&OutboundFailure::UnsupportedProtocols),
            None
        );
        assert_eq!(violation_of_inbound(&InboundFailure::Timeout), None);
        assert_eq!(
            violation_of_inbound(&InboundFailure::ConnectionClosed),
            None
        );
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(violation_of_inbound(&InboundFailure::Io(reset)), None);
    }

    #[test]
    fn failures_with_a_violation() {
        let v = ProtocolViolation::Oversized { len: 10, limit: 5 };
        assert_eq!(
            violation_of_outbound(&OutboundFailure::Io(v.clone().into_io())),
            Some(&v)
        );
        assert_eq!(
            violation_of_inbound(&InboundFailure::Io(v.clone().into_io())),
            Some(&v)
        );
    }
}
