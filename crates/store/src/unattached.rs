//! Taking back an attachment stored for a record that was then not written.

use qoima_core::BlobHash;

use crate::{Store, StoreError};

impl Store {
    /// Removes the attachment `hash` if no record here lists it: for a writer whose
    /// record could not be stored after its attachments were, so that a failed write
    /// leaves no file behind. An attachment some record lists (the same photo attached
    /// twice, or received from a peer meanwhile) stays. Returns whether it was removed.
    pub fn discard_unattached_blob(&mut self, hash: &BlobHash) -> Result<bool, StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let listed: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE blob = ?1)",
            [hash.as_bytes()],
            |r| r.get(0),
        )?;
        if listed {
            return Ok(false);
        }
        tx.execute("DELETE FROM blobs WHERE hash = ?1", [hash.as_bytes()])?;
        tx.commit()?;
        self.blobs.remove(hash)?;
        Ok(true)
    }
}
