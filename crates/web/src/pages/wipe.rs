//! `GET /wipe` and `POST /wipe`: destroying the archive on this computer, behind a
//! confirmation typed in words.
//!
//! A device can be taken at a checkpoint: the person holding it must be able to destroy
//! the archive quickly, but never by one stray click. The page says what is lost and what
//! is not (copies already given to others), and asks for a word typed in full.

use askama::Template;
use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{LangLink, lang_links, notice, render};
use crate::AppState;
use crate::i18n::{Lang, Tr, msg};

/// Characters of the confirmation read at most.
const CONFIRMATION_MAX: usize = 64;

/// The confirmation form.
#[derive(Template)]
#[template(path = "wipe.html")]
struct WipePage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    /// The word to type, in the page's language.
    word: String,
    /// What was wrong with the last try, if anything.
    problem: Option<String>,
}

/// `GET /wipe`.
pub async fn page(tr: Tr, RawQuery(query): RawQuery) -> Response {
    form(tr, query.as_deref(), None).into_response()
}

fn form(tr: Tr, query: Option<&str>, problem: Option<String>) -> Response {
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = WipePage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        word: tr.t("wipe-word"),
        problem,
    };
    (status, render(tr, &page)).into_response()
}

/// What the form sends.
#[derive(Deserialize)]
pub struct WipeForm {
    #[serde(default)]
    confirm: String,
}

/// Whether `typed` is the confirmation word of any of the interface's languages (a
/// person may have switched language between reading and typing), ignoring case and
/// the spaces around it.
fn confirmed(typed: &str) -> bool {
    let typed: String = typed.chars().take(CONFIRMATION_MAX).collect();
    let typed = typed.trim().to_lowercase();
    !typed.is_empty()
        && Lang::ALL
            .iter()
            .any(|&lang| Tr::new(lang).t("wipe-word").to_lowercase() == typed)
}

/// `POST /wipe`.
pub async fn wipe(
    State(state): State<AppState>,
    tr: Tr,
    RawQuery(query): RawQuery,
    Form(answer): Form<WipeForm>,
) -> Response {
    if !confirmed(&answer.confirm) {
        let problem = tr.ta("wipe-not-confirmed", "word", &tr.t("wipe-word"));
        return form(tr, query.as_deref(), Some(problem));
    }
    match &state.node {
        Some(node) if node.wipe() => {
            notice(tr, StatusCode::OK, msg("wiped-title"), msg("wiped-text"))
        }
        // Never "wiped" unless the node took the request.
        Some(_) => notice(
            tr,
            StatusCode::SERVICE_UNAVAILABLE,
            msg("wipe-failed-title"),
            msg("wipe-failed-text"),
        ),
        None => notice(
            tr,
            StatusCode::NOT_IMPLEMENTED,
            msg("wipe-unavailable-title"),
            msg("wipe-unavailable-text"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_of_any_language_confirms_and_nothing_else_does() {
        for lang in Lang::ALL {
            let word = Tr::new(lang).t("wipe-word");
            assert!(confirmed(&word), "{word}");
            assert!(confirmed(&format!("  {}  ", word.to_lowercase())), "{word}");
            let shorter: String = word.chars().skip(1).collect();
            assert!(!confirmed(&shorter), "{word}");
        }
        assert!(!confirmed(""));
        assert!(!confirmed("   "));
        assert!(!confirmed("yes"));
        assert!(!confirmed(&"WIPE".repeat(100)));
    }
}
