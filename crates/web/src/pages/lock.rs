//! `POST /lock`: the lock button on every page.
//!
//! With the node behind the interface ([`crate::NodeControl`]) it locks as `qoima lock`
//! does: the node forgets the key and stops, and the server with it. Without one (an
//! interface started on its own, as in tests) it says that locking is not available
//! here and changes nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::notice;
use crate::AppState;
use crate::i18n::{Tr, msg};

/// `POST /lock`.
pub async fn lock(State(state): State<AppState>, tr: Tr) -> Response {
    match &state.node {
        Some(node) if node.lock() => {
            notice(tr, StatusCode::OK, msg("locked-title"), msg("locked-text"))
        }
        // Never "locked" unless the node took the request: the user must not walk away
        // from a node that still holds the key.
        Some(_) => notice(
            tr,
            StatusCode::SERVICE_UNAVAILABLE,
            msg("lock-failed-title"),
            msg("lock-failed-text"),
        ),
        None => notice(
            tr,
            StatusCode::NOT_IMPLEMENTED,
            msg("lock-unavailable-title"),
            msg("lock-unavailable-text"),
        ),
    }
}
