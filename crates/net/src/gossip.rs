//! Gossip: one topic per collection, announcing new records.
//!
//! A message is either a small bundle carried inline or a list of record ids to fetch
//! with the sync protocol. Its id is the BLAKE3 hash of its bytes, so the same bundle
//! published by two nodes is one message, not two. Nothing is forwarded until the node
//! has checked it (`validate_messages`): hashes, signatures, sizes, canonical encoding.

use std::time::Duration;

use bincode::{Decode, Encode};
use libp2p::gossipsub::{
    self, IdentTopic, MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams,
    ValidationMode,
};
use qoima_core::encoding::{DecodeError, decode_canonical, encode};

/// Largest bundle carried inline in a gossip message; larger news is announced by id.
pub const INLINE_BUNDLE_BYTES_MAX: usize = 64 * 1024;
/// Most ids in one announcement.
pub const ANNOUNCE_IDS_MAX: usize = 1024;
/// Largest gossip message on the wire.
pub const MESSAGE_BYTES_MAX: usize = INLINE_BUNDLE_BYTES_MAX + 4 * 1024;

/// What travels on a collection's topic.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum GossipMessage {
    /// A whole (small) bundle of new records.
    Bundle(Vec<u8>),
    /// New records too large to inline: fetch them by id from the sender.
    Announce {
        /// Record ids.
        ids: Vec<[u8; 32]>,
    },
}

impl GossipMessage {
    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a message, canonically and within the size limits.
    pub fn from_bytes(bytes: &[u8]) -> Result<GossipMessage, DecodeError> {
        let message: GossipMessage = decode_canonical(bytes, MESSAGE_BYTES_MAX)?;
        if let GossipMessage::Announce { ids } = &message
            && ids.len() > ANNOUNCE_IDS_MAX
        {
            return Err(DecodeError::TooLong {
                len: ids.len(),
                limit: ANNOUNCE_IDS_MAX,
            });
        }
        Ok(message)
    }
}

/// The topic of a collection.
pub fn topic(collection: &str) -> IdentTopic {
    IdentTopic::new(format!("qoima/{collection}/1"))
}

/// The message id: BLAKE3 of the data. (The default, sender and sequence number, would
/// let one bundle circulate as many messages.)
pub fn message_id(message: &gossipsub::Message) -> MessageId {
    MessageId::from(blake3::hash(&message.data).as_bytes().to_vec())
}

/// Most messages taken from one RPC (each at most [`MESSAGE_BYTES_MAX`]); the rest of
/// the RPC is dropped.
pub const MESSAGES_PER_RPC_MAX: usize = 16;
/// Most IHAVE ids sent to, and IWANT requests taken from, one peer per heartbeat.
pub const CONTROL_MESSAGES_MAX: usize = 1000;
/// Most IHAVE messages taken from one peer per heartbeat.
pub const IHAVE_MESSAGES_PER_HEARTBEAT_MAX: usize = 10;
/// Most messages waiting to be sent on one connection: with [`MESSAGE_BYTES_MAX`] each,
/// about 9 MiB per connection (the library's default, 5000, would allow 340 MiB).
pub const SEND_QUEUE_MAX: usize = 128;
/// How long a message id is remembered, so the same message is not validated twice.
pub const DUPLICATE_CACHE_TIME: Duration = Duration::from_secs(120);

/// Gossipsub configuration: anonymous, validated before forwarding, bounded.
///
/// `flood_publish` is off: with it on (the library's default) the node that publishes a
/// message sends it straight to every subscriber it knows, not only to its mesh, so a
/// subscriber outside the mesh that receives it directly learns that the sender is its
/// origin. With it off, a published message goes to the mesh peers only, exactly like a
/// relayed one (and, with the stem hop, the author's node is not even the publisher).
pub fn config(heartbeat: Duration) -> gossipsub::Config {
    gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(MESSAGE_BYTES_MAX)
        .heartbeat_interval(heartbeat)
        // Small meshes: qoima networks are a handful of laptops on a LAN.
        .mesh_n_low(2)
        .mesh_n(4)
        .mesh_n_high(8)
        .mesh_outbound_min(1)
        .flood_publish(false)
        .max_publish_messages(MESSAGES_PER_RPC_MAX)
        .max_control_messages_sent(CONTROL_MESSAGES_MAX)
        .max_ihave_messages_heartbeat(IHAVE_MESSAGES_PER_HEARTBEAT_MAX)
        .connection_handler_queue_len(SEND_QUEUE_MAX)
        .duplicate_cache_time(DUPLICATE_CACHE_TIME)
        .build()
        .expect("static gossipsub configuration is valid")
}

/// Peer scoring: invalid messages cost a peer heavily; past the graylist threshold its
/// messages are ignored (and the node disconnects it).
pub fn peer_score(collection: &str) -> (PeerScoreParams, PeerScoreThresholds) {
    let mut params = PeerScoreParams::default();
    let topic_params = TopicScoreParams {
        topic_weight: 1.0,
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.9,
        // Honest peers are not punished for a quiet topic.
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        first_message_deliveries_weight: 1.0,
        ..TopicScoreParams::default()
    };
    params.topics.insert(topic(collection).hash(), topic_params);
    // Many nodes behind one hotspot share an address: do not penalise that.
    params.ip_colocation_factor_weight = 0.0;
    let thresholds = PeerScoreThresholds {
        gossip_threshold: -10.0,
        publish_threshold: -50.0,
        graylist_threshold: -80.0,
        ..PeerScoreThresholds::default()
    };
    (params, thresholds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gossip_is_bounded_and_not_flooded() {
        let config = config(Duration::from_secs(1));
        assert!(!config.flood_publish());
        assert_eq!(config.max_transmit_size(), MESSAGE_BYTES_MAX);
        assert_eq!(config.max_publish_messages(), MESSAGES_PER_RPC_MAX);
        assert_eq!(config.max_control_messages_sent(), CONTROL_MESSAGES_MAX);
        assert_eq!(
            config.max_ihave_messages_heartbeat(),
            IHAVE_MESSAGES_PER_HEARTBEAT_MAX
        );
        assert_eq!(config.connection_handler_queue_len(), SEND_QUEUE_MAX);
        assert_eq!(config.duplicate_cache_time(), DUPLICATE_CACHE_TIME);
        assert!(config.validate_messages());
    }
}
