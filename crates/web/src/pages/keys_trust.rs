//! `POST /keys/trust` and `POST /keys/untrust`: trusting a key, and no longer trusting
//! one, each in two steps. The first shows the fingerprint back, in groups, large; only
//! the second, sent with "I compared this fingerprint with the person" ticked (or "yes,
//! stop trusting"), changes anything. Bad input (wrong characters or length, a key not
//! known here, one already trusted, one of this archive's own) is said in words, and
//! nothing is saved.

use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use qoima_core::{AuthorKey, Fingerprint};
use qoima_store::{Store, StoreError, TrustAdded};

use super::keys::{AddChoices, groups, show};
use super::{LangLink, failure, lang_links, plain, render};
use crate::i18n::Tr;
use crate::{AppState, WebError};

/// Bytes of a form of this page, at most.
pub const FORM_BYTES_MAX: usize = 4 * 1024;
/// Characters of a trusted key's name, at most (as the store keeps it).
pub const NAME_CHARS_MAX: usize = 64;

/// What was pasted, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyText {
    /// A whole public key.
    Key(AuthorKey),
    /// A fingerprint, to look up among the keys known here.
    Fingerprint(Fingerprint),
}

/// Why what was pasted or typed cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// Nothing pasted.
    Empty,
    /// Characters that are in no fingerprint or key.
    WrongCharacters,
    /// Neither a fingerprint's 16 characters nor a key's 64.
    WrongLength(usize),
    /// A fingerprint of no key known here.
    UnknownFingerprint,
    /// Not a usable Ed25519 key.
    NotAKey,
    /// One of this archive's own keys.
    Own(String),
    /// Already trusted, under this name.
    AlreadyTrusted(String),
    /// No name, or one the store does not keep.
    BadName,
}

/// The characters of a fingerprint or key, without the dashes and spaces people add.
fn cleaned(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Reads a pasted fingerprint (`ABCD-EFGH-IJKL-MNOP`, case, dashes and spaces free) or
/// public key (64 hexadecimal digits).
pub fn parse_key_text(text: &str) -> Result<KeyText, KeyProblem> {
    let text = cleaned(text);
    if text.is_empty() {
        return Err(KeyProblem::Empty);
    }
    let hex = text.chars().all(|c| c.is_ascii_hexdigit());
    let base32 = text
        .chars()
        .all(|c| matches!(c.to_ascii_uppercase(), 'A'..='Z' | '2'..='7'));
    if hex && text.len() == 64 {
        return text
            .parse::<AuthorKey>()
            .map(KeyText::Key)
            .map_err(|_| KeyProblem::NotAKey);
    }
    if base32 && text.len() == 16 {
        return Fingerprint::parse(&text)
            .map(KeyText::Fingerprint)
            .ok_or(KeyProblem::WrongCharacters);
    }
    if hex || base32 {
        Err(KeyProblem::WrongLength(text.chars().count()))
    } else {
        Err(KeyProblem::WrongCharacters)
    }
}

/// Whether `name` is one the store keeps for a trusted key.
fn good_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= NAME_CHARS_MAX
        && !name.chars().any(char::is_control)
}

