//! The stem hop, `/qoima/stem/1`: a record written on this node is first handed to one
//! peer, which publishes it on gossip as if it were relaying it.
//!
//! # Why
//!
//! Gossip spreads a message from its publisher outwards; a peer that watches who sends
//! it a message first can guess who published it. With the stem hop the author's node is
//! not the publisher: only the one peer it handed the message to can tell where it came
//! from (Dandelion++'s stem phase, one hop long).
//!
//! # Wire
//!
//! A separate protocol rather than a new `SyncRequest` variant, so that a node that does
//! not know it answers "unsupported protocol" instead of failing to decode (and striking
//! the sender). One request and one response per stream:
//!
//! * request: a 4-byte little-endian length, then a gossip message exactly as
//!   [`GossipMessage::to_bytes`] makes it (at most [`gossip::MESSAGE_BYTES_MAX`] bytes,
//!   canonical, within the gossip limits; anything else is a [`ProtocolViolation`]);
//! * response: a 4-byte little-endian length, then canonical bincode of [`StemResponse`]
//!   (at most [`RESPONSE_BYTES_MAX`] bytes).
//!
//! The receiver validates the message exactly like gossip, publishes it if valid, and
//! answers [`StemResponse::Accepted`]; otherwise [`StemResponse::Refused`] (and, for an
//! invalid message, a strike).

use std::io;

use bincode::{Decode, Encode};
use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use qoima_core::encoding::DecodeError;

use crate::gossip::{self, GossipMessage};
use crate::protocol::{ProtocolViolation, read_frame, read_message, write_frame, write_message};

/// The protocol name, versioned.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/qoima/stem/1");
/// Largest request: one gossip message.
pub const REQUEST_BYTES_MAX: usize = gossip::MESSAGE_BYTES_MAX;
/// Largest response.
pub const RESPONSE_BYTES_MAX: usize = 1024;
/// Longest reason in a refusal, in bytes (longer reasons are cut at a character boundary).
pub const REFUSAL_BYTES_MAX: usize = 256;
/// Stem streams one connection may have open at once, each way. A node hands a record to
/// one peer at a time; more than a few concurrent stems from one peer is not honest.
pub const MAX_CONCURRENT_STREAMS: usize = 4;

/// A gossip message handed over for publication: its exact bytes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StemRequest {
    message: GossipMessage,
    bytes: Vec<u8>,
}

impl StemRequest {
    /// A request carrying `message`.
    pub fn new(message: GossipMessage) -> StemRequest {
        let bytes = message.to_bytes();
        StemRequest { message, bytes }
    }

    /// Checks `bytes` like gossip: canonical and within the gossip limits.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<StemRequest, ProtocolViolation> {
        if bytes.len() > REQUEST_BYTES_MAX {
            return Err(ProtocolViolation::Oversized {
                len: bytes.len(),
                limit: REQUEST_BYTES_MAX,
            });
        }
        let message = GossipMessage::from_bytes(&bytes).map_err(|e| match e {
            DecodeError::TooLong { len, limit } => ProtocolViolation::WrongSize {
                what: "announced ids",
                len,
                limit,
            },
            other => ProtocolViolation::Undecodable(other),
        })?;
        Ok(StemRequest { message, bytes })
    }

    /// The decoded message, to validate like gossip.
    pub fn message(&self) -> &GossipMessage {
        &self.message
    }

    /// The exact bytes to publish (so the gossip message id is the same as the sender's).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The exact bytes to publish, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The answer to a stem request.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum StemResponse {
    /// The message was valid and is published (or was already known).
    Accepted,
    /// Not published, and why (invalid, wrong collection, busy, …): the sender publishes
    /// it itself after a random delay.
    Refused(String),
}

impl StemResponse {
    /// A refusal, its reason cut to [`REFUSAL_BYTES_MAX`] bytes.
    pub fn refused(reason: &str) -> StemResponse {
        let mut end = reason.len().min(REFUSAL_BYTES_MAX);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        StemResponse::Refused(reason[..end].to_string())
    }
}

