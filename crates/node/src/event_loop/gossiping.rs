//! The event loop's gossip side: noticing new records in the archive, announcing them,
//! and checking what peers announce before it is forwarded.

use qoima_net::gossip::{ANNOUNCE_IDS_MAX, INLINE_BUNDLE_BYTES_MAX};
use qoima_store::Source;

use super::*;

impl EventLoop {
    // ----- the archive ---------------------------------------------------------------

    /// Looks for records that arrived since the last look (from this node's imports or
    /// from other processes) and announces those that did not come from a peer.
    pub(super) fn poll_store(&mut self) {
        if self.polling {
            self.poll_again = true;
            return;
        }
        self.polling = true;
        let after = self.last_rowid;
        self.spawn_store(
            move |s| s.arrived_after(after, POLL_BATCH),
            Internal::Polled,
        );
    }

    pub(super) fn on_polled(&mut self, arrived: Vec<ArrivedRecord>) {
        self.polling = false;
        let full = arrived.len() == POLL_BATCH;
        let mut announce = Vec::new();
        for record in &arrived {
            self.last_rowid = self.last_rowid.max(record.rowid);
            if record.announce {
                announce.push(record.id);
            }
        }
        write_index(&self.index).extend(arrived.iter().map(|r| (r.created_ms, r.id.0)));
        if !announce.is_empty() {
            self.prepare_announcement(announce);
        }
        if full || std::mem::take(&mut self.poll_again) {
            self.poll_store();
        } else if !arrived.is_empty() && self.fetching_paused() {
            // New records wait for the full-text index; index them once fetching has
            // paused, so a catch-up stores first and a search soon after still answers
            // at once. Not before this node has caught up with its own archive: a batch
            // of indexing holds the archive's thread for about a second, and the next
            // poll, which tells peers and `status` what arrived, would wait behind it.
            self.index_for_search();
        }
    }

    /// Small news travels inline as a bundle; larger news as ids to fetch.
    pub(super) fn prepare_announcement(&mut self, ids: Vec<RecordId>) {
        let collection = self.config.collection.clone();
        let tx = self.internal_tx.clone();
        let store = self.store.clone();
        tokio::spawn(async move {
            let bundler = throwaway_bundler();
            let wanted = ids.len();
            let target = INLINE_BUNDLE_BYTES_MAX - 4096;
            let ids_for_bundle = ids.clone();
            let bundle = store
                .call(move |s| s.bundle_of(&ids_for_bundle, target, &collection, &bundler))
                .await;
            let messages = match bundle {
                Ok(served)
                    if served.records == wanted
                        && served.bytes.len() <= INLINE_BUNDLE_BYTES_MAX =>
                {
                    vec![GossipMessage::Bundle(served.bytes)]
                }
                _ => ids
                    .chunks(ANNOUNCE_IDS_MAX)
                    .map(|chunk| GossipMessage::Announce {
                        ids: chunk.iter().map(|id| id.0).collect(),
                    })
                    .collect(),
            };
            let _ = tx.send(Internal::SpreadLocal(messages)).await;
        });
    }

