//! Removing an attachment's metadata before it is hashed or stored.

use qoima_media::{MediaError, Outcome};

use crate::WriteError;

/// What was made of an attachment's metadata: the writer tells the person, because a
/// file stored with its metadata may reveal where, when and with what it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleaning {
    /// These kinds of metadata were removed (location, device, time…), each once.
    Removed(Vec<String>),
    /// A format that is cleaned, and there was nothing to remove.
    NothingFound,
    /// A photo, video or audio format whose metadata cannot be removed: stored as it is.
    Unsupported {
        /// The format, e.g. `image/webp`.
        format: String,
        /// Why, in a few English words.
        reason: &'static str,
    },
    /// Not a photo, video or audio file: nothing to examine.
    NotMedia,
    /// Too large to be examined ([`qoima_media::MAX_INPUT`]): stored as it is.
    TooLarge,
    /// The person asked to keep everything (`--keep-metadata`).
    Kept,
}

impl Cleaning {
    /// Whether the stored file may still carry metadata the person should know about.
    pub fn may_reveal(&self) -> bool {
        matches!(
            self,
            Cleaning::Unsupported { .. } | Cleaning::TooLarge | Cleaning::Kept
        )
    }
}

/// The attachment `bytes` (number `number`, from 1) without its metadata: `Some` with
/// the cleaned bytes when something was removed, `None` to store the bytes as they are.
/// A damaged photo or video is refused ([`WriteError::Malformed`]): half-parsed, its
/// metadata could not be removed with confidence.
pub fn clean(bytes: &[u8], number: usize) -> Result<(Option<Vec<u8>>, Cleaning), WriteError> {
    match qoima_media::strip(bytes) {
        Ok(Outcome::Stripped(stripped)) if stripped.removed.is_empty() => {
            Ok((None, Cleaning::NothingFound))
        }
        Ok(Outcome::Stripped(stripped)) => {
            let removed = stripped.removed.iter().map(|r| r.to_string()).collect();
            Ok((Some(stripped.bytes), Cleaning::Removed(removed)))
        }
        Ok(Outcome::Unsupported { format, reason }) => Ok((
            None,
            Cleaning::Unsupported {
                format: format.to_string(),
                reason,
            },
        )),
        Ok(Outcome::NotMedia) => Ok((None, Cleaning::NotMedia)),
        Err(e @ MediaError::Malformed { .. }) => Err(WriteError::Malformed {
            number,
            reason: e.to_string(),
        }),
        Err(MediaError::TooLarge { .. }) => Ok((None, Cleaning::TooLarge)),
    }
}
