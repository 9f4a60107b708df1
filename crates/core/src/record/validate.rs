//! Field limits and the consistency rules a record must satisfy beyond decoding.

use super::body::{
    Details, RECORD_FORMAT_V2, RECORD_FORMAT_VERSION, RecordBody, RecordKind,
    SEAL_SUITE_HPKE_X25519_CHACHA, Sealed, SealedContent, SourceType,
};
use crate::limits::*;

/// Checks `body` against the format's limits; the error names the offending field.
pub(super) fn check_body(body: &RecordBody) -> Result<(), String> {
    if !(RECORD_FORMAT_VERSION..=RECORD_FORMAT_V2).contains(&body.version) {
        return Err(format!(
            "record format version {} is not supported (this version reads {RECORD_FORMAT_VERSION} and {RECORD_FORMAT_V2})",
            body.version
        ));
    }
    if body.version < body.needed_version() {
        return Err(format!(
            "a {} record with these details needs format version {}, not {}",
            body.kind.name(),
            body.needed_version(),
            body.version
        ));
    }
    if body.seq == 0 {
        return Err("sequence number 0 (they start at 1)".into());
    }
    if (body.seq == 1) != body.prev.is_none() {
        return Err("the first record of an author has no previous record, and only it".into());
    }
    short("lang", &body.lang)?;
    bounded("title", &body.title, TITLE_BYTES_MAX)?;
    bounded("text", &body.text, TEXT_BYTES_MAX)?;
    count("tags", body.tags.len(), TAGS_MAX)?;
    for tag in &body.tags {
        short("tag", tag)?;
    }
    count("attachments", body.attachments.len(), ATTACHMENTS_MAX)?;
    for attachment in &body.attachments {
        short("attachment media type", &attachment.media_type)?;
        short("attachment file name", &attachment.file_name)?;
        if attachment.size > BLOB_BYTES_MAX {
            return Err(format!(
                "attachment of {} bytes is over the limit",
                attachment.size
            ));
        }
    }
    count("links", body.links.len(), LINKS_MAX)?;
    if let Some(place) = &body.place {
        short("place name", &place.name)?;
        if let Some(point) = place.point
            && (!(-900_000_000..=900_000_000).contains(&point.lat_e7)
                || !(-1_800_000_000..=1_800_000_000).contains(&point.lon_e7))
        {
            return Err("coordinates out of range".into());
        }
    }
    if let Some(span) = body.occurred
        && span.end_ms < span.start_ms
    {
        return Err("time of events ends before it starts".into());
    }
    check_kind_matches_details(body)?;
    if let Some(sealed) = &body.sealed {
        check_sealed(sealed)?;
    }
    check_details(&body.details)
}

fn check_details(details: &Details) -> Result<(), String> {
    match details {
        Details::None => {}
        Details::KeyEndorsement { key, name, .. } => {
            if key.verifying_key().is_err() {
                return Err("the endorsed key is not a valid Ed25519 public key".into());
            }
            if name.trim().is_empty() {
                return Err("an endorsement names the key's holder".into());
            }
            short("endorsed name", name)?;
        }
        Details::KeyRevocation { reason, .. } => short("revocation reason", reason)?,
        Details::EncryptionKey { x25519 } => {
            if x25519.as_bytes() == &[0; 32] {
                return Err("the encryption key is all zeros".into());
            }
        }
        Details::Testimony { witness_ref, .. } => short("witness reference", witness_ref)?,
        Details::Incident { source, .. } => {
            if let SourceType::OpenSource { url, .. } = source {
                bounded("source url", url, 2048)?;
            }
        }
        Details::Detention {
            person_ref,
            facility,
            authority,
        } => {
            short("person reference", person_ref)?;
            short("facility", facility)?;
            short("authority", authority)?;
        }
    }
    Ok(())
}

