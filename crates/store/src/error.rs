//! Errors of store operations: data problems (named precisely) apart from I/O and
//! database failures.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error("archive database: {0}")]
    Db(rusqlite::Error),
    /// Encrypted data does not authenticate: altered on disk, damaged, or not from this
    /// archive's key. Nothing of it was read or shown.
    #[error("tampering detected: {0}")]
    Tampered(String),
    /// The archive was made by a newer version of qoima.
    #[error(
        "the archive's schema version {found} is newer than this program understands ({supported}); upgrade qoima"
    )]
    SchemaTooNew {
        /// Version on disk.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// No record has this id (or id prefix).
    #[error("no record {0} in this archive")]
    NotFound(String),
    /// An id prefix matches several records.
    #[error("{0} matches several records; give more characters of the id")]
    Ambiguous(String),
    /// Data already in the store fails verification: disk corruption or tampering.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A bundle could not be written.
    #[error("writing the bundle: {0}")]
    Export(#[from] qoima_core::bundle::WriteError),
    /// A bad argument from the caller.
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// A page that fails SQLCipher's authentication is tampering (or damage), not a
    /// database bug: SQLCipher reports it as "not a database" on the first page and as
    /// "malformed" on the others, and an authenticated page is never malformed.
    fn from(error: rusqlite::Error) -> Self {
        if crate::at_rest::database::is_not_a_database(&error)
            || crate::at_rest::database::is_malformed(&error)
        {
            StoreError::Tampered(format!(
                "a page of the archive database fails authentication: it was altered or damaged on disk ({error})"
            ))
        } else {
            StoreError::Db(error)
        }
    }
}

impl From<std::io::Error> for StoreError {
    /// `fs-err` errors already carry the path in their message.
    fn from(source: std::io::Error) -> Self {
        StoreError::Io {
            path: PathBuf::new(),
            source,
        }
    }
}
