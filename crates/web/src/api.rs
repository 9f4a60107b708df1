//! `/api/v1`: the archive as JSON, in the shapes of the CLI's `--json` (see `API.md`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qoima_store::StoreError;

use crate::json::ApiError;
use crate::reading::{self, ArchiveFilter};
use crate::{AppState, WebError};

/// `GET /api/v1/records?q=&kind=&author=&page=`: one page of records, newest first.
pub async fn records(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let found = state
        .read(
            move |store| match ArchiveFilter::from_query(store, query.as_deref()) {
                Ok(filter) => Ok(Ok(reading::list_page(store, &filter)?)),
                Err(e) => Ok(Err(e)),
            },
        )
        .await;
    match found {
        Ok(Ok(page)) => Json(page).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
        Err(e) => failure(e),
    }
}

/// `GET /api/v1/records/{id}`: one record in full.
pub async fn record(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state
        .read(move |store| Ok(reading::record_view(store, &id)?))
        .await
    {
        Ok(view) => Json(view).into_response(),
        Err(e) => failure(e),
    }
}

fn failure(e: WebError) -> Response {
    match &e {
        WebError::Store(StoreError::NotFound(_)) => {
            error(StatusCode::NOT_FOUND, "not_found", e.to_string())
        }
        WebError::Store(StoreError::Invalid(_) | StoreError::Ambiguous(_)) => {
            error(StatusCode::BAD_REQUEST, "bad_request", e.to_string())
        }
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    }
}

fn error(status: StatusCode, code: &'static str, message: String) -> Response {
    (
        status,
        Json(ApiError {
            error: code,
            message,
        }),
    )
        .into_response()
}
