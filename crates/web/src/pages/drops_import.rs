//! `POST /drops/import`: bundle files uploaded from the browser, each imported as
//! `qoima import` imports a file, and a page saying for each what `qoima import` says:
//! new records, records already held, records this archive's policy did not keep, items
//! refused and why, attachments, and a damaged file's reason (what verified before the
//! damage is kept, as by the CLI; nothing already stored is ever lost).
//!
//! Each file streams from the upload into the import ([`super::drops_stream`]): memory
//! stays bounded whatever the size, and no temporary file holds a bundle's plaintext.
//! Bounded: the whole upload ([`DropLimits::total_bytes`], refused before anything is
//! read when the browser announces more), each file ([`DropLimits::file_bytes`]), and
//! the number of files ([`DropLimits::files`]; the others are not read).

use std::io::Read;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, RawQuery, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use qoima_store::sealed_bundle::{SealedBundleError, SealedWith, open_for_recipient, open_sealed};
use qoima_store::{Declined, ImportReport, SenderFault, Source, Store, StoreError};
use zeroize::Zeroizing;

use super::drops::{DropLimits, ExportChoices, megabytes, show};
use super::drops_stream::{ChunkReader, channel};
use super::{LangLink, lang_links, plain, render};
use crate::i18n::{Tr, msg};
use crate::{AppState, WebError};

/// Bytes of the passphrase field, at most.
pub const PASSPHRASE_BYTES_MAX: usize = 1024;
/// Characters of a file name kept (as the bundle's provenance), at most.
pub const FILE_NAME_CHARS_MAX: usize = 255;
/// Refused items listed for one file, at most (the count says how many in all).
pub const REJECTIONS_SHOWN_MAX: usize = 100;

/// The route, with the body bounded by `limits` (axum's own limit is 2 MB).
pub fn route(limits: DropLimits) -> MethodRouter<AppState> {
    let total = usize::try_from(limits.total_bytes).unwrap_or(usize::MAX);
    post(import).layer(DefaultBodyLimit::max(total))
}

/// What happened to one uploaded file.
enum Outcome {
    /// Imported (perhaps in part: the report says).
    Imported(ImportReport),
    /// Sealed under a passphrase, and none was given.
    NeedsPassphrase,
    /// Sealed, and it did not open.
    Unopened(SealedBundleError),
    /// Over the bound on files: not read.
    NotRead,
    /// This archive failed: nothing of the file was stored.
    Failed(WebError),
}

/// One file's line on the results page.
struct FileResult {
    name: String,
    outcome: Outcome,
    /// The file was over the bound on one file and was not read to its end.
    too_large: bool,
}

/// A file's result in words.
struct FileView {
    name: String,
    /// The bundle's id and who signed it, when the bundle could be read.
    bundle: Option<String>,
    /// The counts: new, already held, refused, attachments.
    counts: Vec<String>,
    /// Records the policy did not keep, by reason.
    declined: Vec<String>,
    /// Refused items, each with its reason.
    rejected: Vec<String>,
    /// More refused items than are listed.
    rejected_more: Option<String>,
    /// Why the file was not read (fully), in plain words.
    problem: Option<String>,
    /// The reader's own words for it, for whoever investigates.
    detail: Option<String>,
    clean: bool,
}

#[derive(Template)]
#[template(path = "drops_results.html")]
struct ResultsPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    files: Vec<FileView>,
    /// A problem of the upload as a whole.
    problem: Option<String>,
}

/// `POST /drops/import`.
pub async fn import(
    State(state): State<AppState>,
    tr: Tr,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let limits = state.drops;
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limits.total_bytes) {
        let text = tr.tn(
            "drops-import-total-too-large",
            megabytes(limits.total_bytes),
        );
        return refuse(
            tr,
            query.as_deref(),
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            text,
        );
    }
    let Ok(mut upload) = Multipart::from_request(request, &state).await else {
        let text = tr.t("drops-import-not-an-upload");
        return refuse(tr, query.as_deref(), &state, StatusCode::BAD_REQUEST, text);
    };
    let mut passphrase: Option<Zeroizing<String>> = None;
    let mut results = Vec::new();
    let mut files = 0usize;
    let mut problem = None;
    loop {
        let mut field = match upload.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                problem = Some(upload_problem(tr, &e, limits));
                break;
            }
        };
        match field.name() {
            Some("passphrase") => match read_text(&mut field, PASSPHRASE_BYTES_MAX).await {
                Some(text) if !text.is_empty() => passphrase = Some(text),
                Some(_) => {}
                None => {
                    problem = Some(tr.t("drops-import-passphrase-too-long"));
                    break;
                }
            },
            Some("bundles") => {
                let name = file_name(field.file_name().unwrap_or(""));
                // A form sent without a file chosen has one empty part without a name.
                if name.is_empty() {
                    continue;
                }
                files += 1;
                if files > limits.files {
                    results.push(FileResult {
                        name,
                        outcome: Outcome::NotRead,
                        too_large: false,
                    });
                    continue;
                }
                let (result, broken) =
                    import_streamed(&state, &mut field, name, passphrase.clone(), limits).await;
                results.push(result);
                if let Some(e) = broken {
                    problem = Some(upload_problem(tr, &e, limits));
                    break;
                }
            }
            _ => {}
        }
    }
    let stored = results
        .iter()
        .any(|r| matches!(&r.outcome, Outcome::Imported(report) if report.records_new > 0 || report.blobs_new > 0));
    if stored && let Some(node) = &state.node {
        node.written();
    }
    if results.is_empty() && problem.is_none() {
        problem = Some(tr.t("drops-import-no-files"));
    }
    let status = match (&problem, results.is_empty()) {
        (Some(_), true) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let page = ResultsPage {
        tr,
        langs: lang_links(tr, query.as_deref()),
        full: true,
        files: results.iter().map(|r| view(tr, r, limits)).collect(),
        problem,
    };
    let mut response = render(tr, &page);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

/// The drops page again with `text` above the import form.
fn refuse(
    tr: Tr,
    query: Option<&str>,
    state: &AppState,
    status: StatusCode,
    text: String,
) -> Response {
    show(
        tr,
        query,
        state,
        status,
        ExportChoices {
            seal: "none".into(),
            ..ExportChoices::default()
        },
        None,
        Some(text),
    )
}

/// Why reading the upload failed, in words.
fn upload_problem(
    tr: Tr,
    e: &axum::extract::multipart::MultipartError,
    limits: DropLimits,
) -> String {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        tr.tn(
            "drops-import-total-too-large",
            megabytes(limits.total_bytes),
        )
    } else {
        tr.t("drops-import-upload-broken")
    }
}

