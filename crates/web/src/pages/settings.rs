//! `/settings`: the acceptance policy saved in the archive (whose records are kept, the
//! quotas for unknown authors), changed with a form; and, as the running node reports
//! them, its attachment policy and whether it runs in a closed group, which are given
//! on its command line and changed there.
//!
//! A saved policy applies at once: the node reads it from the archive before keeping
//! each batch of records it receives, as `qoima import` does.

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use qoima_store::Policy;

use super::peers::size_text;
use super::settings_form::{FORM_BYTES_MAX, Field, FormValues};
use super::{LangLink, failure, lang_links, notice, render};
use crate::i18n::{Lang, Tr, msg};
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
pub async fn page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let tr = Tr::new(Lang::for_request(query.as_deref(), &headers));
    let policy = match state.read(|store| Ok(store.policy()?)).await {
        Ok(policy) => policy,
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
        values: FormValues::from_policy(&policy),
        node: node_settings(tr, &state).await,
    };
    render(tr, &page)
}

/// `POST /settings`: saves the policy and shows the page again, or says which fields
/// are wrong and saves nothing.
pub async fn save(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let tr = Tr::new(Lang::for_request(query.as_deref(), &headers));
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
        let saved: Policy = store.policy()?;
        match submitted.to_policy(&saved) {
            Ok(policy) => {
                store.set_policy(&policy)?;
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
            }
        }
    }
}
