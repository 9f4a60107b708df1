//! `/peers`: who the node is connected to, when each last synced and what that brought,
//! what policy declined, strikes and bans, and the attachments being fetched.
//!
//! Peer ids are shown short (their last characters): enough to tell peers apart on the
//! page, no more, and never their addresses. The page does not refresh itself (that
//! would pull a screen reader back to the top); a link reloads it.

use std::time::{SystemTime, UNIX_EPOCH};

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use qoima_core::status::{PeerStatus, Status, TransferStatus};

use super::{LangLink, lang_links, render, time_text};
use crate::AppState;
use crate::i18n::{Lang, Tr, msg};
use crate::status::NodeState;

/// Peers shown at most; the rest are counted.
pub const PEERS_SHOWN: usize = 50;
/// Transfers shown at most; the rest are counted.
pub const TRANSFERS_SHOWN: usize = 20;
/// Characters of a peer id shown: its end, since every id of the usual kind starts the
/// same (`12D3KooW`).
pub const PEER_ID_SHOWN: usize = 10;

/// One peer's row.
struct PeerRow {
    id: String,
    state: String,
    last_sync: String,
    received: u64,
    declined: u64,
    strikes: u64,
    ban: String,
}

/// One attachment being fetched.
struct TransferRow {
    blob: String,
    /// `<progress>` wants its values in one unit; per mille keeps them small.
    done: u64,
    total: u64,
    /// The same in words, for readers that do not show the bar.
    progress: String,
    speed: String,
    sources: String,
}

/// What the page says of the node.
enum Shown {
    NoNode,
    NoAnswer,
    Running(Box<Summary>),
}

/// The running node, in words.
struct Summary {
    node_id: String,
    records: String,
    connected: String,
    peers: Vec<PeerRow>,
    peers_more: Option<String>,
    transfers: Vec<TransferRow>,
    transfers_more: Option<String>,
    budget: Option<String>,
}

#[derive(Template)]
#[template(path = "peers.html")]
struct PeersPage {
    tr: Tr,
    langs: Vec<LangLink>,
    full: bool,
    shown: Shown,
}

/// `GET /peers`.
pub async fn page(State(state): State<AppState>, tr: Tr, RawQuery(query): RawQuery) -> Response {
    let shown = match state.node_state().await {
        NodeState::NoNode => Shown::NoNode,
        NodeState::NoAnswer => Shown::NoAnswer,
        NodeState::Running(status) => Shown::Running(Box::new(summary(tr, &status, now_ms()))),
    };
    let page = PeersPage {
        tr,
        langs: lang_links(tr, query.as_deref()),
        full: true,
        shown,
    };
    render(tr, &page)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn summary(tr: Tr, status: &Status, now_ms: i64) -> Summary {
    let connected = status.peers.iter().filter(|p| p.connected).count() as u64;
    let peers = status
        .peers
        .iter()
        .take(PEERS_SHOWN)
        .map(|p| peer_row(tr, p, now_ms))
        .collect();
    let transfers = status
        .transfers
        .iter()
        .take(TRANSFERS_SHOWN)
        .map(|t| transfer_row(tr, t))
        .collect();
    let limits = status.attachments;
    Summary {
        node_id: short_peer_id(&status.peer_id),
        records: tr.tn("peers-records", status.records),
        connected: tr.targs(
            "peers-connected",
            &[
                ("count", connected.into()),
                ("known", (status.peers.len() as u64).into()),
            ],
        ),
        peers,
        peers_more: more(tr, status.peers.len(), PEERS_SHOWN),
        transfers,
        transfers_more: more(tr, status.transfers.len(), TRANSFERS_SHOWN),
        budget: limits.budget.map(|budget| {
            tr.targs(
                "peers-budget",
                &[
                    ("used", size_text(tr, limits.budget_used).into()),
                    ("budget", size_text(tr, budget).into()),
                ],
            )
        }),
    }
}

/// "and 12 more" when `total` is over `shown`.
fn more(tr: Tr, total: usize, shown: usize) -> Option<String> {
    (total > shown).then(|| tr.tn("peers-more", (total - shown) as u64))
}

fn peer_row(tr: Tr, peer: &PeerStatus, now_ms: i64) -> PeerRow {
    let last_sync = if peer.last_sync_ms <= 0 {
        tr.t("peers-never-synced")
    } else {
        tr.targs(
            "peers-last-sync",
            &[
                ("ago", ago(tr, now_ms, peer.last_sync_ms).into()),
                ("when", time_text(tr, peer.last_sync_ms).into()),
                ("count", peer.last_sync_new.into()),
            ],
        )
    };
    let ban = if peer.banned_until_ms > now_ms {
        tr.ta(
            "peers-banned-until",
            "when",
            &time_text(tr, peer.banned_until_ms),
        )
    } else {
        tr.t("peers-not-banned")
    };
    PeerRow {
        id: short_peer_id(&peer.peer_id),
        state: tr.t(if peer.connected {
            msg("peers-state-connected")
        } else {
            msg("peers-state-known")
        }),
        last_sync,
        received: peer.received_since_start,
        declined: peer.declined_since_start,
        strikes: u64::from(peer.strikes),
        ban,
    }
}

fn transfer_row(tr: Tr, transfer: &TransferStatus) -> TransferRow {
    let have = transfer.have.min(transfer.size);
    let percent = if transfer.size == 0 {
        100
    } else {
        (u128::from(have) * 100 / u128::from(transfer.size)) as u64
    };
    TransferRow {
        blob: transfer.blob.chars().take(12).collect(),
        done: permille(have, transfer.size),
        total: 1000,
        progress: tr.targs(
            "peers-transfer-progress",
            &[
                ("have", size_text(tr, have).into()),
                ("size", size_text(tr, transfer.size).into()),
                ("percent", percent.into()),
            ],
        ),
        speed: tr.ta(
            "peers-transfer-speed",
            "size",
            &size_text(tr, transfer.bytes_per_second),
        ),
        sources: tr.tn("peers-transfer-sources", transfer.peers as u64),
    }
}

fn permille(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        1000
    } else {
        (u128::from(part.min(whole)) * 1000 / u128::from(whole)) as u64
    }
}

