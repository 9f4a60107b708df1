//! The event loop's sync side: reconciliation sessions with each peer, fetches, and
//! answering other nodes' requests.

use std::collections::HashSet;

use qoima_core::RecordId;
use qoima_core::bundle::BundleReader;
use qoima_net::SyncRequest;
use qoima_net::libp2p::request_response;
use qoima_net::protocol::{FETCH_BUNDLE_BYTES_TARGET, FETCH_IDS_MAX};
use qoima_store::Source;
use qoima_sync::{Initiator, Step, respond};

use super::*;
use crate::session::{ROUNDS_MAX, Stage};

impl EventLoop {
    // ----- sync sessions ----------------------------------------------------------------

    pub(super) fn sync_with_everyone(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            self.start_session(peer);
        }
    }

    pub(super) fn start_session(&mut self, peer: PeerId) {
        if self.sessions.contains_key(&peer) {
            return;
        }
        match Initiator::start(&self.index, ROUNDS_MAX) {
            Ok((initiator, first)) => {
                self.sessions.insert(peer, Session::new(initiator));
                self.send_reconcile(peer, first);
            }
            Err(e) => warn!("cannot start reconciliation: {e}"),
        }
    }

    pub(super) fn send_reconcile(&mut self, peer: PeerId, message: Vec<u8>) {
        let request = SyncRequest::Reconcile {
            collection: self.config.collection.clone(),
            message,
        };
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.outbound.insert(id, (peer, Outbound::Reconcile));
    }

    pub(super) fn send_fetch(&mut self, peer: PeerId, ids: Vec<[u8; 32]>, in_session: bool) {
        let request = SyncRequest::Fetch {
            collection: self.config.collection.clone(),
            ids: ids.clone(),
        };
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.outbound
            .insert(id, (peer, Outbound::Fetch { ids, in_session }));
    }

    pub(super) fn pump_fetches(&mut self, peer: PeerId) {
        while let Some(batch) = self.sessions.get_mut(&peer).and_then(Session::next_batch) {
            self.send_fetch(peer, batch, true);
        }
        if self.sessions.get(&peer).is_some_and(Session::finished) {
            self.end_session(peer);
        }
    }

    pub(super) fn end_session(&mut self, peer: PeerId) {
        let Some(session) = self.sessions.remove(&peer) else {
            return;
        };
        let new_records = session.new_records;
        info!(%peer, new_records, elapsed_ms = session.started.elapsed().as_millis() as u64, "sync finished");
        let info = self.book.info(peer);
        info.last_sync_ms = now_ms();
        info.last_sync_new = new_records;
        let peer_text = peer.to_string();
        self.spawn_store(
            move |s| s.record_sync(&peer_text, new_records),
            |_| Internal::Publish(Vec::new()),
        );
    }

    pub(super) fn on_reconcile_reply(&mut self, peer: PeerId, reply: Vec<u8>) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        let Stage::Reconciling(initiator) = &mut session.stage else {
            return;
        };
        match initiator.step(&self.index, &reply) {
            Ok(Step::Send(next)) => self.send_reconcile(peer, next),
            Ok(Step::Done(outcome)) => {
                debug!(%peer, need = outcome.need.len(), have = outcome.have.len(), rounds = outcome.rounds, "reconciled");
                session.fetch(outcome.need);
                self.pump_fetches(peer);
            }
            Err(e) => {
                self.sessions.remove(&peer);
                self.strike(peer, &format!("broke reconciliation: {e}"));
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
                if let Some((
                    _,
                    Outbound::Fetch {
                        in_session: true, ..
                    }
                    | Outbound::Reconcile,
                )) = self.outbound.remove(&request_id)
                {
                    // The session cannot finish; the next connection or timer restarts it.
                    self.sessions.remove(&peer);
                }
                if is_protocol_violation(&error.to_string()) {
                    self.strike(peer, "sent a malformed or oversized sync response");
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, "sync request from peer failed: {error}");
                if is_protocol_violation(&error.to_string()) {
                    self.strike(peer, "sent a malformed or oversized sync request");
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    pub(super) fn on_sync_request(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        let refuse = |this: &mut Self, channel, reason: String| {
            let _ = this
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, SyncResponse::Refused(reason));
        };
        match request {
            SyncRequest::Reconcile { collection, .. } | SyncRequest::Fetch { collection, .. }
                if collection != self.config.collection =>
            {
                refuse(
                    self,
                    channel,
                    format!("this node does not carry collection {collection:?}"),
                );
            }
            SyncRequest::Reconcile { message, .. } => match respond(&self.index, &message) {
                Ok(reply) => {
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, SyncResponse::Reconcile(reply));
                }
                Err(e) => {
                    refuse(self, channel, e.to_string());
                    self.strike(peer, "sent a malformed reconciliation message");
                }
            },
            SyncRequest::Fetch { ids, .. } if ids.len() > FETCH_IDS_MAX => {
                refuse(
                    self,
                    channel,
                    format!("at most {FETCH_IDS_MAX} ids per request"),
                );
                self.strike(peer, "asked for too many records at once");
            }
            SyncRequest::Fetch { ids, .. } => {
                let collection = self.config.collection.clone();
                let ids: Vec<RecordId> = ids.into_iter().map(RecordId).collect();
                let store = self.store.clone();
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let bundler = throwaway_bundler();
                    let response = match store
                        .call(move |s| {
                            s.bundle_of(&ids, FETCH_BUNDLE_BYTES_TARGET, &collection, &bundler)
                        })
                        .await
                    {
                        Ok(served) => SyncResponse::Bundle(served.bytes),
                        Err(e) => SyncResponse::Refused(format!("cannot read the archive: {e}")),
                    };
                    let _ = tx.send(Internal::Serve { channel, response }).await;
                });
            }
        }
    }

    pub(super) fn on_sync_response(
        &mut self,
        peer: PeerId,
        outbound: Outbound,
        response: SyncResponse,
    ) {
        match (outbound, response) {
            (Outbound::Reconcile, SyncResponse::Reconcile(reply)) => {
                self.on_reconcile_reply(peer, reply)
            }
            (Outbound::Fetch { ids, in_session }, SyncResponse::Bundle(bytes)) => {
                let peer_text = peer.to_string();
                self.spawn_store(
                    move |s| {
                        // What the bundle lists, to ask again for what did not fit.
                        let listed: HashSet<[u8; 32]> = match BundleReader::open(&bytes[..]) {
                            Ok(reader) => reader.manifest().items.iter().map(|i| i.hash).collect(),
                            Err(_) => HashSet::new(),
                        };
                        let leftover = ids.into_iter().filter(|id| !listed.contains(id)).collect();
                        let report = s.import_bundle(&bytes[..], Source::Peer(peer_text))?;
                        Ok((report, leftover))
                    },
                    move |result| match result {
                        Ok((report, leftover)) => Internal::Imported {
                            peer,
                            in_session,
                            leftover,
                            result: Ok(report),
                        },
                        Err(e) => Internal::Imported {
                            peer,
                            in_session,
                            leftover: Vec::new(),
                            result: Err(e),
                        },
                    },
                );
            }
            (outbound, SyncResponse::Refused(reason)) => {
                debug!(%peer, "sync refused: {reason}");
                if matches!(
                    outbound,
                    Outbound::Reconcile
                        | Outbound::Fetch {
                            in_session: true,
                            ..
                        }
                ) {
                    self.sessions.remove(&peer);
                }
            }
            (_, _) => {
                self.sessions.remove(&peer);
                self.strike(
                    peer,
                    "answered a sync request with the wrong kind of response",
                );
            }
        }
    }
}

fn is_protocol_violation(error: &str) -> bool {
    error.contains("exceeds the limit")
        || error.contains("undecodable")
        || error.contains("non-canonical")
}
