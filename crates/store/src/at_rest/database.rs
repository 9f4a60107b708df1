//! The encrypted database: SQLCipher, keyed with a raw key derived from the archive key.
//!
//! Cipher settings are SQLCipher 4's defaults, written down here because changing any
//! of them makes existing archives unreadable: AES-256 in CBC mode per 4096-byte page,
//! a random IV per page write, HMAC-SHA512 over each page (a changed page is detected,
//! never returned), a random 16-byte salt as the file's first bytes. The key is given
//! raw (`x'…'`, 64 hex digits), so SQLCipher's own PBKDF2 is skipped: the passphrase is
//! already stretched by Argon2id in the key file, and opening the archive stays fast.
//! The HMAC key is derived by SQLCipher from the raw key and the salt.
//!
//! Temporary tables and indices are kept in memory (`temp_store = MEMORY`), so sorting
//! a large query never spills plaintext into a temporary file.

use rusqlite::{Connection, ErrorCode};

use super::keys::ArchiveKey;
use crate::StoreError;

/// Opens (or creates) the database file at `path`, SQLCipher fully initialised first.
///
/// SQLite marks itself initialised before it runs SQLCipher's own initialisation, so a
/// thread opening a database while another thread performs the process's first open
/// can reach `PRAGMA key` before SQLCipher is ready, and keying fails ("An error
/// occurred with PRAGMA key or rekey"). The first open therefore happens once, alone,
/// and every other open waits for it.
pub(crate) fn connect(path: &std::path::Path) -> rusqlite::Result<Connection> {
    static FIRST_OPEN: std::sync::Once = std::sync::Once::new();
    FIRST_OPEN.call_once(|| {
        // An error here resurfaces, with its cause, in the open below.
        let _ = Connection::open_in_memory();
    });
    Connection::open(path)
}

/// Keys `conn` (just opened, nothing read yet) and checks the key opens the file.
pub(crate) fn unlock(conn: &Connection, key: &ArchiveKey) -> Result<(), StoreError> {
    quiet(conn)?;
    let literal = key.database_key_literal();
    // PRAGMA arguments cannot be bound as parameters; the literal is 64 hex digits.
    let statement = zeroize::Zeroizing::new(format!("PRAGMA key = \"{}\";", literal.as_str()));
    conn.execute_batch(&statement)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    check_key(conn)
}

/// Reads the first page: with a wrong key (or an altered first page) SQLCipher cannot
/// authenticate it and reports "not a database".
fn check_key(conn: &Connection) -> Result<(), StoreError> {
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if is_not_a_database(&e) => Err(StoreError::Tampered(
            "the archive database does not open with this key: it was altered, or it \
             belongs to another key file"
                .into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// SQLCipher's answer to a page that fails authentication.
pub(crate) fn is_not_a_database(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::NotADatabase
    )
}

/// SQLite's "database disk image is malformed".
pub(crate) fn is_malformed(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::DatabaseCorrupt
    )
}

/// SQLCipher writes its own diagnostics to stderr (a failed page check, for one); the
/// store reports errors itself, in words a person can act on.
pub(crate) fn quiet(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(()),
            e => Err(e),
        })?;
    Ok(())
}

/// Whether the file at `path` is a plaintext SQLite database (an archive made before
/// encryption at rest). An encrypted file starts with its random salt instead.
pub(crate) fn is_plaintext(path: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => match file.read_exact(&mut head) {
            Ok(()) => Ok(&head == b"SQLite format 3\0"),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
