//! `POST /drops/export`: part of the archive as a bundle file the browser downloads, as
//! `qoima export` writes it: all records or those since a day or of one kind, with
//! attachments and held-back records if asked, signed by a one-time key (the file names
//! no courier), sealed under a passphrase or to recipients' keys if asked.
//!
//! A POST, not a link: it reads the archive at length, and its address stays out of the
//! browser's history. The bundle is streamed as it is written ([`super::drops_stream`]):
//! memory stays bounded whatever its size, and no temporary file holds it.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qoima_core::{AuthorSecret, RecordKind, SealingKey};
use qoima_store::sealed_bundle::SealWriter;
use qoima_store::{ExportQuery, SealToError, Store, StoreError};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use super::drops::{ExportChoices, show};
use super::drops_stream::{ChunkWriter, channel};
use super::failure;
use crate::i18n::{Tr, msg};
use crate::{AppState, WebError};

/// Bytes of the export form, at most.
pub const FORM_BYTES_MAX: usize = 16 * 1024;
/// Recipients a bundle is sealed to, at most (as many as a sealed record has).
pub const RECIPIENTS_MAX: usize = qoima_core::limits::SEALED_RECIPIENTS_MAX;
/// The collection bundles are made for (`qoima export --collection`'s default).
const COLLECTION: &str = "default";

/// How the bundle is sealed.
enum Seal {
    /// Not: whoever holds the file reads the records.
    None,
    /// Under a passphrase of its own.
    Passphrase(Zeroizing<String>),
    /// To these recipients (keys, fingerprints or trusted names).
    Recipients(Vec<String>),
}

/// What the form asks for.
struct ExportForm {
    choices: ExportChoices,
    since_ms: Option<i64>,
    seal: Seal,
}

/// Why the form cannot be followed.
#[derive(Debug)]
enum FormProblem {
    Kind,
    Since,
    PassphraseEmpty,
    PassphrasesDiffer,
    NoRecipients,
    TooManyRecipients,
    TooLarge,
    SealTo(SealToError),
}

/// `POST /drops/export`.
pub async fn export(
    State(state): State<AppState>,
    tr: Tr,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let (form, choices) = match axum::body::to_bytes(body, FORM_BYTES_MAX).await {
        Ok(bytes) => {
            let (form, choices) = parse(&bytes);
            (form, choices)
        }
        Err(_) => (Err(FormProblem::TooLarge), ExportChoices::default()),
    };
    let form = match form {
        Ok(form) => form,
        Err(problem) => return refuse(tr, query.as_deref(), &state, choices, &problem),
    };
    let (ready, started) = oneshot::channel();
    let (chunks, body) = channel();
    let writer = ChunkWriter::new(chunks, tokio::runtime::Handle::current());
    let store = std::sync::Arc::clone(&state.store);
    let choices = form.choices.clone();
    tokio::task::spawn_blocking(move || {
        let Ok(mut store) = store.lock() else {
            let _ = ready.send(Err(Start::Failed(WebError::Interrupted(
                "an earlier reader panicked".into(),
            ))));
            return;
        };
        write_bundle(&mut store, &form, ready, writer);
    });
    match started.await {
        Ok(Ok(())) => download(body),
        Ok(Err(Start::Refused(problem))) => refuse(tr, query.as_deref(), &state, choices, &problem),
        Ok(Err(Start::Failed(e))) => failure(tr, &e),
        Err(_) => failure(tr, &WebError::Interrupted("the export stopped".into())),
    }
}

/// Why an export did not start.
enum Start {
    Refused(FormProblem),
    Failed(WebError),
}

