//! The acceptance policy: which valid records this archive keeps from elsewhere (files
//! and peers alike). A local choice, saved in the archive so that `qoima import` and the
//! node apply the same one; a record it declines is valid, is not a fault of whoever sent
//! it, and earns nobody a strike.
//!
//! * `open` keeps every valid record, but an author nobody here vouches for (not a
//!   persona, not trusted, not endorsed) gets quotas: records per hour and bytes in all
//!   of records, so one key cannot fill the archive.
//! * `trusted` keeps only the records of personas, trusted and endorsed authors.
//!
//! Declined ids are remembered for an hour (at most [`DECLINED_MAX`]), so sync does not
//! fetch them again and again; trusting a key or changing the policy forgets them.

use std::collections::HashMap;

use qoima_core::{AuthorKey, VerifiedRecord};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

/// Most declined ids remembered.
pub const DECLINED_MAX: usize = 65_536;
/// How long a declined id is remembered: after that a record over an hourly quota may
/// be offered and kept again.
const DECLINED_FOR_MS: i64 = HOUR_MS;
const HOUR_MS: i64 = 3600 * 1000;

/// Whose records this archive keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acceptance {
    /// Every valid record; unknown authors within [`Quotas`].
    #[default]
    Open,
    /// Only records of personas, trusted and endorsed authors.
    Trusted,
}

/// Limits for each author nobody here vouches for, under [`Acceptance::Open`]; `None`
/// is no limit. Attachments are not counted here: what is fetched of them is the node's
/// attachment policy (`--fetch-up-to`, `--blob-quota`, `--budget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    /// Records kept per author per clock hour (by when they were stored here; the count
    /// starts again at each full hour, as the shared quota's does).
    pub records_per_hour: Option<u32>,
    /// Bytes of records kept per author in all.
    pub bytes_per_author: Option<u64>,
    /// Records kept per hour from all unknown authors together: keys cost nothing, so
    /// without it a flood split over many keys would pass every per-author quota.
    #[serde(default = "default_unknown_per_hour")]
    pub unknown_per_hour: Option<u32>,
}

fn default_unknown_per_hour() -> Option<u32> {
    Some(50_000)
}

impl Quotas {
    /// No limits at all.
    pub const NONE: Quotas = Quotas {
        records_per_hour: None,
        bytes_per_author: None,
        unknown_per_hour: None,
    };
}

impl Default for Quotas {
    /// Generous for a person's or an organisation's real output (a large archive arrives
    /// over a few hours), small against one key flooding the network.
    fn default() -> Self {
        Quotas {
            records_per_hour: Some(10_000),
            bytes_per_author: Some(256 * 1024 * 1024),
            unknown_per_hour: default_unknown_per_hour(),
        }
    }
}

/// The policy in force: acceptance and quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Policy {
    /// Whose records are kept.
    pub accept: Acceptance,
    /// Limits for unknown authors.
    pub quotas: Quotas,
}

/// Why a valid record was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Declined {
    /// The policy is `trusted` and nobody here vouches for the author.
    NotTrusted,
    /// The author is unknown and over its records per hour.
    OverHourlyQuota,
    /// The author is unknown and over its bytes in all.
    OverByteQuota,
    /// The authors unknown here are, together, over their records per hour.
    OverSharedQuota,
}

impl Declined {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Declined::NotTrusted => "its author is not trusted here (--accept trusted)",
            Declined::OverHourlyQuota => "its author, unknown here, is over its records per hour",
            Declined::OverByteQuota => "its author, unknown here, is over its bytes in all",
            Declined::OverSharedQuota => {
                "authors unknown here are, together, over their records per hour"
            }
        }
    }
}

impl Store {
    /// The policy saved in this archive (the default if none was saved).
    pub fn policy(&self) -> Result<Policy, StoreError> {
        saved_policy(&self.db)
    }

    /// Saves `policy`; declined ids are forgotten when it changes.
    pub fn set_policy(&mut self, policy: &Policy) -> Result<(), StoreError> {
        if *policy == self.policy()? {
            return Ok(());
        }
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        write_policy(&tx, policy)?;
        tx.commit()?;
        self.forget_declined()
    }

    /// Forgets every declined id (trust changed: some may be welcome now).
    pub(crate) fn forget_declined(&self) -> Result<(), StoreError> {
        self.db.execute("DELETE FROM declined", [])?;
        Ok(())
    }
}

