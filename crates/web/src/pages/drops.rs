//! `/drops`: USB drops. A form that writes part of the archive to a bundle file the
//! browser downloads ([`super::drops_export`]), and one that takes bundle files in
//! ([`super::drops_import`]), as `qoima export` and `qoima import` do.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qoima_core::RecordKind;

use super::{LangLink, kind_msg, lang_links, render};
use crate::AppState;
use crate::i18n::Tr;

/// Bundle files the import form takes at once, at most.
pub const FILES_MAX: usize = 20;
/// Bytes of one bundle file, at most (attachments make bundles large; the import streams
/// them, so this bounds the time a file holds the archive, not memory).
pub const FILE_BYTES_MAX: u64 = 4 << 30;
/// Bytes of one upload, all its files together, at most.
pub const TOTAL_BYTES_MAX: u64 = 8 << 30;

/// Bounds on what the import form takes in.
#[derive(Debug, Clone, Copy)]
pub struct DropLimits {
    /// Files in one upload.
    pub files: usize,
    /// Bytes of one file.
    pub file_bytes: u64,
    /// Bytes of the whole upload.
    pub total_bytes: u64,
}

impl Default for DropLimits {
    fn default() -> Self {
        DropLimits {
            files: FILES_MAX,
            file_bytes: FILE_BYTES_MAX,
            total_bytes: TOTAL_BYTES_MAX,
        }
    }
}

/// Whole megabytes (10^6 bytes, as file managers show them), rounded down, at least 1
/// for a bound that is not zero.
pub fn megabytes(bytes: u64) -> u64 {
    match bytes / 1_000_000 {
        0 if bytes > 0 => 1,
        mb => mb,
    }
}

/// A kind in the export form's list.
pub struct KindOption {
    /// Its name in the form (`testimony`).
    pub name: &'static str,
    /// In the page's language.
    pub label: String,
    /// Chosen before (a form sent back with a problem).
    pub selected: bool,
}

/// What the export form was sent with, to show it again beside a problem.
#[derive(Debug, Default, Clone)]
pub struct ExportChoices {
    /// The kind chosen, if one.
    pub kind: Option<RecordKind>,
    /// `since` as typed.
    pub since: String,
    /// Attachments too.
    pub attachments: bool,
    /// Records held back too.
    pub unshared: bool,
    /// `none`, `passphrase` or `recipients`.
    pub seal: String,
    /// The recipients as typed.
    pub recipients: String,
}

#[derive(Template)]
#[template(path = "drops.html")]
struct DropsPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    kinds: Vec<KindOption>,
    choices: ExportChoices,
    /// What was wrong with the export form, in words.
    export_problem: Option<String>,
    /// What was wrong with an upload, in words.
    import_problem: Option<String>,
    /// The bounds on an upload, in words.
    bounds: String,
}

/// `GET /drops`.
pub async fn page(State(state): State<AppState>, tr: Tr, RawQuery(query): RawQuery) -> Response {
    show(
        tr,
        query.as_deref(),
        &state,
        StatusCode::OK,
        ExportChoices::default(),
        None,
        None,
    )
}

/// The page, with the export form as it was sent and the problem of either form.
pub(crate) fn show(
    tr: Tr,
    query: Option<&str>,
    state: &AppState,
    status: StatusCode,
    choices: ExportChoices,
    export_problem: Option<String>,
    import_problem: Option<String>,
) -> Response {
    let kinds = RecordKind::ALL
        .iter()
        .map(|&kind| KindOption {
            name: kind.name(),
            label: tr.t(kind_msg(kind)),
            selected: choices.kind == Some(kind),
        })
        .collect();
    let page = DropsPage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        kinds,
        choices,
        export_problem,
        import_problem,
        bounds: tr.targs(
            "drops-import-bounds",
            &[
                ("files", (state.drops.files as u64).into()),
                ("file", megabytes(state.drops.file_bytes).into()),
                ("total", megabytes(state.drops.total_bytes).into()),
            ],
        ),
    };
    let mut response = render(tr, &page);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_megabytes() {
        assert_eq!(megabytes(0), 0);
        assert_eq!(megabytes(1), 1);
        assert_eq!(megabytes(1_999_999), 1);
        assert_eq!(megabytes(4 << 30), 4294);
    }
}
