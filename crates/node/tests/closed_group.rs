//! Closed groups: nodes with the same network key connect and sync; a node with another
//! key, or with none, cannot connect to them.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use qoima_net::libp2p::identity;
use qoima_net::libp2p::swarm::SwarmEvent;
use qoima_net::{NetConfig, build_swarm};

const DEADLINE: Duration = Duration::from_secs(60);
const GROUP: [u8; 32] = [0x42; 32];
const OTHER_GROUP: [u8; 32] = [0x43; 32];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_with_the_same_key_connect_and_sync() {
    let a = spawn_with(vec![], |c| c.network_key = Some(GROUP)).await;
    let from_a: BTreeSet<_> = add_records(&a.home(), 1, 5).into_iter().collect();
    let b = spawn_with(vec![a.addr.clone()], |c| c.network_key = Some(GROUP)).await;
    let from_b: BTreeSet<_> = add_records(&b.home(), 2, 5).into_iter().collect();
    let all: BTreeSet<_> = from_a.union(&from_b).copied().collect();
    converge(&[&a, &b], &all, DEADLINE).await;

    // A closed-group node listens on TCP only.
    let status = a.node().status().await.unwrap();
    assert!(
        status
            .listen_addrs
            .iter()
            .all(|addr| addr.contains("/tcp/")),
        "{:?}",
        status.listen_addrs
    );
}

/// Dials `target` from a bare swarm with `key` and returns whether it connected, once
/// the dial has ended one way or the other.
async fn outsider_connects(key: Option<[u8; 32]>, target: &TestNode) -> bool {
    let config = NetConfig {
        mdns: false,
        network_key: key,
        ..NetConfig::default()
    };
    let mut swarm = build_swarm(identity::Keypair::generate_ed25519(), &config).unwrap();
    swarm.dial(target.addr.clone()).unwrap();
    with_timeout("an outsider's dial to end", async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { .. } => return true,
                SwarmEvent::OutgoingConnectionError { .. } => return false,
                _ => {}
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_cannot_connect() {
    let a = spawn_with(vec![], |c| c.network_key = Some(GROUP)).await;
    add_records(&a.home(), 1, 3);

    // The exact outcome of each outsider's dial: refused.
    assert!(!outsider_connects(Some(OTHER_GROUP), &a).await);
    assert!(!outsider_connects(None, &a).await);
    // A member's dial to the same node succeeds, so the refusals above are the key's.
    assert!(outsider_connects(Some(GROUP), &a).await);

    // Nodes of another group and of none, dialing A (and A not dialing them): once a
    // member B has connected and synced with A, neither outsider is connected to A nor
    // holds anything of A's.
    let other = spawn_with(vec![a.addr.clone()], |c| c.network_key = Some(OTHER_GROUP)).await;
    let open = spawn(vec![a.addr.clone()]).await;
    let b = spawn_with(vec![a.addr.clone()], |c| c.network_key = Some(GROUP)).await;
    converge(&[&a, &b], &a.ids(), DEADLINE).await;
    let connected: Vec<String> = a
        .node()
        .status()
        .await
        .unwrap()
        .peers
        .into_iter()
        .filter(|p| p.connected)
        .map(|p| p.peer_id)
        .collect();
    assert!(!connected.contains(&other.node().peer_id().to_string()));
    assert!(!connected.contains(&open.node().peer_id().to_string()));
    for outsider in [&other, &open] {
        let status = outsider.node().status().await.unwrap();
        assert!(status.peers.iter().all(|p| !p.connected), "{status:?}");
        assert!(outsider.ids().is_empty());
    }
}