/// The kinds about keys and their details go together (in version 2, where they have
/// details at all); version 1's reserved `KeyEndorsement` kind keeps its old meaning of
/// nothing in particular.
fn check_kind_matches_details(body: &RecordBody) -> Result<(), String> {
    let details_kind = match body.details {
        Details::KeyEndorsement { .. } => Some(RecordKind::KeyEndorsement),
        Details::KeyRevocation { .. } => Some(RecordKind::KeyRevocation),
        Details::EncryptionKey { .. } => Some(RecordKind::EncryptionKey),
        _ => None,
    };
    let needs_key_details = body.kind.is_about_keys() && body.version >= RECORD_FORMAT_V2;
    if details_kind.is_some() && details_kind != Some(body.kind)
        || needs_key_details && details_kind != Some(body.kind)
    {
        return Err(format!(
            "a {} record has the details of another kind",
            body.kind.name()
        ));
    }
    if let Details::KeyEndorsement { key, .. } = &body.details
        && *key == body.author
    {
        return Err("a key cannot endorse itself".into());
    }
    if body.kind.is_about_keys() && body.sealed.is_some() {
        return Err("a record about keys has no sealed part".into());
    }
    Ok(())
}

/// Bounds on the sealed part; entries of suites this version does not know are only
/// bounded in size, so they are carried unread.
fn check_sealed(sealed: &Sealed) -> Result<(), String> {
    if sealed.recipients.is_empty() {
        return Err("a sealed part without recipients".into());
    }
    count(
        "sealed recipients",
        sealed.recipients.len(),
        SEALED_RECIPIENTS_MAX,
    )?;
    for recipient in &sealed.recipients {
        if recipient.enc.len() > SEALED_KEY_BYTES_MAX
            || recipient.wrapped_key.len() > SEALED_KEY_BYTES_MAX
        {
            return Err(format!(
                "a sealed recipient entry over {SEALED_KEY_BYTES_MAX} bytes"
            ));
        }
        if recipient.suite == SEAL_SUITE_HPKE_X25519_CHACHA
            && (recipient.enc.len() != 32 || recipient.wrapped_key.len() != 48)
        {
            return Err("a sealed recipient entry of the wrong length for its suite".into());
        }
    }
    if sealed.ciphertext.len() < 16 {
        return Err("a sealed part too short to hold its authentication tag".into());
    }
    Ok(())
}

/// The field rules for what a sealed part holds once opened: the limits of the public
/// fields of the same names, and only the details of events (never of keys).
pub(super) fn check_sealed_content(content: &SealedContent) -> Result<(), String> {
    bounded("sealed title", &content.title, TITLE_BYTES_MAX)?;
    bounded("sealed text", &content.text, TEXT_BYTES_MAX)?;
    if let Some(place) = &content.place {
        short("sealed place name", &place.name)?;
    }
    if content.details.is_about_keys() {
        return Err("a sealed part holds the details of a record about keys".into());
    }
    count(
        "sealed attachments",
        content.attachments.len(),
        ATTACHMENTS_MAX,
    )?;
    for sealed in &content.attachments {
        if sealed.index as usize >= ATTACHMENTS_MAX {
            return Err("a sealed attachment's position is past the limit".into());
        }
        short("sealed attachment media type", &sealed.plain.media_type)?;
        short("sealed attachment file name", &sealed.plain.file_name)?;
        if sealed.plain.size > BLOB_BYTES_MAX {
            return Err("a sealed attachment over the size limit".into());
        }
    }
    check_details(&content.details)
}

fn short(field: &str, value: &str) -> Result<(), String> {
    bounded(field, value, SHORT_BYTES_MAX)
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        return Err(format!(
            "{field} is {} bytes, over the limit of {max}",
            value.len()
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(format!("{field} contains control characters"));
    }
    Ok(())
}

fn count(field: &str, n: usize, max: usize) -> Result<(), String> {
    if n > max {
        return Err(format!("{n} {field}, over the limit of {max}"));
    }
    Ok(())
}
