//! One test per attack a hostile peer can make, each asserting its exact outcome: how
//! many strikes the attacker gets (or that it gets none, when what it sends is valid but
//! useless), that nothing of it is stored, and that honest peers are never blamed.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::hostile::*;
use common::*;
use qoima_core::{VerifiedRecord, fixtures};
use qoima_net::gossip::GossipMessage;
use qoima_net::{SyncRequest, SyncResponse};

async fn strikes_of(node: &TestNode, peer: qoima_net::libp2p::PeerId) -> u32 {
    peer_status(node.node(), peer)
        .await
        .map_or(0, |p| p.strikes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_after_a_held_blob_is_refused_and_the_relay_is_not_blamed() {
    // The relay holds an attachment; the attacker gossips bundles that list its hash
    // followed by junk. Were the relay to skip bytes of blobs it holds, it would accept
    // and forward them, its neighbour would reject them, and the relay would be banned.
    let relay = spawn(vec![]).await;
    let neighbour = spawn(vec![relay.addr.clone()]).await;
    let attachment = b"a photo of the square".to_vec();
    let author = fixtures::author(80);
    let record =
        VerifiedRecord::sign(&fixtures::body(&author, 1, None, "with a photo"), &author).unwrap();
    let file = fixtures::bundle(&author, std::slice::from_ref(&record), &[&attachment]);
    let report = qoima_store::Store::open(&relay.home(), &test_key())
        .unwrap()
        .import_bundle(&file[..], qoima_store::Source::File("photo.qb".into()))
        .unwrap();
    assert!(report.is_clean());
    let expected: BTreeSet<_> = [record.id()].into_iter().collect();
    converge(&[&relay, &neighbour], &expected, Duration::from_secs(60)).await;

    let mut hostile = Hostile::connect(&relay, &[], Answer::Busy).await;
    let hash = *blake3::hash(&attachment).as_bytes();
    // One bundle: after its first invalid message gossipsub graylists the sender, so
    // whether a second one is even read depends on timing, not on the relay's verdict.
    let junk = vec![0u8; attachment.len()];
    let bundle = raw_bundle(&throwaway(), &[], &[(hash, junk)]);
    hostile.publish(GossipMessage::Bundle(bundle).to_bytes());
    assert_eq!(hostile.struck_by(relay.node()).await, 1);

    // The neighbour never saw any of it and holds nothing against the relay.
    let relay_id = relay.node().peer_id();
    let seen = peer_status(neighbour.node(), relay_id).await.unwrap();
    assert!(seen.connected && seen.strikes == 0, "{seen:?}");
    assert_eq!(neighbour.ids(), expected);
    let mut all = expected.clone();
    all.extend(add_records(&relay.home(), 81, 2));
    converge(&[&relay, &neighbour], &all, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_but_useless_gossip_is_throttled_not_struck() {
    let victim = spawn(vec![]).await;
    let ids: BTreeSet<_> = add_records(&victim.home(), 82, 1).into_iter().collect();
    let author = fixtures::author(82);
    let old = VerifiedRecord::sign(
        &fixtures::body(&author, 1, None, "record 1 by author 82"),
        &author,
    )
    .unwrap();
    assert!(ids.contains(&old.id()));

    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    hostile.feed = Box::new((0..400).map(move |_| rewrapped(&old)));
    let (node, attacker) = (victim.node(), hostile.peer_id());
    hostile
        .drive_while_waiting("the victim to throttle the flooder", async || {
            peer_status(node, attacker)
                .await
                .is_some_and(|p| p.throttled > 0)
        })
        .await;
    hostile.settle().await;
    let seen = peer_status(victim.node(), attacker).await.unwrap();
    assert_eq!(
        seen.strikes, 0,
        "valid messages are never a fault: {seen:?}"
    );
    assert!(seen.connected, "{seen:?}");
    assert_eq!(victim.ids(), ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_announcements_are_fetched_within_bounds_then_throttled() {
    let victim = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&victim, &[], Answer::EmptyBundles).await;
    hostile.feed = Box::new((0..400u32).map(|i| {
        let ids = (0..16u32)
            .map(|j| *blake3::hash(&[i.to_le_bytes(), j.to_le_bytes()].concat()).as_bytes())
            .collect();
        GossipMessage::Announce { ids }.to_bytes()
    }));
    let (node, attacker) = (victim.node(), hostile.peer_id());
    hostile
        .drive_while_waiting("the victim to throttle the announcer", async || {
            peer_status(node, attacker)
                .await
                .is_some_and(|p| p.throttled > 0)
        })
        .await;
    hostile.settle().await;
    assert_eq!(strikes_of(&victim, attacker).await, 0);
    // Each useless announcement spends the budget; what was queued before it ran out is
    // fetched in batches, never one request per announcement beyond the budget.
    assert!(
        hostile.fetches_received <= 40,
        "fetches: {}",
        hostile.fetches_received
    );
    assert!(victim.ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_request_is_refused_unread() {
    // The length prefix is over the limit: the stream is dropped before anything is
    // allocated. (libp2p's request-response does not report a request it could not
    // read to the behaviour, so this costs the sender its stream, not a strike: see
    // PROTOCOL.md.) The node goes on answering.
    let victim = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    let outcome = hostile
        .request(SyncRequest::Reconcile {
            collection: "default".into(),
            message: vec![0x61; 3 * 1024 * 1024],
        })
        .await;
    assert!(outcome.is_err(), "{outcome:?}");
    hostile.settle().await;
    let seen = peer_status(victim.node(), hostile.peer_id()).await.unwrap();
    assert!(seen.connected && seen.strikes == 0, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_response_is_one_strike() {
    // The victim reconciles with every new peer: answer with 20 MiB, over the 16 MiB
    // response limit (the hostile swarm writes past its own limits).
    let victim = spawn(vec![]).await;
    let answer = Answer::FirstThenBusy(SyncResponse::Reconcile(vec![0x61; 20 * 1024 * 1024]));
    let mut hostile = Hostile::connect(&victim, &[], answer).await;
    assert_eq!(hostile.struck_by(victim.node()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_reconciliation_message_is_one_strike() {
    let victim = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    let outcome = hostile
        .request(SyncRequest::Reconcile {
            collection: "default".into(),
            message: vec![0xff; 64],
        })
        .await;
    assert!(
        matches!(outcome, Ok(SyncResponse::Refused(_))),
        "{outcome:?}"
    );
    hostile.settle().await;
    assert_eq!(strikes_of(&victim, hostile.peer_id()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_too_many_records_is_one_strike() {
    let victim = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    let outcome = hostile
        .request(SyncRequest::Fetch {
            collection: "default".into(),
            ids: vec![[1; 32]; 5000],
        })
        .await;
    assert!(
        matches!(outcome, Ok(SyncResponse::Refused(_))),
        "{outcome:?}"
    );
    hostile.settle().await;
    assert_eq!(strikes_of(&victim, hostile.peer_id()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_of_the_wrong_kind_is_one_strike() {
    let victim = spawn(vec![]).await;
    // The victim reconciles with every new peer: answer its first message with a bundle.
    let answer = Answer::FirstThenBusy(SyncResponse::Bundle(empty_bundle()));
    let mut hostile = Hostile::connect(&victim, &[], answer).await;
    assert_eq!(hostile.struck_by(victim.node()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_record_in_gossip_is_one_strike_and_not_stored() {
    let victim = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    let owner = fixtures::author(83);
    let forger = fixtures::author(84);
    let record =
        VerifiedRecord::sign(&fixtures::body(&forger, 1, None, "a confession"), &forger).unwrap();
    let mut bytes = record.bytes().to_vec();
    let at = bytes
        .windows(32)
        .position(|w| w == forger.public().as_bytes())
        .unwrap();
    bytes[at..at + 32].copy_from_slice(owner.public().as_bytes());
    hostile.publish(GossipMessage::Bundle(raw_bundle(&throwaway(), &[bytes], &[])).to_bytes());
    assert_eq!(hostile.struck_by(victim.node()).await, 1);
    assert!(victim.ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_cannot_poison_the_peer_book() {
    let victim = spawn(vec![]).await;
    let mut poison: Vec<qoima_net::libp2p::Multiaddr> = [
        "/ip4/10.0.0.1/tcp/4270",
        "/ip4/8.8.8.8/tcp/4270",
        "/dns4/example.org/tcp/4270",
        "/ip4/0.0.0.0/tcp/4270",
        "/ip4/169.254.1.1/tcp/4270",
        "/ip4/224.0.0.251/tcp/4270",
        "/ip6/fe80::1/tcp/4270",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    for port in 1..=30u16 {
        poison.push(format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap());
    }
    let mut hostile = Hostile::connect(&victim, &poison, Answer::Busy).await;
    let (node, attacker) = (victim.node(), hostile.peer_id());
    hostile
        .drive_while_waiting("the victim to remember the peer's addresses", async || {
            peer_status(node, attacker)
                .await
                .is_some_and(|p| p.addrs.len() >= 2)
        })
        .await;
    hostile.settle().await;
    let seen = peer_status(victim.node(), attacker).await.unwrap();
    assert!(seen.addrs.len() <= 4, "{:?}", seen.addrs);
    for addr in &seen.addrs {
        assert!(addr.starts_with("/ip4/127.0.0.1/tcp/"), "{addr}");
    }
    assert_eq!(seen.strikes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greedy_fetches_get_busy_answers_not_memory() {
    // A peer that asks for the same large answer many times at once (and could read it
    // slowly) gets one answer at a time; the rest are "busy", and it is not blamed.
    let victim = spawn(vec![]).await;
    let ids: Vec<[u8; 32]> = add_records(&victim.home(), 85, 300)
        .into_iter()
        .map(|id| id.0)
        .collect();
    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    let (node, attacker) = (victim.node(), hostile.peer_id());
    hostile
        .drive_while_waiting("the victim to index its records", async || {
            node.status().await.is_some_and(|s| s.records == 300)
        })
        .await;
    let target = hostile.target;
    let requests: Vec<_> = (0..8)
        .map(|_| {
            hostile.swarm.behaviour_mut().sync.send_request(
                &target,
                SyncRequest::Fetch {
                    collection: "default".into(),
                    ids: ids.clone(),
                },
            )
        })
        .collect();
    let (mut bundles, mut busy) = (0, 0);
    for id in requests {
        match hostile.outcome_of(id).await {
            Ok(SyncResponse::Bundle(_)) => bundles += 1,
            Ok(SyncResponse::Refused(reason)) if reason == "busy" => busy += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(bundles >= 1 && busy >= 1, "bundles {bundles}, busy {busy}");
    assert_eq!(strikes_of(&victim, attacker).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_survives_a_restart() {
    let mut victim = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    for _ in 0..3 {
        let _ = hostile
            .request(SyncRequest::Reconcile {
                collection: "default".into(),
                message: vec![0xff; 64],
            })
            .await;
    }
    let attacker = hostile.peer_id();
    let node = victim.node();
    hostile
        .drive_while_waiting("the ban", async || {
            peer_status(node, attacker)
                .await
                .is_some_and(|p| p.banned_until_ms > 0)
        })
        .await;
    victim.stop().await;
    victim.restart(vec![]).await;
    let seen = peer_status(victim.node(), attacker).await.unwrap();
    assert!(seen.banned_until_ms > 0, "{seen:?}");
    // Dialing again is refused.
    hostile.dial_refused(victim.addr.clone()).await;
    assert!(!hostile.swarm.is_connected(&victim.node().peer_id()));
    let seen = peer_status(victim.node(), attacker).await.unwrap();
    assert!(!seen.connected, "{seen:?}");
}
