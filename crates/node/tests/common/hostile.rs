//! A hostile peer for the tests: a real libp2p swarm speaking qoima's protocols, driven
//! by hand so it can send what an honest node never would.

use std::time::Duration;

use futures::StreamExt;
use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{AuthorSecret, VerifiedRecord};
use qoima_net::gossip::{GossipMessage, topic};
use qoima_net::libp2p::gossipsub::IdentTopic;
use qoima_net::libp2p::request_response::{self, OutboundRequestId};
use qoima_net::libp2p::swarm::SwarmEvent;
use qoima_net::libp2p::{Multiaddr, PeerId, Swarm, identity};
use qoima_net::{Behaviour, BehaviourEvent, NetConfig, SyncRequest, SyncResponse, build_swarm};
use qoima_node::{Node, PeerStatus};

use super::TestNode;

/// How the hostile peer answers the requests an honest node sends it.
#[derive(Debug, Clone)]
pub enum Answer {
    /// "busy" to everything (an honest answer: no strike).
    Busy,
    /// This response to the first request, "busy" to the rest.
    FirstThenBusy(SyncResponse),
    /// An empty (valid) bundle to every fetch, "busy" to the rest.
    EmptyBundles,
}

pub struct Hostile {
    pub swarm: Swarm<Behaviour>,
    pub topic: IdentTopic,
    pub target: PeerId,
    pub answer: Answer,
    /// Requests the honest node sent it, by kind.
    pub fetches_received: usize,
    pub reconciles_received: usize,
    /// Gossip to publish a few at a time while driving (a flood, paced so that it
    /// outlasts the honest node's per-peer work bound).
    pub feed: Box<dyn Iterator<Item = Vec<u8>> + Send>,
    /// Messages of `feed` published per 100 ms.
    pub feed_per_tick: usize,
    /// Messages of `feed` published so far.
    pub fed: usize,
    feed_done: bool,
    /// Messages handed to it by stem hops (it takes them all).
    pub stems_received: Vec<GossipMessage>,
    /// Outcomes of requests that arrived while waiting for another.
    outcomes: std::collections::HashMap<OutboundRequestId, Result<SyncResponse, String>>,
    answered_first: bool,
    /// An attachment whose ranges it serves with one byte flipped in each.
    pub corrupt_blob: Option<Vec<u8>>,
    /// Attachment range requests the honest node sent it.
    pub blob_requests_received: usize,
    /// Drops the connection on an attachment request instead of answering it.
    pub vanish_on_blob_request: bool,
}

