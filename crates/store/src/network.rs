//! What the node needs from the archive to sync it with peers: the index of ids, the
//! records that arrived since it last looked, bundles of records by id, and the peers
//! it has met.

use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{AuthorSecret, RecordId, VerifiedRecord};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::archive::now_ms;
use crate::{Store, StoreError};

/// A record that arrived since a given point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivedRecord {
    /// Position in arrival order.
    pub rowid: i64,
    /// Claimed creation time (the reconciliation key).
    pub created_ms: i64,
    /// Record id.
    pub id: RecordId,
    /// True if it came from this device or a file, not from a peer: such records are
    /// news the node should announce.
    pub announce: bool,
}

/// A bundle made to answer a peer, and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The bundle.
    pub bytes: Vec<u8>,
    /// How many records it holds.
    pub records: usize,
    /// Asked-for records found corrupt on disk and left out; see [`Store::quarantine`].
    pub corrupt: Vec<RecordId>,
}

/// A peer this node has met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownPeer {
    /// libp2p peer id.
    pub peer_id: String,
    /// Addresses it was reached at or announced.
    pub addrs: Vec<String>,
    /// Last time it was connected, ms since the epoch.
    pub last_seen_ms: i64,
    /// Last successful sync with it, ms since the epoch (0 = never).
    pub last_sync_ms: i64,
    /// Records that sync brought.
    pub last_sync_new: i64,
}

