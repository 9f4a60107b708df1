//! Real nodes on loopback, dialing each other explicitly: two nodes, eight in a line and
//! in a ring, a node that was offline, a partition that heals, gossip of new records.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use qoima_store::Store;

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_exchange_everything_and_record_provenance() {
    let a = spawn(vec![]).await;
    let from_a: BTreeSet<_> = add_records(&a.home(), 1, 20).into_iter().collect();
    let b = spawn(vec![a.addr.clone()]).await;
    let from_b: BTreeSet<_> = add_records(&b.home(), 2, 10).into_iter().collect();
    let all: BTreeSet<_> = from_a.union(&from_b).copied().collect();
    converge(&[&a, &b], &all, DEADLINE).await;

    // On B, A's records came from peer A; B's own are local.
    let store = Store::open(&b.home(), &test_key()).unwrap();
    let a_peer = a.node().peer_id().to_string();
    for id in &from_a {
        let provenance = store.get(id).unwrap().provenance;
        assert_eq!(provenance.len(), 1, "{provenance:?}");
        assert_eq!(
            (provenance[0].source.as_str(), provenance[0].origin.as_str()),
            ("peer", a_peer.as_str())
        );
        assert!(provenance[0].bundle.is_some());
    }
    for id in &from_b {
        assert_eq!(store.get(id).unwrap().provenance[0].source, "local");
    }

    let status = b.node().status().await.unwrap();
    assert_eq!(status.records, 30);
    let peer = status
        .peers
        .iter()
        .find(|p| p.peer_id == a_peer)
        .expect("A is listed");
    assert!(peer.connected);
    assert!(peer.received_since_start >= 20, "{peer:?}");

    // What the sync stored is made searchable by the node itself, without a search
    // having to do it first.
    eventually("B indexes what it fetched for search", DEADLINE, || {
        Store::open(&b.home(), &test_key())
            .unwrap()
            .search_pending_count()
            .unwrap()
            == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_nodes_in_a_line_and_in_a_ring_converge() {
    for ring in [false, true] {
        let mut nodes: Vec<TestNode> = Vec::new();
        let mut expected = BTreeSet::new();
        for i in 0..8u8 {
            let peers = nodes
                .last()
                .map(|n| vec![n.addr.clone()])
                .unwrap_or_default();
            let node = spawn(peers).await;
            expected.extend(add_records(&node.home(), 10 + i, 5));
            nodes.push(node);
        }
        if ring {
            nodes[0].node().dial(nodes[7].addr.clone()).await;
        }
        let refs: Vec<&TestNode> = nodes.iter().collect();
        converge(&refs, &expected, DEADLINE).await;
        assert_eq!(expected.len(), 40);
        for node in nodes {
            let mut node = node;
            node.stop().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_offline_while_500_records_are_added_catches_up_on_reconnect() {
    let a = spawn(vec![]).await;
    let mut b = spawn(vec![a.addr.clone()]).await;
    let first: BTreeSet<_> = add_records(&a.home(), 3, 10).into_iter().collect();
    converge(&[&a, &b], &first, DEADLINE).await;

    b.stop().await;
    let mut expected = first.clone();
    expected.extend(add_records(&a.home(), 3, 500));
    // B is restarted with no --peer: it must remember A from its archive.
    b.restart(vec![]).await;
    converge(&[&a, &b], &expected, DEADLINE).await;
    assert_eq!(b.ids().len(), 510, "nothing lost, nothing duplicated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_network_heals_and_both_sides_converge() {
    let mut left: Vec<TestNode> = Vec::new();
    let mut right: Vec<TestNode> = Vec::new();
    for side in [&mut left, &mut right] {
        for _ in 0..3 {
            let peers = side
                .last()
                .map(|n| vec![n.addr.clone()])
                .unwrap_or_default();
            side.push(spawn(peers).await);
        }
    }
    let mut left_ids = BTreeSet::new();
    let mut right_ids = BTreeSet::new();
    for (i, node) in left.iter().enumerate() {
        left_ids.extend(add_records(&node.home(), 30 + i as u8, 7));
    }
    for (i, node) in right.iter().enumerate() {
        right_ids.extend(add_records(&node.home(), 40 + i as u8, 7));
    }
    converge(&left.iter().collect::<Vec<_>>(), &left_ids, DEADLINE).await;
    converge(&right.iter().collect::<Vec<_>>(), &right_ids, DEADLINE).await;
    assert!(
        left[0].ids().is_disjoint(&right[0].ids()),
        "the partition holds"
    );

    right[0].node().dial(left[2].addr.clone()).await;
    let all: BTreeSet<_> = left_ids.union(&right_ids).copied().collect();
    let everyone: Vec<&TestNode> = left.iter().chain(right.iter()).collect();
    converge(&everyone, &all, DEADLINE).await;
    assert_eq!(all.len(), 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_record_is_gossiped_without_waiting_for_sync() {
    // Sync only on connection and then every 10 minutes: later records must travel by gossip.
    let slow = |c: &mut qoima_node::NodeConfig| c.sync_interval = Duration::from_secs(600);
    let a = spawn_with(vec![], slow).await;
    let b = spawn_with(vec![a.addr.clone()], slow).await;
    let c = spawn_with(vec![b.addr.clone()], slow).await;
    wait_for_gossip_peers(&[(&a, 1), (&b, 2), (&c, 1)]).await;
    let id = add_records(&a.home(), 50, 1)[0];
    eventually(
        "the record to reach the far node by gossip",
        // Still far below the 10-minute sync: only gossip can bring it in time.
        DEADLINE,
        || c.ids().contains(&id),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_announced_over_the_control_socket_travels_without_any_poll_or_sync() {
    // Neither node looks at its archive or reconciles on its own within the test: only
    // being told over the control socket can make A announce the record.
    let hour = Duration::from_secs(3600);
    let quiet = |config: &mut qoima_node::NodeConfig| {
        config.poll_interval = hour;
        config.sync_interval = hour;
    };
    let a = spawn_with(vec![], quiet).await;
    let b = spawn_with(vec![a.addr.clone()], quiet).await;
    wait_for_gossip_peers(&[(&a, 1), (&b, 1)]).await;

    let ids: BTreeSet<_> = add_records(&a.home(), 9, 1).into_iter().collect();
    let home = a.home();
    tokio::task::spawn_blocking(move || qoima_node::control::tell_written(&home))
        .await
        .unwrap()
        .unwrap();
    converge(&[&a, &b], &ids, DEADLINE).await;
}

/// Waits until each node has at least its number of gossip peers.
async fn wait_for_gossip_peers(nodes: &[(&TestNode, usize)]) {
    for (node, expected) in nodes {
        let node = node.node();
        eventually_async("gossip peers to subscribe", DEADLINE, async || {
            node.status().await.unwrap().gossip_peers >= *expected
        })
        .await;
    }
}

/// Two nodes holding the same 2,000 records and 40 each the other lacks, written at
/// times spread over the whole archive (records written offline and met later): the
/// reconciliation finds them with the sketch, and both end with everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_difference_scattered_over_the_archive_is_found_by_the_sketch() {
    use qoima_core::{RecordId, VerifiedRecord, fixtures};
    use qoima_store::Source;

    let shared_author = fixtures::author(1);
    let shared = fixtures::chain(&shared_author, 2_000, 40);
    let mut expected: BTreeSet<RecordId> = shared.iter().map(VerifiedRecord::id).collect();
    let shared_bundle = fixtures::bundle(&shared_author, &shared, &[]);
    // Each extra record claims a time among the shared ones (its sequence number sets
    // it): one every 50 records, the two sides interleaved.
    let mut scattered = |seed: u8, offset: u64| -> Vec<u8> {
        let author = fixtures::author(seed);
        let records: Vec<VerifiedRecord> = (0..40u64)
            .map(|k| {
                let seq = 2 + offset + 50 * k;
                let prev = Some(RecordId([seed; 32]));
                let body = fixtures::body(&author, seq, prev, &format!("written offline {k}"));
                VerifiedRecord::sign(&body, &author).unwrap()
            })
            .collect();
        expected.extend(records.iter().map(VerifiedRecord::id));
        fixtures::bundle(&author, &records, &[])
    };
    let (only_a, only_b) = (scattered(2, 0), scattered(3, 25));
    let a = spawn(vec![]).await;
    let b = spawn(vec![]).await;
    for (node, own) in [(&a, &only_a), (&b, &only_b)] {
        let mut store = Store::open(&node.home(), &test_key()).unwrap();
        for bundle in [&shared_bundle, own] {
            let report = store
                .import_bundle(&bundle[..], Source::File("offline.qb".into()))
                .unwrap();
            assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        }
    }
    for node in [&a, &b] {
        eventually_async("the node to index its imports", DEADLINE, async || {
            node.node().status().await.unwrap().records == 2_040
        })
        .await;
    }
    a.node().dial(b.addr.clone()).await;
    converge(&[&a, &b], &expected, DEADLINE).await;
    assert_eq!(expected.len(), 2_080);
    let b_peer = b.node().peer_id().to_string();
    let status = a.node().status().await.unwrap();
    let b_seen_by_a = status.peers.iter().find(|p| p.peer_id == b_peer).unwrap();
    assert!(b_seen_by_a.sketched_since_start >= 1, "{b_seen_by_a:?}");
    assert_eq!(b_seen_by_a.strikes, 0);
}
