//! The attachment policy: which attachments the node fetches from peers without being
//! asked, how many bytes of them this archive keeps, and how many bytes of them one run
//! of the node may receive. Saved in the archive beside the acceptance policy, so the
//! settings page can change it and a running node follows the change at its next look
//! for attachments to fetch (within a second), as it follows the acceptance policy.
//!
//! A local choice, like the acceptance policy: an attachment it does not fetch is not a
//! fault of the peer that has it. Lowering a limit deletes nothing; it only stops new
//! fetching.

use rusqlite::{OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::{Policy, Store, StoreError};

/// The name of the settings row.
const SETTING: &str = "attachments";

/// What a node fetches without being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobPolicy {
    /// The largest attachment fetched automatically (larger ones wait for `qoima fetch`).
    pub fetch_up_to: u64,
    /// Total attachment bytes this node keeps; no transfer starts past it.
    pub quota: Option<u64>,
    /// Attachment bytes each run of the node may receive (for a paid amount of mobile
    /// data); counted from zero at each start.
    pub budget: Option<u64>,
}

impl Default for BlobPolicy {
    fn default() -> Self {
        BlobPolicy {
            fetch_up_to: 256 * 1024 * 1024,
            quota: None,
            budget: None,
        }
    }
}

impl Store {
    /// The attachment policy saved in this archive (the default if none was saved).
    pub fn blob_policy(&self) -> Result<BlobPolicy, StoreError> {
        let saved: Option<String> = self
            .db
            .query_row(
                "SELECT value FROM settings WHERE name = ?1",
                [SETTING],
                |r| r.get(0),
            )
            .optional()?;
        match saved {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("the saved attachment policy: {e}"))),
            None => Ok(BlobPolicy::default()),
        }
    }

    /// Saves the attachment policy.
    pub fn set_blob_policy(&mut self, blobs: &BlobPolicy) -> Result<(), StoreError> {
        if *blobs == self.blob_policy()? {
            return Ok(());
        }
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        write_blob_policy(&tx, blobs)?;
        tx.commit()?;
        Ok(())
    }

    /// Saves the acceptance policy and the attachment policy together: both or, on an
    /// error, neither (the settings page's one form).
    pub fn set_policies(&mut self, policy: &Policy, blobs: &BlobPolicy) -> Result<(), StoreError> {
        let policy_changed = *policy != self.policy()?;
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        crate::acceptance::write_policy(&tx, policy)?;
        write_blob_policy(&tx, blobs)?;
        tx.commit()?;
        if policy_changed {
            self.forget_declined()?;
        }
        Ok(())
    }
}

fn write_blob_policy(tx: &Transaction, blobs: &BlobPolicy) -> Result<(), StoreError> {
    let text = serde_json::to_string(blobs)
        .map_err(|e| StoreError::Invalid(format!("attachment policy: {e}")))?;
    tx.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [SETTING, &text],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Acceptance;

    fn open_temp() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        (dir, store)
    }

    #[test]
    fn the_default_until_one_is_saved_then_the_saved_one() {
        let (_dir, mut store) = open_temp();
        assert_eq!(store.blob_policy().unwrap(), BlobPolicy::default());
        let blobs = BlobPolicy {
            fetch_up_to: 1_000_000,
            quota: Some(5_000_000_000),
            budget: Some(200_000_000),
        };
        store.set_blob_policy(&blobs).unwrap();
        assert_eq!(store.blob_policy().unwrap(), blobs);
        // The acceptance policy is another row, untouched.
        assert_eq!(store.policy().unwrap(), Policy::default());
    }

    #[test]
    fn both_policies_are_saved_together() {
        let (_dir, mut store) = open_temp();
        let policy = Policy {
            accept: Acceptance::Trusted,
            ..Policy::default()
        };
        let blobs = BlobPolicy {
            budget: Some(1),
            ..BlobPolicy::default()
        };
        store.set_policies(&policy, &blobs).unwrap();
        assert_eq!(store.policy().unwrap(), policy);
        assert_eq!(store.blob_policy().unwrap(), blobs);
    }
}
