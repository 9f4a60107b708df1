//! `/write`: writing a record, as `qoima add` does, for people who never open a terminal.
//!
//! `GET /write` offers the kinds; `GET /write?kind=testimony` is the form for one;
//! `POST /write` (multipart, with attachments) cleans the attachments of their metadata,
//! signs the record with the persona's key (sealed to the recipients chosen, if any),
//! stores it ([`qoima_write::write`]), tells the running node
//! ([`crate::NodeControl::written`]) and sends the browser to the new record's page
//! (303) with `?written=` and the numbers of the attachments stored uncleaned, which
//! that page names (see [`written_marker`]). A form with a problem comes back with every
//! typed field as it was and a sentence per problem, naming the field and the bound.

use askama::Template;
use axum::Router;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt as _;
use qoima_core::RecordKind;
use qoima_store::{AuthorTrust, Persona, SealToError, Store, StoreError};
use qoima_write::{NewRecord, WriteError, Written};
use tokio::sync::Semaphore;

use super::write_form::{
    FILE_BYTES_MAX, FILES_MAX, INCIDENT_TYPES, KINDS, Problem, RECIPIENTS_MAX, RELATIONS,
    REQUEST_BYTES_MAX, Received, Typed, kind_named, receive,
};
use super::{LangLink, kind_msg, lang_links, notice, render};
use crate::i18n::{Lang, Tr, msg};
use crate::{AppState, WebError};

/// One write is read and stored at a time: uploads are held in memory, so this bounds
/// what writing takes of it to one request's [`REQUEST_BYTES_MAX`] (and its cleaned
/// copy), whatever the number of connections. Records are stored one at a time anyway.
static WRITING: Semaphore = Semaphore::const_new(1);

/// How long a browser may take to send a form: a local upload of the largest form takes
/// seconds even on an old laptop; a program that trickles one holds the write slot
/// only this long.
const RECEIVE_TIME_MAX: std::time::Duration = std::time::Duration::from_secs(120);

/// The routes of this page. The body of `POST /write` is bounded by [`bounded`], not
/// by axum's limit (which the bound replaces).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/write",
        get(page).post(submit).layer(DefaultBodyLimit::disable()),
    )
}

/// `request` with its body cut at [`REQUEST_BYTES_MAX`], and a flag set if it was cut.
///
/// Cut rather than refused: axum's own limit fails the whole body, and the multipart
/// parser reads ahead whatever has arrived, so a form over the bound would lose every
/// field typed before its attachments. Cut, the parser sees a form that ends early:
/// the fields before the cut are read (and shown again), and memory holds at most the
/// bound. The rest of the body is never read.
fn bounded(request: Request) -> (Request, Arc<AtomicBool>) {
    let cut = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cut);
    let (parts, body) = request.into_parts();
    let pieces = futures::stream::unfold(
        (body.into_data_stream(), 0usize),
        move |(mut stream, taken)| {
            let flag = Arc::clone(&flag);
            async move {
                let piece = match stream.next().await? {
                    Ok(piece) => piece,
                    Err(e) => return Some((Err(e), (stream, taken))),
                };
                let room = REQUEST_BYTES_MAX - taken;
                let len = piece.len();
                if len <= room {
                    return Some((Ok(piece), (stream, taken + len)));
                }
                flag.store(true, Ordering::SeqCst);
                (room > 0).then(move || (Ok(piece.slice(..room)), (stream, REQUEST_BYTES_MAX)))
            }
        },
    );
    (Request::from_parts(parts, Body::from_stream(pieces)), cut)
}

/// A choice in a list: value, words, whether chosen.
pub struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// A kind offered on the first page.
pub struct KindLink {
    href: String,
    name: String,
    about: String,
}

#[derive(Template)]
#[template(path = "write_choose.html")]
struct ChoosePage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    kinds: Vec<KindLink>,
}

/// A problem with the form, in words, and the field it is about (for the link to it).
pub struct ProblemText {
    field: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "write_form.html")]
struct FormPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    kind: &'static str,
    kind_name: String,
    typed: Typed,
    problems: Vec<ProblemText>,
    personas: Vec<Choice>,
    relations: Vec<Choice>,
    incident_types: Vec<Choice>,
    text_langs: Vec<Choice>,
    /// The people a record can be sealed to: trusted, not revoked, with a key for
    /// sealed records here. Empty: the form says how to get one.
    recipients: Vec<Choice>,
    limits: String,
    /// Files were sent with a form that comes back: the browser cannot keep them.
    choose_files_again: bool,
}

