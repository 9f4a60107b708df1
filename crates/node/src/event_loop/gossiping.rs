//! The event loop's gossip side: noticing new records in the archive, announcing them,
//! and checking what peers announce before it is forwarded.

use qoima_core::RecordId;
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
        self.index
            .extend(arrived.iter().map(|r| (r.created_ms, r.id.0)));
        if !announce.is_empty() {
            self.prepare_announcement(announce);
        }
        if full || std::mem::take(&mut self.poll_again) {
            self.poll_store();
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
            let _ = tx.send(Internal::Publish(messages)).await;
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

    pub(super) fn on_gossip(&mut self, source: PeerId, id: MessageId, data: Vec<u8>) {
        let message = match GossipMessage::from_bytes(&data) {
            Ok(message) => message,
            Err(e) => {
                debug!(%source, "undecodable gossip: {e}");
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, MessageAcceptance::Reject);
                self.strike(source, "sent undecodable gossip");
                return;
            }
        };
        match message {
            GossipMessage::Bundle(bytes) => {
                let peer = source.to_string();
                self.spawn_store(
                    move |s| s.import_bundle(&bytes[..], Source::Peer(peer)),
                    move |result| {
                        let (acceptance, report) = match result {
                            Ok(report) if report.is_clean() => {
                                (MessageAcceptance::Accept, Some(report))
                            }
                            Ok(report) => (MessageAcceptance::Reject, Some(report)),
                            Err(_) => (MessageAcceptance::Ignore, None),
                        };
                        Internal::GossipChecked {
                            id,
                            source,
                            acceptance,
                            report,
                        }
                    },
                );
            }
            GossipMessage::Announce { ids } => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, MessageAcceptance::Accept);
                let ids: Vec<RecordId> = ids.into_iter().map(RecordId).collect();
                self.spawn_store(
                    move |s| s.missing(&ids),
                    move |result| Internal::FetchFrom {
                        peer: source,
                        ids: result
                            .unwrap_or_default()
                            .into_iter()
                            .map(|id| id.0)
                            .collect(),
                    },
                );
            }
        }
    }
}