    pub(super) fn publish(&mut self, messages: Vec<GossipMessage>) {
        for message in messages {
            match self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(self.topic.clone(), message.to_bytes())
            {
                Ok(_) => debug!("published new records"),
                // Offline is normal: anti-entropy delivers them when peers appear.
                Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                    debug!("no peers to gossip to; records will travel by sync")
                }
                Err(gossipsub::PublishError::Duplicate) => {}
                Err(e) => warn!("gossip publish failed: {e}"),
            }
        }
    }

    /// Runs `job` on the archive and hands its result, through `then`, back to the loop.
    pub(super) fn spawn_store<T, F>(
        &self,
        job: F,
        then: impl FnOnce(Result<T, StoreError>) -> Internal + Send + 'static,
    ) where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let result = store.call(job).await;
            let _ = tx.send(then(result)).await;
        });
    }

    /// Runs `job` on the archive for its effect alone; a failure is logged as `what`.
    pub(super) fn spawn_store_detached<F>(&self, what: &'static str, job: F)
    where
        F: FnOnce(&mut Store) -> Result<(), StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.call(job).await {
                warn!("{what} failed: {e}");
            }
        });
    }

    fn report(&mut self, id: &MessageId, source: &PeerId, acceptance: MessageAcceptance) {
        let _ = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, acceptance);
    }

    /// Tells whoever sent a checked message what became of it.
    fn finish(&mut self, source: PeerId, reply: Reply, acceptance: MessageAcceptance) {
        match reply {
            Reply::Gossip(id) => self.report(&id, &source, acceptance),
            Reply::Stem { channel, bytes } => self.answer_stem(channel, bytes, acceptance),
        }
    }

    /// A gossip message arrived.
    pub(super) fn on_gossip(&mut self, source: PeerId, id: MessageId, data: Vec<u8>) {
        if self.refuse_work(source) {
            self.report(&id, &source, MessageAcceptance::Ignore);
            return;
        }
        match GossipMessage::from_bytes(&data) {
            Ok(message) => self.check(source, message, Reply::Gossip(id)),
            Err(e) => {
                self.work.finish(source, Work::Gossip);
                self.report(&id, &source, MessageAcceptance::Reject);
                self.strike(source, &format!("sent undecodable gossip ({e})"));
            }
        }
    }

    /// A message handed over by a stem hop (already decoded by its codec).
    pub(super) fn check_message(&mut self, source: PeerId, message: GossipMessage, reply: Reply) {
        if self.refuse_work(source) {
            self.finish(source, reply, MessageAcceptance::Ignore);
            return;
        }
        self.check(source, message, reply);
    }

    /// True if a message from `source` is not to be worked on: the sender has spent its
    /// budget of useless gossip, or the bounds of `work.rs` are reached. Otherwise a work
    /// slot is taken, given back when the check is done.
    fn refuse_work(&mut self, source: PeerId) -> bool {
        let refused = self.book.throttled(source) || !self.work.try_start(source, Work::Gossip);
        if refused {
            debug!(%source, "gossip ignored unread");
        }
        refused
    }

    /// Checks a message within the work slot taken for it.
    fn check(&mut self, source: PeerId, message: GossipMessage, reply: Reply) {
        match message {
            GossipMessage::Bundle(bytes) => {
                let peer = source.to_string();
                self.spawn_store(
                    move |s| s.import_network_bundle(&bytes[..], Source::Peer(peer)),
                    move |result| Internal::GossipChecked {
                        reply,
                        source,
                        verdict: match result {
                            Ok(report) => match report.sender_fault() {
                                None => GossipVerdict::Valid {
                                    new_records: report.records_new,
                                    declined: report.declined.iter().map(|(_, n)| n).sum(),
                                },
                                Some(fault) => GossipVerdict::Invalid(fault.to_string()),
                            },
                            Err(e) => {
                                warn!("checking a gossiped bundle failed here: {e}");
                                GossipVerdict::NotChecked
                            }
                        },
                    },
                );
            }
            GossipMessage::Announce { ids } => {
                let ids: Vec<RecordId> = ids.into_iter().map(RecordId).collect();
                self.spawn_store(
                    move |s| s.missing(&ids),
                    move |missing| Internal::AnnounceChecked {
                        reply,
                        source,
                        missing,
                    },
                );
            }
        }
    }

    pub(super) fn on_gossip_checked(
        &mut self,
        reply: Reply,
        source: PeerId,
        verdict: GossipVerdict,
    ) {
        self.work.finish(source, Work::Gossip);
        debug!(%source, "gossip checked: {verdict:?}");
        match verdict {
            GossipVerdict::Valid {
                new_records: 0,
                declined,
            } => {
                self.book.info(source).declined += declined;
                // Valid but nothing new: old records, perhaps re-wrapped in a new bundle.
                // Not forwarded (it is news to no one downstream of us either) and
                // counted against the sender's budget, unless this node's own policy is
                // why nothing was new: local policy costs the sender nothing.
                self.finish(source, reply, MessageAcceptance::Ignore);
                if declined == 0 {
                    self.book.useless(source);
                }
            }
            GossipVerdict::Valid {
                new_records,
                declined,
            } => {
                // A bundle holding records this node declined is not passed on as it is:
                // what the policy keeps out is neither stored nor forwarded here. What
                // it kept travels on by sync.
                let acceptance = if declined == 0 {
                    MessageAcceptance::Accept
                } else {
                    MessageAcceptance::Ignore
                };
                self.finish(source, reply, acceptance);
                self.book.info(source).declined += declined;
                self.book.info(source).received += new_records;
                self.poll_store();
            }
            GossipVerdict::Invalid(reason) => {
                self.finish(source, reply, MessageAcceptance::Reject);
                self.strike(source, &format!("gossiped an invalid bundle: {reason}"));
            }
            GossipVerdict::NotChecked => self.finish(source, reply, MessageAcceptance::Ignore),
        }
    }

    /// An announcement's ids were looked up. Its bytes are never forwarded (ids are
    /// cheap to invent); the records it leads to are fetched from the announcer within
    /// the usual fetch bounds, and re-announced by this node once it holds them.
    pub(super) fn on_announce_checked(
        &mut self,
        reply: Reply,
        source: PeerId,
        missing: Result<Vec<RecordId>, StoreError>,
    ) {
        self.work.finish(source, Work::Gossip);
        let missing = match missing {
            Ok(missing) => missing,
            Err(e) => {
                warn!("looking up announced records failed here: {e}");
                self.finish(source, reply, MessageAcceptance::Ignore);
                return;
            }
        };
        if missing.is_empty() || !self.swarm.is_connected(&source) {
            self.finish(source, reply, MessageAcceptance::Ignore);
            self.book.useless(source);
            return;
        }
        match reply {
            // Gossiped announcements are never forwarded as they are (ids cost nothing
            // to invent). A stem hop is taken: the records are fetched and announced by
            // this node once it holds them.
            Reply::Gossip(id) => self.report(&id, &source, MessageAcceptance::Ignore),
            Reply::Stem { channel, .. } => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .stem
                    .send_response(channel, qoima_net::StemResponse::Accepted);
            }
        }
        let ids = missing.into_iter().map(|id| id.0).collect();
        self.sync.entry(source).or_default().announced(ids);
        self.pump_fetches();
    }
}
