//! The stylesheet, compiled into the binary: the interface loads nothing from anywhere
//! else. There is no script yet; the pages work as plain HTML forms and links.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// The stylesheet's bytes.
pub const STYLE_CSS: &str = include_str!("../assets/style.css");

/// `GET /assets/style.css`.
pub async fn style() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], STYLE_CSS)
}