impl FormPage {
    /// Whether a problem is about `field` (for `aria-invalid`).
    fn invalid(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }
}

/// `GET /write`, and `GET /write?kind=…`.
pub async fn page(State(state): State<AppState>, tr: Tr, RawQuery(query): RawQuery) -> Response {
    let kind = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(name, _)| name == "kind")
        .map(|(_, value)| value.into_owned());
    match kind.as_deref().map(kind_named) {
        None => choose(tr, query.as_deref()),
        Some(None) => notice(
            tr,
            StatusCode::NOT_FOUND,
            msg("write-error-title"),
            msg("write-error-kind"),
        ),
        Some(Some(kind)) => {
            let typed = Typed {
                kind: kind.name().to_owned(),
                lang: tr.lang.code().to_owned(),
                ..Typed::default()
            };
            form(
                &state,
                tr,
                query.as_deref(),
                kind,
                typed,
                Vec::new(),
                false,
                StatusCode::OK,
            )
            .await
        }
    }
}

fn choose(tr: Tr, query: Option<&str>) -> Response {
    let kinds = KINDS
        .iter()
        .map(|kind| KindLink {
            href: format!("/write?kind={}", kind.name()),
            name: tr.t(kind_msg(*kind)),
            about: tr.t(about_msg(*kind)),
        })
        .collect();
    render(
        tr,
        &ChoosePage {
            tr,
            langs: lang_links(tr, query),
            full: true,
            kinds,
        },
    )
}

fn about_msg(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Testimony => msg("write-about-testimony"),
        RecordKind::Incident => msg("write-about-incident"),
        RecordKind::Detention => msg("write-about-detention"),
        _ => msg("write-about-evidence"),
    }
}

