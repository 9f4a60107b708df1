//! Attachments over `/qoima/blobs/1`: fetching the ones records here refer to, range by
//! range from every peer that has them, and serving ranges of the ones held here.
//!
//! The order and the spreading over peers are decided in `transfers.rs`; this file
//! sends, checks and stores. Checking and storing a range (BLAKE3 tree, encryption,
//! writing) and reading one to serve run on blocking threads, never on the loop; the
//! database is only ever asked through the store worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qoima_core::BlobHash;
use qoima_core::blob_tree::{self, Outboard};
use qoima_net::blobs::{BlobRequest, BlobResponse};
use qoima_net::libp2p::PeerId;
use qoima_net::libp2p::request_response::{self, OutboundFailure, ResponseChannel};
use qoima_store::{AcceptError, AttachmentState, PartialBlob, StoreError, WantedBlob};
use tracing::{debug, info, warn};

use super::{EventLoop, Internal};
use crate::status::TransferStatus;
use crate::transfers::{self, ACTIVE_MAX, ASKED_MAX, BlobPolicy, Plan, Range};
use crate::work::Work;

/// Candidates read from the archive per look.
const WANTED_BATCH: usize = 256;
/// How often the progress of a transfer is written down for other processes.
const NOTE_EVERY: Duration = Duration::from_secs(2);
/// Outboards of attachments being served, kept in memory (each 0.4 % of its blob).
const OUTBOARDS_CACHED: usize = 8;

/// Outboards of recently served attachments, by hash and size.
pub(super) type OutboardCache = Arc<Mutex<HashMap<(BlobHash, u64), Arc<Outboard>>>>;

/// An attachment being fetched.
pub(super) struct Transfer {
    partial: Arc<PartialBlob>,
    author: [u8; 32],
    plan: Plan,
    last_noted: Instant,
    installing: bool,
}

/// What one look at the archive found.
pub(super) struct BlobLook {
    /// Attachments to fetch, newest records first (empty when there was no room).
    wanted: Vec<WantedBlob>,
    /// Bytes of attachments held here (0 when there was no room: only picking needs it).
    held: u64,
    /// Attachments being fetched that are now held (imported from a bundle file).
    arrived: Vec<BlobHash>,
    /// The attachment policy saved in the archive now: the settings page may have
    /// changed it since the last look.
    policy: BlobPolicy,
}

impl BlobLook {
    fn take(
        store: &mut qoima_store::Store,
        room: bool,
        active: Vec<BlobHash>,
    ) -> Result<BlobLook, StoreError> {
        let mut arrived = Vec::new();
        for hash in active {
            if store.attachment_state(&hash)? == AttachmentState::Present {
                arrived.push(hash);
            }
        }
        Ok(BlobLook {
            wanted: match room {
                true => store.wanted_blobs(WANTED_BATCH)?,
                false => Vec::new(),
            },
            held: match room {
                true => store.blob_bytes_held()?,
                false => 0,
            },
            arrived,
            policy: store.blob_policy()?,
        })
    }
}

/// What a checked range came to.
pub(super) struct CheckedRange {
    pub(super) hash: BlobHash,
    pub(super) peer: PeerId,
    pub(super) range: Range,
    pub(super) result: Result<u64, AcceptError>,
}

impl EventLoop {
    /// Looks for attachments to fetch when there is room, drops transfers of ones that
    /// arrived another way (a bundle file imported meanwhile), and hands out ranges.
    pub(super) fn pump_blobs(&mut self) {
        if !self.looking_for_blobs {
            let room = self.transfers.len() + self.opening.len() < ACTIVE_MAX;
            let active: Vec<BlobHash> = self.transfers.keys().copied().collect();
            if room || !active.is_empty() {
                self.looking_for_blobs = true;
                self.spawn_store(move |s| BlobLook::take(s, room, active), Internal::BlobLook);
            }
        }
        self.note_progress();
        self.dispatch_ranges();
    }

