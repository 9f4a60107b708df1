//! `/records/{id}/attachments/{n}`: an image attachment's bytes, for its preview on the
//! record's page.
//!
//! Only raster images that browsers decode without running anything (no SVG, which can
//! hold script), only when complete here, and only up to [`PREVIEW_MAX`]: the bytes are
//! read into memory, by at most [`PREVIEWS_AT_ONCE`] requests at a time (others wait
//! their turn), so a page of many photos, or a program asking for them in a loop, holds
//! at most that many times the bound. `nosniff` (set by the guard) keeps the browser to
//! the media type the record states, among these.

use std::io::Read;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qoima_store::StoreError;

use super::failure;
use crate::i18n::Tr;
use crate::{AppState, WebError};

/// Media types shown as a preview.
const PREVIEWABLE: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The largest attachment shown as a preview, in bytes.
pub const PREVIEW_MAX: u64 = 16 << 20;

/// Previews read at once: a browser asks for a page's images together, and each holds up
/// to [`PREVIEW_MAX`] in memory until sent.
pub const PREVIEWS_AT_ONCE: usize = 4;

/// Whether an attachment of this type and size is shown as a preview once it is here.
pub fn previewable(media_type: &str, size: u64) -> bool {
    PREVIEWABLE.contains(&media_type) && size <= PREVIEW_MAX
}

/// `GET /records/{id}/attachments/{n}` (`n` from 0, in the record's order).
pub async fn preview(
    State(state): State<AppState>,
    tr: Tr,
    Path((id, n)): Path<(String, usize)>,
) -> Response {
    // A turn among [`PREVIEWS_AT_ONCE`], kept until the connection has taken the bytes.
    // The semaphore is never closed, so a turn always comes.
    let Ok(turn) = std::sync::Arc::clone(&state.previews).acquire_owned().await else {
        return failure(tr, &WebError::Interrupted("previews closed".into()));
    };
    let found = state
        .read(move |store| {
            let id = store.resolve(&id)?;
            let stored = store.get(&id)?;
            let not_found = || StoreError::NotFound(format!("attachment {n} of {id}"));
            let attachment = stored
                .record
                .body()
                .attachments
                .get(n)
                .ok_or_else(not_found)?;
            if !previewable(&attachment.media_type, attachment.size) {
                return Err(not_found().into());
            }
            let reader = store.read_blob(&attachment.blake3)?.ok_or_else(not_found)?;
            let mut bytes = Vec::new();
            reader
                .take(PREVIEW_MAX + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| WebError::Interrupted(format!("reading attachment {n}: {e}")))?;
            if bytes.len() as u64 != attachment.size {
                return Err(
                    StoreError::Corrupt(format!("attachment {n} of {id}: wrong length")).into(),
                );
            }
            Ok((attachment.media_type.clone(), bytes))
        })
        .await;
    match found {
        Ok((media_type, bytes)) => {
            let handed_over = futures::stream::once(async move {
                drop(turn);
                Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(bytes))
            });
            let mut response = (StatusCode::OK, Body::from_stream(handed_over)).into_response();
            if let Ok(value) = HeaderValue::from_str(&media_type) {
                response.headers_mut().insert(CONTENT_TYPE, value);
            }
            response
        }
        Err(e) => failure(tr, &e),
    }
}