/// The key `text` names, if it may be trusted here under `name`.
fn check(store: &Store, text: &str, name: &str) -> Result<Result<AuthorKey, KeyProblem>, WebError> {
    let key = match parse_key_text(text) {
        Ok(KeyText::Key(key)) => key,
        Ok(KeyText::Fingerprint(fingerprint)) => {
            match store.resolve_author(&fingerprint.to_string()) {
                Ok(key) => key,
                Err(
                    StoreError::NotFound(_) | StoreError::Ambiguous(_) | StoreError::Invalid(_),
                ) => {
                    return Ok(Err(KeyProblem::UnknownFingerprint));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(problem) => return Ok(Err(problem)),
    };
    if key.verifying_key().is_err() {
        return Ok(Err(KeyProblem::NotAKey));
    }
    if let Some(own) = store.personas()?.into_iter().find(|p| p.key == key) {
        return Ok(Err(KeyProblem::Own(own.name)));
    }
    if let Some(trusted) = store.trusted_keys()?.into_iter().find(|t| t.key == key) {
        return Ok(Err(KeyProblem::AlreadyTrusted(trusted.name)));
    }
    if !good_name(name) {
        return Ok(Err(KeyProblem::BadName));
    }
    Ok(Ok(key))
}

/// The problem in words.
fn problem_text(tr: Tr, problem: &KeyProblem) -> String {
    match problem {
        KeyProblem::Empty => tr.t("keys-add-empty"),
        KeyProblem::WrongCharacters => tr.t("keys-add-wrong-characters"),
        KeyProblem::WrongLength(n) => tr.tn("keys-add-wrong-length", *n as u64),
        KeyProblem::UnknownFingerprint => tr.t("keys-add-unknown-fingerprint"),
        KeyProblem::NotAKey => tr.t("keys-add-not-a-key"),
        KeyProblem::Own(persona) => tr.ta("keys-add-own", "persona", &plain(persona)),
        KeyProblem::AlreadyTrusted(name) => tr.ta("keys-add-already", "name", &plain(name)),
        KeyProblem::BadName => tr.tn("keys-add-bad-name", NAME_CHARS_MAX as u64),
    }
}

#[derive(Template)]
#[template(path = "keys_confirm.html")]
struct ConfirmPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    /// `add` or `remove`.
    adding: bool,
    name: String,
    groups: Vec<String>,
    key: String,
    problem: Option<String>,
}

fn confirm(tr: Tr, query: Option<&str>, page: ConfirmParts, status: StatusCode) -> Response {
    let page = ConfirmPage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        adding: page.adding,
        name: page.name,
        groups: groups(page.key.fingerprint()),
        key: page.key.to_hex(),
        problem: page.problem,
    };
    let mut response = render(tr, &page);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

struct ConfirmParts {
    adding: bool,
    name: String,
    key: AuthorKey,
    problem: Option<String>,
}

/// The fields of a form.
async fn fields(body: Body) -> Option<Vec<(String, String)>> {
    let bytes = axum::body::to_bytes(body, FORM_BYTES_MAX).await.ok()?;
    Some(
        form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `POST /keys/trust`: `key` and `name`; with `compared=yes` it is saved, without it
/// the fingerprint is shown back to compare.
pub async fn trust(
    State(state): State<AppState>,
    tr: Tr,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let query = query.as_deref();
    let Some(fields) = fields(body).await else {
        let text = tr.t("keys-form-too-large");
        return show(
            tr,
            query,
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            AddChoices::default(),
            Some(text),
            None,
        )
        .await;
    };
    let choices = AddChoices {
        key: field(&fields, "key").unwrap_or("").trim().to_owned(),
        name: field(&fields, "name").unwrap_or("").trim().to_owned(),
    };
    let compared = field(&fields, "compared") == Some("yes");
    let confirming = field(&fields, "step") == Some("confirm");
    let (text, name) = (choices.key.clone(), choices.name.clone());
    let checked = state.read(move |store| check(store, &text, &name)).await;
    let key = match checked {
        Ok(Ok(key)) => key,
        Ok(Err(problem)) => {
            let text = problem_text(tr, &problem);
            return show(
                tr,
                query,
                &state,
                StatusCode::BAD_REQUEST,
                choices,
                Some(text),
                None,
            )
            .await;
        }
        Err(e) => return failure(tr, &e),
    };
    if !compared {
        let (problem, status) = if confirming {
            (
                Some(tr.t("keys-confirm-not-ticked")),
                StatusCode::BAD_REQUEST,
            )
        } else {
            (None, StatusCode::OK)
        };
        let parts = ConfirmParts {
            adding: true,
            name: choices.name,
            key,
            problem,
        };
        return confirm(tr, query, parts, status);
    }
    let name = choices.name.clone();
    let added = write(&state, move |store| Ok(store.trust_add(&key, &name)?)).await;
    match added {
        Ok(TrustAdded::New | TrustAdded::Renamed | TrustAdded::Unchanged) => {
            let done = tr.targs(
                "keys-trusted-done",
                &[
                    ("name", plain(&choices.name).into()),
                    ("fingerprint", key.fingerprint().to_string().into()),
                ],
            );
            show(
                tr,
                query,
                &state,
                StatusCode::OK,
                AddChoices::default(),
                None,
                Some(done),
            )
            .await
        }
        Err(e) => failure(tr, &e),
    }
}

/// `POST /keys/untrust`: `key` (hexadecimal); with `confirmed=yes` trust is removed,
/// without it the page asks.
pub async fn untrust(
    State(state): State<AppState>,
    tr: Tr,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let query = query.as_deref();
    let fields = fields(body).await.unwrap_or_default();
    let key = field(&fields, "key").and_then(|k| k.trim().parse::<AuthorKey>().ok());
    let confirmed = field(&fields, "confirmed") == Some("yes");
    let Some(key) = key else {
        let text = tr.t("keys-remove-unknown");
        return show(
            tr,
            query,
            &state,
            StatusCode::BAD_REQUEST,
            AddChoices::default(),
            Some(text),
            None,
        )
        .await;
    };
    let trusted = state
        .read(move |store| Ok(store.trusted_keys()?.into_iter().find(|t| t.key == key)))
        .await;
    let trusted = match trusted {
        Ok(Some(trusted)) => trusted,
        Ok(None) => {
            let text = tr.t("keys-remove-unknown");
            return show(
                tr,
                query,
                &state,
                StatusCode::BAD_REQUEST,
                AddChoices::default(),
                Some(text),
                None,
            )
            .await;
        }
        Err(e) => return failure(tr, &e),
    };
    if !confirmed {
        let parts = ConfirmParts {
            adding: false,
            name: trusted.name,
            key,
            problem: None,
        };
        return confirm(tr, query, parts, StatusCode::OK);
    }
    match write(&state, move |store| Ok(store.trust_remove(&key)?)).await {
        Ok(_) => {
            let done = tr.targs(
                "keys-removed-done",
                &[
                    ("name", plain(&trusted.name).into()),
                    ("fingerprint", key.fingerprint().to_string().into()),
                ],
            );
            show(
                tr,
                query,
                &state,
                StatusCode::OK,
                AddChoices::default(),
                None,
                Some(done),
            )
            .await
        }
        Err(e) => failure(tr, &e),
    }
}

/// Runs `change` on the archive on a blocking thread (SQLite calls block).
async fn write<T, F>(state: &AppState, change: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, WebError> + Send + 'static,
{
    let store = std::sync::Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || {
        let mut store = store
            .lock()
            .map_err(|_| WebError::Interrupted("an earlier reader panicked".into()))?;
        change(&mut store)
    })
    .await
    .map_err(|e| WebError::Interrupted(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_text_is_read_as_a_fingerprint_or_a_key() {
        let key = qoima_core::fixtures::author(1).public();
        let fingerprint = key.fingerprint();
        assert_eq!(
            parse_key_text(&fingerprint.to_string().to_lowercase().replace('-', " ")),
            Ok(KeyText::Fingerprint(fingerprint))
        );
        assert_eq!(
            parse_key_text(&format!(" {} ", key.to_hex())),
            Ok(KeyText::Key(key))
        );
        assert_eq!(parse_key_text("  "), Err(KeyProblem::Empty));
        assert_eq!(
            parse_key_text("ABCD-EFGH-IJKL"),
            Err(KeyProblem::WrongLength(12))
        );
        assert_eq!(
            parse_key_text("ABCD-EFGH-IJKL-MNO!"),
            Err(KeyProblem::WrongCharacters)
        );
        assert_eq!(parse_key_text("ЖҰЛДЫЗ"), Err(KeyProblem::WrongCharacters));
        assert!(good_name("Aigerim (lawyer)"));
        assert!(!good_name(""));
        assert!(!good_name(&"a".repeat(65)));
    }
}
