//! The event loop: owns the swarm and the reconciliation index, and reacts to the
//! network, the archive and the control socket.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use qoima_core::AuthorSecret;
use qoima_net::gossip::{self, GossipMessage};
use qoima_net::libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId};
use qoima_net::libp2p::multiaddr::Protocol;
use qoima_net::libp2p::request_response::{OutboundRequestId, ResponseChannel};
use qoima_net::libp2p::swarm::SwarmEvent;
use qoima_net::libp2p::{Multiaddr, PeerId, Swarm, identify, mdns};
use qoima_net::{Behaviour, BehaviourEvent, NetConfig, SyncResponse, build_swarm};
use qoima_store::{ArrivedRecord, ImportReport, Store, StoreError};
use qoima_sync::ArchiveIndex;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::config::{DEFAULT_PORT, NodeConfig};
use crate::control::{self, ControlRequest};
use crate::peers::PeerBook;
use crate::session::Session;
use crate::store_worker::StoreHandle;
use crate::{PeerStatus, Status, identity};

mod gossiping;
mod syncing;

/// Records read per poll of the archive.
const POLL_BATCH: usize = 10_000;

/// A running node.
pub struct Node {
    requests: mpsc::Sender<ControlRequest>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    peer_id: PeerId,
}

impl Node {
    /// Opens the archive in `config.home`, starts listening and spawns the event loop.
    /// Returns once the listeners are up.
    pub async fn start(config: NodeConfig) -> Result<Node, String> {
        let store = Store::open(&config.home).map_err(|e| e.to_string())?;
        let index = ArchiveIndex::from_entries(store.index_entries().map_err(|e| e.to_string())?);
        let last_rowid = store.last_rowid().map_err(|e| e.to_string())?;
        let known = store.known_peers().map_err(|e| e.to_string())?;
        let keypair = identity::load_or_create(&config.home)?;
        let peer_id = keypair.public().to_peer_id();
        let control_listener = if config.control_socket {
            Some(control::bind(&config.home)?)
        } else {
            None
        };

        let net = NetConfig {
            mdns: config.mdns,
            collection: config.collection.clone(),
            heartbeat: config.heartbeat,
            network_key: config.network_key,
            ..NetConfig::default()
        };
        let mut swarm = build_swarm(keypair, &net)?;
        let topic = gossip::topic(&config.collection);
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| e.to_string())?;
        listen(&mut swarm, &config.listen)?;
        wait_for_listeners(&mut swarm).await;

        let mut book = PeerBook::default();
        for peer in known {
            let Ok(id) = peer.peer_id.parse::<PeerId>() else {
                continue;
            };
            for addr in peer
                .addrs
                .iter()
                .filter_map(|a| a.parse::<Multiaddr>().ok())
            {
                book.keep_dialing(with_peer(addr, id), Some(id));
            }
        }
        for addr in &config.peers {
            book.keep_dialing(addr.clone(), peer_of(addr));
        }
        info!(%peer_id, records = index.len(), "node started");

        let (requests, requests_rx) = mpsc::channel(16);
        let control_server = control_listener.map(|listener| {
            (
                tokio::spawn(control::serve(listener, requests.clone())),
                control::socket_path(&config.home),
            )
        });
        let (internal_tx, internal_rx) = mpsc::channel(256);
        let (shutdown, shutdown_rx) = oneshot::channel();
        let event_loop = EventLoop {
            swarm,
            store: StoreHandle::spawn(store),
            index,
            last_rowid,
            topic,
            config,
            sessions: HashMap::new(),
            outbound: HashMap::new(),
            book,
            internal_tx,
            polling: false,
            poll_again: false,
        };
        let task = tokio::spawn(async move {
            event_loop.run(internal_rx, requests_rx, shutdown_rx).await;
            // The socket must go with the loop, or a restarted node would think another
            // one still runs on this archive.
            if let Some((server, path)) = control_server {
                server.abort();
                let _ = std::fs::remove_file(path);
            }
        });
        Ok(Node {
            requests,
            shutdown: Some(shutdown),
            task,
            peer_id,
        })
    }

    /// The node's libp2p peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The node's current state.
    pub async fn status(&self) -> Option<Status> {
        let (reply, status) = oneshot::channel();
        self.requests
            .send(ControlRequest::Status(reply))
            .await
            .ok()?;
        status.await.ok()
    }

    /// Dials `addr` now and keeps redialing it.
    pub async fn dial(&self, addr: Multiaddr) {
        let _ = self.requests.send(ControlRequest::Dial(addr)).await;
    }

    /// Stops the node and waits for its loop to end.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Runs until SIGINT or SIGTERM, then stops cleanly.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        info!("stopping");
        self.shutdown().await;
        Ok(())
    }
}