impl Hostile {
    /// A hostile peer connected to `target` (claiming `external` addresses, answering
    /// requests per `answer`), once the target has joined its gossip mesh.
    pub async fn connect(target: &TestNode, external: &[Multiaddr], answer: Answer) -> Hostile {
        let config = NetConfig {
            mdns: false,
            unchecked_writes: true,
            heartbeat: Duration::from_millis(200),
            ..Default::default()
        };
        let mut swarm = build_swarm(identity::Keypair::generate_ed25519(), &config).unwrap();
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .unwrap();
        for addr in external {
            swarm.add_external_address(addr.clone());
        }
        let topic = topic("default");
        swarm.behaviour_mut().gossipsub.subscribe(&topic).unwrap();
        swarm.dial(target.addr.clone()).unwrap();
        let mut hostile = Hostile {
            swarm,
            topic,
            target: target.node().peer_id(),
            answer,
            fetches_received: 0,
            reconciles_received: 0,
            feed: Box::new(std::iter::empty()),
            feed_per_tick: 8,
            fed: 0,
            feed_done: false,
            outcomes: Default::default(),
            stems_received: Vec::new(),
            answered_first: false,
            corrupt_blob: None,
            blob_requests_received: 0,
            vanish_on_blob_request: false,
        };
        let (target, hash) = (hostile.target, hostile.topic.hash());
        hostile
            .drive_until("the target to join the hostile peer's mesh", |swarm| {
                swarm
                    .behaviour()
                    .gossipsub
                    .mesh_peers(&hash)
                    .any(|p| *p == target)
            })
            .await;
        hostile
    }

    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    pub fn publish(&mut self, data: Vec<u8>) {
        let _ = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), data);
    }

    /// Polls the swarm (answering requests per [`Answer`]) until `done` holds; panics
    /// after 60 s.
    pub async fn drive_until(
        &mut self,
        what: &str,
        mut done: impl FnMut(&Swarm<Behaviour>) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&self.swarm) {
            tokio::select! {
                event = self.swarm.select_next_some() => { self.on_event(event); }
                _ = tokio::time::sleep_until(deadline) => panic!("timed out waiting for {what}"),
            }
        }
    }

    /// Polls the swarm until `check` (asked every 100 ms, e.g. of the honest node's
    /// status) holds; panics after 60 s.
    pub async fn drive_while_waiting<F: AsyncFnMut() -> bool>(&mut self, what: &str, mut check: F) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            for _ in 0..self.feed_per_tick {
                match self.feed.next() {
                    Some(message) => {
                        self.publish(message);
                        self.fed += 1;
                    }
                    None => {
                        self.feed_done = true;
                        break;
                    }
                }
            }
            let tick = tokio::time::sleep(Duration::from_millis(100));
            tokio::pin!(tick);
            loop {
                tokio::select! {
                    event = self.swarm.select_next_some() => { self.on_event(event); }
                    _ = &mut tick => break,
                }
            }
            if check().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
        }
    }

    /// Drives the swarm until all of `feed` is published.
    pub async fn publish_all_fed(&mut self) {
        while !self.feed_done {
            self.drive_while_waiting("the feed", async || true).await;
        }
    }

    /// Sends a valid request and waits for its answer: the honest node handles a peer's
    /// messages in order, so everything sent before has been judged by then.
    pub async fn settle(&mut self) {
        let response = self
            .request(SyncRequest::Fetch {
                collection: "default".into(),
                ids: vec![[7; 32]],
            })
            .await;
        assert!(response.is_ok(), "{response:?}");
    }

    /// Drives the swarm until `node` has struck this peer, then until everything sent
    /// before has been judged; returns its strikes then.
    pub async fn struck_by(&mut self, node: &Node) -> u32 {
        let me = self.peer_id();
        self.drive_while_waiting("a strike", async || {
            peer_status(node, me).await.is_some_and(|p| p.strikes > 0)
        })
        .await;
        self.settle().await;
        peer_status(node, me).await.map_or(0, |p| p.strikes)
    }

    /// Dials `addr` and drives the swarm until that connection is refused or closed
    /// by the other side; panics if it lasts 60 s.
    pub async fn dial_refused(&mut self, addr: Multiaddr) {
        self.swarm.dial(addr).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let event = tokio::select! {
                event = self.swarm.select_next_some() => event,
                _ = tokio::time::sleep_until(deadline) => panic!("the connection was not refused"),
            };
            match event {
                SwarmEvent::ConnectionClosed {
                    num_established: 0, ..
                }
                | SwarmEvent::OutgoingConnectionError { .. } => return,
                other => self.on_event(other),
            }
        }
    }

    /// Sends `request` to the target and drives the swarm until its outcome.
    pub async fn request(&mut self, request: SyncRequest) -> Result<SyncResponse, String> {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&self.target, request);
        self.outcome_of(id).await
    }

    /// Drives the swarm until the outcome of the request `id`.
    pub async fn outcome_of(&mut self, id: OutboundRequestId) -> Result<SyncResponse, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(outcome) = self.outcomes.remove(&id) {
                return outcome;
            }
            let event = tokio::select! {
                event = self.swarm.select_next_some() => event,
                _ = tokio::time::sleep_until(deadline) => panic!("no answer to a request"),
            };
            self.on_event(event);
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            })) => {
                self.outcomes.insert(request_id, Ok(response));
                return;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                request_response::Event::OutboundFailure {
                    request_id, error, ..
                },
            )) => {
                self.outcomes.insert(request_id, Err(error.to_string()));
                return;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Stem(request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            })) => {
                self.stems_received.push(request.message().clone());
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .stem
                    .send_response(channel, qoima_net::StemResponse::Accepted);
                return;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Blobs(request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            })) => {
                self.blob_requests_received += 1;
                if self.vanish_on_blob_request {
                    let _ = self.swarm.disconnect_peer_id(peer);
                    return;
                }
                let response = match &self.corrupt_blob {
                    Some(data) => corrupted_range(data, &request),
                    None => qoima_net::BlobResponse::NotHeld,
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .blobs
                    .send_response(channel, response);
                return;
            }
            _ => {}
        }
        if let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        })) = event
        {
            let is_fetch = matches!(request, SyncRequest::Fetch { .. });
            if is_fetch {
                self.fetches_received += 1;
            } else {
                self.reconciles_received += 1;
            }
            let busy = SyncResponse::Refused("busy".into());
            let response = match &self.answer {
                Answer::Busy => busy,
                Answer::FirstThenBusy(first) if !self.answered_first => {
                    self.answered_first = true;
                    first.clone()
                }
                Answer::FirstThenBusy(_) => busy,
                Answer::EmptyBundles if is_fetch => SyncResponse::Bundle(empty_bundle()),
                Answer::EmptyBundles => busy,
            };
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, response);
        }
    }
}

