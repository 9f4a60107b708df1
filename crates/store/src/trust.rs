//! The trust store: the author keys this archive's owner believes, each under the name
//! the owner knows its holder by, added after comparing fingerprints in person.
//!
//! A signature shows which key signed a record; trust says whether that key is someone
//! the owner believes. Trust is local: it is never sent to peers, and whom one trusts
//! is sensitive (a list of contacts), so it lives only inside the encrypted database.
//! A seized, locked device reveals nothing of it; an unlocked one reveals it all.

use qoima_core::{AuthorKey, Fingerprint};
use rusqlite::{Connection, OptionalExtension, params};

use crate::archive::now_ms;
use crate::{RecordSummary, Store, StoreError};

/// Keys one archive may trust directly.
pub const TRUSTED_MAX: usize = 4096;
const NAME_CHARS_MAX: usize = 64;

/// A key trusted directly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TrustedKey {
    /// The key.
    pub key: AuthorKey,
    /// The name its holder is known by here (never sent anywhere).
    pub name: String,
    /// When it was trusted, ms since the epoch.
    pub added_ms: i64,
}

/// A key trusted only through endorsements ([`Store::endorsed_keys`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EndorsedKey {
    /// The key.
    pub key: AuthorKey,
    /// The name the last endorser in the chain gives its holder.
    pub name: String,
    /// The trusted key (or persona) the chain starts from, by its name here: stop
    /// trusting it and this key is no longer endorsed (unless another chain holds).
    pub by: String,
    /// Endorsements in the chain: 1 when a trusted key endorsed it directly.
    pub hops: u32,
}

/// Most endorsed keys looked at by [`Store::endorsed_keys`]: each costs a walk of the
/// endorsements, so an archive full of them must not make the list slow.
pub const ENDORSED_LISTED_MAX: usize = 256;

/// Whether the author of a record is someone this archive's owner believes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "trust", rename_all = "snake_case")]
pub enum AuthorTrust {
    /// One of this archive's own personas.
    Own {
        /// The persona's name.
        persona: String,
    },
    /// Trusted directly (`qoima trust add`).
    Trusted {
        /// The name it was trusted under.
        name: String,
    },
    /// Vouched for by a chain of endorsement records that starts at a key trusted here
    /// (or one of this archive's personas).
    Endorsed {
        /// The name the last endorser in the chain gives this key's holder.
        name: String,
        /// The trusted key (or persona) the chain starts from, by its name here.
        by: String,
        /// Endorsements in the chain: 1 when a trusted key endorsed it directly.
        hops: u32,
    },
    /// The key itself says it is compromised, from `since_ms` on.
    Revoked {
        /// From when, ms since the epoch.
        since_ms: i64,
    },
    /// Nobody here vouches for this key.
    Unknown,
}

/// A listed record, with what this archive makes of its author ([`Store::judge`]).
#[derive(Debug, Clone)]
pub struct JudgedRecord {
    /// The record.
    pub summary: RecordSummary,
    /// Whether its author is believed here.
    pub trust: AuthorTrust,
    /// Signed after its key's revocation (claimed and first seen).
    pub suspect: bool,
}

/// Longest endorsement chain believed: a trusted key's endorsement of an endorser of an
/// endorser of the author. Beyond that, vouching says too little.
pub const ENDORSEMENT_HOPS_MAX: u32 = 3;
/// Most keys visited looking for an endorsement chain (an archive full of endorsements
/// must not make one lookup slow).
const ENDORSERS_VISITED_MAX: usize = 1024;

/// What `trust_add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustAdded {
    /// The key was not trusted before.
    New,
    /// The key was already trusted; its name is now the one given.
    Renamed,
    /// The key was already trusted under this very name.
    Unchanged,
}