/// What a spawned task reports back to the loop.
enum Internal {
    Polled(Result<Vec<ArrivedRecord>, StoreError>),
    Publish(Vec<GossipMessage>),
    GossipChecked {
        id: MessageId,
        source: PeerId,
        acceptance: MessageAcceptance,
        report: Option<ImportReport>,
    },
    FetchFrom {
        peer: PeerId,
        ids: Vec<[u8; 32]>,
    },
    Serve {
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    Imported {
        peer: PeerId,
        in_session: bool,
        leftover: Vec<[u8; 32]>,
        result: Result<ImportReport, StoreError>,
    },
}

/// What an outbound sync request was for.
enum Outbound {
    Reconcile,
    Fetch {
        ids: Vec<[u8; 32]>,
        in_session: bool,
    },
}

struct EventLoop {
    swarm: Swarm<Behaviour>,
    store: StoreHandle,
    index: ArchiveIndex,
    last_rowid: i64,
    topic: IdentTopic,
    config: NodeConfig,
    sessions: HashMap<PeerId, Session>,
    outbound: HashMap<OutboundRequestId, (PeerId, Outbound)>,
    book: PeerBook,
    internal_tx: mpsc::Sender<Internal>,
    polling: bool,
    poll_again: bool,
}

impl EventLoop {
    async fn run(
        mut self,
        mut internal: mpsc::Receiver<Internal>,
        mut requests: mpsc::Receiver<ControlRequest>,
        mut shutdown: oneshot::Receiver<()>,
    ) {
        let mut poll = tokio::time::interval(self.config.poll_interval);
        let mut sync = tokio::time::interval(self.config.sync_interval);
        sync.tick().await; // every connection syncs on arrival; the timer is for later
        let mut redial = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(message) = internal.recv() => self.on_internal(message),
                Some(request) = requests.recv() => self.on_request(request),
                _ = poll.tick() => self.poll_store(),
                _ = sync.tick() => self.sync_with_everyone(),
                _ = redial.tick() => self.redial(),
                _ = &mut shutdown => break,
            }
        }
        info!("node stopped");
    }

    // ----- messages from spawned tasks -----------------------------------------------

    fn on_internal(&mut self, message: Internal) {
        match message {
            Internal::Polled(Ok(arrived)) => self.on_polled(arrived),
            Internal::Polled(Err(e)) => {
                self.polling = false;
                warn!("reading the archive failed: {e}");
            }
            Internal::Publish(messages) => self.publish(messages),
            Internal::GossipChecked {
                id,
                source,
                acceptance,
                report,
            } => {
                let rejected = matches!(acceptance, MessageAcceptance::Reject);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, acceptance);
                if let Some(report) = report {
                    self.book.info(source).received += report.records_new;
                    if report.records_new > 0 {
                        self.poll_store();
                    }
                }
                if rejected {
                    self.strike(source, "sent an invalid gossip message");
                }
            }
            Internal::FetchFrom { peer, ids } => {
                for chunk in ids.chunks(crate::session::FETCH_BATCH) {
                    self.send_fetch(peer, chunk.to_vec(), false);
                }
            }
            Internal::Serve { channel, response } => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            Internal::Imported {
                peer,
                in_session,
                leftover,
                result,
            } => self.on_imported(peer, in_session, leftover, result),
        }
    }

    fn on_imported(
        &mut self,
        peer: PeerId,
        in_session: bool,
        leftover: Vec<[u8; 32]>,
        result: Result<ImportReport, StoreError>,
    ) {
        let mut new_records = 0;
        let mut progressed = false;
        match result {
            Ok(report) => {
                new_records = report.records_new;
                progressed = report.records_listed > 0;
                self.book.info(peer).received += report.records_new;
                if !report.is_clean() {
                    self.strike(peer, "sent a bundle that failed verification");
                }
                if report.records_new > 0 {
                    self.poll_store();
                }
            }
            Err(e) => warn!("storing records from {peer} failed: {e}"),
        }
        if !in_session {
            return;
        }
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        session.in_flight = session.in_flight.saturating_sub(1);
        session.new_records += new_records;
        // The responder stops at a size target: ask again for what did not fit, as long
        // as it keeps sending something.
        if progressed && !leftover.is_empty() {
            session.queue.push_front(leftover);
        }
        self.pump_fetches(peer);
    }

    // ----- the swarm ------------------------------------------------------------------

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => info!("listening on {address}"),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let addr = endpoint
                    .is_dialer()
                    .then(|| endpoint.get_remote_address().clone());
                self.book.connected(peer_id, addr.as_ref());
                if num_established.get() == 1 {
                    info!(%peer_id, "connected");
                    let (peer_text, addr_text) = (
                        peer_id.to_string(),
                        addr.map(|a| a.to_string()).unwrap_or_default(),
                    );
                    self.spawn_store(
                        move |s| s.remember_peer(&peer_text, &addr_text),
                        |_| Internal::Publish(Vec::new()),
                    );
                    self.start_session(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                info!(%peer_id, "disconnected");
                self.sessions.remove(&peer_id);
                self.book.disconnected(peer_id);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(?peer_id, "dial failed: {error}");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if !self.swarm.is_connected(&peer) {
                        debug!(%peer, %addr, "found on the local network");
                        let _ = self.swarm.dial(with_peer(addr, peer));
                    }
                }
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                for addr in info.listen_addrs.into_iter().filter(is_dialable).take(8) {
                    let addr_text = addr.to_string();
                    self.book
                        .keep_dialing(with_peer(addr, peer_id), Some(peer_id));
                    let peer_text = peer_id.to_string();
                    self.spawn_store(
                        move |s| s.remember_peer(&peer_text, &addr_text),
                        |_| Internal::Publish(Vec::new()),
                    );
                }
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                self.on_gossip(propagation_source, message_id, message.data);
            }
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            _ => {}
        }
    }

    // ----- peers ----------------------------------------------------------------------

    fn redial(&mut self) {
        let swarm = &self.swarm;
        let due = self
            .book
            .due(Instant::now(), |peer| swarm.is_connected(peer));
        for addr in due {
            debug!(%addr, "dialing");
            if let Err(e) = self.swarm.dial(addr.clone()) {
                debug!(%addr, "dial refused: {e}");
            }
        }
    }

    /// Counts invalid data from `peer`; past the bound, cuts it off for good.
    fn strike(&mut self, peer: PeerId, what: &str) {
        warn!(%peer, "peer {what}");
        if self.book.strike(peer) {
            warn!(%peer, "disconnecting and blocking this peer: too much invalid data");
            let behaviour = self.swarm.behaviour_mut();
            behaviour.blocked.block_peer(peer);
            behaviour.gossipsub.blacklist_peer(&peer);
            let _ = self.swarm.disconnect_peer_id(peer);
            self.sessions.remove(&peer);
            self.book.ban(peer);
        }
    }

    fn on_request(&mut self, request: ControlRequest) {
        match request {
            ControlRequest::Dial(addr) => {
                self.book.keep_dialing(addr.clone(), peer_of(&addr));
                let _ = self.swarm.dial(addr);
            }
            ControlRequest::Status(reply) => {
                let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                let live: Vec<PeerStatus> = connected
                    .iter()
                    .map(|peer| {
                        let info = self.book.info(*peer);
                        PeerStatus {
                            peer_id: peer.to_string(),
                            connected: true,
                            addrs: Vec::new(),
                            last_sync_ms: info.last_sync_ms,
                            last_sync_new: info.last_sync_new,
                            received_since_start: info.received,
                            strikes: info.strikes,
                        }
                    })
                    .collect();
                let strikes: HashMap<String, u32> = self
                    .book
                    .peers
                    .iter()
                    .map(|(p, i)| (p.to_string(), i.strikes))
                    .collect();
                let status = Status {
                    peer_id: self.swarm.local_peer_id().to_string(),
                    listen_addrs: self.swarm.listeners().map(|a| a.to_string()).collect(),
                    collection: self.config.collection.clone(),
                    records: self.index.len() as u64,
                    gossip_peers: self
                        .swarm
                        .behaviour()
                        .gossipsub
                        .all_peers()
                        .filter(|(_, topics)| topics.contains(&&self.topic.hash()))
                        .count(),
                    peers: live,
                };
                let store = self.store.clone();
                tokio::spawn(async move {
                    let known = store.call(|s| s.known_peers()).await.unwrap_or_default();
                    let _ = reply.send(merge_known(status, known, &strikes));
                });
            }
        }
    }
}