    pub(super) fn on_blob_look(&mut self, look: Result<BlobLook, StoreError>) {
        self.looking_for_blobs = false;
        let BlobLook {
            mut wanted,
            mut held,
            arrived,
            policy,
        } = match look {
            Ok(look) => look,
            Err(e) => {
                warn!("looking for attachments to fetch failed: {e}");
                return;
            }
        };
        self.follow_saved_policy(policy);
        for hash in arrived {
            if self.transfers.get(&hash).is_some_and(|t| !t.installing) {
                info!(%hash, "attachment arrived another way: no longer fetched");
                self.transfers.remove(&hash);
                self.asked.remove(&hash);
                // Its partial file went when the attachment was installed.
                self.blob_requests.retain(|_, (_, h, _)| *h != hash);
            }
        }
        transfers::order(&mut wanted, &self.asked);
        let mut running: HashMap<BlobHash, [u8; 32]> = self
            .transfers
            .iter()
            .map(|(hash, t)| (*hash, t.author))
            .collect();
        running.extend(self.opening.iter().map(|(hash, author)| (*hash, *author)));
        while running.len() < ACTIVE_MAX {
            let Some(next) =
                transfers::pick(&wanted, &running, &self.asked, &self.blob_policy, held)
            else {
                break;
            };
            let (hash, size, author, have) = (next.hash, next.size, next.author, next.have);
            running.insert(hash, author);
            self.opening.insert(hash, author);
            held = held.saturating_add(size.saturating_sub(have));
            let files = self.blob_files.clone();
            let tx = self.internal_tx.clone();
            tokio::task::spawn_blocking(move || {
                let result = files.open_partial(&hash, size);
                let _ = tx.blocking_send(Internal::PartialOpened {
                    hash,
                    result: result.map(Arc::new),
                });
            });
        }
    }

    pub(super) fn on_partial_opened(
        &mut self,
        hash: BlobHash,
        result: Result<Arc<PartialBlob>, StoreError>,
    ) {
        let Some(author) = self.opening.remove(&hash) else {
            return;
        };
        let partial = match result {
            Ok(partial) => partial,
            Err(e) => {
                warn!(%hash, "could not start fetching an attachment: {e}");
                return;
            }
        };
        info!(
            %hash,
            size = partial.size(),
            have = partial.have_bytes(),
            "fetching an attachment"
        );
        let plan = Plan::new(&partial.missing_runs());
        let complete = partial.is_complete();
        self.transfers.insert(
            hash,
            Transfer {
                partial,
                author,
                plan,
                last_noted: Instant::now() - NOTE_EVERY,
                installing: false,
            },
        );
        if complete {
            self.install(hash);
        }
        self.note_progress();
        self.dispatch_ranges();
    }

    /// Asks every connected peer that may have them for ranges, within the budget.
    fn dispatch_ranges(&mut self) {
        if self.budget_spent() {
            return;
        }
        let peers: Vec<PeerId> = self
            .swarm
            .connected_peers()
            .filter(|p| !self.bans.is_banned(p))
            .copied()
            .collect();
        let mut requests = Vec::new();
        for (hash, transfer) in &mut self.transfers {
            if transfer.installing {
                continue;
            }
            for peer in &peers {
                while let Some(range) = transfer.plan.next_for(*peer) {
                    requests.push((*peer, *hash, transfer.partial.size(), range));
                }
            }
        }
        for (peer, hash, size, range) in requests {
            let request = BlobRequest {
                hash: hash.0,
                size,
                first_group: range.0,
                groups: range.1 as u32,
            };
            let id = self
                .swarm
                .behaviour_mut()
                .blobs
                .send_request(&peer, request);
            self.blob_requests.insert(id, (peer, hash, range));
        }
    }

    /// Applies the attachment policy saved in the archive, if it changed. Nothing held
    /// is deleted and transfers already running go on; the new limits decide what
    /// starts next, and the budget stops further ranges at once if it is now spent.
    fn follow_saved_policy(&mut self, policy: BlobPolicy) {
        if policy == self.blob_policy {
            return;
        }
        info!(
            fetch_up_to = policy.fetch_up_to,
            quota = ?policy.quota,
            budget = ?policy.budget,
            "the saved attachment policy changed: applied"
        );
        if policy.budget != self.blob_policy.budget {
            // A new budget is reported again once it is spent.
            self.budget_reported = false;
        }
        self.blob_policy = policy;
    }

    fn budget_spent(&mut self) -> bool {
        let Some(budget) = self.blob_policy.budget else {
            return false;
        };
        if self.budget_used < budget {
            return false;
        }
        if !self.budget_reported {
            self.budget_reported = true;
            info!(
                budget,
                "the attachment budget of this run is spent: no more attachment ranges are \
                 asked for (records still sync)"
            );
        }
        true
    }