/// Reads and writes [`StemRequest`] / [`StemResponse`] with their limits.
#[derive(Debug, Clone, Default)]
pub struct Codec;

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = StemRequest;
    type Response = StemResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<StemRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, REQUEST_BYTES_MAX).await?;
        StemRequest::from_bytes(bytes).map_err(ProtocolViolation::into_io)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<StemResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, RESPONSE_BYTES_MAX).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: StemRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, request.bytes(), REQUEST_BYTES_MAX).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: StemResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &response, RESPONSE_BYTES_MAX).await
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use libp2p::request_response::Codec as _;
    use qoima_core::encoding::encode;

    use super::*;
    use crate::protocol::protocol_violation;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut wire = (body.len() as u32).to_le_bytes().to_vec();
        wire.extend_from_slice(body);
        wire
    }

    fn read_request(wire: &[u8]) -> io::Result<StemRequest> {
        block_on(Codec.read_request(&PROTOCOL, &mut &wire[..]))
    }

    #[test]
    fn request_is_the_gossip_bytes_exactly() {
        let message = GossipMessage::Announce {
            ids: vec![[3; 32]; 2],
        };
        let mut wire = Vec::new();
        block_on(Codec.write_request(
            &PROTOCOL,
            &mut futures::io::Cursor::new(&mut wire),
            StemRequest::new(message.clone()),
        ))
        .unwrap();
        assert_eq!(wire, framed(&message.to_bytes()));
        let back = read_request(&wire).unwrap();
        assert_eq!(back.message(), &message);
        assert_eq!(back.bytes(), &message.to_bytes()[..]);
    }

    #[test]
    fn response_round_trip() {
        for response in [StemResponse::Accepted, StemResponse::refused("busy")] {
            let mut wire = Vec::new();
            block_on(Codec.write_response(
                &PROTOCOL,
                &mut futures::io::Cursor::new(&mut wire),
                response.clone(),
            ))
            .unwrap();
            let back = block_on(Codec.read_response(&PROTOCOL, &mut &wire[..])).unwrap();
            assert_eq!(back, response);
        }
    }

    #[test]
    fn refusals_are_cut_at_a_character_boundary() {
        let long = "ж".repeat(REFUSAL_BYTES_MAX);
        let StemResponse::Refused(reason) = StemResponse::refused(&long) else {
            panic!("not a refusal");
        };
        assert_eq!(reason.len(), REFUSAL_BYTES_MAX);
        let odd = format!("x{long}");
        let StemResponse::Refused(reason) = StemResponse::refused(&odd) else {
            panic!("not a refusal");
        };
        assert_eq!(reason.len(), REFUSAL_BYTES_MAX - 1);
        assert!(encode(&StemResponse::refused(&long)).len() <= RESPONSE_BYTES_MAX);
    }

    #[test]
    fn an_oversized_request_is_a_violation() {
        let wire = ((REQUEST_BYTES_MAX + 1) as u32).to_le_bytes();
        let err = read_request(&wire).unwrap_err();
        assert_eq!(
            protocol_violation(&err),
            Some(&ProtocolViolation::Oversized {
                len: REQUEST_BYTES_MAX + 1,
                limit: REQUEST_BYTES_MAX
            })
        );
    }

    #[test]
    fn an_undecodable_request_is_a_violation() {
        let err = read_request(&framed(&[7, 1, 2])).unwrap_err();
        assert!(matches!(
            protocol_violation(&err),
            Some(ProtocolViolation::Undecodable(_))
        ));
        let mut trailing = GossipMessage::Bundle(vec![1, 2, 3]).to_bytes();
        trailing.push(0);
        let err = read_request(&framed(&trailing)).unwrap_err();
        assert_eq!(
            protocol_violation(&err),
            Some(&ProtocolViolation::Undecodable(DecodeError::TrailingBytes(
                1
            )))
        );
    }

    #[test]
    fn too_many_announced_ids_is_a_violation() {
        let message = GossipMessage::Announce {
            ids: vec![[1; 32]; gossip::ANNOUNCE_IDS_MAX + 1],
        };
        let err = read_request(&framed(&message.to_bytes())).unwrap_err();
        assert_eq!(
            protocol_violation(&err),
            Some(&ProtocolViolation::WrongSize {
                what: "announced ids",
                len: gossip::ANNOUNCE_IDS_MAX + 1,
                limit: gossip::ANNOUNCE_IDS_MAX
            })
        );
    }

    #[test]
    fn an_oversized_response_is_a_violation() {
        let wire = ((RESPONSE_BYTES_MAX + 1) as u32).to_le_bytes();
        let err = block_on(Codec.read_response(&PROTOCOL, &mut &wire[..])).unwrap_err();
        assert!(matches!(
            protocol_violation(&err),
            Some(ProtocolViolation::Oversized { .. })
        ));
    }

    #[test]
    fn a_request_cut_short_is_not_a_violation() {
        let wire = framed(&GossipMessage::Bundle(vec![9; 100]).to_bytes());
        for cut in [0, 3, 4, 50, wire.len() - 1] {
            let err = read_request(&wire[..cut]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
            assert_eq!(protocol_violation(&err), None);
        }
    }
}