/// Writes `policy` in the settings, inside `tx`.
pub(crate) fn write_policy(tx: &Transaction, policy: &Policy) -> Result<(), StoreError> {
    let text =
        serde_json::to_string(policy).map_err(|e| StoreError::Invalid(format!("policy: {e}")))?;
    tx.execute(
        "INSERT INTO settings (name, value) VALUES ('policy', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [text],
    )?;
    Ok(())
}

fn saved_policy(db: &Connection) -> Result<Policy, StoreError> {
    let saved: Option<String> = db
        .query_row(
            "SELECT value FROM settings WHERE name = 'policy'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match saved {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("the saved policy: {e}")))?,
        None => Policy::default(),
    })
}

/// The policy applied over one import: per-author verdicts and usage, cached.
pub(crate) struct Admission {
    policy: Policy,
    now: i64,
    authors: HashMap<AuthorKey, Usage>,
    /// Records from unknown authors kept this hour, all of them together.
    unknown_this_hour: u64,
}

#[derive(Clone, Copy)]
enum Usage {
    Vouched,
    Unknown { records_this_hour: u64, bytes: u64 },
}

impl Admission {
    pub(crate) fn new(db: &Connection, now: i64) -> Result<Admission, StoreError> {
        let policy = saved_policy(db)?;
        db.execute(
            "DELETE FROM declined WHERE declined_ms < ?1",
            [now - DECLINED_FOR_MS],
        )?;
        let hour = now.div_euclid(HOUR_MS);
        db.execute("DELETE FROM unknown_arrivals WHERE hour < ?1", [hour])?;
        let unknown_this_hour: i64 = db
            .query_row(
                "SELECT records FROM unknown_arrivals WHERE hour = ?1",
                [hour],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        Ok(Admission {
            policy,
            now,
            authors: HashMap::new(),
            unknown_this_hour: unknown_this_hour.max(0) as u64,
        })
    }

    /// Whether `record` (not stored here yet) is kept; a declined one is remembered.
    pub(crate) fn admit(
        &mut self,
        tx: &Transaction<'_>,
        record: &VerifiedRecord,
    ) -> Result<Option<Declined>, StoreError> {
        let author = record.body().author;
        // A revocation only takes power away from its key, and is what its owner most
        // needs to spread: no quota or trust stands in its way.
        if record.body().kind == qoima_core::RecordKind::KeyRevocation {
            return Ok(None);
        }
        let usage = match self.authors.get(&author) {
            Some(usage) => *usage,
            None => {
                let usage = self.usage_of(tx, &author)?;
                self.authors.insert(author, usage);
                usage
            }
        };
        let verdict = match usage {
            Usage::Vouched => None,
            Usage::Unknown { .. } if self.policy.accept == Acceptance::Trusted => {
                Some(Declined::NotTrusted)
            }
            Usage::Unknown {
                records_this_hour,
                bytes,
            } => {
                let size = record.bytes().len() as u64;
                let quotas = self.policy.quotas;
                if quotas
                    .records_per_hour
                    .is_some_and(|max| records_this_hour >= u64::from(max))
                {
                    Some(Declined::OverHourlyQuota)
                } else if quotas
                    .unknown_per_hour
                    .is_some_and(|max| self.unknown_this_hour >= u64::from(max))
                {
                    Some(Declined::OverSharedQuota)
                } else if quotas
                    .bytes_per_author
                    .is_some_and(|max| bytes.saturating_add(size) > max)
                {
                    Some(Declined::OverByteQuota)
                } else {
                    self.authors.insert(
                        author,
                        Usage::Unknown {
                            records_this_hour: records_this_hour + 1,
                            bytes: bytes + size,
                        },
                    );
                    self.unknown_this_hour += 1;
                    None
                }
            }
        };
        if verdict.is_some() {
            tx.prepare_cached(
                "INSERT INTO declined (id, author, created_ms, declined_ms)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                record.id().as_bytes(),
                author.as_bytes(),
                record.body().created.unix_ms,
                self.now
            ])?;
        }
        Ok(verdict)
    }

