//! Writing a record made on this device: what `qoima add` and the web interface share.
//!
//! * [`clean`]: an attachment without its location, device and time metadata
//!   (through `qoima-media`), and what was made of it ([`Cleaning`]), for the writer to
//!   tell the person.
//! * [`media_type`] and [`attachment_name`]: how an attachment is described in the record.
//! * [`sign_and_append`]: the record signed by the persona and stored at the end of its
//!   chain, under the archive's write lock.
//! * [`recipients`] and [`seal_fields`]: a record sealed so that only its recipients
//!   read its words, place and attachments.
//! * [`write`]: all of it for attachments held in memory (the web interface's uploads),
//!   checked in full before anything is stored, and taken back if storing fails.
//!
//! Nothing here prints or prompts: the callers say what happened in their own words.

mod cleaning;
mod describe;
mod sealing;
mod writing;

pub use cleaning::{Cleaning, clean};
pub use describe::{attachment_name, media_type};
pub use sealing::{SEALED_TITLE, content_key, recipients, seal_attachment, seal_fields};
pub use writing::{NewRecord, Upload, Written, sign_and_append, write};

/// Why a record was not written. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The record as described is not valid (no title, a bad date, a field too long…):
    /// the person's mistake, in English words from the record format.
    #[error("{0}")]
    Draft(String),
    /// An attachment claims to be a photo or video of a known format but is damaged:
    /// its metadata cannot be removed safely. `number` counts from 1.
    #[error("attachment {number}: {reason}")]
    Malformed {
        /// Which attachment, from 1.
        number: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A recipient to seal to is unknown here, not trusted, revoked, or has no key for
    /// sealed records.
    #[error(transparent)]
    Recipient(#[from] qoima_store::SealToError),
    /// The persona to sign with (or the default one) does not exist.
    #[error("{0}")]
    NoPersona(qoima_store::StoreError),
    /// The archive could not be read or written.
    #[error(transparent)]
    Store(#[from] qoima_store::StoreError),
}