/// The end of a peer id: enough to tell peers apart, and what the page shows of them.
pub fn short_peer_id(peer_id: &str) -> String {
    let chars: Vec<char> = peer_id.chars().collect();
    let start = chars.len().saturating_sub(PEER_ID_SHOWN);
    let end: String = chars[start..].iter().collect();
    if start > 0 { format!("…{end}") } else { end }
}

/// How long ago `then_ms` was, in words ("5 minutes ago").
pub fn ago(tr: Tr, now_ms: i64, then_ms: i64) -> String {
    let seconds = (now_ms.saturating_sub(then_ms) / 1000).max(0) as u64;
    match seconds {
        0..60 => tr.t("ago-now"),
        60..3600 => tr.tn("ago-minutes", seconds / 60),
        3600..86_400 => tr.tn("ago-hours", seconds / 3600),
        _ => tr.tn("ago-days", seconds / 86_400),
    }
}

/// A size as people read it: `350 kB`, `1.4 GB`, in the page's language.
pub fn size_text(tr: Tr, bytes: u64) -> String {
    const UNITS: [&str; 5] = [
        msg("unit-bytes"),
        msg("unit-kb"),
        msg("unit-mb"),
        msg("unit-gb"),
        msg("unit-tb"),
    ];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let number = if unit == 0 {
        bytes.to_string()
    } else {
        let text = format!("{value:.1}");
        // Russian and Kazakh write a decimal comma.
        match tr.lang {
            Lang::En => text,
            Lang::Ru | Lang::Kk => text.replace('.', ","),
        }
    };
    tr.targs(
        "size-with-unit",
        &[("value", number.into()), ("unit", tr.t(UNITS[unit]).into())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_are_shown_by_their_end() {
        assert_eq!(
            short_peer_id("12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"),
            "…z9kSCVe2Xo"
        );
        assert_eq!(short_peer_id("short"), "short");
    }

    #[test]
    fn times_ago_are_said_in_words_with_plurals() {
        let ru = Tr::new(Lang::Ru);
        let now = 10_000_000_000;
        assert_eq!(ago(ru, now, now - 5_000), "только что");
        assert_eq!(ago(ru, now, now - 3 * 60_000), "3 минуты назад");
        assert_eq!(ago(ru, now, now - 5 * 60_000), "5 минут назад");
        assert_eq!(ago(ru, now, now - 21 * 3_600_000), "21 час назад");
        assert_eq!(
            ago(Tr::new(Lang::En), now, now - 2 * 86_400_000),
            "2 days ago"
        );
    }

    #[test]
    fn sizes_are_written_in_the_language() {
        assert_eq!(size_text(Tr::new(Lang::En), 999), "999 B");
        assert_eq!(size_text(Tr::new(Lang::En), 1_400_000), "1.4 MB");
        assert_eq!(size_text(Tr::new(Lang::Ru), 1_400_000), "1,4 МБ");
    }
}