    /// Keeps the declined set within [`DECLINED_MAX`], forgetting the oldest.
    pub(crate) fn finish(self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        tx.execute(
            "INSERT INTO unknown_arrivals (hour, records) VALUES (?1, ?2)
             ON CONFLICT (hour) DO UPDATE SET records = excluded.records",
            params![self.now.div_euclid(HOUR_MS), self.unknown_this_hour as i64],
        )?;
        tx.execute(
            "DELETE FROM declined WHERE id IN (SELECT id FROM declined
             ORDER BY declined_ms DESC LIMIT -1 OFFSET ?1)",
            [DECLINED_MAX as i64],
        )?;
        Ok(())
    }

    /// An unknown author's usage, from the counters the archive keeps as records are
    /// stored and removed (`author_usage`): constant time however large the archive,
    /// where summing the author's records made every fetched batch of a catch-up read
    /// the whole archive again.
    fn usage_of(&self, db: &Connection, author: &AuthorKey) -> Result<Usage, StoreError> {
        if crate::trust::vouched(db, author)?.is_some() {
            return Ok(Usage::Vouched);
        }
        let (bytes, hour, records_in_hour): (i64, i64, i64) = db
            .prepare_cached(
                "SELECT bytes, hour, records_in_hour FROM author_usage WHERE author = ?1",
            )?
            .query_row([author.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .unwrap_or((0, 0, 0));
        let this_hour = hour == self.now.div_euclid(HOUR_MS);
        Ok(Usage::Unknown {
            records_this_hour: if this_hour {
                records_in_hour.max(0) as u64
            } else {
                0
            },
            bytes: bytes.max(0) as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use qoima_core::fixtures;

    use crate::{Source, Store};

    /// Bytes per author, ordered by author.
    type Usage = Vec<(Vec<u8>, i64)>;

    /// Each author's counted bytes, and the same summed from the records themselves.
    fn counted_and_summed(store: &Store) -> (Usage, Usage) {
        let rows = |sql: &str| {
            let mut stmt = store.db.prepare(sql).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
        };
        (
            rows("SELECT author, bytes FROM author_usage WHERE bytes > 0 ORDER BY author"),
            rows("SELECT author, sum(length(bytes)) FROM records GROUP BY author ORDER BY author"),
        )
    }

    #[test]
    fn the_usage_counters_follow_records_stored_changed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        let mut records = fixtures::chain(&fixtures::author(2), 5, 300);
        records.extend(fixtures::chain(&fixtures::author(3), 4, 900));
        let bundle = fixtures::bundle(&fixtures::author(99), &records, &[]);
        let report = store
            .import_network_bundle(&bundle[..], Source::Peer("peer".into()))
            .unwrap();
        assert_eq!(report.records_new, 9);
        let (counted, summed) = counted_and_summed(&store);
        assert_eq!(summed.len(), 2);
        assert_eq!(counted, summed, "after storing");

        // Rot changes a record's bytes (and their length); quarantine then removes it.
        let rotten = records[6].id();
        store
            .db
            .execute(
                "UPDATE records SET bytes = substr(bytes, 1, 100) WHERE id = ?1",
                [rotten.as_bytes()],
            )
            .unwrap();
        let (counted, summed) = counted_and_summed(&store);
        assert_eq!(counted, summed, "after a change");
        assert_eq!(store.quarantine(&[rotten]).unwrap().len(), 1);
        let (counted, summed) = counted_and_summed(&store);
        assert_eq!(counted, summed, "after a removal");
        assert_eq!(store.record_count().unwrap(), 8);
    }

    #[test]
    fn an_archive_from_before_the_counters_gets_them_filled() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::ArchiveKey::from_bytes([42; 32]);
        let records = fixtures::chain(&fixtures::author(2), 6, 500);
        {
            let mut store = Store::open(dir.path(), &key).unwrap();
            let bundle = fixtures::bundle(&fixtures::author(99), &records, &[]);
            store
                .import_network_bundle(&bundle[..], Source::Peer("peer".into()))
                .unwrap();
            // As the archive was at version 10: no counters.
            store
                .db
                .execute_batch(
                    "DROP TRIGGER IF EXISTS author_usage_on_insert;
                     DROP TRIGGER author_usage_on_update;
                     DROP TRIGGER author_usage_on_delete;
                     DROP TABLE author_usage;
                     PRAGMA user_version = 10;",
                )
                .unwrap();
        }
        let hour_before = crate::archive::now_ms().div_euclid(super::HOUR_MS);
        let store = Store::open(dir.path(), &key).unwrap();
        let (counted, summed) = counted_and_summed(&store);
        assert_eq!(summed.len(), 1);
        assert_eq!(counted, summed);
        let (hour, in_hour): (i64, i64) = store
            .db
            .query_row("SELECT hour, records_in_hour FROM author_usage", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert!((hour_before..=hour_before + 1).contains(&hour));
        // All six were stored moments ago: in this hour, unless it just turned.
        let stored_in_hour: i64 = store
            .db
            .query_row(
                "SELECT count(*) FROM records WHERE stored_ms / 3600000 = ?1",
                [hour],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(in_hour, stored_in_hour);
        assert!(hour != hour_before || in_hour == 6);
    }
}