/// `POST /write`.
pub async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let (request, cut) = bounded(request);
    let Ok(multipart) = Multipart::from_request(request, &()).await else {
        return notice(
            tr,
            StatusCode::BAD_REQUEST,
            msg("write-error-title"),
            msg("write-error-unreadable"),
        );
    };
    let Ok(_writing) = WRITING.acquire().await else {
        return notice(
            tr,
            StatusCode::SERVICE_UNAVAILABLE,
            msg("error-title"),
            msg("error-internal"),
        );
    };
    let mut received = tokio::time::timeout(RECEIVE_TIME_MAX, receive(multipart))
        .await
        .unwrap_or_else(|_| Received {
            problem: Some(Problem::Unreadable),
            ..Received::default()
        });
    if cut.load(Ordering::SeqCst) {
        received.problem = Some(Problem::RequestTooLarge);
    }
    let query = query.as_deref();
    let Some(kind) = kind_named(&received.typed.kind) else {
        // Nothing of the form arrived before the fault (its first field names the kind),
        // so there is no form to show again: only what went wrong.
        return match &received.problem {
            Some(problem) => refusal(tr, status_of(problem), problem_text(tr, problem).text),
            None => notice(
                tr,
                StatusCode::UNPROCESSABLE_ENTITY,
                msg("write-error-title"),
                msg("write-error-kind"),
            ),
        };
    };
    let files_sent = !received.uploads.is_empty();
    let problems = match received.problem {
        Some(problem) => vec![problem],
        None => received.typed.problems(kind),
    };
    if let Some(status) = problems.first().map(status_of) {
        let texts = problems.iter().map(|p| problem_text(tr, p)).collect();
        let files_lost = files_sent || problems.iter().any(is_about_files);
        return form(
            &state,
            tr,
            query,
            kind,
            received.typed,
            texts,
            files_lost,
            status,
        )
        .await;
    }
    let new = NewRecord {
        draft: received.typed.draft(kind),
        persona: Some(received.typed.persona.clone()).filter(|p| !p.is_empty()),
        uploads: received.uploads,
        seal_to: received.typed.seal_to.clone(),
    };
    // Anything but a stored record comes back as the form, with what was typed and the
    // one problem that stopped it.
    let (problem, status) = match store(&state, new).await {
        Ok(Ok(written)) => {
            if let Some(node) = &state.node {
                // If the node's queue is full, its next poll finds the record.
                let _ = node.written();
            }
            let location = written_marker(&written);
            return (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
        }
        Ok(Err(WriteError::NoPersona(_))) => return no_persona(tr),
        Ok(Err(WriteError::Recipient(refused))) if !is_failure(&refused) => (
            ProblemText {
                field: "seal_to",
                text: recipient_text(tr, &refused),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(e)) => {
            let (status, text) = write_failure(tr, &e);
            let problem = ProblemText {
                field: "attachments",
                text,
            };
            (problem, status)
        }
        Err(_) => (
            ProblemText {
                field: "title",
                text: tr.t("write-error-stored"),
            },
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    };
    form(
        &state,
        tr,
        query,
        kind,
        received.typed,
        vec![problem],
        files_sent,
        status,
    )
    .await
}

/// Where the browser goes after a write: the record's page, told (by `written`) that it
/// was just written and which attachments, by number from 1, were stored as they are
/// and may reveal where, when and with what they were made. Numbers, not names or
/// formats: the address stays in the browser's history.
fn written_marker(written: &Written) -> String {
    let uncleaned: Vec<String> = written
        .cleaning
        .iter()
        .enumerate()
        .filter(|(_, cleaning)| cleaning.may_reveal())
        .map(|(index, _)| (index + 1).to_string())
        .collect();
    format!(
        "/records/{}?written={}",
        written.record.id().to_hex(),
        uncleaned.join(",")
    )
}

/// Whether a refused recipient is the archive failing rather than a wrong choice.
fn is_failure(refused: &SealToError) -> bool {
    matches!(refused, SealToError::Store(e) if !matches!(e, StoreError::NotFound(_)))
}

/// Why a recipient chosen cannot be sealed to, naming the field.
fn recipient_text(tr: Tr, refused: &SealToError) -> String {
    let field = ("field", tr.t(label("seal_to")).into());
    let (id, fingerprint) = match refused {
        SealToError::Revoked(f) => (msg("write-error-recipient-revoked"), f.to_string()),
        SealToError::NotTrusted(f) => (msg("write-error-recipient-not-trusted"), f.to_string()),
        SealToError::NoSealingKey(f) => (msg("write-error-recipient-no-key"), f.to_string()),
        SealToError::Store(_) => return tr.targs("write-error-recipient-unknown", &[field]),
    };
    tr.targs(id, &[field, ("fingerprint", fingerprint.into())])
}

/// Writes `new` on a blocking thread (cleaning, hashing, SQLite and the disk block).
async fn store(
    state: &AppState,
    new: NewRecord,
) -> Result<Result<qoima_write::Written, WriteError>, WebError> {
    let store = std::sync::Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || {
        let mut store = store
            .lock()
            .map_err(|_| WebError::Interrupted("an earlier reader panicked".into()))?;
        Ok(qoima_write::write(&mut store, new))
    })
    .await
    .map_err(|e| WebError::Interrupted(e.to_string()))?
}

/// The status and sentence for a record that could not be written.
fn write_failure(tr: Tr, e: &WriteError) -> (StatusCode, String) {
    match e {
        WriteError::Malformed { number, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.targs(
                "write-error-damaged",
                &[("number", (*number as u64).into())],
            ),
        ),
        WriteError::Draft(reason) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.ta("write-error-draft", "reason", &super::plain(reason)),
        ),
        WriteError::NoPersona(_) | WriteError::Store(_) | WriteError::Recipient(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            tr.t("write-error-stored"),
        ),
    }
}

