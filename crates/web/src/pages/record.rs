//! `/records/{id}`: one record in full: what it says, who signed it and what that means,
//! whether its author is trusted here, its attachments and how it reached this archive.

use super::record_sealed::{OpenedPart, sealed_part};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

use super::attachment::previewable;
use super::{LangLink, failure, kind_msg, lang_links, plain, render, time_text, trust_text};
use crate::AppState;
use crate::i18n::Tr;
use crate::json::{AttachmentPresence, RecordView};
use crate::reading;

/// An attachment in the list.
struct AttachmentRow {
    name: String,
    media_type: String,
    size: u64,
    state: String,
    /// The address of its preview, for an image that is here.
    preview: Option<String>,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    id: String,
    kind: String,
    title: String,
    text: String,
    created_at: String,
    occurred: Option<String>,
    place: Option<String>,
    /// The place's coordinates, if it has them, in decimal degrees.
    coordinates: Option<String>,
    tags: String,
    fingerprint: String,
    /// The author's records in the archive.
    author_href: String,
    seq: u64,
    signed_by: String,
    trust: String,
    suspect: bool,
    sealed: Option<String>,
    /// The sealed part, when a key here opened it.
    opened: Option<OpenedPart>,
    attachments: Vec<AttachmentRow>,
    custody: Vec<String>,
    /// Just written here (`?written=`): the attachments stored as they are, named.
    written: Option<Vec<String>>,
}

/// `GET /records/{id}`.
pub async fn page(
    State(state): State<AppState>,
    tr: Tr,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match state
        .read(move |store| Ok(reading::record_view(store, &id)?))
        .await
    {
        Ok(view) => render(tr, &build(tr, query.as_deref(), &view)),
        Err(e) => failure(tr, &e),
    }
}

fn build(tr: Tr, query: Option<&str>, view: &RecordView) -> RecordPage {
    let body = &view.record;
    let attachments = body
        .attachments
        .iter()
        .zip(&view.attachments)
        .enumerate()
        .map(|(n, (a, presence))| AttachmentRow {
            preview: (*presence == AttachmentPresence::Present
                && previewable(&a.media_type, a.size))
            .then(|| format!("/records/{}/attachments/{n}", view.id.to_hex())),
            name: a.file_name.clone(),
            media_type: a.media_type.clone(),
            size: a.size,
            state: match *presence {
                AttachmentPresence::Present => tr.t("attachment-present"),
                AttachmentPresence::Partial { have, size } => tr.targs(
                    "attachment-partial",
                    &[("percent", percent(have, size).into())],
                ),
                AttachmentPresence::Missing => tr.t("attachment-missing"),
            },
        })
        .collect();
    let custody = view
        .provenance
        .iter()
        .map(|p| {
            let when = ("when", time_text(tr, p.received_ms).into());
            let origin = ("origin", plain(&p.origin).into());
            match p.source.as_str() {
                "local" => tr.targs("custody-local", &[when]),
                "file" => tr.targs("custody-file", &[when, origin]),
                _ => tr.targs("custody-peer", &[when, origin]),
            }
        })
        .collect();
    let (sealed, opened) = match view.sealed.as_ref().map(|s| sealed_part(tr, s)) {
        Some((note, opened)) => (Some(note), opened),
        None => (None, None),
    };
    RecordPage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        id: view.id.to_hex(),
        kind: tr.t(kind_msg(view.kind)),
        title: body.title.clone(),
        text: body.text.clone(),
        created_at: time_text(tr, body.created.unix_ms),
        occurred: body.occurred.map(|span| {
            tr.targs(
                "time-span",
                &[
                    ("start", time_text(tr, span.start_ms).into()),
                    ("end", time_text(tr, span.end_ms).into()),
                ],
            )
        }),
        author_href: format!("/?author={}", view.author_fingerprint),
        place: body
            .place
            .as_ref()
            .map(|place| place.name.clone())
            .filter(|name| !name.is_empty()),
        coordinates: body
            .place
            .as_ref()
            .and_then(|place| place.point)
            .map(|point| coordinates_text(tr, &point)),
        tags: body.tags.join(", "),
        fingerprint: view.author_fingerprint.clone(),
        seq: view.seq,
        signed_by: tr.ta("record-signed-by", "fingerprint", &view.author_fingerprint),
        trust: trust_text(tr, &view.author_trust),
        suspect: view.suspect,
        sealed,
        opened,
        written: written(query).map(|numbers| uncleaned_names(tr, &numbers, body)),
        attachments,
        custody,
    }
}

/// `point` as decimal degrees, with its accuracy when stated.
pub(super) fn coordinates_text(tr: Tr, point: &qoima_core::GeoPoint) -> String {
    let (lat, lon) = point.degrees();
    let mut args = vec![
        ("lat", lat.to_string().into()),
        ("lon", lon.to_string().into()),
    ];
    if point.radius_m == 0 {
        return tr.targs("record-coordinates-value", &args);
    }
    args.push(("radius", u64::from(point.radius_m).into()));
    tr.targs("record-coordinates-within", &args)
}

/// The numbers (from 1) in `?written=`, the marker the write page sends the browser
/// here with: `None` when the record was not just written.
fn written(query: Option<&str>) -> Option<Vec<usize>> {
    let (_, value) = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(name, _)| name == "written")?;
    Some(
        value
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect(),
    )
}

/// Each attachment numbered in `numbers` that the record has, once, by number and (for
/// a record not sealed) by the name and type it was stored under. The marker is only an
/// address anyone can type: numbers the record does not have are left out.
fn uncleaned_names(tr: Tr, numbers: &[usize], body: &qoima_core::RecordBody) -> Vec<String> {
    let mut seen = Vec::new();
    for &number in numbers {
        if number == 0 || number > body.attachments.len() || seen.contains(&number) {
            continue;
        }
        seen.push(number);
    }
    seen.into_iter()
        .map(|number| {
            let attachment = &body.attachments[number - 1];
            let number_arg = ("number", (number as u64).into());
            if attachment.file_name.is_empty() {
                tr.targs("write-written-attachment", &[number_arg])
            } else {
                tr.targs(
                    "write-written-attachment-named",
                    &[
                        number_arg,
                        ("name", attachment.file_name.clone().into()),
                        ("type", attachment.media_type.clone().into()),
                    ],
                )
            }
        })
        .collect()
}

/// `have` of `size` in whole percent, 100 only when complete.
fn percent(have: u64, size: u64) -> u64 {
    if size == 0 || have >= size {
        return 100;
    }
    (u128::from(have) * 100 / u128::from(size)).min(99) as u64
}
