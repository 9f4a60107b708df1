//! A hostile peer: it sends undecodable and forged gossip, broken reconciliation
//! messages, oversized and greedy requests, and junk responses. Honest nodes store
//! nothing of it, cut it off, and keep syncing with each other.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use qoima_core::{VerifiedRecord, fixtures};
use qoima_net::gossip::{GossipMessage, topic};
use qoima_net::libp2p::swarm::SwarmEvent;
use qoima_net::libp2p::{gossipsub, identity, request_response};
use qoima_net::{BehaviourEvent, NetConfig, SyncRequest, SyncResponse, build_swarm};

/// What the hostile peer saw.
#[derive(Debug, Default)]
struct Seen {
    connected: bool,
    /// Times it was disconnected (the first by the honest node's decision, later ones
    /// by the block list refusing a redial).
    closed: u32,
    /// Redial attempts after the first disconnection.
    redials: u32,
    /// Redials that got a connection which then stayed open.
    lasting_reconnections: u32,
}

/// Bundles a hostile peer might gossip: forged, non-canonical, corrupt.
fn poisoned_bundles() -> Vec<Vec<u8>> {
    let victim = fixtures::author(70);
    let forger = fixtures::author(71);
    // A record naming the victim but signed by the forger.
    let mut body = fixtures::body(&forger, 1, None, "a forged confession");
    let forged = VerifiedRecord::sign(&body, &forger).unwrap();
    let mut forged_bytes = forged.bytes().to_vec();
    let at = forged_bytes
        .windows(32)
        .position(|w| w == forger.public().as_bytes())
        .unwrap();
    forged_bytes[at..at + 32].copy_from_slice(victim.public().as_bytes());
    let forged_bundle = raw_bundle(&forger, &[forged_bytes]);
    // A valid record whose bundle byte is flipped inside the record.
    body = fixtures::body(&forger, 2, Some(forged.id()), "tampered");
    let record = VerifiedRecord::sign(&body, &forger).unwrap();
    let mut tampered = fixtures::bundle(&forger, &[record], &[]);
    let last = tampered.len() - 70;
    tampered[last] ^= 1;
    vec![
        forged_bundle,
        tampered,
        b"qoima-b\0 but not really".to_vec(),
    ]
}

/// A bundle around arbitrary record bytes (the writer would refuse bad records, so the
/// manifest is built by hand).
fn raw_bundle(bundler: &qoima_core::AuthorSecret, records: &[Vec<u8>]) -> Vec<u8> {
    use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
    let items = records
        .iter()
        .map(|r| ItemRef {
            kind: ItemKind::Record,
            hash: *blake3::hash(r).as_bytes(),
            size: r.len() as u64,
        })
        .collect();
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: 0,
        collection: "default".into(),
        items,
    };
    let mut writer = BundleWriter::new(Vec::new(), manifest, bundler).unwrap();
    for r in records {
        writer.write_record(r).unwrap();
    }
    writer.finish().unwrap()
}

async fn run_hostile(target: qoima_node::Multiaddr) -> Seen {
    let config = NetConfig {
        mdns: false,
        unchecked_writes: true,
        heartbeat: Duration::from_millis(300),
        ..Default::default()
    };
    let mut swarm = build_swarm(identity::Keypair::generate_ed25519(), &config).unwrap();
    let topic = topic("default");
    swarm.behaviour_mut().gossipsub.subscribe(&topic).unwrap();
    swarm.dial(target.clone()).unwrap();
    let mut seen = Seen::default();
    let deadline = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if seen.closed == 0 => {
                    seen.connected = true;
                    let sync = &mut swarm.behaviour_mut().sync;
                    sync.send_request(&peer_id, SyncRequest::Reconcile { collection: "default".into(), message: vec![0xff; 64] });
                    sync.send_request(&peer_id, SyncRequest::Fetch { collection: "default".into(), ids: vec![[1; 32]; 5000] });
                    sync.send_request(&peer_id, SyncRequest::Reconcile { collection: "default".into(), message: vec![0x61; 3 * 1024 * 1024] });
                }
                SwarmEvent::ConnectionEstablished { .. } => {
                    // Back in after being cut off: it must not stay. Give the honest side
                    // a moment to close it, then count it as lasting if it did not.
                    seen.lasting_reconnections += 1;
                }
                SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { .. })) if seen.closed == 0 => {
                    let gossip = &mut swarm.behaviour_mut().gossipsub;
                    let _ = gossip.publish(topic.clone(), b"\xde\xad junk that is not a message".to_vec());
                    for bundle in poisoned_bundles() {
                        let _ = gossip.publish(topic.clone(), GossipMessage::Bundle(bundle).to_bytes());
                    }
                    // A flood of junk.
                    for i in 0..200u32 {
                        let _ = gossip.publish(topic.clone(), i.to_le_bytes().repeat(50));
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. }, ..
                })) => {
                    let _ = swarm.behaviour_mut().sync.send_response(channel, SyncResponse::Reconcile(vec![0x00, 0x13, 0x37]));
                }
                SwarmEvent::ConnectionClosed { num_established: 0, .. } if seen.connected => {
                    if seen.closed > 0 {
                        seen.lasting_reconnections = seen.lasting_reconnections.saturating_sub(1);
                    }
                    seen.closed += 1;
                    if seen.redials == 3 {
                        return seen;
                    }
                    seen.redials += 1;
                    let _ = swarm.dial(target.clone());
                }
                SwarmEvent::OutgoingConnectionError { .. } if seen.closed > 0 => {
                    if seen.redials == 3 {
                        return seen;
                    }
                    seen.redials += 1;
                    let _ = swarm.dial(target.clone());
                }
                _ => {}
            },
            _ = &mut deadline => return seen,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peer_is_cut_off_and_honest_nodes_keep_syncing() {
    let a = spawn(vec![]).await;
    let b = spawn(vec![a.addr.clone()]).await;
    let honest: BTreeSet<_> = add_records(&a.home(), 60, 5).into_iter().collect();
    converge(&[&a, &b], &honest, Duration::from_secs(60)).await;

    let seen = with_timeout("the attack", run_hostile(a.addr.clone())).await;
    assert!(seen.connected, "{seen:?}");
    assert!(
        seen.closed >= 1,
        "the honest node must disconnect the hostile peer: {seen:?}"
    );
    assert_eq!(seen.redials, 3, "{seen:?}");
    assert_eq!(
        seen.lasting_reconnections, 0,
        "and refuse it afterwards: {seen:?}"
    );

    // Nothing of the attack was stored, and honest sync goes on.
    assert_eq!(a.ids(), honest);
    let mut all = honest.clone();
    all.extend(add_records(&b.home(), 61, 5));
    converge(&[&a, &b], &all, Duration::from_secs(60)).await;
    let status = a.node().status().await.unwrap();
    let b_peer = b.node().peer_id().to_string();
    let b_status = status.peers.iter().find(|p| p.peer_id == b_peer).unwrap();
    assert!(
        b_status.connected && b_status.strikes == 0,
        "honest peer unaffected: {b_status:?}"
    );
    let hostile = status
        .peers
        .iter()
        .find(|p| p.strikes > 0)
        .expect("the hostile peer is remembered with its strikes");
    assert!(hostile.strikes >= 3, "{hostile:?}");
    assert!(!hostile.connected);
}
