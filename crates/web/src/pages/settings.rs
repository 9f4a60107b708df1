//! `/settings`: the policies saved in the archive, changed with one form: the acceptance
//! policy (whose records are kept, the quotas for unknown authors) and the attachment
//! policy (which attachments are fetched without asking, the space for them, the data
//! each run may receive). Beside them, as the running node reports them, the attachment
//! limits it applies now and whether it runs in a closed group, which is given on its
//! command line and changed there.
//!
//! A saved policy applies at once: the node reads the acceptance policy from the archive
//! before keeping each batch of records it receives, as `qoima import` does, and the
//! attachment policy each time it looks for attachments to fetch (every second).

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};

use super::peers::size_text;
use super::settings_form::{FORM_BYTES_MAX, Field, FormValues, Settings};
use super::{LangLink, failure, lang_links, notice, render};
use crate::i18n::{Tr, msg};
use crate::status::NodeState;
use crate::{AppState, WebError};

/// What the page says of the running node's own settings.
enum NodeSettings {
    NoNode,
    NoAnswer,
    Running {
        closed_group: bool,
        fetch_up_to: String,
        quota: String,
        budget: String,
        /// Attachment data received since the node started, against the budget.
        budget_used: String,
    },
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    saved: bool,
    /// What is wrong with the form sent, one sentence per field.
    errors: Vec<String>,
    values: FormValues,
    node: NodeSettings,
}

/// `GET /settings`.
pub async fn page(State(state): State<AppState>, tr: Tr, RawQuery(query): RawQuery) -> Response {
    let settings = match state.read(|store| Ok(saved_settings(store)?)).await {
        Ok(settings) => settings,
        Err(e) => return failure(tr, &e),
    };
    let saved = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .any(|(name, value)| name == "saved" && value == "1");
    let page = SettingsPage {
        tr,
        langs: lang_links(tr, query.as_deref()),
        full: true,
        saved,
        errors: Vec::new(),
        values: FormValues::from_settings(&settings),
        node: node_settings(tr, &state).await,
    };
    render(tr, &page)
}

/// Both policies as saved in the archive.
fn saved_settings(store: &qoima_store::Store) -> Result<Settings, qoima_store::StoreError> {
    Ok(Settings {
        policy: store.policy()?,
        blobs: store.blob_policy()?,
    })
}

/// `POST /settings`: saves both policies and shows the page again, or says which fields
/// are wrong and saves nothing.
pub async fn save(State(state): State<AppState>, tr: Tr, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, FORM_BYTES_MAX).await else {
        return notice(
            tr,
            StatusCode::PAYLOAD_TOO_LARGE,
            msg("settings-too-large-title"),
            msg("settings-too-large-text"),
        );
    };
    let values = FormValues::parse(&bytes);
    let submitted = values.clone();
    let store = Arc::clone(&state.store);
    let outcome = tokio::task::spawn_blocking(move || -> Result<_, WebError> {
        let mut store = store
            .lock()
            .map_err(|_| WebError::Interrupted("an earlier reader panicked".into()))?;
        let saved = saved_settings(&store)?;
        match submitted.to_settings(&saved) {
            Ok(settings) => {
                // Both or neither: one transaction.
                store.set_policies(&settings.policy, &settings.blobs)?;
                Ok(Ok(()))
            }
            Err(wrong) => Ok(Err(wrong)),
        }
    })
    .await
    .map_err(|e| WebError::Interrupted(e.to_string()))
    .and_then(|outcome| outcome);
    match outcome {
        // After a POST, a GET: reloading the page does not send the form again.
        Ok(Ok(())) => (StatusCode::SEE_OTHER, [(LOCATION, "/settings?saved=1")]).into_response(),
        Ok(Err(wrong)) => {
            let page = SettingsPage {
                tr,
                langs: lang_links(tr, None),
                full: true,
                saved: false,
                errors: wrong.iter().map(|&field| field_error(tr, field)).collect(),
                values,
                node: node_settings(tr, &state).await,
            };
            let mut response = render(tr, &page);
            if response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::BAD_REQUEST;
            }
            response
        }
        Err(e) => failure(tr, &e),
    }
}

/// What is wrong with `field`, naming it and what it takes.
fn field_error(tr: Tr, field: Field) -> String {
    match field {
        Field::Accept => tr.t("settings-invalid-accept"),
        number => tr.targs(
            "settings-invalid-number",
            &[
                ("field", tr.t(label_msg(number)).into()),
                ("max", number.max().into()),
            ],
        ),
    }
}

/// The id of the message labelling `field`.
fn label_msg(field: Field) -> &'static str {
    match field {
        Field::Accept => msg("settings-accept-label"),
        Field::RecordsPerHour => msg("settings-records-per-hour-label"),
        Field::MegabytesPerAuthor => msg("settings-megabytes-per-author-label"),
        Field::UnknownPerHour => msg("settings-unknown-per-hour-label"),
        Field::FetchUpTo => msg("settings-fetch-up-to-mb-label"),
        Field::BlobQuota => msg("settings-blob-quota-mb-label"),
        Field::Budget => msg("settings-budget-mb-label"),
    }
}

async fn node_settings(tr: Tr, state: &AppState) -> NodeSettings {
    match state.node_state().await {
        NodeState::NoNode => NodeSettings::NoNode,
        NodeState::NoAnswer => NodeSettings::NoAnswer,
        NodeState::Running(status) => {
            let limits = status.attachments;
            let limit = |bytes: Option<u64>| match bytes {
                Some(bytes) => size_text(tr, bytes),
                None => tr.t("settings-no-limit"),
            };
            NodeSettings::Running {
                closed_group: status.closed_group,
                fetch_up_to: size_text(tr, limits.fetch_up_to),
                quota: limit(limits.quota),
                budget: limit(limits.budget),
                budget_used: size_text(tr, limits.budget_used),
            }
        }
    }
}