    pub(super) fn on_blobs_event(
        &mut self,
        event: request_response::Event<BlobRequest, BlobResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.serve_range(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((peer, hash, range)) = self.blob_requests.remove(&request_id) {
                        self.on_range(peer, hash, range, response);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, "attachment request failed: {error}");
                let violation = qoima_net::violation_of_outbound(&error).cloned();
                if let Some((_, hash, range)) = self.blob_requests.remove(&request_id)
                    && let Some(transfer) = self.transfers.get_mut(&hash)
                {
                    let lacks = violation.is_some()
                        || matches!(error, OutboundFailure::UnsupportedProtocols);
                    transfer.plan.failed(range, peer, lacks);
                }
                if let Some(violation) = violation {
                    self.strike(
                        peer,
                        &format!("sent a bad attachment response: {violation}"),
                    );
                }
                self.dispatch_ranges();
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, "attachment request from peer failed: {error}");
                if let Some(violation) = qoima_net::violation_of_inbound(&error) {
                    self.strike(peer, &format!("sent a bad attachment request: {violation}"));
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_range(&mut self, peer: PeerId, hash: BlobHash, range: Range, response: BlobResponse) {
        let Some(transfer) = self.transfers.get_mut(&hash) else {
            return;
        };
        match response {
            BlobResponse::Range(encoded) => {
                let len = encoded.len() as u64;
                self.budget_used = self.budget_used.saturating_add(len);
                self.book.info(peer).blob_bytes_received += len;
                if !transfer.plan.may_ask(&peer) {
                    // It already sent bad bytes for this attachment: not checked again.
                    transfer.plan.failed(range, peer, true);
                    return;
                }
                let partial = Arc::clone(&transfer.partial);
                let tx = self.internal_tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = partial.accept(range.0, range.1, &encoded);
                    let _ = tx.blocking_send(Internal::RangeChecked(CheckedRange {
                        hash,
                        peer,
                        range,
                        result,
                    }));
                });
            }
            BlobResponse::NotHeld => {
                transfer.plan.failed(range, peer, true);
                self.dispatch_ranges();
            }
            BlobResponse::Busy => {
                transfer.plan.failed(range, peer, false);
            }
        }
    }

    pub(super) fn on_range_checked(&mut self, checked: CheckedRange) {
        let CheckedRange {
            hash,
            peer,
            range,
            result,
        } = checked;
        let Some(transfer) = self.transfers.get_mut(&hash) else {
            return;
        };
        match result {
            Ok(new_bytes) => {
                transfer.plan.done(range, new_bytes);
                if transfer.plan.is_done() && transfer.partial.is_complete() {
                    self.install(hash);
                }
            }
            // One strike per attachment and peer: ranges it sent before the first bad
            // one was found are not counted again.
            Err(AcceptError::Invalid(_)) if !transfer.plan.may_ask(&peer) => {
                transfer.plan.failed(range, peer, true);
            }
            Err(AcceptError::Invalid(e)) => {
                transfer.plan.failed(range, peer, true);
                self.strike(
                    peer,
                    &format!(
                        "sent a range of attachment {} that fails verification: {e}",
                        hash.short()
                    ),
                );
            }
            Err(AcceptError::Local(e)) => {
                // This node's failure (a full disk, typically): never the sender's.
                warn!(%hash, "storing a range of an attachment failed: {e}");
                transfer.plan.failed(range, peer, false);
            }
        }
        self.dispatch_ranges();
    }

