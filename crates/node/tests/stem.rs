//! News written on a node leaves it first by a stem hop: handed to one peer, which
//! publishes it, rather than published by its author's node to its whole mesh.

#![allow(clippy::unwrap_used)]

mod common;

use common::hostile::*;
use common::*;
use qoima_core::bundle::BundleReader;
use qoima_net::gossip::GossipMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_written_here_is_handed_to_one_peer() {
    let author_node = spawn(vec![]).await;
    // A peer that speaks the stem protocol and takes whatever it is handed.
    let mut peer = Hostile::connect(&author_node, &[], Answer::Busy).await;
    let written = add_records(&author_node.home(), 95, 1)[0];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while peer.stems_received.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no stem hop");
        // Drives the swarm for 100 ms.
        peer.drive_while_waiting("a moment", async || true).await;
    }
    let GossipMessage::Bundle(bytes) = &peer.stems_received[0] else {
        panic!("a small record travels inline");
    };
    let reader = BundleReader::open(&bytes[..]).unwrap();
    let ids: Vec<[u8; 32]> = reader.manifest().items.iter().map(|i| i.hash).collect();
    assert_eq!(ids, vec![written.0]);
    assert_eq!(peer.stems_received.len(), 1);
}
