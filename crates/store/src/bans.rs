//! Peers banned for sending invalid data, remembered across restarts until the ban
//! expires, so a restart is no way around a ban.

use rusqlite::params;
use serde::Serialize;

use crate::{Store, StoreError};

/// A peer this node refuses until `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    /// libp2p peer id.
    pub peer: String,
    /// When the ban ends, ms since the epoch.
    pub until_ms: i64,
    /// What the peer did.
    pub reason: String,
}

impl Store {
    /// Bans `peer` until `until_ms` for `reason`. A peer already banned stays banned
    /// until the later of the two ends, with the newer reason. Bans already over by this
    /// machine's clock are removed on the way.
    pub fn ban_peer(&mut self, peer: &str, until_ms: i64, reason: &str) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO bans (peer, until_ms, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms),
                                              reason = excluded.reason",
            params![peer, until_ms, reason],
        )?;
        // Expired bans are only kept until the next write: `active_bans` ignores them.
        tx.execute(
            "DELETE FROM bans WHERE until_ms <= ?1",
            [crate::archive::now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The bans still in force at `now_ms`, ordered by peer id.
    pub fn active_bans(&self, now_ms: i64) -> Result<Vec<Ban>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT peer, until_ms, reason FROM bans WHERE until_ms > ?1 ORDER BY peer",
        )?;
        let bans = stmt.query_map([now_ms], |row| {
            Ok(Ban {
                peer: row.get(0)?,
                until_ms: row.get(1)?,
                reason: row.get(2)?,
            })
        })?;
        Ok(bans.collect::<Result<_, _>>()?)
    }

    /// Lifts the ban on `peer`; returns whether there was one (expired or not).
    pub fn unban(&mut self, peer: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .execute("DELETE FROM bans WHERE peer = ?1", [peer])?
            == 1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use super::*;

    #[test]
    fn bans_persist_expire_extend_and_lift() {
        let dir = tempfile::tempdir().unwrap();
        let far = i64::MAX / 2; // beyond any clock, so the cleanup on write keeps it
        {
            let mut store =
                Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
            store.ban_peer("peer-a", far, "sent junk").unwrap();
            store
                .ban_peer("peer-b", far - 10, "broke reconciliation")
                .unwrap();
            // A shorter second ban does not shorten the first; its reason is the news.
            store.ban_peer("peer-a", 5, "sent more junk").unwrap();
        }
        let mut store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        let ban = |peer: &str, until_ms, reason: &str| Ban {
            peer: peer.into(),
            until_ms,
            reason: reason.into(),
        };
        assert_eq!(
            store.active_bans(1_000).unwrap(),
            vec![
                ban("peer-a", far, "sent more junk"),
                ban("peer-b", far - 10, "broke reconciliation"),
            ]
        );
        assert_eq!(
            store.active_bans(far - 10).unwrap(),
            vec![ban("peer-a", far, "sent more junk")],
            "a ban ending at `now` is over"
        );
        assert!(store.unban("peer-a").unwrap());
        assert!(!store.unban("peer-a").unwrap());
        assert_eq!(
            store.active_bans(1_000).unwrap(),
            vec![ban("peer-b", far - 10, "broke reconciliation")]
        );
    }

    #[test]
    fn expired_bans_are_removed_by_the_next_ban() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        store.ban_peer("old", 1, "long ago").unwrap();
        assert_eq!(
            store.active_bans(0).unwrap(),
            vec![],
            "removed, not only ignored"
        );
        let rows: i64 = store
            .db
            .query_row("SELECT count(*) FROM bans", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
    }
}
