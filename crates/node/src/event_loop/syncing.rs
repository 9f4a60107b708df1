//! The event loop's sync side: reconciliation sessions with each peer, fetches, and
//! answering other nodes' requests within the bounds of `work.rs`.

use qoima_net::SyncRequest;
use qoima_net::libp2p::request_response;
use qoima_net::protocol::FETCH_IDS_MAX;
use qoima_sync::{Initiator, Step, SyncError, respond};

use super::*;

/// Fetch requests in flight to all peers together: each response may hold up to
/// `RESPONSE_BYTES_MAX` while it is read and imported.
pub(super) const FETCHES_TOTAL_MAX: usize = 6;
/// A fetch answer stops adding records past this many bytes; the requester asks again
/// for the rest. Smaller than the protocol's target so serving costs less memory.
pub(super) const SERVE_BYTES_TARGET: usize = 4 * 1024 * 1024;

impl EventLoop {
    // ----- sync sessions ----------------------------------------------------------------

    pub(super) fn sync_with_everyone(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            self.start_session(peer);
        }
    }

    /// Begins a session with `peer` unless one runs. Its first message is made off the
    /// event loop, like every step after it: each is a pass over the whole index.
    pub(super) fn start_session(&mut self, peer: PeerId) {
        let sync = self.sync.entry(peer).or_default();
        let Some(number) = sync.begin_session() else {
            return;
        };
        let from = *sync.resume();
        // A fresh salt per session keys the sketch's hashes, so nobody can prepare
        // record ids that collide in it.
        let mut salt = [0; qoima_sync::SALT_BYTES];
        getrandom::fill(&mut salt).expect("the OS random source works");
        self.step_off_loop(peer, number, move |index| {
            let (initiator, first) = Initiator::start_salted(index, &from, PeerSync::LIMITS, salt);
            (Box::new(initiator), Ok(Step::Send(first)))
        });
    }

    /// Makes a step of session `number` with `peer` on a blocking thread, over the
    /// index; its result comes back to [`EventLoop::on_stepped`].
    fn step_off_loop(
        &self,
        peer: PeerId,
        number: u64,
        step: impl FnOnce(&qoima_sync::ArchiveIndex) -> (Box<Initiator>, Result<Step, SyncError>)
        + Send
        + 'static,
    ) {
        let index = Arc::clone(&self.index);
        let tx = self.internal_tx.clone();
        tokio::task::spawn_blocking(move || {
            let (initiator, step) = step(&read_index(&index));
            let _ = tx.blocking_send(Internal::Stepped {
                peer,
                number,
                initiator,
                step,
            });
        });
    }

    fn send_reconcile(&mut self, peer: PeerId, message: Vec<u8>) {
        let request = SyncRequest::Reconcile {
            collection: self.config.collection.clone(),
            message,
        };
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.outbound.insert(id, (peer, Outbound::Reconcile));
    }

    /// Sends queued fetches, within each peer's bound and [`FETCHES_TOTAL_MAX`], and
    /// ends the sessions that have nothing left to do.
    pub(super) fn pump_fetches(&mut self) {
        let peers: Vec<PeerId> = self.sync.keys().copied().collect();
        for peer in peers {
            while self.may_fetch() {
                let Some(batch) = self.sync.get_mut(&peer).and_then(PeerSync::next_batch) else {
                    break;
                };
                let request = SyncRequest::Fetch {
                    collection: self.config.collection.clone(),
                    ids: batch.ids.clone(),
                };
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.outbound.insert(id, (peer, Outbound::Fetch(batch)));
                self.fetches_in_flight += 1;
            }
            if let Some(session) = self.sync.get_mut(&peer).and_then(PeerSync::take_finished) {
                self.end_session(peer, session);
            }
        }
    }

    fn end_session(&mut self, peer: PeerId, session: crate::session::Session) {
        let new_records = session.new_records;
        info!(%peer, new_records, complete = session.complete, elapsed_ms = session.started.elapsed().as_millis() as u64, "sync finished");
        let info = self.book.info(peer);
        info.last_sync_ms = now_ms();
        info.last_sync_new = new_records;
        let peer_text = peer.to_string();
        self.spawn_store_detached("remembering a sync", move |s| {
            s.record_sync(&peer_text, new_records)
        });
        if !session.complete && self.swarm.is_connected(&peer) {
            // A difference too large for one session: go on where it stopped.
            self.start_session(peer);
        }
    }

    /// The peer's reply is read and the next message made off the event loop: with a
    /// scattered difference that step decodes a sketch of thousands of symbols (up to
    /// about 150 ms at the session's bounds), which would hold up every other peer.
    /// One step at a time per peer: the session has one initiator, and it is away.
    fn on_reconcile_reply(&mut self, peer: PeerId, reply: Vec<u8>) {
        let Some((mut initiator, number)) =
            self.sync.get_mut(&peer).and_then(PeerSync::start_stepping)
        else {
            return;
        };
        self.step_off_loop(peer, number, move |index| {
            let step = initiator.step(index, &reply);
            (initiator, step)
        });
    }

    /// A step of session `number` with `peer` is made: send it, or fetch what the
    /// session found. Dropped if that session ended meanwhile (the peer left).
    pub(super) fn on_stepped(
        &mut self,
        peer: PeerId,
        number: u64,
        initiator: Box<Initiator>,
        step: Result<Step, SyncError>,
    ) {
        let Some(sync) = self.sync.get_mut(&peer) else {
            return;
        };
        if !sync.resume_stepping(number, initiator) {
            return;
        }
        match step {
            Ok(Step::Send(next)) => self.send_reconcile(peer, next),
            Ok(Step::Done(outcome)) => {
                debug!(%peer, need = outcome.need.len(), have = outcome.have.len(), rounds = outcome.rounds, complete = outcome.complete, sketched = outcome.sketched, "reconciled");
                if outcome.sketched {
                    self.book.info(peer).sketched += 1;
                }
                let (complete, resume) = (outcome.complete, outcome.resume);
                let need: Vec<RecordId> = outcome.need.into_iter().map(RecordId).collect();
                self.spawn_store(
                    move |s| s.missing(&need),
                    move |need| Internal::NeedChecked {
                        peer,
                        number,
                        need,
                        complete,
                        resume,
                    },
                );
            }
            // Only the peer's bytes can make a `SyncError` (a large difference is not
            // one: it ends a session early and the next goes on).
            Err(e) => {
                sync.abort_session();
                self.strike(peer, &format!("broke reconciliation: {e}"));
            }
        }
    }

    pub(super) fn on_need_checked(
        &mut self,
        peer: PeerId,
        number: u64,
        need: Result<Vec<RecordId>, StoreError>,
        complete: bool,
        resume: qoima_sync::Position,
    ) {
        let Some(sync) = self.sync.get_mut(&peer) else {
            return;
        };
        // The session may have ended meanwhile (the peer left and came back).
        if !sync.reconciling(number) {
            return;
        }
        match need {
            Ok(need) => {
                let mut need: Vec<[u8; 32]> = need.into_iter().map(|id| id.0).collect();
                crate::session::fetch_order(&mut need, &mut rand::rng());
                sync.reconciled(need, complete, resume);
                self.pump_fetches();
            }
            Err(e) => {
                // This node's failure: no blame; the next session tries again.
                warn!("checking what a sync found failed here: {e}");
                sync.abort_session();
            }
        }
    }

    pub(super) fn on_sync_event(
        &mut self,
        event: request_response::Event<SyncRequest, SyncResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_sync_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    let Some((peer, outbound)) = self.outbound.remove(&request_id) else {
                        return;
                    };
                    self.on_sync_response(peer, outbound, response);
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, "sync request failed: {error}");
                match self.outbound.remove(&request_id) {
                    // A thin link, most likely: ask again for less at a time.
                    Some((_, Outbound::Fetch(batch)))
                        if matches!(error, request_response::OutboundFailure::Timeout) =>
                    {
                        self.fetches_in_flight = self.fetches_in_flight.saturating_sub(1);
                        if let Some(sync) = self.sync.get_mut(&peer) {
                            sync.fetch_timed_out(batch);
                        }
                        self.pump_fetches();
                    }
                    Some((_, outbound)) => self.request_failed(peer, outbound),
                    None => {}
                }
                if let Some(violation) = qoima_net::violation_of_outbound(&error) {
                    self.strike(peer, &format!("sent a bad sync response: {violation}"));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, "sync request from peer failed: {error}");
                if let Some(violation) = qoima_net::violation_of_inbound(&error) {
                    self.strike(peer, &format!("sent a bad sync request: {violation}"));
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// An outbound request will get no (usable) answer.
    fn request_failed(&mut self, peer: PeerId, outbound: Outbound) {
        match outbound {
            Outbound::Reconcile => {
                if let Some(sync) = self.sync.get_mut(&peer) {
                    sync.abort_session();
                }
            }
            Outbound::Fetch(batch) => {
                self.fetches_in_flight = self.fetches_in_flight.saturating_sub(1);
                if let Some(sync) = self.sync.get_mut(&peer) {
                    sync.fetch_failed(batch.origin);
                }
                self.pump_fetches();
            }
        }
    }

    fn refuse(&mut self, channel: ResponseChannel<SyncResponse>, reason: String) {
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, SyncResponse::Refused(reason));
    }

    fn on_sync_request(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        match request {
            SyncRequest::Reconcile { collection, .. } | SyncRequest::Fetch { collection, .. }
                if collection != self.config.collection =>
            {
                let reason = format!("this node does not carry collection {collection:?}");
                self.refuse(channel, reason);
            }
            SyncRequest::Fetch { ids, .. } if ids.len() > FETCH_IDS_MAX => {
                self.refuse(channel, format!("at most {FETCH_IDS_MAX} ids per request"));
                self.strike(peer, "asked for too many records at once");
            }
            SyncRequest::Reconcile { message, .. } => {
                if !self.work.try_start(peer, Work::Reconcile) {
                    self.refuse(channel, "busy".into());
                    return;
                }
                // A pass over the whole index: off the event loop, bounded by `work.rs`.
                let index = Arc::clone(&self.index);
                let tx = self.internal_tx.clone();
                tokio::task::spawn_blocking(move || {
                    let answer = respond(&read_index(&index), &message);
                    let _ = tx.blocking_send(Internal::Answered {
                        peer,
                        channel,
                        answer,
                    });
                });
            }
            SyncRequest::Fetch { ids, .. } => {
                if !self.work.try_start(peer, Work::Serve) {
                    self.refuse(channel, "busy".into());
                    return;
                }
                let collection = self.config.collection.clone();
                let ids: Vec<RecordId> = ids.into_iter().map(RecordId).collect();
                let store = self.store.clone();
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let bundler = throwaway_bundler();
                    let started = std::time::Instant::now();
                    let response = match store
                        .call(move |s| s.bundle_of(&ids, SERVE_BYTES_TARGET, &collection, &bundler))
                        .await
                    {
                        Ok(served) => {
                            if !served.corrupt.is_empty() {
                                let _ = tx.send(Internal::Rotted(served.corrupt)).await;
                            }
                            SyncResponse::Bundle(served.bytes)
                        }
                        Err(e) => {
                            warn!("reading the archive to answer a fetch failed: {e}");
                            SyncResponse::Refused("cannot read the archive".into())
                        }
                    };
                    debug!(%peer, took_ms = started.elapsed().as_millis() as u64, "served a fetch");
                    let _ = tx
                        .send(Internal::Served {
                            peer,
                            channel,
                            response,
                        })
                        .await;
                });
            }
        }
    }

    pub(super) fn on_answered(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<SyncResponse>,
        answer: Result<Vec<u8>, SyncError>,
    ) {
        self.work.finish(peer, Work::Reconcile);
        match answer {
            Ok(reply) => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, SyncResponse::Reconcile(reply));
            }
            Err(e) => {
                self.refuse(channel, e.to_string());
                self.strike(
                    peer,
                    &format!("sent a malformed reconciliation message: {e}"),
                );
            }
        }
    }

    fn on_sync_response(&mut self, peer: PeerId, outbound: Outbound, response: SyncResponse) {
        match (outbound, response) {
            (Outbound::Reconcile, SyncResponse::Reconcile(reply)) => {
                self.on_reconcile_reply(peer, reply)
            }
            (Outbound::Fetch(batch), SyncResponse::Bundle(bytes)) => {
                self.fetches_in_flight = self.fetches_in_flight.saturating_sub(1);
                let took = batch.asked_at.map(|at| at.elapsed()).unwrap_or_default();
                debug!(%peer, ids = batch.ids.len(), bytes = bytes.len(), took_ms = took.as_millis() as u64, "fetch answered");
                if let Some(sync) = self.sync.get_mut(&peer) {
                    sync.answered(batch.ids.len(), took);
                }
                self.hold_fetched(peer, batch, bytes);
                // Its place on the wire is free: the next request goes out while this
                // answer waits for the archive.
                self.pump_fetches();
            }
            (Outbound::Fetch(batch), SyncResponse::Refused(reason)) => {
                // Most likely busy: ask again on the next tick, a few times.
                debug!(%peer, "fetch refused: {reason}");
                self.fetches_in_flight = self.fetches_in_flight.saturating_sub(1);
                if let Some(sync) = self.sync.get_mut(&peer) {
                    sync.fetch_refused(batch);
                }
            }
            (outbound, SyncResponse::Refused(reason)) => {
                debug!(%peer, "sync refused: {reason}");
                self.request_failed(peer, outbound);
            }
            (outbound, _) => {
                self.request_failed(peer, outbound);
                self.strike(
                    peer,
                    "answered a sync request with the wrong kind of response",
                );
            }
        }
    }
}
