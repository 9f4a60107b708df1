//! What the node needs from the archive to sync it with peers: the index of ids, the
//! records that arrived since it last looked, bundles of records by id, and the peers
//! it has met.

use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{AuthorSecret, RecordId};
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
    /// Every record's `(claimed creation time, id)`, for the reconciliation index.
    pub fn index_entries(&self) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        // Served from the covering index `records_by_created`, never the table.
        let mut stmt = self
            .db
            .prepare("SELECT created_ms, id FROM records INDEXED BY records_by_created")?;
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

    /// Records stored after `rowid`, oldest first, at most `limit`.
    pub fn arrived_after(
        &self,
        rowid: i64,
        limit: usize,
    ) -> Result<Vec<ArrivedRecord>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT r.rowid, r.created_ms, r.id,
                    EXISTS (SELECT 1 FROM provenance p WHERE p.record = r.rowid AND p.source != 'peer')
             FROM records r WHERE r.rowid > ?1 ORDER BY r.rowid LIMIT ?2",
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
    /// items would pass `bytes_target`. Returns the bundle and how many records it holds.
    pub fn bundle_of(
        &self,
        ids: &[RecordId],
        bytes_target: usize,
        collection: &str,
        bundler: &AuthorSecret,
    ) -> Result<(Vec<u8>, usize), StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT bytes FROM records WHERE id = ?1")?;
        let mut records: Vec<Vec<u8>> = Vec::new();
        let mut total = 0usize;
        for id in ids {
            let Some(bytes) = stmt
                .query_row([id.as_bytes()], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
            else {
                continue;
            };
            if total + bytes.len() > bytes_target && !records.is_empty() {
                break;
            }
            total += bytes.len();
            records.push(bytes);
        }
        let items = records
            .iter()
            .map(|b| ItemRef {
                kind: ItemKind::Record,
                hash: *blake3::hash(b).as_bytes(),
                size: b.len() as u64,
            })
            .collect();
        let manifest = Manifest {
            bundler: bundler.public(),
            created_ms: now_ms(),
            collection: collection.into(),
            items,
        };
        let mut writer = BundleWriter::new(Vec::with_capacity(total + 4096), manifest, bundler)?;
        for bytes in &records {
            writer.write_record(bytes)?;
        }
        Ok((writer.finish()?, records.len()))
    }

    /// Those of `ids` this archive does not hold.
    pub fn missing(&self, ids: &[RecordId]) -> Result<Vec<RecordId>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT 1 FROM records WHERE id = ?1")?;
        let mut missing = Vec::new();
        for id in ids {
            if !stmt.exists([id.as_bytes()])? {
                missing.push(*id);
            }
        }
        Ok(missing)
    }

    /// Notes that `peer_id` was connected at `addr`.
    pub fn remember_peer(&self, peer_id: &str, addr: &str) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO peers (peer_id, last_seen_ms) VALUES (?1, ?2)
             ON CONFLICT (peer_id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
            params![peer_id, now_ms()],
        )?;
        if !addr.is_empty() {
            self.db.execute(
                "INSERT INTO peer_addrs (peer_id, addr, last_seen_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (peer_id, addr) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
                params![peer_id, addr, now_ms()],
            )?;
            // Keep the few freshest addresses per peer: a phone hops between networks.
            self.db.execute(
                "DELETE FROM peer_addrs WHERE peer_id = ?1 AND addr NOT IN
                 (SELECT addr FROM peer_addrs WHERE peer_id = ?1 ORDER BY last_seen_ms DESC LIMIT 8)",
                [peer_id],
            )?;
        }
        Ok(())
    }

    /// Notes a completed sync with `peer_id` that brought `new_records`.
    pub fn record_sync(&self, peer_id: &str, new_records: u64) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO peers (peer_id, last_seen_ms, last_sync_ms, last_sync_new) VALUES (?1, ?2, ?2, ?3)
             ON CONFLICT (peer_id) DO UPDATE SET last_sync_ms = ?2, last_sync_new = ?3",
            params![peer_id, now_ms(), new_records as i64],
        )?;
        Ok(())
    }

    /// Every peer met, most recently seen first.
    pub fn known_peers(&self) -> Result<Vec<KnownPeer>, StoreError> {
        let mut stmt = self.db.prepare(
            "SELECT peer_id, last_seen_ms, last_sync_ms, last_sync_new FROM peers ORDER BY last_seen_ms DESC",
        )?;
        let mut addrs = self
            .db
            .prepare("SELECT addr FROM peer_addrs WHERE peer_id = ?1 ORDER BY last_seen_ms DESC")?;
        let peers = stmt
            .query_map([], |row| {
                Ok(KnownPeer {
                    peer_id: row.get(0)?,
                    addrs: Vec::new(),
                    last_seen_ms: row.get(1)?,
                    last_sync_ms: row.get(2)?,
                    last_sync_new: row.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        peers
            .into_iter()
            .map(|mut peer| {
                peer.addrs = addrs
                    .query_map([&peer.peer_id], |row| row.get(0))?
                    .collect::<Result<_, _>>()?;
                Ok(peer)
            })
            .collect()
    }
}