impl Store {
    /// Trusts `key` under `name`. Refused for this archive's own personas (they are
    /// always "own") and past [`TRUSTED_MAX`] keys.
    pub fn trust_add(&mut self, key: &AuthorKey, name: &str) -> Result<TrustAdded, StoreError> {
        check_name(name)?;
        key.verifying_key()
            .map_err(|e| StoreError::Invalid(format!("{key} is not a usable author key: {e}")))?;
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let persona: Option<String> = tx
            .query_row(
                "SELECT name FROM personas WHERE public = ?1",
                [key.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(persona) = persona {
            return Err(StoreError::Invalid(format!(
                "{} is this archive's own persona {persona:?}: it needs no trust",
                key.fingerprint()
            )));
        }
        let before: Option<String> = tx
            .query_row(
                "SELECT name FROM trusted_keys WHERE key = ?1",
                [key.as_bytes()],
                |r| r.get(0),
            )
            .optional()?;
        let added = match before {
            Some(old) if old == name => TrustAdded::Unchanged,
            Some(_) => {
                tx.execute(
                    "UPDATE trusted_keys SET name = ?2 WHERE key = ?1",
                    params![key.as_bytes(), name],
                )?;
                TrustAdded::Renamed
            }
            None => {
                let count: i64 =
                    tx.query_row("SELECT count(*) FROM trusted_keys", [], |r| r.get(0))?;
                if count as usize >= TRUSTED_MAX {
                    return Err(StoreError::Invalid(format!(
                        "this archive already trusts {TRUSTED_MAX} keys, the most it keeps; \
                         remove some with `qoima trust remove`"
                    )));
                }
                tx.execute(
                    "INSERT INTO trusted_keys (key, name, added_ms) VALUES (?1, ?2, ?3)",
                    params![key.as_bytes(), name, now_ms()],
                )?;
                TrustAdded::New
            }
        };
        tx.commit()?;
        // Records declined from an author nobody vouched for may be welcome now.
        self.forget_declined()?;
        Ok(added)
    }

    /// Stops trusting `key`; whether it was trusted.
    pub fn trust_remove(&mut self, key: &AuthorKey) -> Result<bool, StoreError> {
        let removed = self
            .db
            .execute("DELETE FROM trusted_keys WHERE key = ?1", [key.as_bytes()])?;
        Ok(removed > 0)
    }

    /// Every key trusted directly, by name.
    pub fn trusted_keys(&self) -> Result<Vec<TrustedKey>, StoreError> {
        let mut stmt = self
            .db
            .prepare("SELECT key, name, added_ms FROM trusted_keys ORDER BY name, key")?;
        let rows = stmt.query_map([], |r| {
            Ok(TrustedKey {
                key: AuthorKey(r.get(0)?),
                name: r.get(1)?,
                added_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The keys trusted only through an endorsement chain from a trusted key or a
    /// persona (not directly, not this archive's own), by name; at most
    /// [`ENDORSED_LISTED_MAX`] endorsed keys are looked at.
    pub fn endorsed_keys(&self) -> Result<Vec<EndorsedKey>, StoreError> {
        let mut candidates = self.db.prepare_cached(
            "SELECT DISTINCT endorsed FROM endorsements
             WHERE endorsed NOT IN (SELECT key FROM trusted_keys)
               AND endorsed NOT IN (SELECT public FROM personas)
             LIMIT ?1",
        )?;
        let keys: Vec<AuthorKey> = candidates
            .query_map([ENDORSED_LISTED_MAX as i64], |r| Ok(AuthorKey(r.get(0)?)))?
            .collect::<Result<_, _>>()?;
        let mut found = Vec::new();
        for key in keys {
            if let Some(AuthorTrust::Endorsed { name, by, hops }) = endorsed(&self.db, &key)? {
                found.push(EndorsedKey {
                    key,
                    name,
                    by,
                    hops,
                });
            }
        }
        found.sort_by(|a, b| (&a.name, a.key.as_bytes()).cmp(&(&b.name, b.key.as_bytes())));
        Ok(found)
    }

    /// Whether `author` has revoked its key, is one of this archive's personas, is
    /// trusted, endorsed through a chain from a trusted key, or unknown.
    pub fn author_trust(&self, author: &AuthorKey) -> Result<AuthorTrust, StoreError> {
        if let Some(since_ms) = crate::standing::revoked_since(&self.db, author)? {
            return Ok(AuthorTrust::Revoked { since_ms });
        }
        Ok(vouched(&self.db, author)?.unwrap_or(AuthorTrust::Unknown))
    }

    /// Each listed record with what this archive makes of its author, and whether it is
    /// suspect (signed after its key's revocation), as `qoima list` and the web
    /// interface's archive show them.
    pub fn judge(&self, summaries: Vec<RecordSummary>) -> Result<Vec<JudgedRecord>, StoreError> {
        // Once per author, not per row: a listing is mostly a few authors' records, and
        // the trust of an unknown author walks the endorsements.
        let mut trust_of: std::collections::HashMap<AuthorKey, AuthorTrust> =
            std::collections::HashMap::new();
        summaries
            .into_iter()
            .map(|summary| {
                let trust = match trust_of.get(&summary.author) {
                    Some(trust) => trust.clone(),
                    None => {
                        let trust = self.author_trust(&summary.author)?;
                        trust_of.insert(summary.author, trust.clone());
                        trust
                    }
                };
                let suspect = matches!(trust, AuthorTrust::Revoked { .. })
                    && self.is_suspect(&summary.author, summary.created_ms, summary.stored_ms)?;
                Ok(JudgedRecord {
                    summary,
                    trust,
                    suspect,
                })
            })
            .collect()
    }

    /// The author key `text` names: a whole public key (64 hex digits), a fingerprint
    /// (`ABCD-EFGH-…`, dashes, spaces and case free) of a key that signed a record
    /// here, is a persona or is trusted, or the name a key is trusted under.
    pub fn resolve_author(&self, text: &str) -> Result<AuthorKey, StoreError> {
        let text = text.trim();
        if let Ok(key) = text.parse::<AuthorKey>() {
            return Ok(key);
        }
        let by_name: Vec<AuthorKey> = {
            let mut stmt = self
                .db
                .prepare("SELECT key FROM trusted_keys WHERE name = ?1")?;
            let rows = stmt.query_map([text], |r| Ok(AuthorKey(r.get(0)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        if let [key] = by_name[..] {
            return Ok(key);
        }
        let Some(wanted) = Fingerprint::parse(text) else {
            return Err(StoreError::NotFound(format!(
                "{text:?} is neither a public key (64 hex digits), a fingerprint \
                 (16 letters and digits, e.g. YJW7-2VKM-…) nor the name of a trusted key"
            )));
        };
        let mut stmt = self.db.prepare(
            "SELECT author FROM records UNION SELECT public FROM personas
             UNION SELECT key FROM trusted_keys",
        )?;
        let keys = stmt
            .query_map([], |r| Ok(AuthorKey(r.get(0)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let matching = keys.into_iter().filter(|key| key.fingerprint() == wanted);
        one_key(matching, text)
    }
}

/// Own, trusted or endorsed: how `key` is vouched for here, whether or not it has since
/// been revoked (the acceptance policy keeps carrying a trusted key's records; suspicion
/// is judged per record).
pub(crate) fn vouched(db: &Connection, key: &AuthorKey) -> Result<Option<AuthorTrust>, StoreError> {
    Ok(match direct_trust(db, key)? {
        Some(trust) => Some(trust),
        None => endorsed(db, key)?,
    })
}

/// Own or trusted, by this archive's owner.
fn direct_trust(db: &Connection, key: &AuthorKey) -> Result<Option<AuthorTrust>, StoreError> {
    let mut own = db.prepare_cached("SELECT name FROM personas WHERE public = ?1")?;
    if let Some(persona) = own.query_row([key.as_bytes()], |r| r.get(0)).optional()? {
        return Ok(Some(AuthorTrust::Own { persona }));
    }
    let mut trusted = db.prepare_cached("SELECT name FROM trusted_keys WHERE key = ?1")?;
    Ok(trusted
        .query_row([key.as_bytes()], |r| r.get(0))
        .optional()?
        .map(|name| AuthorTrust::Trusted { name }))
}

/// The shortest endorsement chain from a key trusted here to `author`, breadth first
/// backwards from the author; loops end at keys already visited. Endorsements a revoked
/// key made after its revocation count for nothing, and a revoked key starts no chain.
fn endorsed(db: &Connection, author: &AuthorKey) -> Result<Option<AuthorTrust>, StoreError> {
    let mut endorsers = db.prepare_cached(
        "SELECT e.endorser, e.name, r.created_ms, r.stored_ms FROM endorsements e
         JOIN records r ON r.rowid = e.record WHERE e.endorsed = ?1
         ORDER BY r.stored_ms LIMIT 256",
    )?;
    // (key, the name the author's own endorser gave the author)
    let mut level: Vec<(AuthorKey, Option<String>)> = vec![(*author, None)];
    let mut visited = std::collections::HashSet::from([*author]);
    for hops in 1..=ENDORSEMENT_HOPS_MAX {
        let mut next = Vec::new();
        for (key, name_of_author) in &level {
            let rows: Vec<(AuthorKey, String, i64, i64)> = endorsers
                .query_map([key.as_bytes()], |r| {
                    Ok((AuthorKey(r.get(0)?), r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            for (endorser, name, _created_ms, stored_ms) in rows {
                // First seen after its key's revocation, an endorsement vouches for
                // nothing, whatever time it claims.
                if crate::standing::acts_after_revocation(db, &endorser, stored_ms)?
                    || !visited.insert(endorser)
                {
                    continue;
                }
                let name = name_of_author.clone().unwrap_or(name);
                if crate::standing::revoked_since(db, &endorser)?.is_none() {
                    let root = match direct_trust(db, &endorser)? {
                        Some(AuthorTrust::Own { persona }) => Some(persona),
                        Some(AuthorTrust::Trusted { name }) => Some(name),
                        _ => None,
                    };
                    if let Some(by) = root {
                        return Ok(Some(AuthorTrust::Endorsed { name, by, hops }));
                    }
                }
                if visited.len() >= ENDORSERS_VISITED_MAX {
                    return Ok(None);
                }
                next.push((endorser, Some(name)));
            }
        }
        level = next;
    }
    Ok(None)
}

/// The one key of `matching`. Two keys with one fingerprint (80 bits: a collision can be
/// ground, by whoever made both keys) are refused rather than one picked silently.
fn one_key(
    mut matching: impl Iterator<Item = AuthorKey>,
    text: &str,
) -> Result<AuthorKey, StoreError> {
    let Some(key) = matching.next() else {
        return Err(StoreError::NotFound(format!(
            "no record here is signed by a key with the fingerprint {text}: give the \
             whole public key (`qoima key show` on its owner's device prints it)"
        )));
    };
    if matching.next().is_some() {
        return Err(StoreError::Ambiguous(format!(
            "several keys here have the fingerprint {text}, which only someone making \
             keys on purpose can arrange: give the whole public key"
        )));
    }
    Ok(key)
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.trim().is_empty()
        && name.trim() == name
        && name.chars().count() <= NAME_CHARS_MAX
        && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "a trusted key's name is 1 to {NAME_CHARS_MAX} characters, without control \
             characters or spaces at either end, e.g. \"Aigerim (lawyer)\""
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Source;
    use qoima_core::{VerifiedRecord, fixtures};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([7; 32])).unwrap();
        (dir, store)
    }

    #[test]
    fn keys_are_trusted_renamed_listed_and_removed() {
        let (_dir, mut store) = store();
        let witness = fixtures::author(1).public();
        assert_eq!(store.author_trust(&witness).unwrap(), AuthorTrust::Unknown);
        assert_eq!(
            store.trust_add(&witness, "Aigerim (lawyer)").unwrap(),
            TrustAdded::New
        );
        assert_eq!(
            store.author_trust(&witness).unwrap(),
            AuthorTrust::Trusted {
                name: "Aigerim (lawyer)".into()
            }
        );
        assert_eq!(
            store.trust_add(&witness, "Aigerim (lawyer)").unwrap(),
            TrustAdded::Unchanged
        );
        assert_eq!(
            store.trust_add(&witness, "Aigerim N.").unwrap(),
            TrustAdded::Renamed
        );
        let listed = store.trusted_keys().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].key, listed[0].name.as_str()),
            (witness, "Aigerim N.")
        );
        assert!(store.trust_remove(&witness).unwrap());
        assert!(!store.trust_remove(&witness).unwrap());
        assert_eq!(store.author_trust(&witness).unwrap(), AuthorTrust::Unknown);
    }

    #[test]
    fn bad_names_and_own_personas_are_refused() {
        let (_dir, mut store) = store();
        let key = fixtures::author(2).public();
        for name in ["", "  ", " padded", "line\nbreak", &"x".repeat(65)] {
            let err = store.trust_add(&key, name).unwrap_err();
            assert!(
                err.to_string().contains("1 to 64 characters"),
                "{name:?}: {err}"
            );
        }
        let own = store.new_persona("lawyer").unwrap();
        let err = store.trust_add(&own.key, "me").unwrap_err();
        assert!(err.to_string().contains("own persona"), "{err}");
        assert_eq!(
            store.author_trust(&own.key).unwrap(),
            AuthorTrust::Own {
                persona: "lawyer".into()
            }
        );
        assert!(store.trusted_keys().unwrap().is_empty());
    }

    #[test]
    fn authors_are_found_by_key_fingerprint_or_trusted_name() {
        let (_dir, mut store) = store();
        let author = fixtures::author(3);
        let record =
            VerifiedRecord::sign(&fixtures::body(&author, 1, None, "seen"), &author).unwrap();
        let bundle = fixtures::bundle(&author, &[record], &[]);
        store
            .import_bundle(&bundle[..], Source::File("a.qb".into()))
            .unwrap();
        let key = author.public();
        let fingerprint = key.fingerprint().to_string();
        assert_eq!(store.resolve_author(&key.to_string()).unwrap(), key);
        assert_eq!(store.resolve_author(&fingerprint).unwrap(), key);
        let sloppy = fingerprint.to_lowercase().replace('-', " ");
        assert_eq!(store.resolve_author(&sloppy).unwrap(), key);

        // A key nobody here has seen is found by its whole key only.
        let stranger = fixtures::author(4).public();
        let err = store
            .resolve_author(&stranger.fingerprint().to_string())
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert!(
            err.to_string().contains("give the whole public key"),
            "{err}"
        );
        store.trust_add(&stranger, "Daulet").unwrap();
        assert_eq!(store.resolve_author("Daulet").unwrap(), stranger);
        assert_eq!(
            store
                .resolve_author(&stranger.fingerprint().to_string())
                .unwrap(),
            stranger
        );
        let err = store.resolve_author("nobody at all").unwrap_err();
        assert!(err.to_string().contains("neither a public key"), "{err}");
    }

    #[test]
    fn two_keys_with_one_fingerprint_are_ambiguous_not_a_silent_pick() {
        let (a, b) = (fixtures::author(5).public(), fixtures::author(6).public());
        assert_eq!(one_key([a].into_iter(), "F").unwrap(), a);
        let err = one_key([a, b].into_iter(), "F").unwrap_err();
        assert!(matches!(err, StoreError::Ambiguous(_)), "{err}");
        assert!(matches!(
            one_key(std::iter::empty(), "F").unwrap_err(),
            StoreError::NotFound(_)
        ));
    }
}
