//! The event loop: owns the swarm and the reconciliation index, and reacts to the
//! network, the archive and the control socket.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use qoima_core::{AuthorSecret, BlobHash, RecordId};
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

use crate::addresses;
use crate::bans::{BAN_DURATION, Bans};
use crate::config::{DEFAULT_PORT, NodeConfig};
use crate::control::{self, ControlRequest};
use crate::peers::{ADDRS_PER_PEER_MAX, PeerBook};
use crate::session::{Batch, PeerSync};
use crate::store_worker::StoreHandle;
use crate::transfers::BlobPolicy;
use crate::work::{Work, WorkLimits};
use crate::{AttachmentLimits, PeerStatus, Status, identity};

mod fetching;
mod gossiping;
mod stemming;
mod storing;
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
        let mut store =
            Store::open(&config.home, &config.archive_key).map_err(|e| e.to_string())?;
        // Saved, so that from here on the archive holds the policy in force: the settings
        // page changes it there and the loop follows (`fetching.rs`).
        store
            .set_blob_policy(&config.blob_policy)
            .map_err(|e| e.to_string())?;
        let index = ArchiveIndex::from_entries(store.index_entries().map_err(|e| e.to_string())?);
        let last_rowid = store.last_rowid().map_err(|e| e.to_string())?;
        let known = store.known_peers().map_err(|e| e.to_string())?;
        let stored_bans = store.active_bans(now_ms()).map_err(|e| e.to_string())?;
        let keypair = if config.ephemeral_identity {
            identity::ephemeral()
        } else {
            identity::load_or_create(&store)?
        };
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
        // Banned peers are blocked before anyone can reach this node.
        let mut bans = Bans::default();
        for ban in stored_bans {
            if let Ok(peer) = ban.peer.parse::<PeerId>() {
                bans.insert(peer, ban.until_ms);
                let behaviour = swarm.behaviour_mut();
                behaviour.blocked.block_peer(peer);
                behaviour.gossipsub.blacklist_peer(&peer);
            }
        }
        listen(&mut swarm, &config.listen, &net)?;
        let early_events = wait_for_listeners(&mut swarm).await;
        let mut book = PeerBook::default();
        for peer in known {
            let Ok(id) = peer.peer_id.parse::<PeerId>() else {
                continue;
            };
            if bans.is_banned(&id) {
                continue;
            }
            for addr in peer
                .addrs
                .iter()
                .filter_map(|a| a.parse::<Multiaddr>().ok())
            {
                book.learn_address(with_peer(addr, id), id);
            }
        }
        for addr in &config.peers {
            book.keep_dialing(addr.clone(), peer_of(addr));
        }
        info!(%peer_id, records = index.len(), "node started");

        let blob_files = store.blob_files();
        let blob_policy = config.blob_policy;
        let (requests, requests_rx) = mpsc::channel(16);
        let control_server = control_listener.map(|listener| {
            (
                tokio::spawn(control::serve(
                    listener,
                    requests.clone(),
                    config.archive_key.clone(),
                    control::owner_of(&config.home),
                    config.ui_unlock.clone(),
                )),
                control::socket_path(&config.home),
            )
        });
        let (internal_tx, internal_rx) = mpsc::channel(256);
        let (shutdown, shutdown_rx) = oneshot::channel();
        let event_loop = EventLoop {
            swarm,
            store: StoreHandle::spawn(store),
            index: Arc::new(RwLock::new(index)),
            last_rowid,
            topic,
            config,
            sync: HashMap::new(),
            fetches_in_flight: 0,
            fetched: storing::FetchedQueue::default(),
            outbound: HashMap::new(),
            stems: HashMap::new(),
            book,
            work: WorkLimits::default(),
            bans,
            internal_tx,
            polling: false,
            poll_again: false,
            indexing: false,
            blob_files,
            blob_policy,
            transfers: HashMap::new(),
            opening: HashMap::new(),
            asked: HashSet::new(),
            blob_requests: HashMap::new(),
            outboards: Default::default(),
            looking_for_blobs: false,
            budget_used: 0,
            budget_reported: false,
        };
        let task = tokio::spawn(async move {
            event_loop
                .run(early_events, internal_rx, requests_rx, shutdown_rx)
                .await;
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

    /// A handle that makes this node forget the archive key and stop, as `qoima lock`
    /// does, from within the process (the web interface's lock button).
    pub fn locker(&self) -> Locker {
        Locker(self.requests.clone())
    }

    /// A handle that asks this node for its state from within the process (the web
    /// interface's peers page).
    pub fn status_reader(&self) -> StatusReader {
        StatusReader(self.requests.clone())
    }

    /// A handle that tells this node records were just written to the archive, as
    /// `qoima import` does over the control socket, from within the process (the web
    /// interface's import).
    pub fn written_notifier(&self) -> WrittenNotifier {
        WrittenNotifier(self.requests.clone())
    }

    /// The node's current state.
    pub async fn status(&self) -> Option<Status> {
        self.status_reader().status().await
    }

    /// Fetches these attachments first, whatever their size.
    pub async fn fetch(&self, blobs: Vec<BlobHash>) {
        let _ = self.requests.send(ControlRequest::Fetch(blobs)).await;
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

    /// Runs until SIGINT or SIGTERM (or `qoima lock`), then stops cleanly.
    pub async fn run_until_signal(mut self) -> std::io::Result<()> {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
            // Locked over the control socket: the loop has already stopped.
            _ = &mut self.task => return Ok(()),
        }
        info!("stopping");
        self.shutdown().await;
        Ok(())
    }
}

/// Locks the node it came from ([`Node::locker`]).
#[derive(Clone)]
pub struct Locker(mpsc::Sender<ControlRequest>);

impl Locker {
    /// Asks the node to forget the archive key and stop; true if the node took the
    /// request (it then stops), false if its queue is full or it has already stopped.
    pub fn lock(&self) -> bool {
        self.0.try_send(ControlRequest::Lock).is_ok()
    }
}

/// Asks the node it came from for its state ([`Node::status_reader`]).
#[derive(Clone)]
pub struct StatusReader(mpsc::Sender<ControlRequest>);

impl StatusReader {
    /// The node's current state; none once it has stopped. It waits while the node's
    /// queue is full, so callers that must answer promptly bound it with a timeout.
    pub async fn status(&self) -> Option<Status> {
        let (reply, status) = oneshot::channel();
        self.0.send(ControlRequest::Status(reply)).await.ok()?;
        status.await.ok()
    }
}

/// Tells the node it came from that records were written ([`Node::written_notifier`]).
#[derive(Clone)]
pub struct WrittenNotifier(mpsc::Sender<ControlRequest>);

impl WrittenNotifier {
    /// Asks the node to look for new records now and offer them to peers; true if it
    /// took the request. If its queue is full the request is dropped: the node's next
    /// poll of the archive (within a second) finds them anyway.
    pub fn written(&self) -> bool {
        self.0.try_send(ControlRequest::Written).is_ok()
    }
}

/// What a spawned task reports back to the loop.
enum Internal {
    Polled(Result<Vec<ArrivedRecord>, StoreError>),
    /// A batch of records was made searchable: how many.
    Indexed(Result<usize, StoreError>),
    /// News written here, to hand to a stem peer (or publish after a delay).
    SpreadLocal(Vec<GossipMessage>),
    /// News to publish on gossip now.
    PublishNow(Vec<GossipMessage>),
    GossipChecked {
        reply: Reply,
        source: PeerId,
        verdict: GossipVerdict,
    },
    AnnounceChecked {
        reply: Reply,
        source: PeerId,
        missing: Result<Vec<RecordId>, StoreError>,
    },
    /// Session `number` with `peer` made its next step off the event loop.
    Stepped {
        peer: PeerId,
        number: u64,
        initiator: Box<qoima_sync::Initiator>,
        step: Result<qoima_sync::Step, qoima_sync::SyncError>,
    },
    /// What a reconciliation with `peer` found this node lacks, less what it does not
    /// want (retracted here, or declined by its policy within the hour).
    NeedChecked {
        peer: PeerId,
        number: u64,
        need: Result<Vec<RecordId>, StoreError>,
        complete: bool,
        resume: qoima_sync::Position,
    },
    Served {
        peer: PeerId,
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    Answered {
        peer: PeerId,
        channel: ResponseChannel<SyncResponse>,
        answer: Result<Vec<u8>, qoima_sync::SyncError>,
    },
    /// Records found corrupt on disk while serving: never sent; to be healed.
    Rotted(Vec<RecordId>),
    Quarantined(Result<Vec<(i64, RecordId)>, StoreError>),
    /// A group of fetched bundles was stored (or not), each with its report and the ids
    /// it did not carry.
    Stored {
        asked: Vec<(PeerId, Batch)>,
        result: Result<Vec<storing::Stored>, StoreError>,
    },
    /// Attachments records here refer to and this node lacks, and the bytes it holds.
    BlobLook(Result<fetching::BlobLook, StoreError>),
    PartialOpened {
        hash: BlobHash,
        result: Result<Arc<qoima_store::PartialBlob>, StoreError>,
    },
    RangeChecked(fetching::CheckedRange),
    BlobInstalled {
        hash: BlobHash,
        result: Result<(), StoreError>,
    },
    BlobServed {
        peer: PeerId,
        channel: ResponseChannel<qoima_net::BlobResponse>,
        response: qoima_net::BlobResponse,
    },
}

/// Who is waiting for the verdict on a message: gossipsub (to forward it or not), or a
/// peer that handed it over by a stem hop.
enum Reply {
    Gossip(MessageId),
    Stem {
        channel: ResponseChannel<qoima_net::StemResponse>,
        bytes: Vec<u8>,
    },
}

/// What checking a gossiped bundle found.
#[derive(Debug)]
enum GossipVerdict {
    /// Every record verified; this many were new here, and this many the acceptance
    /// policy did not keep (local choice: no fault of the sender's).
    Valid { new_records: u64, declined: u64 },
    /// The bytes are bad: the sender's fault.
    Invalid(String),
    /// This node could not check it (its own failure): neither accepted nor blamed.
    NotChecked,
}

/// What an outbound sync request was for.
enum Outbound {
    Reconcile,
    Fetch(Batch),
}

/// The reconciliation index, shared with the blocking tasks that answer peers'
/// reconciliation messages off the event loop. The loop writes (records arriving); the
/// answers and our own sessions read.
type SharedIndex = Arc<RwLock<ArchiveIndex>>;

struct EventLoop {
    swarm: Swarm<Behaviour>,
    store: StoreHandle,
    index: SharedIndex,
    last_rowid: i64,
    topic: IdentTopic,
    config: NodeConfig,
    sync: HashMap<PeerId, PeerSync>,
    /// Fetch requests in flight to all peers.
    fetches_in_flight: usize,
    /// Answered fetches waiting for the archive.
    fetched: storing::FetchedQueue,
    outbound: HashMap<OutboundRequestId, (PeerId, Outbound)>,
    /// News handed to a stem peer, kept until it is taken (else published here).
    stems: HashMap<OutboundRequestId, GossipMessage>,
    book: PeerBook,
    work: WorkLimits,
    bans: Bans,
    internal_tx: mpsc::Sender<Internal>,
    polling: bool,
    poll_again: bool,
    /// A batch of stored records is being made searchable.
    indexing: bool,
    /// Attachment files, read and filled off the loop.
    blob_files: qoima_store::BlobFiles,
    blob_policy: BlobPolicy,
    /// Attachments being fetched.
    transfers: HashMap<BlobHash, fetching::Transfer>,
    /// Attachments whose partial file is being opened, with their author.
    opening: HashMap<BlobHash, [u8; 32]>,
    /// Attachments asked for with `qoima fetch`.
    asked: HashSet<BlobHash>,
    blob_requests: HashMap<OutboundRequestId, (PeerId, BlobHash, crate::transfers::Range)>,
    outboards: fetching::OutboardCache,
    looking_for_blobs: bool,
    /// Attachment bytes received this run, against `blob_policy.budget`.
    budget_used: u64,
    budget_reported: bool,
}

impl EventLoop {
    async fn run(
        mut self,
        early_events: Vec<SwarmEvent<BehaviourEvent>>,
        mut internal: mpsc::Receiver<Internal>,
        mut requests: mpsc::Receiver<ControlRequest>,
        mut shutdown: oneshot::Receiver<()>,
    ) {
        for event in early_events {
            self.on_swarm_event(event);
        }
        let mut poll = tokio::time::interval(self.config.poll_interval);
        let mut sync = tokio::time::interval(self.config.sync_interval);
        sync.tick().await; // every connection syncs on arrival; the timer is for later
        let mut redial = tokio::time::interval(Duration::from_secs(1));
        let mut housekeeping = tokio::time::interval(Duration::from_secs(30));
        loop {
            tokio::select! {
                // Local work first: what spawned tasks report frees capacity for new
                // remote work (libp2p's "prioritise local work over new remote work").
                biased;
                _ = &mut shutdown => break,
                Some(message) = internal.recv() => self.on_internal(message),
                Some(request) = requests.recv() => {
                    if let ControlRequest::Lock = request {
                        info!("locked: forgetting the archive key and stopping");
                        break;
                    }
                    self.on_request(request);
                }
                _ = poll.tick() => self.poll_store(),
                _ = sync.tick() => self.sync_with_everyone(),
                _ = redial.tick() => {
                    self.redial();
                    // Fetches a busy peer refused are asked again from here.
                    self.pump_fetches();
                    self.pump_blobs();
                }
                _ = housekeeping.tick() => {
                    self.lift_expired_bans();
                    if self.nothing_fetched() {
                        self.index_for_search();
                    }
                }
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
            }
        }
        self.store.close().await;
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
            Internal::Indexed(result) => self.on_indexed(result),
            Internal::SpreadLocal(messages) => self.spread_local(messages),
            Internal::PublishNow(messages) => self.publish(messages),
            Internal::GossipChecked {
                reply,
                source,
                verdict,
            } => self.on_gossip_checked(reply, source, verdict),
            Internal::AnnounceChecked {
                reply,
                source,
                missing,
            } => self.on_announce_checked(reply, source, missing),
            Internal::Stepped {
                peer,
                number,
                initiator,
                step,
            } => self.on_stepped(peer, number, initiator, step),
            Internal::NeedChecked {
                peer,
                number,
                need,
                complete,
                resume,
            } => self.on_need_checked(peer, number, need, complete, resume),
            Internal::Served {
                peer,
                channel,
                response,
            } => {
                self.work.finish(peer, Work::Serve);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            Internal::Answered {
                peer,
                channel,
                answer,
            } => self.on_answered(peer, channel, answer),
            Internal::Stored { asked, result } => self.on_stored(asked, result),
            Internal::Rotted(ids) => {
                warn!(
                    count = ids.len(),
                    "records in the archive are corrupt on disk; they were not sent, and are \
                     removed so that a good copy is fetched from a peer"
                );
                self.spawn_store(move |s| s.quarantine(&ids), Internal::Quarantined);
            }
            Internal::Quarantined(Ok(removed)) => {
                write_index(&self.index).remove(removed.iter().map(|(ts, id)| (*ts, id.0)));
                for (_, id) in removed {
                    warn!(%id, "removed a corrupt record; it will be fetched again from a peer");
                }
            }
            Internal::Quarantined(Err(e)) => warn!("removing corrupt records failed: {e}"),
            Internal::BlobLook(look) => self.on_blob_look(look),
            Internal::PartialOpened { hash, result } => self.on_partial_opened(hash, result),
            Internal::RangeChecked(checked) => self.on_range_checked(checked),
            Internal::BlobInstalled { hash, result } => self.on_blob_installed(hash, result),
            Internal::BlobServed {
                peer,
                channel,
                response,
            } => self.on_blob_served(peer, channel, response),
        }
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
                let dialed = endpoint
                    .is_dialer()
                    .then(|| endpoint.get_remote_address().clone());
                self.book
                    .connected(peer_id, endpoint.get_remote_address(), dialed.as_ref());
                if num_established.get() == 1 {
                    info!(%peer_id, "connected");
                    if let Some(addr) = dialed {
                        let peer_text = peer_id.to_string();
                        let addr_text = addr.to_string();
                        self.spawn_store_detached("remembering a peer", move |s| {
                            s.remember_peer(&peer_text, &addr_text)
                        });
                    }
                    self.start_session(peer_id);
                    self.pump_blobs();
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                info!(%peer_id, "disconnected");
                // Forgotten with the connection (peer ids cost nothing to make, so the
                // map must not outlive them); a reconnection starts a fresh pass.
                self.sync.remove(&peer_id);
                self.book.disconnected(peer_id);
                self.forget_blob_peer(&peer_id);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                // One line per failure, whatever libp2p nests in the error (one cause per
                // address, each on its own line), so the peer stays on the same line as
                // what happened to it for whoever reads or searches the log.
                let peer = peer_id.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
                debug!(%peer, "dial failed: {}", on_one_line(&error.to_string()));
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if self.swarm.is_connected(&peer) || self.bans.is_banned(&peer) {
                        continue;
                    }
                    if !addresses::plausible_on_lan(&addr) {
                        debug!(%peer, %addr, "ignoring an mDNS answer outside the local network");
                        continue;
                    }
                    debug!(%peer, %addr, "found on the local network");
                    if let Err(e) = self.swarm.dial(with_peer(addr, peer)) {
                        debug!(%peer, "dial failed: {}", on_one_line(&e.to_string()));
                    }
                }
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.book.info(peer_id).speaks_stem = stemming::speaks_stem(&info.protocols);
                self.on_identified(peer_id, info.listen_addrs)
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                self.on_gossip(propagation_source, message_id, message.data);
            }
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            BehaviourEvent::Stem(event) => self.on_stem_event(event),
            BehaviourEvent::Blobs(event) => self.on_blobs_event(event),
            _ => {}
        }
    }

    /// Keeps the few listen addresses a peer claims that are plausible for the link it
    /// is on (see `addresses.rs`); repeated identify pushes add nothing new.
    fn on_identified(&mut self, peer: PeerId, claimed: Vec<Multiaddr>) {
        let Some(observed) = self.book.get(&peer).and_then(|info| info.observed_ip) else {
            return;
        };
        let mut fresh = Vec::new();
        for addr in claimed
            .into_iter()
            .filter(|a| addresses::plausible(a, observed))
            .take(ADDRS_PER_PEER_MAX)
        {
            if self.book.learn_address(with_peer(addr.clone(), peer), peer) {
                fresh.push(addr.to_string());
            }
        }
        if fresh.is_empty() {
            return;
        }
        let peer_text = peer.to_string();
        self.spawn_store_detached("remembering a peer's addresses", move |s| {
            fresh
                .iter()
                .try_for_each(|addr| s.remember_peer(&peer_text, addr))
        });
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

    /// Counts a fault of `peer`'s own making (`what` it did); past the bound, cuts it off
    /// and bans it for [`BAN_DURATION`], remembered across restarts. Only ever called for
    /// invalid bytes the peer sent, never for this node's own failures or policy.
    fn strike(&mut self, peer: PeerId, what: &str) {
        warn!(%peer, "peer {what}");
        if !self.book.strike(peer) {
            return;
        }
        warn!(%peer, "disconnecting and banning this peer: too much invalid data");
        let until_ms = now_ms() + BAN_DURATION.as_millis() as i64;
        self.block(peer, until_ms);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.sync.remove(&peer);
        self.book.ban(peer);
        let (peer_text, reason) = (peer.to_string(), what.to_owned());
        self.spawn_store_detached("remembering a ban", move |s| {
            s.ban_peer(&peer_text, until_ms, &reason)
        });
    }

    fn block(&mut self, peer: PeerId, until_ms: i64) {
        if let Some(lifted) = self.bans.insert(peer, until_ms) {
            self.unblock(lifted);
        }
        let behaviour = self.swarm.behaviour_mut();
        behaviour.blocked.block_peer(peer);
        behaviour.gossipsub.blacklist_peer(&peer);
    }

    fn unblock(&mut self, peer: PeerId) {
        let behaviour = self.swarm.behaviour_mut();
        behaviour.blocked.unblock_peer(peer);
        behaviour.gossipsub.remove_blacklisted_peer(&peer);
    }

    /// Makes records stored since the last time searchable, one bounded batch at a time
    /// while there are more and nothing is being fetched, so the first search after a
    /// large sync answers at once (an import leaves its records queued for the full-text
    /// index) and a catch-up is not held up by it.
    pub(super) fn index_for_search(&mut self) {
        if std::mem::replace(&mut self.indexing, true) {
            return;
        }
        self.spawn_store(
            |s| s.index_pending_search(qoima_store::SEARCH_INDEX_BATCH),
            Internal::Indexed,
        );
    }

    fn on_indexed(&mut self, result: Result<usize, StoreError>) {
        self.indexing = false;
        match result {
            // More is queued: go on while nothing is being fetched. During a catch-up a
            // batch of indexing (about a second on the store thread) would hold up the
            // imports behind it; the next pause picks it up.
            Ok(indexed) if indexed == qoima_store::SEARCH_INDEX_BATCH && self.fetching_paused() => {
                self.index_for_search()
            }
            Ok(_) => {}
            // Searches index what is left themselves; the next round tries again.
            Err(e) => warn!("making records searchable failed: {e}"),
        }
    }

    fn lift_expired_bans(&mut self) {
        for peer in self.bans.expired(now_ms()) {
            info!(%peer, "ban expired");
            self.unblock(peer);
        }
    }

    fn on_request(&mut self, request: ControlRequest) {
        match request {
            ControlRequest::Lock => {}
            ControlRequest::Fetch(hashes) => self.ask_for_blobs(hashes),
            ControlRequest::Written => self.poll_store(),
            ControlRequest::Dial(addr) => {
                self.book.keep_dialing(addr.clone(), peer_of(&addr));
                let _ = self.swarm.dial(addr);
            }
            ControlRequest::Status(reply) => {
                let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                let strikes = self.book.all_strikes();
                let live: Vec<PeerStatus> = connected
                    .iter()
                    .map(|peer| {
                        let info = self.book.get(peer);
                        PeerStatus {
                            peer_id: peer.to_string(),
                            connected: true,
                            addrs: Vec::new(),
                            last_sync_ms: info.map_or(0, |i| i.last_sync_ms),
                            last_sync_new: info.map_or(0, |i| i.last_sync_new),
                            received_since_start: info.map_or(0, |i| i.received),
                            declined_since_start: info.map_or(0, |i| i.declined),
                            sketched_since_start: info.map_or(0, |i| i.sketched),
                            strikes: strikes.get(peer).copied().unwrap_or(0),
                            throttled: info.map_or(0, |i| i.throttled),
                            banned_until_ms: 0,
                            blob_bytes_received: info.map_or(0, |i| i.blob_bytes_received),
                            blob_bytes_sent: info.map_or(0, |i| i.blob_bytes_sent),
                        }
                    })
                    .collect();
                let strikes: HashMap<String, (u32, u64)> = strikes
                    .iter()
                    .map(|(p, n)| {
                        let throttled = self.book.get(p).map_or(0, |i| i.throttled);
                        (p.to_string(), (*n, throttled))
                    })
                    .collect();
                let banned: HashMap<String, i64> = self
                    .bans
                    .iter()
                    .map(|(p, until)| (p.to_string(), until))
                    .collect();
                let status = Status {
                    peer_id: self.swarm.local_peer_id().to_string(),
                    listen_addrs: self.swarm.listeners().map(|a| a.to_string()).collect(),
                    collection: self.config.collection.clone(),
                    records: read_index(&self.index).len() as u64,
                    gossip_peers: self
                        .swarm
                        .behaviour()
                        .gossipsub
                        .all_peers()
                        .filter(|(_, topics)| topics.contains(&&self.topic.hash()))
                        .count(),
                    peers: live,
                    transfers: self.transfer_status(),
                    closed_group: self.config.network_key.is_some(),
                    attachments: AttachmentLimits {
                        fetch_up_to: self.blob_policy.fetch_up_to,
                        quota: self.blob_policy.quota,
                        budget: self.blob_policy.budget,
                        budget_used: self.budget_used,
                    },
                };
                let store = self.store.clone();
                tokio::spawn(async move {
                    let known = store.call(|s| s.known_peers()).await.unwrap_or_default();
                    let _ = reply.send(merge_known(status, known, &strikes, &banned));
                });
            }
        }
    }
}

/// Adds the remembered peers (addresses, last sync) to the live view.
fn merge_known(
    mut status: Status,
    known: Vec<qoima_store::KnownPeer>,
    strikes: &HashMap<String, (u32, u64)>,
    banned: &HashMap<String, i64>,
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
                strikes: strikes.get(&peer.peer_id).map_or(0, |s| s.0),
                throttled: strikes.get(&peer.peer_id).map_or(0, |s| s.1),
                banned_until_ms: banned.get(&peer.peer_id).copied().unwrap_or(0),
                peer_id: peer.peer_id,
                connected: false,
                addrs: peer.addrs,
                last_sync_ms: peer.last_sync_ms,
                last_sync_new: peer.last_sync_new as u64,
                received_since_start: 0,
                declined_since_start: 0,
                sketched_since_start: 0,
                blob_bytes_received: 0,
                blob_bytes_sent: 0,
            }),
        }
    }
    // Peers banned (and so not connected) but never remembered: a hostile peer that
    // dialed in. Shown so the user sees who was cut off and why strikes went up.
    for (peer, until) in banned {
        if !status.peers.iter().any(|p| &p.peer_id == peer) {
            status.peers.push(PeerStatus {
                peer_id: peer.clone(),
                connected: false,
                addrs: Vec::new(),
                last_sync_ms: 0,
                last_sync_new: 0,
                received_since_start: 0,
                declined_since_start: 0,
                sketched_since_start: 0,
                strikes: strikes.get(peer).map_or(0, |s| s.0),
                throttled: strikes.get(peer).map_or(0, |s| s.1),
                banned_until_ms: *until,
                blob_bytes_received: 0,
                blob_bytes_sent: 0,
            });
        } else if let Some(p) = status.peers.iter_mut().find(|p| &p.peer_id == peer) {
            p.banned_until_ms = *until;
        }
    }
    for p in &mut status.peers {
        if p.strikes == 0 {
            p.strikes = strikes.get(&p.peer_id).map_or(0, |s| s.0);
        }
    }
    status
}

