//! Field limits and the consistency rules a record must satisfy beyond decoding.

use super::body::{Details, RECORD_FORMAT_VERSION, RecordBody, SourceType};
use crate::limits::*;

/// Checks `body` against the format's limits; the error names the offending field.
pub(super) fn check_body(body: &RecordBody) -> Result<(), String> {
    if body.version != RECORD_FORMAT_VERSION {
        return Err(format!(
            "record format version {} is not supported (this version reads {RECORD_FORMAT_VERSION})",
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
    match &body.details {
        Details::None => {}
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
