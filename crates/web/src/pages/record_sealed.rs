//! The sealed part of a record on its page, for an archive that holds one of its
//! recipients' keys: what only the recipients read, shown apart from the public fields
//! so the reader knows which is which.

use qoima_core::SealedContent;
use qoima_store::views::Sealed;

use crate::i18n::Tr;

/// The sealed part as opened here.
pub struct OpenedPart {
    pub title: String,
    pub text: String,
    pub place: Option<String>,
    pub coordinates: Option<String>,
    /// Each attachment as it really is: name, type and size, in words.
    pub attachments: Vec<String>,
}

/// The sentence about a record's sealed part, and the part itself when a key here
/// opened it.
pub fn sealed_part(tr: Tr, sealed: &Sealed) -> (String, Option<OpenedPart>) {
    let recipients = sealed.recipients as u64;
    match (&sealed.content, sealed.readable) {
        (Some(content), true) => (
            tr.tn("record-sealed-readable", recipients),
            Some(opened(tr, content)),
        ),
        (None, true) => (tr.tn("record-sealed-damaged", recipients), None),
        _ => (tr.tn("record-sealed-unreadable", recipients), None),
    }
}

fn opened(tr: Tr, content: &SealedContent) -> OpenedPart {
    OpenedPart {
        title: content.title.clone(),
        text: content.text.clone(),
        place: content
            .place
            .as_ref()
            .map(|place| place.name.clone())
            .filter(|name| !name.is_empty()),
        coordinates: content
            .place
            .as_ref()
            .and_then(|place| place.point)
            .map(|point| super::record::coordinates_text(tr, &point)),
        attachments: content
            .attachments
            .iter()
            .map(|sealed| {
                let a = &sealed.plain;
                tr.targs(
                    "record-sealed-attachment",
                    &[
                        ("number", u64::from(sealed.index + 1).into()),
                        ("name", a.file_name.clone().into()),
                        ("type", a.media_type.clone().into()),
                        ("size", tr.tn("size-bytes", a.size).into()),
                    ],
                )
            })
            .collect(),
    }
}
