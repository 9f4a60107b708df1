//! The combined libp2p behaviour and the swarm built around it.

use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    Swarm, SwarmBuilder, allow_block_list, gossipsub, identify, identity, mdns, noise, ping,
    request_response, tcp, yamux,
};

use crate::{gossip, protocol};

/// Everything a qoima node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Peers that sent invalid data past the bound are refused here.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Learns peers' listen addresses and protocols.
    pub identify: identify::Behaviour,
    /// Keeps connections alive and notices dead ones.
    pub ping: ping::Behaviour,
    /// Local-network discovery (off with `--no-mdns`).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// New records, announced per collection.
    pub gossipsub: gossipsub::Behaviour,
    /// Reconciliation and fetches.
    pub sync: request_response::Behaviour<protocol::Codec>,
}

/// Network settings.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Discover peers by mDNS on the local network.
    pub mdns: bool,
    /// The collection whose gossip topic scores are configured.
    pub collection: String,
    /// Gossipsub heartbeat (1 s by default; tests may go faster).
    pub heartbeat: Duration,
    /// Concurrent sync streams per connection.
    pub max_concurrent_streams: usize,
    /// How long a sync request may take.
    pub request_timeout: Duration,
    /// A closed group's pre-shared key: when set, only TCP with libp2p `pnet` is used.
    pub network_key: Option<[u8; 32]>,
    /// Write sync messages over the limits (only to test that peers refuse them).
    #[doc(hidden)]
    pub unchecked_writes: bool,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            mdns: true,
            collection: "default".into(),
            heartbeat: Duration::from_secs(1),
            max_concurrent_streams: 8,
            request_timeout: Duration::from_secs(60),
            network_key: None,
            unchecked_writes: false,
        }
    }
}

/// A swarm over TCP (Noise, Yamux) and QUIC with the qoima behaviour, for `keypair`
/// (the node's own network key, never an author key).
pub fn build_swarm(
    keypair: identity::Keypair,
    config: &NetConfig,
) -> Result<Swarm<Behaviour>, String> {
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| format!("TCP transport: {e}"))?
        .with_quic()
        .with_dns()
        .map_err(|e| format!("DNS: {e}"))?
        .with_behaviour(|key| {
            let peer_id = key.public().to_peer_id();
            let (score_params, score_thresholds) = gossip::peer_score(&config.collection);
            let mut gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Anonymous,
                gossip::config(config.heartbeat),
            )?;
            gossipsub.with_peer_score(score_params, score_thresholds)?;
            let mdns = if config.mdns {
                Some(mdns::tokio::Behaviour::new(
                    mdns::Config::default(),
                    peer_id,
                )?)
            } else {
                None
            };
            let sync = request_response::Behaviour::with_codec(
                protocol::Codec {
                    unchecked_writes: config.unchecked_writes,
                },
                [(protocol::PROTOCOL, request_response::ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(config.request_timeout)
                    .with_max_concurrent_streams(config.max_concurrent_streams),
            );
            Ok(Behaviour {
                blocked: Default::default(),
                // The agent version names the software only: no user or device detail.
                identify: identify::Behaviour::new(
                    identify::Config::new("/qoima/id/1".into(), key.public())
                        .with_agent_version(format!("qoima/{}", env!("CARGO_PKG_VERSION"))),
                ),
                ping: ping::Behaviour::default(),
                mdns: mdns.into(),
                gossipsub,
                sync,
            })
        })
        .map_err(|e| format!("network behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    Ok(swarm)
}