/// Adds the remembered peers (addresses, last sync) to the live view.
fn merge_known(
    mut status: Status,
    known: Vec<qoima_store::KnownPeer>,
    strikes: &HashMap<String, u32>,
) -> Status {
    for peer in known {
        match status.peers.iter_mut().find(|p| p.peer_id == peer.peer_id) {
            Some(live) => {
                live.addrs = peer.addrs;
                if live.last_sync_ms == 0 {
                    live.last_sync_ms = peer.last_sync_ms;
                    live.last_sync_new = peer.last_sync_new as u64;
                }
            }
            None => status.peers.push(PeerStatus {
                strikes: strikes.get(&peer.peer_id).copied().unwrap_or(0),
                peer_id: peer.peer_id,
                connected: false,
                addrs: peer.addrs,
                last_sync_ms: peer.last_sync_ms,
                last_sync_new: peer.last_sync_new as u64,
                received_since_start: 0,
            }),
        }
    }
    status
}

/// Listens on `addrs`, or by default on TCP and QUIC on all interfaces at the default
/// port, falling back to any free port when it is taken.
fn listen(swarm: &mut Swarm<Behaviour>, addrs: &[Multiaddr]) -> Result<(), String> {
    if !addrs.is_empty() {
        for addr in addrs {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        }
        return Ok(());
    }
    for (preferred, fallback) in [
        (
            format!("/ip4/0.0.0.0/tcp/{DEFAULT_PORT}"),
            "/ip4/0.0.0.0/tcp/0",
        ),
        (
            format!("/ip4/0.0.0.0/udp/{DEFAULT_PORT}/quic-v1"),
            "/ip4/0.0.0.0/udp/0/quic-v1",
        ),
    ] {
        let preferred: Multiaddr = preferred.parse().expect("valid address");
        if swarm.listen_on(preferred.clone()).is_err() {
            info!("{preferred} is taken; using another port");
            swarm
                .listen_on(fallback.parse().expect("valid address"))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Drives the swarm until it reports a listen address (or a short deadline passes), so
/// that `Node::start` returns a node others can dial.
async fn wait_for_listeners(swarm: &mut Swarm<Behaviour>) {
    let deadline = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => {
                if let SwarmEvent::NewListenAddr { address, .. } = event {
                    info!("listening on {address}");
                    if swarm.listeners().count() > 0 {
                        // Give the other listeners a moment to report too.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        return;
                    }
                }
            }
            _ = &mut deadline => return,
        }
    }
}

fn with_peer(addr: Multiaddr, peer: PeerId) -> Multiaddr {
    if peer_of(&addr).is_some() {
        addr
    } else {
        addr.with(Protocol::P2p(peer))
    }
}

fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

fn is_dialable(addr: &Multiaddr) -> bool {
    !addr
        .iter()
        .any(|p| matches!(p, Protocol::Ip4(ip) if ip.is_unspecified()))
}

/// A key used for one bundle and then forgotten: bundles sent to peers are signed, but
/// by nobody in particular, so the wire never links this device to an author key.
fn throwaway_bundler() -> AuthorSecret {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the OS random source works");
    AuthorSecret::from_seed(&seed)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