/// A short page saying `text` under the title "not stored".
fn refusal(tr: Tr, status: StatusCode, text: String) -> Response {
    let page = super::Notice {
        tr,
        langs: lang_links(tr, None),
        full: false,
        title: tr.t("write-error-title"),
        text,
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// The page for an archive without a key to sign with.
fn no_persona(tr: Tr) -> Response {
    notice(
        tr,
        StatusCode::CONFLICT,
        msg("write-no-persona-title"),
        msg("write-no-persona-text"),
    )
}

fn status_of(problem: &Problem) -> StatusCode {
    match problem {
        Problem::RequestTooLarge | Problem::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Problem::Unreadable => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn is_about_files(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::RequestTooLarge | Problem::FileTooLarge { .. } | Problem::TooManyFiles
    )
}

/// Megabytes, for bounds people read.
fn megabytes(bytes: usize) -> u64 {
    (bytes / (1024 * 1024)) as u64
}

/// A problem in words, naming the field and the bound.
fn problem_text(tr: Tr, problem: &Problem) -> ProblemText {
    let (field, text) = match problem {
        Problem::Missing { field } => (
            *field,
            tr.ta("write-error-missing", "field", &tr.t(label(field))),
        ),
        Problem::TooLong { field, max } => (
            *field,
            tr.targs(
                "write-error-too-long",
                &[
                    ("field", tr.t(label(field)).into()),
                    ("max", (*max as u64).into()),
                ],
            ),
        ),
        Problem::TooManyTags => (
            "tags",
            tr.tn(
                "write-error-too-many-tags",
                qoima_core::limits::TAGS_MAX as u64,
            ),
        ),
        Problem::BadDate => ("occurred_at", tr.t("write-error-date")),
        Problem::BadChoice { field } => (
            *field,
            tr.ta("write-error-choice", "field", &tr.t(label(field))),
        ),
        Problem::NotText { field } => (
            *field,
            tr.ta("write-error-not-text", "field", &tr.t(label(field))),
        ),
        Problem::FileTooLarge { number } => (
            "attachments",
            tr.targs(
                "write-error-file-too-large",
                &[
                    ("number", (*number as u64).into()),
                    ("max", megabytes(FILE_BYTES_MAX).into()),
                ],
            ),
        ),
        Problem::TooManyFiles => (
            "attachments",
            tr.tn("write-error-too-many-files", FILES_MAX as u64),
        ),
        Problem::RequestTooLarge => (
            "attachments",
            tr.targs(
                "write-error-request-too-large",
                &[("max", megabytes(REQUEST_BYTES_MAX).into())],
            ),
        ),
        Problem::NotANumber { field: "radius" } => (
            "radius",
            tr.ta("write-error-radius-number", "field", &tr.t(label("radius"))),
        ),
        Problem::NotANumber { field } => (
            *field,
            tr.ta("write-error-degrees-number", "field", &tr.t(label(field))),
        ),
        Problem::OffTheGlobe { field } => (
            *field,
            tr.ta(
                if *field == "lat" {
                    msg("write-error-lat-range")
                } else {
                    msg("write-error-lon-range")
                },
                "field",
                &tr.t(label(field)),
            ),
        ),
        Problem::CoordinateMissing { field } => (
            *field,
            tr.ta(
                "write-error-coordinate-missing",
                "field",
                &tr.t(label(field)),
            ),
        ),
        Problem::RadiusAlone => (
            "radius",
            tr.ta("write-error-radius-alone", "field", &tr.t(label("radius"))),
        ),
        Problem::TooManyRecipients => (
            "seal_to",
            tr.targs(
                "write-error-too-many-recipients",
                &[
                    ("field", tr.t(label("seal_to")).into()),
                    ("count", (RECIPIENTS_MAX as u64).into()),
                ],
            ),
        ),
        Problem::Unreadable => ("title", tr.t("write-error-unreadable")),
    };
    ProblemText { field, text }
}

/// The message naming a field of the form.
fn label(field: &str) -> &'static str {
    match field {
        "title" => msg("write-field-title"),
        "text" => msg("write-field-text"),
        "occurred_at" => msg("write-field-occurred-at"),
        "place" => msg("write-field-place"),
        "lat" => msg("write-field-lat"),
        "lon" => msg("write-field-lon"),
        "radius" => msg("write-field-radius"),
        "seal_to" => msg("write-field-seal-to"),
        "tags" => msg("write-field-tags"),
        "lang" => msg("write-field-lang"),
        "witness" => msg("write-field-witness"),
        "relation" => msg("write-field-relation"),
        "incident_type" => msg("write-field-incident-type"),
        "person" => msg("write-field-person"),
        "facility" => msg("write-field-facility"),
        "authority" => msg("write-field-authority"),
        "persona" => msg("write-field-persona"),
        "kind" => msg("write-field-kind"),
        _ => msg("write-field-attachments"),
    }
}

/// The form for `kind` with `typed` in it and `problems` above it.
#[allow(clippy::too_many_arguments)]
async fn form(
    state: &AppState,
    tr: Tr,
    query: Option<&str>,
    kind: RecordKind,
    typed: Typed,
    problems: Vec<ProblemText>,
    choose_files_again: bool,
    status: StatusCode,
) -> Response {
    let read = state.read(|store| Ok((store.personas()?, sealable(store)?)));
    let (personas, sealable) = match read.await {
        Ok(read) => read,
        Err(e) => return super::failure(tr, &e),
    };
    if personas.is_empty() {
        return no_persona(tr);
    }
    let page = FormPage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        kind: kind.name(),
        kind_name: tr.t(kind_msg(kind)),
        personas: persona_choices(&personas, &typed.persona),
        relations: choices(
            tr,
            &RELATIONS.map(|(v, _)| v),
            relation_msg,
            &typed.relation,
        ),
        incident_types: choices(
            tr,
            &INCIDENT_TYPES.map(|(v, _)| v),
            incident_msg,
            &typed.incident_type,
        ),
        text_langs: Lang::ALL
            .iter()
            .map(|lang| Choice {
                value: lang.code().to_owned(),
                label: tr.t(lang.name_id()),
                selected: typed.lang == lang.code(),
            })
            .collect(),
        recipients: recipient_choices(tr, &sealable, &typed.seal_to),
        limits: tr.targs(
            "write-attachments-limits",
            &[
                ("files", (FILES_MAX as u64).into()),
                ("each", megabytes(FILE_BYTES_MAX).into()),
                ("total", megabytes(REQUEST_BYTES_MAX).into()),
            ],
        ),
        typed,
        problems,
        choose_files_again,
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(_) => render(tr, &page),
    }
}

/// The keys trusted here that a record can be sealed to: not revoked, and with a key
/// for sealed records that has reached this archive. By the name they are trusted under.
fn sealable(store: &Store) -> Result<Vec<qoima_store::TrustedKey>, StoreError> {
    let mut keys = Vec::new();
    for trusted in store.trusted_keys()? {
        if matches!(
            store.author_trust(&trusted.key)?,
            AuthorTrust::Revoked { .. }
        ) {
            continue;
        }
        if store.sealing_key_of(&trusted.key)?.is_some() {
            keys.push(trusted);
        }
    }
    Ok(keys)
}

/// A check box per key in `keys`, its value the whole key (what `seal_to` names
/// unambiguously), checked if `chosen` names it.
fn recipient_choices(tr: Tr, keys: &[qoima_store::TrustedKey], chosen: &[String]) -> Vec<Choice> {
    keys.iter()
        .map(|trusted| {
            let value = trusted.key.to_hex();
            Choice {
                selected: chosen.contains(&value),
                label: tr.targs(
                    "write-seal-recipient",
                    &[
                        ("name", trusted.name.clone().into()),
                        ("fingerprint", trusted.key.fingerprint().to_string().into()),
                    ],
                ),
                value,
            }
        })
        .collect()
}

fn persona_choices(personas: &[Persona], chosen: &str) -> Vec<Choice> {
    personas
        .iter()
        .map(|p| Choice {
            value: p.name.clone(),
            label: p.name.clone(),
            selected: if chosen.is_empty() {
                p.default
            } else {
                p.name == chosen
            },
        })
        .collect()
}

fn choices(tr: Tr, values: &[&str], words: fn(&str) -> &'static str, chosen: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|value| Choice {
            value: (*value).to_owned(),
            label: tr.t(words(value)),
            selected: *value == chosen,
        })
        .collect()
}

fn relation_msg(value: &str) -> &'static str {
    match value {
        "victim" => msg("write-relation-victim"),
        "eyewitness" => msg("write-relation-eyewitness"),
        "relative" => msg("write-relation-relative"),
        "hearsay" => msg("write-relation-hearsay"),
        _ => msg("write-relation-other"),
    }
}

fn incident_msg(value: &str) -> &'static str {
    match value {
        "detention" => msg("write-incident-detention"),
        "use-of-force" => msg("write-incident-use-of-force"),
        "shooting" => msg("write-incident-shooting"),
        "torture" => msg("write-incident-torture"),
        "disappearance" => msg("write-incident-disappearance"),
        "dispersal" => msg("write-incident-dispersal"),
        "censorship" => msg("write-incident-censorship"),
        "property-damage" => msg("write-incident-property-damage"),
        _ => msg("write-incident-other"),
    }
}
