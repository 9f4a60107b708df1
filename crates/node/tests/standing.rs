//! What records about records and keys do between real nodes: a node that keeps only
//! trusted authors neither stores nor passes on a stranger's valid records (and blames
//! nobody for them); a retraction that reaches a node after its record deletes it there,
//! and the record spreads no further.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::hostile::peer_status;
use common::*;
use qoima_core::{Details, Link, LinkKind, RecordKind, VerifiedRecord, fixtures};
use qoima_store::{Acceptance, Policy, Quotas, Store};

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_accept_trusted_a_strangers_records_are_neither_stored_nor_forwarded() {
    let (trusted_seed, stranger_seed) = (31u8, 32u8);
    let a = spawn(vec![]).await;
    let from_friend: BTreeSet<_> = add_records(&a.home(), trusted_seed, 5)
        .into_iter()
        .collect();
    let from_stranger = add_records(&a.home(), stranger_seed, 5);
    let b = spawn_with(vec![a.addr.clone()], |config| {
        let mut store = Store::open(&config.home, &test_key()).unwrap();
        store
            .set_policy(&Policy {
                accept: Acceptance::Trusted,
                quotas: Quotas::default(),
            })
            .unwrap();
        store
            .trust_add(&fixtures::author(trusted_seed).public(), "друг")
            .unwrap();
    })
    .await;
    let c = spawn(vec![b.addr.clone()]).await;
    converge(&[&b, &c], &from_friend, DEADLINE).await;
    // B fetched the stranger's records, checked them and declined them.
    eventually("b to decline the stranger's records", DEADLINE, || {
        Store::open(&b.home(), &test_key())
            .unwrap()
            .missing(&from_stranger)
            .unwrap()
            .is_empty()
    })
    .await;
    for node in [&b, &c] {
        let held = ids(&node.home());
        assert!(from_stranger.iter().all(|id| !held.contains(id)));
        assert_eq!(held, from_friend);
    }
    let a_id = a.node().peer_id();
    let seen = peer_status(b.node(), a_id).await.unwrap();
    assert_eq!(
        seen.strikes, 0,
        "declining valid records blames nobody: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retraction_after_its_record_deletes_it_there_and_stops_its_spread() {
    let seed = 41u8;
    let a = spawn(vec![]).await;
    let b = spawn(vec![a.addr.clone()]).await;
    let written = add_records(&a.home(), seed, 3);
    let all: BTreeSet<_> = written.iter().copied().collect();
    converge(&[&a, &b], &all, DEADLINE).await;

    // The author withdraws its second record.
    let author = fixtures::author(seed);
    let target = written[1];
    let mut body = fixtures::body(&author, 4, Some(written[2]), "withdrawn");
    body.kind = RecordKind::Retraction;
    body.details = Details::None;
    body.links = vec![Link {
        kind: LinkKind::Retracts,
        target,
    }];
    let retraction = VerifiedRecord::sign(&body, &author).unwrap();
    Store::open(&a.home(), &test_key())
        .unwrap()
        .insert_local(&retraction)
        .unwrap();
    let after: BTreeSet<_> = [written[0], written[2], retraction.id()].into();
    converge(&[&a, &b], &after, DEADLINE).await;
    assert!(
        Store::open(&b.home(), &test_key())
            .unwrap()
            .is_retracted(&target)
            .unwrap()
    );

    // A newcomer that knows only B gets the retraction and never the record.
    let c = spawn(vec![b.addr.clone()]).await;
    converge(&[&c], &after, DEADLINE).await;
    let (b_id, c_id) = (b.node().peer_id(), c.node().peer_id());
    for (node, peer) in [(&c, b_id), (&b, c_id)] {
        let seen = peer_status(node.node(), peer).await.unwrap();
        assert_eq!(seen.strikes, 0, "{seen:?}");
    }
    assert!(!ids(&c.home()).contains(&target));
}