/// A text field, if it is at most `max` bytes of UTF-8.
async fn read_text(
    field: &mut axum::extract::multipart::Field<'_>,
    max: usize,
) -> Option<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::new());
    while let Ok(Some(chunk)) = field.chunk().await {
        if bytes.len() + chunk.len() > max {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes.to_vec()).ok().map(Zeroizing::new)
}

/// The name a browser gives an uploaded file, without any folder, bounded, without
/// control characters: it is kept as the records' provenance, as `qoima import` keeps
/// the file's name.
fn file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or("");
    plain(last)
        .chars()
        .filter(|c| !c.is_control())
        .take(FILE_NAME_CHARS_MAX)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Streams the file in `field` into an import on the archive's thread. Also returns
/// the upload's failure, if reading it failed (the rest of the upload is then lost).
async fn import_streamed(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
    name: String,
    passphrase: Option<Zeroizing<String>>,
    limits: DropLimits,
) -> (FileResult, Option<axum::extract::multipart::MultipartError>) {
    let (chunks, received) = channel();
    let input = ChunkReader::new(received, tokio::runtime::Handle::current());
    let store = Arc::clone(&state.store);
    let source = name.clone();
    let importing =
        tokio::task::spawn_blocking(move || import_one(&store, input, source, passphrase));
    let mut size: u64 = 0;
    let mut too_large = false;
    let mut broken = None;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size = size.saturating_add(chunk.len() as u64);
                if size > limits.file_bytes {
                    too_large = true;
                    let _ = chunks
                        .send(Err(std::io::Error::other(
                            "the file is over the size bound",
                        )))
                        .await;
                    break;
                }
                // The import stops reading at a damage it reports; the rest is skipped.
                if chunks.send(Ok(chunk)).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = chunks
                    .send(Err(std::io::Error::other("the upload was interrupted")))
                    .await;
                broken = Some(e);
                break;
            }
        }
    }
    drop(chunks);
    let outcome = match importing.await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(WebError::Interrupted(e.to_string())),
    };
    (
        FileResult {
            name,
            outcome,
            too_large,
        },
        broken,
    )
}

/// On the archive's thread: opens a sealed bundle (with the passphrase given, or with
/// this archive's keys for sealed records) and imports it.
fn import_one(
    store: &Mutex<Store>,
    mut input: ChunkReader,
    source: String,
    passphrase: Option<Zeroizing<String>>,
) -> Outcome {
    let Ok(mut store) = store.lock() else {
        return Outcome::Failed(WebError::Interrupted("an earlier reader panicked".into()));
    };
    let mut head = [0u8; 8];
    // A read error is reported by the import, as the file's reading error.
    let (filled, _) = qoima_store::sealed_bundle::read_head(&mut input, &mut head);
    let whole = std::io::Cursor::new(head[..filled].to_vec()).chain(input);
    let input: Box<dyn Read> = match qoima_store::sealed_bundle::sealed_with(&head[..filled]) {
        None => Box::new(whole),
        Some(SealedWith::Recipients) => {
            let secrets = match store.sealing_secrets() {
                Ok(secrets) => secrets,
                Err(e) => return Outcome::Failed(e.into()),
            };
            match open_for_recipient(whole, &secrets) {
                Ok(opened) => Box::new(opened),
                Err(e) => return Outcome::Unopened(e),
            }
        }
        Some(SealedWith::Passphrase) => {
            let Some(passphrase) = passphrase else {
                return Outcome::NeedsPassphrase;
            };
            match open_sealed(whole, passphrase.as_bytes()) {
                Ok(opened) => Box::new(opened),
                Err(e) => return Outcome::Unopened(e),
            }
        }
    };
    match store.import_bundle(input, Source::File(source)) {
        Ok(report) => Outcome::Imported(report),
        Err(e) => Outcome::Failed(e.into()),
    }
}

