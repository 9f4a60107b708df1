//! The running node's state, asked for through [`crate::NodeControl`] within a deadline,
//! and `GET /api/v1/status`, which hands it over as `qoima status --json` does.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qoima_core::status::Status;

use crate::AppState;
use crate::json::ApiError;

/// An answer from the node, on its way.
pub type Pending<T> = Pin<Box<dyn Future<Output = Option<T>> + Send + 'static>>;

/// How long a page waits for the node: it answers from its event loop, which a burst
/// of work can hold up, and a page must not hang with it.
pub const STATUS_WAIT: Duration = Duration::from_secs(2);

/// What the interface learned of the node.
#[derive(Debug)]
pub enum NodeState {
    /// The interface runs without a node (tests, or an interface started on its own).
    NoNode,
    /// The node did not answer within [`STATUS_WAIT`], or has stopped.
    NoAnswer,
    /// Its state.
    Running(Box<Status>),
}

impl AppState {
    /// The node's state, waiting at most [`STATUS_WAIT`].
    pub(crate) async fn node_state(&self) -> NodeState {
        let Some(node) = &self.node else {
            return NodeState::NoNode;
        };
        match tokio::time::timeout(STATUS_WAIT, node.status()).await {
            Ok(Some(status)) => NodeState::Running(Box::new(status)),
            Ok(None) | Err(_) => NodeState::NoAnswer,
        }
    }
}

/// `GET /api/v1/status`: the node's state, in the shape of `qoima status --json`.
pub async fn api(State(state): State<AppState>) -> Response {
    match state.node_state().await {
        NodeState::Running(status) => Json(*status).into_response(),
        NodeState::NoNode => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(ApiError {
                error: "no_node",
                message: "this interface runs without a node".into(),
            }),
        )
            .into_response(),
        NodeState::NoAnswer => (
            StatusCode::GATEWAY_TIMEOUT,
            Json(ApiError {
                error: "node_not_answering",
                message: format!("the node did not answer within {} s", STATUS_WAIT.as_secs()),
            }),
        )
            .into_response(),
    }
}
