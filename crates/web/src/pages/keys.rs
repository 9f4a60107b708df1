//! `/keys`: keys and trust. This archive's own keys (personas) with their fingerprints
//! large and in groups of four, to read aloud or copy on paper, and the keys the owner
//! trusts, with a form to trust another after comparing its fingerprint with its holder
//! ([`super::keys_trust`]) and a button to stop trusting one. Then, in a list of their
//! own, the keys trusted only through an endorsement, each with the key that vouches for
//! it: they have no button, since nothing here trusts them directly; stopping trusting
//! the key that vouches for them is what removes them.
//!
//! Fingerprints are shown as `qoima key show` and `qoima trust list` print them
//! ([`qoima_core::Fingerprint`]'s own text, `ABCD-EFGH-IJKL-MNOP`), so what the page
//! shows and what the CLI prints are read out the same.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use qoima_core::Fingerprint;
use qoima_store::Store;

use super::{LangLink, failure, lang_links, render, time_text};
use crate::i18n::Tr;
use crate::{AppState, WebError};

/// The groups of a fingerprint, as read aloud: `["ABCD", "EFGH", …]`.
pub fn groups(fingerprint: Fingerprint) -> Vec<String> {
    fingerprint
        .to_string()
        .split('-')
        .map(str::to_owned)
        .collect()
}

/// One of this archive's keys.
pub struct PersonaView {
    pub(crate) name: String,
    pub(crate) default: bool,
    pub(crate) groups: Vec<String>,
    pub(crate) key: String,
}

/// A trusted key.
pub struct TrustedView {
    pub(crate) name: String,
    pub(crate) groups: Vec<String>,
    pub(crate) key: String,
    pub(crate) how: String,
}

/// A key trusted through an endorsement chain.
pub struct EndorsedView {
    pub(crate) name: String,
    pub(crate) groups: Vec<String>,
    pub(crate) how: String,
}

/// What the add form was sent with, to show it again beside a problem.
#[derive(Debug, Default, Clone)]
pub struct AddChoices {
    /// The fingerprint or key as pasted.
    pub key: String,
    /// The name as typed.
    pub name: String,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    personas: Vec<PersonaView>,
    trusted: Vec<TrustedView>,
    endorsed: Vec<EndorsedView>,
    choices: AddChoices,
    /// What was wrong with the add form, in words.
    problem: Option<String>,
    /// What was just done, in words.
    done: Option<String>,
}

/// `GET /keys`.
pub async fn page(State(state): State<AppState>, tr: Tr, RawQuery(query): RawQuery) -> Response {
    show(
        tr,
        query.as_deref(),
        &state,
        StatusCode::OK,
        AddChoices::default(),
        None,
        None,
    )
    .await
}

/// This archive's keys, the keys it trusts and those it trusts through endorsements.
type Keys = (Vec<PersonaView>, Vec<TrustedView>, Vec<EndorsedView>);

/// The keys and trust read from the archive, in words.
fn read(store: &Store, tr: Tr) -> Result<Keys, WebError> {
    let personas = store
        .personas()?
        .into_iter()
        .map(|p| PersonaView {
            groups: groups(p.key.fingerprint()),
            key: p.key.to_hex(),
            name: p.name,
            default: p.default,
        })
        .collect();
    let trusted = store
        .trusted_keys()?
        .into_iter()
        .map(|t| TrustedView {
            groups: groups(t.key.fingerprint()),
            key: t.key.to_hex(),
            how: tr.ta("keys-trusted-how", "date", &time_text(tr, t.added_ms)),
            name: t.name,
        })
        .collect();
    let endorsed = store
        .endorsed_keys()?
        .into_iter()
        .map(|e| EndorsedView {
            groups: groups(e.key.fingerprint()),
            how: tr.targs(
                "keys-endorsed-how",
                &[("by", e.by.into()), ("hops", u64::from(e.hops).into())],
            ),
            name: e.name,
        })
        .collect();
    Ok((personas, trusted, endorsed))
}

/// The page, with the add form as it was sent, its problem, or what was just done.
pub(crate) async fn show(
    tr: Tr,
    query: Option<&str>,
    state: &AppState,
    status: StatusCode,
    choices: AddChoices,
    problem: Option<String>,
    done: Option<String>,
) -> Response {
    let (personas, trusted, endorsed) = match state.read(move |store| read(store, tr)).await {
        Ok(found) => found,
        Err(e) => return failure(tr, &e),
    };
    let page = KeysPage {
        tr,
        langs: lang_links(tr, query),
        full: true,
        personas,
        trusted,
        endorsed,
        choices,
        problem,
        done,
    };
    let mut response = render(tr, &page);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_reads_in_four_groups_of_four() {
        let fingerprint = Fingerprint([0; 10]);
        assert_eq!(groups(fingerprint), ["AAAA", "AAAA", "AAAA", "AAAA"]);
    }
}