/// The id of the message for a reason the policy did not keep a record.
fn declined_msg(why: Declined) -> &'static str {
    match why {
        Declined::NotTrusted => msg("drops-declined-not-trusted"),
        Declined::OverHourlyQuota => msg("drops-declined-hourly"),
        Declined::OverByteQuota => msg("drops-declined-bytes"),
        Declined::OverSharedQuota => msg("drops-declined-shared"),
    }
}

fn view(tr: Tr, result: &FileResult, limits: DropLimits) -> FileView {
    let mut view = FileView {
        name: result.name.clone(),
        bundle: None,
        counts: Vec::new(),
        declined: Vec::new(),
        rejected: Vec::new(),
        rejected_more: None,
        problem: None,
        detail: None,
        clean: false,
    };
    let report = match &result.outcome {
        Outcome::Imported(report) => report,
        Outcome::NeedsPassphrase => {
            view.problem = Some(tr.t("drops-file-needs-passphrase"));
            return view;
        }
        Outcome::Unopened(e) => {
            view.problem = Some(tr.t(match e {
                SealedBundleError::WrongPassphrase => msg("drops-file-wrong-passphrase"),
                SealedBundleError::NotARecipient => msg("drops-file-not-a-recipient"),
                SealedBundleError::Malformed | SealedBundleError::Io(_) => {
                    msg("drops-file-sealed-damaged")
                }
            }));
            view.detail = Some(e.to_string());
            return view;
        }
        Outcome::NotRead => {
            view.problem = Some(tr.tn("drops-file-not-read", limits.files as u64));
            return view;
        }
        Outcome::Failed(e) => {
            view.problem = Some(tr.t("drops-file-archive-failed"));
            tracing::warn!("importing an uploaded bundle failed: {e}");
            if let WebError::Store(StoreError::Tampered(_) | StoreError::Corrupt(_)) = e {
                view.detail = Some(e.to_string());
            }
            return view;
        }
    };
    let kept = report.records_new + report.records_present;
    if let Some(bundle) = report.bundle {
        let signer = report
            .bundler
            .map(|k| k.fingerprint().to_string())
            .unwrap_or_default();
        view.bundle = Some(tr.targs(
            "drops-file-bundle",
            &[("bundle", bundle.short().into()), ("signer", signer.into())],
        ));
        view.counts
            .push(tr.tn("drops-file-new", report.records_new));
        view.counts
            .push(tr.tn("drops-file-present", report.records_present));
        view.counts
            .push(tr.tn("drops-file-rejected", report.rejected.len() as u64));
        if report.blobs_new + report.blobs_present > 0 {
            view.counts
                .push(tr.tn("drops-file-attachments-new", report.blobs_new));
            view.counts
                .push(tr.tn("drops-file-attachments-present", report.blobs_present));
        }
        for (why, count) in &report.declined {
            view.declined.push(tr.targs(
                "drops-file-declined",
                &[
                    ("count", (*count).into()),
                    ("reason", tr.t(declined_msg(*why)).into()),
                ],
            ));
        }
        for rejection in report.rejected.iter().take(REJECTIONS_SHOWN_MAX) {
            let id = if rejection.later_version {
                msg("drops-file-rejected-item-later")
            } else {
                msg("drops-file-rejected-item")
            };
            view.rejected.push(tr.targs(
                id,
                &[
                    ("index", (rejection.index as u64).into()),
                    ("item", plain(&rejection.item).into()),
                    ("reason", plain(&rejection.reason).into()),
                ],
            ));
        }
        if report.rejected.len() > REJECTIONS_SHOWN_MAX {
            view.rejected_more = Some(tr.tn(
                "drops-file-rejected-more",
                (report.rejected.len() - REJECTIONS_SHOWN_MAX) as u64,
            ));
        }
    }
    if result.too_large {
        view.problem = Some(tr.targs(
            "drops-file-too-large",
            &[
                ("size", megabytes(limits.file_bytes).into()),
                ("count", kept.into()),
            ],
        ));
    } else if let Some(fatal) = &report.fatal {
        let id = match (report.bundle, report.fault) {
            (None, Some(SenderFault::Unreadable)) => msg("drops-file-not-a-bundle"),
            (None, _) => msg("drops-file-unreadable"),
            (Some(_), _) => msg("drops-file-damaged"),
        };
        view.problem = Some(tr.tn(id, kept));
        view.detail = Some(plain(fatal));
    }
    view.clean = report.is_clean() && !result.too_large;
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_folders_and_controls() {
        assert_eq!(file_name("C:\\Users\\a\\jan.qb"), "jan.qb");
        assert_eq!(file_name("/media/stick/jan.qb"), "jan.qb");
        assert_eq!(file_name("ja\u{202e}n\n.qb"), "jan.qb");
        assert_eq!(file_name(&"x".repeat(1000)).chars().count(), 255);
        assert_eq!(file_name(""), "");
    }
}
