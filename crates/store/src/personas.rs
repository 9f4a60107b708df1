//! Personas: several author keys in one archive, so that one person's records in
//! different contexts (a lawyer's case files, a relative's testimony) are not linkable
//! by key. Each persona's secret seed lives in the encrypted database; the key file's
//! own author key is the first persona, "main".
//!
//! Threat answered: deanonymisation by one key across contexts. A seized, locked device
//! reveals nothing of them (the database is encrypted); an unlocked one reveals all.

use qoima_core::{AuthorKey, AuthorSecret};
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use crate::archive::now_ms;
use crate::{Store, StoreError};

/// The name the key file's author key gets.
pub const MAIN_PERSONA: &str = "main";
/// Personas one archive may hold.
pub const PERSONAS_MAX: usize = 64;
const NAME_LEN_MAX: usize = 64;

/// A persona, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Persona {
    /// Its name, local to this archive (never sent anywhere).
    pub name: String,
    /// Its public key, as it appears on its records.
    pub key: AuthorKey,
    /// Whether records are signed with it when no persona is named.
    pub default: bool,
    /// When it was made here, ms since the epoch.
    pub created_ms: i64,
}

impl Store {
    /// Records the key file's author key as the persona "main" if it is not yet here
    /// (the default persona if there is none). Idempotent.
    pub fn adopt_key_file_author(&mut self, author: &AuthorSecret) -> Result<(), StoreError> {
        let seed = Zeroizing::new(author.to_seed());
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let has_default: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM personas WHERE is_default = 1)",
            [],
            |r| r.get(0),
        )?;
        let name_taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM personas WHERE name = ?1)",
            [MAIN_PERSONA],
            |r| r.get(0),
        )?;
        let name = if name_taken {
            format!("{MAIN_PERSONA}-{}", author.public().fingerprint())
        } else {
            MAIN_PERSONA.to_owned()
        };
        tx.execute(
            "INSERT INTO personas (name, public, seed, is_default, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (public) DO NOTHING",
            params![
                name,
                author.public().as_bytes(),
                &seed[..],
                !has_default,
                now_ms()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Makes a new persona with a fresh random key; the first one becomes the default.
    pub fn new_persona(&mut self, name: &str) -> Result<Persona, StoreError> {
        check_name(name)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut seed[..]).map_err(|e| std::io::Error::other(e.to_string()))?;
        let secret = AuthorSecret::from_seed(&seed);
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (count, has_default): (i64, bool) = tx.query_row(
            "SELECT count(*), EXISTS (SELECT 1 FROM personas WHERE is_default = 1) FROM personas",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if count as usize >= PERSONAS_MAX {
            return Err(StoreError::Invalid(format!(
                "this archive already holds {PERSONAS_MAX} personas, the most it keeps"
            )));
        }
        let created_ms = now_ms();
        let inserted = tx.execute(
            "INSERT INTO personas (name, public, seed, is_default, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
            params![
                name,
                secret.public().as_bytes(),
                &seed[..],
                !has_default,
                created_ms
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Invalid(format!(
                "there is already a persona called {name:?}"
            )));
        }
        tx.commit()?;
        Ok(Persona {
            name: name.to_owned(),
            key: secret.public(),
            default: !has_default,
            created_ms,
        })
    }

    /// Every persona, the default first, then by name.
    pub fn personas(&self) -> Result<Vec<Persona>, StoreError> {
        let mut stmt = self.db.prepare(
            "SELECT name, public, is_default, created_ms FROM personas
             ORDER BY is_default DESC, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Persona {
                name: r.get(0)?,
                key: AuthorKey(r.get(1)?),
                default: r.get(2)?,
                created_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The signing key of the persona `name`, or of the default persona.
    pub fn persona_secret(&self, name: Option<&str>) -> Result<AuthorSecret, StoreError> {
        // No name: the default persona.
        let seed: Option<Zeroizing<Vec<u8>>> = self
            .db
            .query_row(
                "SELECT seed FROM personas WHERE name = ?1 OR (?1 IS NULL AND is_default = 1)",
                [name],
                |r| r.get(0).map(Zeroizing::new),
            )
            .optional()?;
        let seed = seed.ok_or_else(|| match name {
            Some(name) => StoreError::NotFound(format!("persona {name:?} (see `qoima key list`)")),
            None => StoreError::NotFound("default persona (make one with `qoima key new`)".into()),
        })?;
        let seed: [u8; 32] = seed[..]
            .try_into()
            .map_err(|_| StoreError::Corrupt("a persona's key has the wrong length".into()))?;
        let seed = Zeroizing::new(seed);
        Ok(AuthorSecret::from_seed(&seed))
    }

    /// Makes `name` the persona records are signed with when none is named.
    pub fn set_default_persona(&mut self, name: &str) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM personas WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(StoreError::NotFound(format!(
                "persona {name:?} (see `qoima key list`)"
            )));
        }
        tx.execute("UPDATE personas SET is_default = (name = ?1)", [name])?;
        tx.commit()?;
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.chars().count() <= NAME_LEN_MAX
        && !name.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "a persona's name is 1 to {NAME_LEN_MAX} characters without spaces, e.g. lawyer or family"
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn personas_are_made_listed_chosen_and_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &crate::ArchiveKey::from_bytes([42; 32])).unwrap();
        let main = AuthorSecret::from_seed(&[9; 32]);
        store.adopt_key_file_author(&main).unwrap();
        store.adopt_key_file_author(&main).unwrap();
        let lawyer = store.new_persona("lawyer").unwrap();
        assert!(!lawyer.default);
        assert_ne!(lawyer.key, main.public());
        let names: Vec<_> = store
            .personas()
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.default))
            .collect();
        assert_eq!(names, [("main".into(), true), ("lawyer".into(), false)]);
        assert_eq!(store.persona_secret(None).unwrap().public(), main.public());
        assert_eq!(
            store.persona_secret(Some("lawyer")).unwrap().public(),
            lawyer.key
        );

        store.set_default_persona("lawyer").unwrap();
        assert_eq!(store.persona_secret(None).unwrap().public(), lawyer.key);
        assert!(matches!(
            store.new_persona("lawyer"),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.new_persona("two words"),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.persona_secret(Some("nobody")),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.set_default_persona("nobody"),
            Err(StoreError::NotFound(_))
        ));
    }
}
