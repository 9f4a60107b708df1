//! The stem hop (as in Dandelion++): news written on this node is first handed to one
//! connected peer over `/qoima/stem/1`, which checks it like gossip and publishes it as
//! if it were relaying it, so only that one peer can tell where a record came from. When
//! no peer takes it, this node publishes it itself after a random delay.

use std::time::Duration;

use qoima_net::libp2p::request_response;
use qoima_net::stem::{self, StemRequest, StemResponse};

use super::*;

/// Stem requests this node has in flight; past it, news is published after the delay.
const STEMS_IN_FLIGHT_MAX: usize = 64;
/// The random delay before publishing news no peer took: from this…
const FALLBACK_DELAY_MIN: Duration = Duration::from_secs(1);
/// …to this.
const FALLBACK_DELAY_MAX: Duration = Duration::from_secs(5);

impl EventLoop {
    /// Spreads news written here: by a stem hop where a peer speaks it, else published
    /// after a random delay.
    pub(super) fn spread_local(&mut self, messages: Vec<GossipMessage>) {
        for message in messages {
            match self.stem_peer() {
                Some(peer) if self.stems.len() < STEMS_IN_FLIGHT_MAX => {
                    let request = StemRequest::new(message.clone());
                    let id = self.swarm.behaviour_mut().stem.send_request(&peer, request);
                    self.stems.insert(id, message);
                }
                _ => self.publish_later(message),
            }
        }
    }

    /// A random connected peer that speaks the stem protocol.
    fn stem_peer(&self) -> Option<PeerId> {
        let candidates: Vec<PeerId> = self
            .swarm
            .connected_peers()
            .filter(|p| self.book.get(p).is_some_and(|info| info.speaks_stem))
            .copied()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let pick = getrandom::u32().unwrap_or(0) as usize % candidates.len();
        Some(candidates[pick])
    }

    fn publish_later(&self, message: GossipMessage) {
        let span = (FALLBACK_DELAY_MAX - FALLBACK_DELAY_MIN).as_millis() as u64;
        let delay =
            FALLBACK_DELAY_MIN + Duration::from_millis(getrandom::u64().unwrap_or(0) % span.max(1));
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(Internal::PublishNow(vec![message])).await;
        });
    }

    pub(super) fn on_stem_event(
        &mut self,
        event: request_response::Event<StemRequest, StemResponse>,
    ) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_stem_request(peer, request, channel),
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some(message) = self.stems.remove(&request_id) else {
                    return;
                };
                match response {
                    StemResponse::Accepted => debug!(%peer, "news handed on by a stem hop"),
                    StemResponse::Refused(reason) => {
                        debug!(%peer, "stem hop refused: {reason}");
                        self.publish_later(message);
                    }
                }
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(message) = self.stems.remove(&request_id) {
                    debug!(%peer, "stem hop failed: {error}");
                    self.publish_later(message);
                }
                if let Some(violation) = qoima_net::violation_of_outbound(&error) {
                    self.strike(peer, &format!("sent a bad stem response: {violation}"));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                if let Some(violation) = qoima_net::violation_of_inbound(&error) {
                    self.strike(peer, &format!("sent a bad stem request: {violation}"));
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// A peer hands us its news: checked exactly like gossip, within the same bounds,
    /// then published by us if valid and new.
    fn on_stem_request(
        &mut self,
        peer: PeerId,
        request: StemRequest,
        channel: ResponseChannel<StemResponse>,
    ) {
        let message = request.message().clone();
        let reply = Reply::Stem {
            channel,
            bytes: request.into_bytes(),
        };
        self.check_message(peer, message, reply);
    }

    /// Answers a stem request with what checking its message found.
    pub(super) fn answer_stem(
        &mut self,
        channel: ResponseChannel<StemResponse>,
        bytes: Vec<u8>,
        acceptance: MessageAcceptance,
    ) {
        let response = match acceptance {
            MessageAcceptance::Accept => {
                match self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(self.topic.clone(), bytes)
                {
                    Ok(_) | Err(gossipsub::PublishError::Duplicate) => StemResponse::Accepted,
                    // Stored and valid, but no one to gossip to: the sender may find
                    // someone who has.
                    Err(e) => StemResponse::refused(&format!("not published: {e}")),
                }
            }
            MessageAcceptance::Ignore => StemResponse::refused("not taken: busy or nothing new"),
            MessageAcceptance::Reject => StemResponse::refused("invalid"),
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .stem
            .send_response(channel, response);
    }
}

/// Whether a peer's identify says it speaks the stem protocol.
pub(super) fn speaks_stem(protocols: &[qoima_net::libp2p::StreamProtocol]) -> bool {
    protocols.contains(&stem::PROTOCOL)
}