/// The range `request` asks of `data`, correctly encoded but for one flipped byte of
/// data in the middle.
fn corrupted_range(data: &[u8], request: &qoima_net::BlobRequest) -> qoima_net::BlobResponse {
    use qoima_core::blob_tree;
    let mut tree = blob_tree::GroupHasher::new(data.len() as u64);
    tree.update(data);
    let outboard = tree.finish().unwrap();
    let (first, count) = (request.first_group, u64::from(request.groups));
    let Ok((start, len)) = blob_tree::range_bytes(data.len() as u64, first, count) else {
        return qoima_net::BlobResponse::NotHeld;
    };
    let mut encoded = blob_tree::encode_range(
        &outboard,
        first,
        count,
        &data[start as usize..(start + len) as usize],
    )
    .unwrap();
    let middle = encoded.len() / 2;
    encoded[middle] ^= 0x01;
    qoima_net::BlobResponse::Range(encoded)
}

/// How `node` sees `peer`, if at all.
pub async fn peer_status(node: &Node, peer: PeerId) -> Option<PeerStatus> {
    let status = node.status().await?;
    let peer = peer.to_string();
    status.peers.into_iter().find(|p| p.peer_id == peer)
}

/// A valid bundle with no items, signed by a throw-away key.
pub fn empty_bundle() -> Vec<u8> {
    raw_bundle(&throwaway(), &[], &[])
}

/// A key that signs one bundle.
pub fn throwaway() -> AuthorSecret {
    let mut seed = [0u8; 32];
    getrandom_seed(&mut seed);
    AuthorSecret::from_seed(&seed)
}

fn getrandom_seed(seed: &mut [u8; 32]) {
    // Distinct seeds without a randomness dependency: a counter and the time.
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let hash = blake3::hash(&[n.to_le_bytes(), t.to_le_bytes()].concat());
    seed.copy_from_slice(hash.as_bytes());
}

/// A bundle around arbitrary record bytes and blob items given as (hash, bytes): the
/// manifest says what the item claims to be, the bytes are whatever follows.
pub fn raw_bundle(
    bundler: &AuthorSecret,
    records: &[Vec<u8>],
    blobs: &[([u8; 32], Vec<u8>)],
) -> Vec<u8> {
    let mut items: Vec<ItemRef> = records
        .iter()
        .map(|r| ItemRef {
            kind: ItemKind::Record,
            hash: *blake3::hash(r).as_bytes(),
            size: r.len() as u64,
        })
        .collect();
    items.extend(blobs.iter().map(|(hash, bytes)| ItemRef {
        kind: ItemKind::Blob,
        hash: *hash,
        size: bytes.len() as u64,
    }));
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: 0,
        collection: "default".into(),
        items,
    };
    let mut out = Vec::new();
    // The writer checks what it writes; junk is appended by hand after the manifest.
    let mut writer = BundleWriter::new(&mut out, manifest, bundler).unwrap();
    for r in records {
        writer.write_record(r).unwrap();
    }
    // Not `finish`: it would refuse blob bytes that do not match. The header, manifest
    // and records are already written out.
    drop(writer);
    for (_, bytes) in blobs {
        out.extend_from_slice(bytes);
    }
    out
}

/// A gossip message carrying `record` in a fresh bundle: valid, and useless to anyone
/// who holds the record.
pub fn rewrapped(record: &VerifiedRecord) -> Vec<u8> {
    GossipMessage::Bundle(raw_bundle(&throwaway(), &[record.bytes().to_vec()], &[])).to_bytes()
}