/// Listens on `addrs`, or by default on TCP and QUIC on all interfaces at the default
/// port, falling back to any free port when it is taken. A closed group has no QUIC.
fn listen(
    swarm: &mut Swarm<Behaviour>,
    addrs: &[Multiaddr],
    net: &NetConfig,
) -> Result<(), String> {
    if !addrs.is_empty() {
        for addr in addrs {
            if !net.supports_address(addr) {
                return Err(format!(
                    "cannot listen on {addr}: a closed group (network key) uses TCP only"
                ));
            }
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
        if !net.supports_address(&preferred) {
            continue;
        }
        if swarm.listen_on(preferred.clone()).is_err() {
            info!("{preferred} is taken; using another port");
            swarm
                .listen_on(fallback.parse().expect("valid address"))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// At most this many events are set aside while waiting for the listeners; past it the
/// wait ends early and the rest stay queued in the swarm for the loop.
const EARLY_EVENTS_MAX: usize = 256;

/// Drives the swarm until it reports a listen address (or a short deadline passes), so
/// that `Node::start` returns a node others can dial. Returns the other events it took
/// meanwhile, for the loop to handle first: mDNS reports each neighbour once, and a peer
/// may connect at once, so dropping them would leave neighbours undialled for minutes
/// and connections without a session.
async fn wait_for_listeners(swarm: &mut Swarm<Behaviour>) -> Vec<SwarmEvent<BehaviourEvent>> {
    let mut early = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(deadline);
    while early.len() < EARLY_EVENTS_MAX {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    // Every listener's socket is bound by now (`listen`); the others'
                    // reports wait in the swarm for the loop.
                    info!("listening on {address}");
                    break;
                }
                other => early.push(other),
            },
            _ = &mut deadline => break,
        }
    }
    early
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

/// `text` with its line breaks (and the indentation after them) turned into "; ".
fn on_one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn read_index(index: &SharedIndex) -> RwLockReadGuard<'_, ArchiveIndex> {
    // A panic while holding the lock cannot leave the index half-changed (its updates
    // are single calls), so a poisoned lock is still a usable index.
    index
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_index(index: &SharedIndex) -> RwLockWriteGuard<'_, ArchiveIndex> {
    index
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

#[cfg(test)]
mod tests {
    use super::on_one_line;

    #[test]
    fn a_nested_dial_error_is_logged_on_one_line() {
        let nested = "Failed to negotiate transport protocol(s): [(/ip4/10.0.0.6/tcp/4270: : \
                      Multiple dial errors occurred:\n - Multistream select failed: \
                      Multiple dial errors occurred:\n - Multistream select failed: reset)]";
        assert_eq!(
            on_one_line(nested),
            "Failed to negotiate transport protocol(s): [(/ip4/10.0.0.6/tcp/4270: : \
             Multiple dial errors occurred:; - Multistream select failed: Multiple dial \
             errors occurred:; - Multistream select failed: reset)]"
        );
        assert_eq!(on_one_line("refused"), "refused");
    }
}