impl Store {
    /// Every record's `(claimed creation time, id)`, for the reconciliation index, and
    /// every tombstone's, so that peers do not offer a retracted record back. (Declined
    /// records are not in it: they are filtered out of what a sync fetches, see
    /// [`Store::missing`], and may be welcome later.)
    pub fn index_entries(&self) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        // Served from the covering index `records_by_created`, never the table.
        let mut stmt = self.db.prepare(
            "SELECT created_ms, id FROM records INDEXED BY records_by_created
                 WHERE rowid NOT IN (SELECT record FROM held_back)
             UNION ALL SELECT created_ms, id FROM tombstones WHERE offered",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The highest arrival position so far (0 for an empty archive).
    pub fn last_rowid(&self) -> Result<i64, StoreError> {
        Ok(self
            .db
            .query_row("SELECT coalesce(max(rowid), 0) FROM records", [], |r| {
                r.get(0)
            })?)
    }

    /// A number that changes whenever another connection (a `qoima add` or `import`
    /// running beside the node) commits to the archive.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .db
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    /// Records stored after `rowid`, oldest first, at most `limit`; held-back records
    /// (written here without consent to share) are never among them.
    pub fn arrived_after(
        &self,
        rowid: i64,
        limit: usize,
    ) -> Result<Vec<ArrivedRecord>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT r.rowid, r.created_ms, r.id,
                    EXISTS (SELECT 1 FROM provenance p WHERE p.record = r.rowid AND p.source != 'peer')
             FROM records r WHERE r.rowid > ?1
               AND r.rowid NOT IN (SELECT record FROM held_back)
             ORDER BY r.rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![rowid, limit as i64], |row| {
            Ok(ArrivedRecord {
                rowid: row.get(0)?,
                created_ms: row.get(1)?,
                id: RecordId(row.get(2)?),
                announce: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A bundle, in memory, of those of `ids` this archive holds, stopping before the
    /// items would pass `bytes_target`.
    ///
    /// Every record is hashed again first: one whose stored bytes no longer hash to its
    /// id (disk rot, tampering) is left out and named in [`Served::corrupt`], never sent.
    /// Sent, it would make the receiver strike this node for bytes it cannot verify; left
    /// in place, [`Store::quarantine`] removes it so a good copy can be fetched again.
    pub fn bundle_of(
        &self,
        ids: &[RecordId],
        bytes_target: usize,
        collection: &str,
        bundler: &AuthorSecret,
    ) -> Result<Served, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT bytes FROM records WHERE id = ?1
                 AND rowid NOT IN (SELECT record FROM held_back)",
        )?;
        let mut records: Vec<(RecordId, Vec<u8>)> = Vec::new();
        let mut corrupt = Vec::new();
        let mut total = 0usize;
        for id in ids {
            // A value that is no longer a blob is as corrupt as a changed byte.
            let Some(bytes) = stmt
                .query_row([id.as_bytes()], |r| {
                    Ok(r.get_ref(0)?.as_blob().ok().map(<[u8]>::to_vec))
                })
                .optional()?
            else {
                continue;
            };
            // Hashing is enough: the bytes were verified (hash, encoding, signature)
            // before they were stored, and any change to them changes the hash.
            let Some(bytes) = bytes.filter(|b| RecordId::of(b) == *id) else {
                corrupt.push(*id);
                continue;
            };
            if total + bytes.len() > bytes_target && !records.is_empty() {
                break;
            }
            total += bytes.len();
            records.push((*id, bytes));
        }
        let items = records
            .iter()
            .map(|(id, bytes)| ItemRef {
                kind: ItemKind::Record,
                hash: id.0,
                size: bytes.len() as u64,
            })
            .collect();
        let manifest = Manifest {
            bundler: bundler.public(),
            created_ms: now_ms(),
            collection: collection.into(),
            items,
        };
        let mut writer = BundleWriter::new(Vec::with_capacity(total + 4096), manifest, bundler)?;
        for (_, bytes) in &records {
            writer.write_record(bytes)?;
        }
        Ok(Served {
            bytes: writer.finish()?,
            records: records.len(),
            corrupt,
        })
    }

    /// Removes those of `ids` whose stored bytes fail verification (they no longer hash
    /// to their id, or no longer verify) from the archive: the record, its full-text
    /// entry, attachment links and provenance, in one transaction. Each is logged in
    /// `corrupt_records` with the provenance it had. The record is then missing, so the
    /// next sync fetches a good copy, stored as any new record. Records that verify are
    /// kept, so a mistaken caller cannot delete testimony. Returns the ids removed, each
    /// with the claimed creation time it was indexed under (for the reconciliation
    /// index).
    pub fn quarantine(&mut self, ids: &[RecordId]) -> Result<Vec<(i64, RecordId)>, StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now_ms();
        let mut removed = Vec::new();
        for id in ids {
            let Some((rowid, bytes, created_ms)) = tx
                .prepare_cached("SELECT rowid, bytes, created_ms FROM records WHERE id = ?1")?
                .query_row([id.as_bytes()], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .optional()?
            else {
                continue;
            };
            let sound = RecordId::of(&bytes) == *id && VerifiedRecord::from_bytes(bytes).is_ok();
            if sound {
                continue;
            }
            let provenance = tx
                .prepare_cached(
                    "SELECT source, bundle, origin, received_ms FROM provenance
                     WHERE record = ?1 ORDER BY received_ms",
                )?
                .query_map([rowid], |r| {
                    let bundle: Vec<u8> = r.get(1)?;
                    Ok(format!(
                        "{} {} {} {}",
                        r.get::<_, String>(0)?,
                        if bundle.is_empty() {
                            "-".to_owned()
                        } else {
                            data_encoding::HEXLOWER.encode(&bundle)
                        },
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?
                .join("\n");
            tx.execute(
                "INSERT INTO corrupt_records (id, detected_ms, provenance) VALUES (?1, ?2, ?3)",
                params![id.as_bytes(), now, provenance],
            )?;
            // Children first: provenance and attachments reference the row.
            tx.execute("DELETE FROM held_back WHERE record = ?1", [rowid])?;
            tx.execute("DELETE FROM provenance WHERE record = ?1", [rowid])?;
            tx.execute("DELETE FROM attachments WHERE record = ?1", [rowid])?;
            tx.execute("DELETE FROM endorsements WHERE record = ?1", [rowid])?;
            tx.execute("DELETE FROM revocations WHERE record = ?1", [rowid])?;
            crate::search::forget(&tx, rowid)?;
            tx.execute("DELETE FROM records WHERE rowid = ?1", [rowid])?;
            removed.push((created_ms, *id));
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Those of `ids` this archive does not hold and wants: a record retracted here is
    /// held as its tombstone, and one the acceptance policy declined lately is not
    /// wanted; neither is to be fetched again.
    pub fn missing(&self, ids: &[RecordId]) -> Result<Vec<RecordId>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT 1 FROM records WHERE id = ?1 UNION ALL SELECT 1 FROM tombstones WHERE id = ?1
             UNION ALL SELECT 1 FROM declined WHERE id = ?1",
        )?;
        let mut missing = Vec::new();
        for id in ids {
            if !stmt.exists([id.as_bytes()])? {
                missing.push(*id);
            }
        }
        Ok(missing)
    }

    /// Notes that `peer_id` was connected at (or announced) `addr` now. The book stays
    /// bounded whatever peers claim: the [`ADDRS_PER_PEER_MAX`] most recently seen
    /// addresses per peer, the [`PEERS_MAX`] most recently seen peers.
    pub fn remember_peer(&self, peer_id: &str, addr: &str) -> Result<(), StoreError> {
        self.remember_peer_at(peer_id, addr, now_ms())
    }

    pub(crate) fn remember_peer_at(
        &self,
        peer_id: &str,
        addr: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.db.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO peers (peer_id, last_seen_ms) VALUES (?1, ?2)
             ON CONFLICT (peer_id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
            params![peer_id, now],
        )?;
        if !addr.is_empty() {
            tx.execute(
                "INSERT INTO peer_addrs (peer_id, addr, last_seen_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (peer_id, addr) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
                params![peer_id, addr, now],
            )?;
            // Keep the few freshest addresses per peer: a phone hops between networks, and
            // a peer's identify claims are not to fill the disk. The address just seen
            // is kept even if its clock reading ties with older ones.
            tx.execute(
                "DELETE FROM peer_addrs WHERE peer_id = ?1 AND addr NOT IN
                 (SELECT addr FROM peer_addrs WHERE peer_id = ?1
                  ORDER BY addr = ?2 DESC, last_seen_ms DESC, addr LIMIT ?3)",
                params![peer_id, addr, ADDRS_PER_PEER_MAX as i64],
            )?;
        }
        evict_peers(&tx, peer_id)?;
        tx.commit()?;
        Ok(())
    }

    /// Notes a completed sync with `peer_id` that brought `new_records`.
    pub fn record_sync(&self, peer_id: &str, new_records: u64) -> Result<(), StoreError> {
        let tx = self.db.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO peers (peer_id, last_seen_ms, last_sync_ms, last_sync_new) VALUES (?1, ?2, ?2, ?3)
             ON CONFLICT (peer_id) DO UPDATE SET last_sync_ms = ?2, last_sync_new = ?3",
            params![peer_id, now_ms(), new_records as i64],
        )?;
        evict_peers(&tx, peer_id)?;
        tx.commit()?;
        Ok(())
    }

    /// Every peer met, most recently seen first, each once, with its addresses (each
    /// once, most recently seen first): ready to dial without further de-duplication.
    pub fn known_peers(&self) -> Result<Vec<KnownPeer>, StoreError> {
        // One sorted pass over a join instead of a query per peer.
        let mut stmt = self.db.prepare(
            "SELECT p.peer_id, p.last_seen_ms, p.last_sync_ms, p.last_sync_new, a.addr
             FROM peers p LEFT JOIN peer_addrs a ON a.peer_id = p.peer_id
             ORDER BY p.last_seen_ms DESC, p.peer_id, a.last_seen_ms DESC, a.addr",
        )?;
        let mut rows = stmt.query([])?;
        let mut peers: Vec<KnownPeer> = Vec::new();
        while let Some(row) = rows.next()? {
            let peer_id: String = row.get(0)?;
            let addr: Option<String> = row.get(4)?;
            match peers.last_mut() {
                Some(last) if last.peer_id == peer_id => last.addrs.extend(addr),
                _ => peers.push(KnownPeer {
                    peer_id,
                    addrs: addr.into_iter().collect(),
                    last_seen_ms: row.get(1)?,
                    last_sync_ms: row.get(2)?,
                    last_sync_new: row.get(3)?,
                }),
            }
        }
        Ok(peers)
    }
}

/// Addresses remembered per peer, at most.
pub const ADDRS_PER_PEER_MAX: usize = 4;
/// Peers remembered, at most.
pub const PEERS_MAX: usize = 1000;

/// Forgets the least recently seen peers (and their addresses) beyond [`PEERS_MAX`],
/// never `keep`, the peer just noted.
fn evict_peers(tx: &rusqlite::Transaction<'_>, keep: &str) -> Result<(), StoreError> {
    let count: i64 = tx.query_row("SELECT count(*) FROM peers", [], |r| r.get(0))?;
    let excess = count - PEERS_MAX as i64;
    if excess <= 0 {
        return Ok(());
    }
    let doomed: Vec<String> = tx
        .prepare_cached(
            "SELECT peer_id FROM peers WHERE peer_id != ?1
             ORDER BY last_seen_ms, peer_id LIMIT ?2",
        )?
        .query_map(params![keep, excess], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for peer in &doomed {
        tx.execute("DELETE FROM peer_addrs WHERE peer_id = ?1", [peer])?;
        tx.execute("DELETE FROM peers WHERE peer_id = ?1", [peer])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use super::*;

    fn store(dir: &tempfile::TempDir) -> Store {
        let store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        // Thousands of small commits; durability is not what is tested here.
        store.db.pragma_update(None, "synchronous", "OFF").unwrap();
        store
    }

    fn addrs_of(store: &Store, peer: &str) -> Vec<String> {
        store
            .known_peers()
            .unwrap()
            .into_iter()
            .find(|p| p.peer_id == peer)
            .map(|p| p.addrs)
            .unwrap_or_default()
    }

    #[test]
    fn a_peer_keeps_its_most_recently_seen_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        for t in 1..=6 {
            store.remember_peer_at("p", &format!("/a{t}"), t).unwrap();
        }
        assert_eq!(addrs_of(&store, "p"), ["/a6", "/a5", "/a4", "/a3"]);
        // Seen again, an address is fresh again; the oldest one goes.
        store.remember_peer_at("p", "/a3", 7).unwrap();
        store.remember_peer_at("p", "/a7", 8).unwrap();
        assert_eq!(addrs_of(&store, "p"), ["/a7", "/a3", "/a6", "/a5"]);
        // An address seen at the same instant as the others is still kept.
        store.remember_peer_at("p", "/a0", 8).unwrap();
        let kept = addrs_of(&store, "p");
        assert_eq!(kept.len(), ADDRS_PER_PEER_MAX);
        assert!(kept.contains(&"/a0".to_owned()), "{kept:?}");
        let rows: i64 = store
            .db
            .query_row("SELECT count(*) FROM peer_addrs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, ADDRS_PER_PEER_MAX as i64);
    }

    #[test]
    fn the_least_recently_seen_peer_is_forgotten_with_its_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        for i in 0..PEERS_MAX as i64 {
            store
                .remember_peer_at(&format!("peer-{i:04}"), &format!("/ip/{i}"), 1_000 + i)
                .unwrap();
        }
        assert_eq!(store.known_peers().unwrap().len(), PEERS_MAX);
        // peer-0000 is seen again, so peer-0001 is now the least recently seen.
        store.remember_peer_at("peer-0000", "", 5_000).unwrap();
        store
            .remember_peer_at("newcomer", "/ip/new", 6_000)
            .unwrap();
        let known = store.known_peers().unwrap();
        assert_eq!(known.len(), PEERS_MAX);
        assert_eq!(known[0].peer_id, "newcomer");
        assert_eq!(
            (known[1].peer_id.as_str(), known[1].last_seen_ms),
            ("peer-0000", 5_000)
        );
        assert_eq!(known[1].addrs, ["/ip/0"]);
        assert!(!known.iter().any(|p| p.peer_id == "peer-0001"));
        assert_eq!(known.last().unwrap().peer_id, "peer-0002");
        let orphans: i64 = store
            .db
            .query_row(
                "SELECT count(*) FROM peer_addrs WHERE peer_id NOT IN (SELECT peer_id FROM peers)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0, "the forgotten peer's addresses went with it");
        // A sync with a peer not met before counts as meeting it: the bound holds.
        store.record_sync("synced", 3).unwrap();
        let known = store.known_peers().unwrap();
        assert_eq!(known.len(), PEERS_MAX);
        assert!(!known.iter().any(|p| p.peer_id == "peer-0002"));
    }

    #[test]
    fn known_peers_lists_each_peer_and_address_once_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        store.remember_peer_at("a", "/x", 10).unwrap();
        store.remember_peer_at("b", "/y", 20).unwrap();
        store.remember_peer_at("a", "/z", 30).unwrap();
        store.remember_peer_at("a", "/x", 40).unwrap();
        store.remember_peer_at("c", "", 25).unwrap();
        let known = store.known_peers().unwrap();
        let view: Vec<(&str, i64, Vec<&str>)> = known
            .iter()
            .map(|p| {
                (
                    p.peer_id.as_str(),
                    p.last_seen_ms,
                    p.addrs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            view,
            vec![
                ("a", 40, vec!["/x", "/z"]),
                ("c", 25, vec![]),
                ("b", 20, vec!["/y"]),
            ]
        );
    }
}
