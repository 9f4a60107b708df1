//! The combined libp2p behaviour and the swarm built around it.

use std::error::Error;
use std::time::Duration;

use libp2p::core::upgrade::Version;
use libp2p::pnet::{PnetConfig, PreSharedKey};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    Swarm, SwarmBuilder, Transport, allow_block_list, connection_limits, gossipsub, identify,
    identity, mdns, noise, ping, request_response, tcp, yamux,
};

use crate::{blobs, gossip, protocol, stem};

/// Yamux streams one connection may have open at once. The protocols need far fewer
/// (sync streams, stem streams, identify, ping, gossipsub); the library's default, 512,
/// would let one peer hold 512 receive windows of 256 KiB each.
pub const YAMUX_STREAMS_MAX: usize = 64;
/// How long a connection may take to be set up (TCP or QUIC, pnet in a closed group,
/// Noise, Yamux): a handshake is about six round trips, each 600 ms or more on a thin
/// link, plus a resent packet or two; and a peer that stalls it holds a pending slot for
/// that long at most. (Set on the swarm builder, which otherwise allows 10 s, and on
/// QUIC's handshake, 5 s by default.)
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stem request may take.
pub const STEM_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a range of an attachment may take: 4 MiB at 64 KiB/s, a thin link.
pub const BLOB_RANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How often mDNS asks the local network who is there.
pub const MDNS_QUERY_INTERVAL: Duration = Duration::from_secs(20);

/// Everything a qoima node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Connection counts (per peer, incoming, pending, total): a connection over a limit
    /// is refused before any other behaviour sees it.
    pub limits: connection_limits::Behaviour,
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
    /// The stem hop: new local records handed to one peer to publish.
    pub stem: request_response::Behaviour<stem::Codec>,
    /// Verified ranges of attachments.
    pub blobs: request_response::Behaviour<blobs::Codec>,
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
    /// A closed group's pre-shared key: when set, only TCP with libp2p `pnet` is used
    /// (pnet cannot protect QUIC, so QUIC is off and QUIC addresses cannot be listened
    /// on or dialed).
    pub network_key: Option<[u8; 32]>,
    /// Established connections with one peer (two: both sides may dial at once).
    pub max_established_per_peer: u32,
    /// Established incoming connections.
    pub max_established_incoming: u32,
    /// Incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Established connections in total, both directions.
    pub max_established_total: u32,
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
            max_established_per_peer: 2,
            max_established_incoming: 64,
            max_pending_incoming: 16,
            max_established_total: 128,
            unchecked_writes: false,
        }
    }
}

impl NetConfig {
    /// Whether the swarm can use `addr`: in a closed group only TCP (QUIC cannot carry
    /// the pnet handshake).
    pub fn supports_address(&self, addr: &libp2p::Multiaddr) -> bool {
        use libp2p::multiaddr::Protocol;
        let quic = addr
            .iter()
            .any(|p| matches!(p, Protocol::Quic | Protocol::QuicV1 | Protocol::Udp(_)));
        !(self.network_key.is_some() && quic)
    }
}

fn yamux_config() -> yamux::Config {
    let mut config = yamux::Config::default();
    config.set_max_num_streams(YAMUX_STREAMS_MAX);
    config
}

fn tcp_config() -> tcp::Config {
    tcp::Config::default().nodelay(true)
}

/// A swarm with the qoima behaviour for `keypair` (the node's own network key, never an
/// author key): over TCP (Noise, Yamux) and QUIC, or, in a closed group
/// ([`NetConfig::network_key`]), over TCP only with the pnet handshake on the raw socket
/// before Noise, so a node without the key learns nothing past the first bytes.
pub fn build_swarm(
    keypair: identity::Keypair,
    config: &NetConfig,
) -> Result<Swarm<Behaviour>, String> {
    let idle = |c: libp2p::swarm::Config| c.with_idle_connection_timeout(Duration::from_secs(120));
    let behaviour = |key: &identity::Keypair| make_behaviour(key, config);
    let swarm = match config.network_key {
        Some(network_key) => SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_other_transport(|key| {
                let psk = PreSharedKey::new(network_key);
                let noise = noise::Config::new(key)?;
                Ok::<_, Box<dyn Error + Send + Sync>>(
                    tcp::tokio::Transport::new(tcp_config())
                        .and_then(move |socket, _| PnetConfig::new(psk).handshake(socket))
                        .upgrade(Version::V1)
                        .authenticate(noise)
                        .multiplex(yamux_config()),
                )
            })
            .map_err(|e| format!("closed-group transport: {e}"))?
            .with_dns()
            .map_err(|e| format!("DNS: {e}"))?
            .with_behaviour(behaviour)
            .map_err(|e| format!("network behaviour: {e}"))?
            .with_swarm_config(idle)
            .with_connection_timeout(HANDSHAKE_TIMEOUT)
            .build(),
        None => SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(tcp_config(), noise::Config::new, yamux_config)
            .map_err(|e| format!("TCP transport: {e}"))?
            // QUIC's own handshake limit (5 s by default) set to the same bound.
            .with_quic_config(|mut quic| {
                quic.handshake_timeout = HANDSHAKE_TIMEOUT;
                quic
            })
            .with_dns()
            .map_err(|e| format!("DNS: {e}"))?
            .with_behaviour(behaviour)
            .map_err(|e| format!("network behaviour: {e}"))?
            .with_swarm_config(idle)
            .with_connection_timeout(HANDSHAKE_TIMEOUT)
            .build(),
    };
    Ok(swarm)
}

fn make_behaviour(
    key: &identity::Keypair,
    config: &NetConfig,
) -> Result<Behaviour, Box<dyn Error + Send + Sync>> {
    let peer_id = key.public().to_peer_id();
    let (score_params, score_thresholds) = gossip::peer_score(&config.collection);
    let mut gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Anonymous,
        gossip::config(config.heartbeat),
    )?;
    gossipsub.with_peer_score(score_params, score_thresholds)?;
    let mdns = if config.mdns {
        Some(mdns::tokio::Behaviour::new(
            // Ask again every 20 s (the library waits 5 min): a node that joins the LAN
            // after us answers only queries, so without this we would not see it for
            // minutes.
            mdns::Config {
                query_interval: MDNS_QUERY_INTERVAL,
                ..mdns::Config::default()
            },
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
    let stem = request_response::Behaviour::with_codec(
        stem::Codec,
        [(stem::PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(STEM_TIMEOUT)
            .with_max_concurrent_streams(stem::MAX_CONCURRENT_STREAMS),
    );
    let blobs = request_response::Behaviour::with_codec(
        blobs::Codec,
        [(blobs::PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(BLOB_RANGE_TIMEOUT)
            .with_max_concurrent_streams(blobs::MAX_CONCURRENT_STREAMS),
    );
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established_per_peer(Some(config.max_established_per_peer))
        .with_max_established_incoming(Some(config.max_established_incoming))
        .with_max_pending_incoming(Some(config.max_pending_incoming))
        .with_max_established(Some(config.max_established_total));
    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(limits),
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
        stem,
        blobs,
    })
}
