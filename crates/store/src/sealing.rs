//! Each persona's X25519 key for sealed records: a secret seed kept beside the persona's
//! signing seed in the encrypted database (never derived from it), and the public half
//! published in an `EncryptionKey` record the persona signs.

use qoima_core::{
    AuthorKey, RecordKind, SealedContent, SealingKey, SealingSecret, VerifiedRecord, open_sealed,
};
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use crate::{Store, StoreError};

/// A sealed part opened for one of this archive's personas: what it holds and the key
/// of its attachments, or why it is damaged.
pub type Opened = Result<(SealedContent, qoima_core::ContentKey), qoima_core::SealError>;

impl Store {
    /// The sealing secret of the persona `public`, made (from 32 random bytes) the first
    /// time it is asked for.
    pub fn sealing_secret(&mut self, public: &AuthorKey) -> Result<SealingSecret, StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let seed: Option<Option<Zeroizing<Vec<u8>>>> = tx
            .query_row(
                "SELECT sealing_seed FROM personas WHERE public = ?1",
                [public.as_bytes()],
                |r| {
                    r.get::<_, Option<Vec<u8>>>(0)
                        .map(|s| s.map(Zeroizing::new))
                },
            )
            .optional()?;
        let Some(seed) = seed else {
            return Err(StoreError::NotFound(format!(
                "{} is not one of this archive's personas",
                public.fingerprint()
            )));
        };
        let seed: [u8; 32] = match seed {
            Some(seed) => seed32(&seed)?,
            None => {
                let mut fresh = [0u8; 32];
                getrandom::fill(&mut fresh)
                    .map_err(|e| StoreError::Invalid(format!("no randomness: {e}")))?;
                tx.execute(
                    "UPDATE personas SET sealing_seed = ?2 WHERE public = ?1",
                    params![public.as_bytes(), &fresh[..]],
                )?;
                fresh
            }
        };
        tx.commit()?;
        Ok(SealingSecret::from_seed(seed))
    }

    /// Every sealing secret this archive holds (one per persona that has one).
    pub fn sealing_secrets(&self) -> Result<Vec<SealingSecret>, StoreError> {
        let mut stmt = self
            .db
            .prepare_cached("SELECT sealing_seed FROM personas WHERE sealing_seed IS NOT NULL")?;
        let seeds = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0).map(Zeroizing::new))?
            .collect::<Result<Vec<_>, _>>()?;
        seeds
            .iter()
            .map(|seed| Ok(SealingSecret::from_seed(seed32(seed)?)))
            .collect()
    }

    /// The key to seal to for `author`: from the `EncryptionKey` record it signed that
    /// this archive saw last (by when it arrived, never by the time it claims: a key
    /// record dated in the future must not win), leaving out any first seen after a
    /// revocation of `author`.
    pub fn sealing_key_of(&self, author: &AuthorKey) -> Result<Option<SealingKey>, StoreError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT bytes, stored_ms FROM records WHERE author = ?1 AND kind = ?2
             ORDER BY stored_ms DESC, rowid DESC LIMIT 16",
        )?;
        let rows = stmt
            .query_map(
                params![author.as_bytes(), RecordKind::EncryptionKey.code()],
                |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        for (bytes, stored_ms) in rows {
            let Ok(record) = VerifiedRecord::from_bytes(bytes) else {
                continue;
            };
            if crate::standing::acts_after_revocation(&self.db, author, stored_ms)? {
                continue;
            }
            if let qoima_core::Details::EncryptionKey { x25519 } = record.body().details {
                return Ok(Some(x25519));
            }
        }
        Ok(None)
    }

    /// Opens the sealed part of `record` with any of this archive's sealing secrets:
    /// `Ok(None)` when it has no sealed part or none of them is a recipient.
    pub fn open_sealed(&self, record: &VerifiedRecord) -> Result<Option<Opened>, StoreError> {
        let Some(sealed) = &record.body().sealed else {
            return Ok(None);
        };
        for secret in self.sealing_secrets()? {
            match open_sealed(sealed, &record.body().author, &secret) {
                Ok(None) => continue,
                Ok(Some(content)) => return Ok(Some(Ok(content))),
                Err(e) => return Ok(Some(Err(e))),
            }
        }
        Ok(None)
    }
}

fn seed32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a sealing key has the wrong length".into()))
}