    /// Moves a complete attachment into place and indexes it.
    fn install(&mut self, hash: BlobHash) {
        let Some(transfer) = self.transfers.get_mut(&hash) else {
            return;
        };
        if transfer.installing {
            return;
        }
        transfer.installing = true;
        let partial = Arc::clone(&transfer.partial);
        let files = self.blob_files.clone();
        let store = self.store.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let installed = tokio::task::spawn_blocking(move || files.install_partial(&partial))
                .await
                .unwrap_or_else(|e| Err(StoreError::Invalid(e.to_string())));
            let result = match installed {
                Ok(outboard) => store.call(move |s| s.add_fetched_blob(&outboard)).await,
                Err(e) => Err(e),
            };
            let _ = tx.send(Internal::BlobInstalled { hash, result }).await;
        });
    }

    pub(super) fn on_blob_installed(&mut self, hash: BlobHash, result: Result<(), StoreError>) {
        self.transfers.remove(&hash);
        match result {
            Ok(()) => {
                self.asked.remove(&hash);
                info!(%hash, "attachment complete and verified");
            }
            Err(e) => warn!(%hash, "completing an attachment failed: {e}"),
        }
        self.pump_blobs();
    }

    /// A peer left: its ranges go to others.
    pub(super) fn forget_blob_peer(&mut self, peer: &PeerId) {
        for transfer in self.transfers.values_mut() {
            transfer.plan.forget_peer(peer);
        }
        self.blob_requests.retain(|_, (p, _, _)| p != peer);
        self.dispatch_ranges();
    }

    /// Attachments asked for by `qoima fetch`: fetched first, whatever their size.
    pub(super) fn ask_for_blobs(&mut self, hashes: Vec<BlobHash>) {
        for hash in hashes {
            if self.asked.len() >= ASKED_MAX {
                warn!("too many attachments asked for at once; the rest are left for later");
                break;
            }
            self.asked.insert(hash);
        }
        self.pump_blobs();
    }

    /// Writes down how far each transfer is, for `qoima show` in other processes.
    fn note_progress(&mut self) {
        let now = Instant::now();
        let mut notes = Vec::new();
        for (hash, transfer) in &mut self.transfers {
            if now.duration_since(transfer.last_noted) >= NOTE_EVERY {
                transfer.last_noted = now;
                notes.push((
                    *hash,
                    transfer.partial.size(),
                    transfer.partial.have_bytes(),
                ));
            }
        }
        for (hash, size, have) in notes {
            self.spawn_store_detached("noting an attachment's progress", move |s| {
                s.note_partial(&hash, size, have)
            });
        }
    }

    /// What `qoima status` shows of the transfers.
    pub(super) fn transfer_status(&self) -> Vec<TransferStatus> {
        self.transfers
            .iter()
            .map(|(hash, t)| TransferStatus {
                blob: hash.to_hex(),
                size: t.partial.size(),
                have: t.partial.have_bytes(),
                bytes_per_second: t.plan.rate(),
                peers: t.plan.peers().len(),
            })
            .collect()
    }

    // ----- serving --------------------------------------------------------------------

    fn serve_range(
        &mut self,
        peer: PeerId,
        request: BlobRequest,
        channel: ResponseChannel<BlobResponse>,
    ) {
        if !self.work.try_start(peer, Work::ServeBlob) {
            let _ = self
                .swarm
                .behaviour_mut()
                .blobs
                .send_response(channel, BlobResponse::Busy);
            return;
        }
        let store = self.store.clone();
        let files = self.blob_files.clone();
        let cache = Arc::clone(&self.outboards);
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let response = answer_range(store, files, cache, request).await;
            let _ = tx
                .send(Internal::BlobServed {
                    peer,
                    channel,
                    response,
                })
                .await;
        });
    }

    pub(super) fn on_blob_served(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<BlobResponse>,
        response: BlobResponse,
    ) {
        self.work.finish(peer, Work::ServeBlob);
        if let BlobResponse::Range(bytes) = &response {
            self.book.info(peer).blob_bytes_sent += bytes.len() as u64;
        }
        let _ = self
            .swarm
            .behaviour_mut()
            .blobs
            .send_response(channel, response);
    }
}

/// The encoded range a peer asked for, if this node holds and may serve that blob.
async fn answer_range(
    store: crate::store_worker::StoreHandle,
    files: qoima_store::BlobFiles,
    cache: OutboardCache,
    request: BlobRequest,
) -> BlobResponse {
    let hash = BlobHash(request.hash);
    let key = (hash, request.size);
    let cached = lock(&cache).get(&key).cloned();
    let outboard = match cached {
        Some(outboard) => outboard,
        None => match store
            .call(move |s| s.serving_outboard(&hash, request.size))
            .await
        {
            Ok(Some(outboard)) => {
                let outboard = Arc::new(outboard);
                let mut cache = lock(&cache);
                if cache.len() >= OUTBOARDS_CACHED {
                    let evict = *cache.keys().next().expect("the cache is not empty");
                    cache.remove(&evict);
                }
                cache.insert(key, Arc::clone(&outboard));
                outboard
            }
            Ok(None) => return BlobResponse::NotHeld,
            Err(e) => {
                warn!(%hash, "looking up an attachment to serve failed: {e}");
                return BlobResponse::Busy;
            }
        },
    };
    let (first, count) = (request.first_group, u64::from(request.groups));
    if blob_tree::range_bytes(request.size, first, count).is_err() {
        return BlobResponse::NotHeld;
    }
    let encoded = tokio::task::spawn_blocking(move || {
        let data = files.read_groups(&hash, first, count)?;
        let Some(data) = data else {
            return Ok(None);
        };
        blob_tree::encode_range(&outboard, first, count, &data)
            .map(Some)
            .map_err(|e| StoreError::Invalid(e.to_string()))
    })
    .await;
    match encoded {
        Ok(Ok(Some(bytes))) => BlobResponse::Range(bytes),
        Ok(Ok(None)) => BlobResponse::NotHeld,
        Ok(Err(e)) => {
            // Rotted or altered on disk: never sent. Not the asker's fault either.
            warn!(%hash, "reading an attachment to serve failed: {e}");
            BlobResponse::NotHeld
        }
        Err(e) => {
            warn!(%hash, "serving an attachment failed: {e}");
            BlobResponse::Busy
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