/// On the archive's thread: checks what needs the archive (the recipients), says so on
/// `ready`, then writes the bundle into `writer`.
fn write_bundle(
    store: &mut Store,
    form: &ExportForm,
    ready: oneshot::Sender<Result<(), Start>>,
    writer: ChunkWriter,
) {
    let recipients: Vec<SealingKey> = match &form.seal {
        Seal::Recipients(named) => match store.sealing_keys_for(named) {
            Ok(keys) => keys,
            Err(SealToError::Store(e))
                if !matches!(e, StoreError::NotFound(_) | StoreError::Ambiguous(_)) =>
            {
                let _ = ready.send(Err(Start::Failed(e.into())));
                return;
            }
            Err(e) => {
                let _ = ready.send(Err(Start::Refused(FormProblem::SealTo(e))));
                return;
            }
        },
        _ => Vec::new(),
    };
    let bundler = match qoima_store::throwaway_bundler() {
        Ok(bundler) => bundler,
        Err(e) => {
            let _ = ready.send(Err(Start::Failed(e.into())));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    let query = ExportQuery {
        kind: form.choices.kind,
        since_ms: form.since_ms,
        with_attachments: form.choices.attachments,
        collection: COLLECTION.into(),
        include_held_back: form.choices.unshared,
    };
    let failer = writer.failer();
    if let Err(e) = write_sealed(store, &query, &bundler, &form.seal, &recipients, writer) {
        tracing::warn!("a bundle for the browser could not be written: {e}");
        failer.fail(std::io::Error::other("the bundle could not be written"));
    }
}

/// Exports into `out`, sealed as asked, and sends the last chunk.
fn write_sealed(
    store: &mut Store,
    query: &ExportQuery,
    bundler: &AuthorSecret,
    seal: &Seal,
    recipients: &[SealingKey],
    mut out: ChunkWriter,
) -> Result<(), StoreError> {
    let mut out = match seal {
        Seal::None => {
            store.export(&mut out, query, bundler)?;
            out
        }
        Seal::Passphrase(passphrase) => {
            let mut sealed = SealWriter::new(out, passphrase.as_bytes())?;
            store.export(&mut sealed, query, bundler)?;
            sealed.finish()?
        }
        Seal::Recipients(_) => {
            let mut sealed = SealWriter::to_recipients(out, recipients)?;
            store.export(&mut sealed, query, bundler)?;
            sealed.finish()?
        }
    };
    out.flush()?;
    Ok(())
}

/// The streamed bundle, as a file to save: a name that says what it is and when it was
/// made, and nothing of who wrote or carries it.
fn download(chunks: tokio::sync::mpsc::Receiver<super::drops_stream::Chunk>) -> Response {
    let stream = futures::stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let disposition = format!("attachment; filename=\"{}\"", file_name(now_ms()));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// `qoima-2022-01-05.qb`: the day it was made (UTC), and the extension the CLI's
/// examples use.
pub fn file_name(unix_ms: i64) -> String {
    let day = qoima_core::format_ms(unix_ms);
    format!("qoima-{}.qb", day.get(..10).unwrap_or("bundle"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The form's fields: the choices to show again, and what to do or why not.
fn parse(body: &Bytes) -> (Result<ExportForm, FormProblem>, ExportChoices) {
    let mut choices = ExportChoices {
        seal: "none".into(),
        ..ExportChoices::default()
    };
    let mut kind_text = String::new();
    let mut passphrase = Zeroizing::new(String::new());
    let mut repeated = Zeroizing::new(String::new());
    for (name, value) in form_urlencoded::parse(body) {
        match &*name {
            "kind" => kind_text = value.trim().to_owned(),
            "since" => choices.since = value.trim().to_owned(),
            "attachments" => choices.attachments = true,
            "unshared" => choices.unshared = true,
            "seal" => choices.seal = value.into_owned(),
            "passphrase" => passphrase = Zeroizing::new(value.into_owned()),
            "passphrase2" => repeated = Zeroizing::new(value.into_owned()),
            "recipients" => choices.recipients = value.trim().to_owned(),
            _ => {}
        }
    }
    let form = (|| {
        if !kind_text.is_empty() {
            choices.kind = Some(RecordKind::from_name(&kind_text).ok_or(FormProblem::Kind)?);
        }
        let since_ms = match choices.since.as_str() {
            "" => None,
            text => Some(qoima_core::parse_instant_ms(text).map_err(|_| FormProblem::Since)?),
        };
        let seal = match choices.seal.as_str() {
            "passphrase" => {
                if passphrase.is_empty() {
                    return Err(FormProblem::PassphraseEmpty);
                }
                if passphrase != repeated {
                    return Err(FormProblem::PassphrasesDiffer);
                }
                Seal::Passphrase(passphrase.clone())
            }
            "recipients" => {
                let named: Vec<String> = choices
                    .recipients
                    .split([',', '\n', ';'])
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned)
                    .collect();
                if named.is_empty() {
                    return Err(FormProblem::NoRecipients);
                }
                if named.len() > RECIPIENTS_MAX {
                    return Err(FormProblem::TooManyRecipients);
                }
                Seal::Recipients(named)
            }
            _ => Seal::None,
        };
        Ok(ExportForm {
            choices: choices.clone(),
            since_ms,
            seal,
        })
    })();
    (form, choices)
}

/// The page again, with the form as it was sent and what was wrong with it.
fn refuse(
    tr: Tr,
    query: Option<&str>,
    state: &AppState,
    choices: ExportChoices,
    problem: &FormProblem,
) -> Response {
    let text = match problem {
        FormProblem::Kind => tr.t("drops-export-bad-kind"),
        FormProblem::Since => tr.t("drops-export-bad-since"),
        FormProblem::PassphraseEmpty => tr.t("drops-export-passphrase-empty"),
        FormProblem::PassphrasesDiffer => tr.t("drops-export-passphrases-differ"),
        FormProblem::NoRecipients => tr.t("drops-export-no-recipients"),
        FormProblem::TooManyRecipients => {
            tr.tn("drops-export-too-many-recipients", RECIPIENTS_MAX as u64)
        }
        FormProblem::TooLarge => tr.t("drops-export-form-too-large"),
        FormProblem::SealTo(e) => seal_to_text(tr, e),
    };
    let status = match problem {
        FormProblem::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    show(tr, query, state, status, choices, Some(text), None)
}

fn seal_to_text(tr: Tr, e: &SealToError) -> String {
    let id = match e {
        SealToError::Revoked(_) => msg("drops-export-recipient-revoked"),
        SealToError::NotTrusted(_) => msg("drops-export-recipient-not-trusted"),
        SealToError::NoSealingKey(_) => msg("drops-export-recipient-no-key"),
        SealToError::Store(_) => return tr.t("drops-export-recipient-unknown"),
    };
    let fingerprint = match e {
        SealToError::Revoked(f) | SealToError::NotTrusted(f) | SealToError::NoSealingKey(f) => {
            f.to_string()
        }
        SealToError::Store(_) => String::new(),
    };
    tr.ta(id, "fingerprint", &fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_says_the_day_only() {
        assert_eq!(file_name(1_641_393_296_806), "qoima-2022-01-05.qb");
    }

    #[test]
    fn the_form_is_read_as_the_cli_reads_its_options() {
        let (form, choices) = parse(&Bytes::from_static(
            b"kind=detention&since=2022-01-05&attachments=on&seal=recipients&recipients=Aigerim%2C+NGO",
        ));
        let form = form.expect("a good form");
        assert_eq!(form.choices.kind, Some(RecordKind::Detention));
        assert!(form.since_ms.is_some() && form.choices.attachments && !form.choices.unshared);
        assert!(matches!(&form.seal, Seal::Recipients(named) if named == &["Aigerim", "NGO"]));
        assert_eq!(choices.recipients, "Aigerim, NGO");
        let (form, _) = parse(&Bytes::from_static(b"kind=nonsense"));
        assert!(matches!(form, Err(FormProblem::Kind)));
        let (form, _) = parse(&Bytes::from_static(b"since=yesterday"));
        assert!(matches!(form, Err(FormProblem::Since)));
        let (form, _) = parse(&Bytes::from_static(
            b"seal=passphrase&passphrase=a&passphrase2=b",
        ));
        assert!(matches!(form, Err(FormProblem::PassphrasesDiffer)));
        let (form, _) = parse(&Bytes::from_static(b"seal=passphrase"));
        assert!(matches!(form, Err(FormProblem::PassphraseEmpty)));
        let (form, _) = parse(&Bytes::from_static(b"seal=recipients&recipients=+"));
        assert!(matches!(form, Err(FormProblem::NoRecipients)));
    }
}
