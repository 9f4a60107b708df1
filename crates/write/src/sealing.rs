//! Sealing a record to recipients: its title, text, place, details and attachments
//! encrypted so that only the recipients' archives (and the author's) can read them.
//! What stays public is what peers need to carry the record: its kind, author, times,
//! tags, language, consent, and how many attachments it has and their sizes.

use qoima_core::{
    Attachment, AuthorKey, BlobHash, ContentKey, RecordBody, SealedAttachment, SealedContent,
    SealingKey, Sha256Digest,
};
use qoima_store::Store;

use crate::WriteError;

/// The public title of a sealed record when its author gives none: the real one is
/// sealed, and a title everyone reads must not hint at it.
pub const SEALED_TITLE: &str = "Sealed record";

/// The sealing keys of the recipients `named` (keys, fingerprints or trusted names),
/// and the author's own first (so the author can read the record again); empty when
/// nothing is to be sealed. Each recipient must be trusted here, not revoked, and have
/// published a key for sealed records (see [`Store::sealing_keys_for`]).
pub fn recipients(
    store: &mut Store,
    named: &[String],
    author: &AuthorKey,
) -> Result<Vec<SealingKey>, WriteError> {
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = vec![store.sealing_secret(author)?.public()];
    for key in store.sealing_keys_for(named)? {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// A fresh key for one sealed record's content and attachments.
pub fn content_key() -> ContentKey {
    ContentKey::random(&mut rand_core::UnwrapErr(getrandom::SysRng))
}

/// Attachment `index` (from 0) of a sealed record: `plain` is what recipients see it
/// is, and the returned entry and bytes are what everyone holds, its ciphertext, with
/// neither its type nor its name.
pub fn seal_attachment(
    key: &ContentKey,
    index: u32,
    plain: Attachment,
    bytes: &[u8],
) -> (Attachment, Vec<u8>, SealedAttachment) {
    let cipher = qoima_core::encrypt_attachment(key, index, bytes);
    let public = Attachment {
        blake3: BlobHash::of(&cipher),
        sha256: Sha256Digest(<sha2::Sha256 as sha2::Digest>::digest(&cipher).into()),
        size: cipher.len() as u64,
        media_type: "application/octet-stream".into(),
        file_name: String::new(),
    };
    (public, cipher, SealedAttachment { index, plain })
}

/// Moves title, text, place and details into a part sealed to `recipients` under
/// `key`, with what `attachments` really are; what is left public is `public_title`
/// (or [`SEALED_TITLE`]) and `public_text`, the kind, times, tags and consent.
pub fn seal_fields(
    body: &mut RecordBody,
    recipients: &[SealingKey],
    key: &ContentKey,
    attachments: Vec<SealedAttachment>,
    (public_title, public_text): (Option<&str>, Option<&str>),
) -> Result<(), WriteError> {
    let content = SealedContent {
        title: std::mem::take(&mut body.title),
        text: std::mem::take(&mut body.text),
        place: body.place.take(),
        details: std::mem::take(&mut body.details),
        attachments,
    };
    body.title = public_title.unwrap_or(SEALED_TITLE).to_owned();
    body.text = public_text.unwrap_or_default().to_owned();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    body.sealed = Some(
        qoima_core::seal(&content, &body.author, recipients, key, &mut rng)
            .map_err(|e| WriteError::Draft(e.to_string()))?,
    );
    body.version = body.needed_version();
    Ok(())
}
