//! Attachments across the network (`/qoima/blobs/1`): real nodes on loopback fetch the
//! attachments of the records they sync, verified range by range, from every peer that
//! has them, and resume after a restart.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use common::hostile::*;
use common::*;
use qoima_core::{BlobHash, RecordId, VerifiedRecord, fixtures};
use qoima_store::{AttachmentState, BlobPolicy, Source, Store};

const MIB: usize = 1024 * 1024;

fn video(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

/// Imports a bundle of the record attaching `data` (made by [`attaching`]) and `blobs`
/// into the archive at `home`.
fn import(home: &Path, data: &[u8], blobs: &[&[u8]]) -> qoima_store::ImportReport {
    let author = fixtures::author(61);
    let bundle = fixtures::bundle(&author, &[attaching(data)], blobs);
    Store::open(home, &test_key())
        .unwrap()
        .import_bundle(&bundle[..], Source::File("square.qb".into()))
        .unwrap()
}

/// The record that attaches `data`.
fn attaching(data: &[u8]) -> VerifiedRecord {
    let author = fixtures::author(61);
    let mut body = fixtures::body(&author, 1, None, "the square at night");
    body.attachments = vec![fixtures::attachment(data, "video/mp4", "square.mp4")];
    VerifiedRecord::sign(&body, &author).unwrap()
}

/// Puts a record attaching `data`, and `data` itself, into the archive at `home`.
fn hold(home: &Path, data: &[u8]) -> RecordId {
    let report = import(home, data, &[data]);
    assert!(report.is_clean(), "{report:?}");
    attaching(data).id()
}

/// An honest node holding `data`, and a receiver that the hostile peer, made by
/// `misbehave`, connects to first (so it is asked for ranges) before the honest node.
async fn receiver_met_by_hostile_first(
    data: &[u8],
    misbehave: impl FnOnce(&mut Hostile),
) -> (TestNode, TestNode, Hostile) {
    let honest = spawn(vec![]).await;
    hold(&honest.home(), data);
    let receiver = spawn(vec![]).await;
    let mut hostile = Hostile::connect(&receiver, &[], Answer::Busy).await;
    misbehave(&mut hostile);
    receiver.node().dial(honest.addr.clone()).await;
    (honest, receiver, hostile)
}

fn state(home: &Path, hash: &BlobHash) -> AttachmentState {
    Store::open(home, &test_key())
        .unwrap()
        .attachment_state(hash)
        .unwrap()
}

fn read_back(home: &Path, hash: &BlobHash) -> Vec<u8> {
    let mut bytes = Vec::new();
    Store::open(home, &test_key())
        .unwrap()
        .read_blob(hash)
        .unwrap()
        .expect("the attachment is here")
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

async fn wait_present(node: &TestNode, hash: &BlobHash, deadline: Duration) {
    let home = node.home();
    eventually("the attachment to arrive", deadline, || {
        state(&home, hash) == AttachmentState::Present
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_follows_its_record_verified_and_is_served_onwards() {
    let first = spawn(vec![]).await;
    let data = video(3 * MIB + 12_345, 1);
    let hash = BlobHash::of(&data);
    let id = hold(&first.home(), &data);
    let second = spawn(vec![first.addr.clone()]).await;
    converge(
        &[&first, &second],
        &BTreeSet::from([id]),
        Duration::from_secs(60),
    )
    .await;
    wait_present(&second, &hash, Duration::from_secs(60)).await;
    assert!(read_back(&second.home(), &hash) == data);

    // The second node serves it to a third that only knows the second.
    let third = spawn(vec![second.addr.clone()]).await;
    wait_present(&third, &hash, Duration::from_secs(60)).await;
    assert!(read_back(&third.home(), &hash) == data);
    let sent = peer_status(second.node(), third.node().peer_id())
        .await
        .unwrap()
        .blob_bytes_sent;
    assert!(
        sent >= data.len() as u64,
        "the third node got it from the second ({sent})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_serving_a_corrupted_range_is_struck_once_and_the_attachment_completes_elsewhere() {
    let data = video(8 * MIB, 2);
    let hash = BlobHash::of(&data);
    // The liar claims to hold the attachment, with one byte flipped in every range it
    // serves.
    let (honest, receiver, mut liar) =
        receiver_met_by_hostile_first(&data, |liar| liar.corrupt_blob = Some(data.clone())).await;
    let (node, liar_id, home) = (receiver.node(), liar.peer_id(), receiver.home());
    liar.drive_while_waiting("the attachment to complete", async || {
        state(&home, &hash) == AttachmentState::Present
    })
    .await;
    assert!(liar.blob_requests_received > 0, "the liar was asked");
    assert_eq!(
        peer_status(node, liar_id).await.unwrap().strikes,
        1,
        "one strike for one attachment served wrong"
    );
    assert_eq!(
        peer_status(node, honest.node().peer_id())
            .await
            .unwrap()
            .strikes,
        0
    );
    assert!(read_back(&home, &hash) == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peers_serve_one_attachment_in_parallel() {
    let data = video(16 * MIB, 3);
    let hash = BlobHash::of(&data);
    let mut holders = Vec::new();
    for _ in 0..3 {
        let holder = spawn(vec![]).await;
        hold(&holder.home(), &data);
        holders.push(holder);
    }
    let addrs = holders.iter().map(|h| h.addr.clone()).collect();
    let receiver = spawn(addrs).await;
    wait_present(&receiver, &hash, Duration::from_secs(120)).await;
    assert!(read_back(&receiver.home(), &hash) == data);
    for holder in &holders {
        let served = peer_status(holder.node(), receiver.node().peer_id())
            .await
            .unwrap()
            .blob_bytes_sent;
        assert!(served > 0, "every holder served part of it");
    }
}

/// Bytes the holder has sent the receiver's current identity, and its earlier ones.
async fn sent_by(holder: &TestNode) -> u64 {
    holder
        .node()
        .status()
        .await
        .unwrap()
        .peers
        .iter()
        .map(|p| p.blob_bytes_sent)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_cut_by_restarting_the_receiver_then_the_sender_resumes_where_it_stopped() {
    let mut sender = spawn(vec![]).await;
    let data = video(96 * MIB, 4);
    let hash = BlobHash::of(&data);
    let size = data.len() as u64;
    hold(&sender.home(), &data);
    let mut receiver = spawn(vec![sender.addr.clone()]).await;

    // The receiver stops once part of it has arrived...
    let at_least_a_part = |node: &TestNode| matches!(state(&node.home(), &hash), AttachmentState::Partial { have, .. } if have > 0);
    eventually(
        "part of the attachment to arrive",
        Duration::from_secs(60),
        || at_least_a_part(&receiver),
    )
    .await;
    receiver.stop().await;
    let AttachmentState::Partial {
        have: first_have, ..
    } = state(&receiver.home(), &hash)
    else {
        panic!("the attachment should be partial");
    };
    assert!(first_have < size);
    receiver.restart(vec![sender.addr.clone()]).await;

    // ... then the sender stops and comes back on its address.
    let more = |node: &TestNode| matches!(state(&node.home(), &hash), AttachmentState::Partial { have, .. } if have > first_have);
    eventually("more of it to arrive", Duration::from_secs(60), || {
        more(&receiver) || state(&receiver.home(), &hash) == AttachmentState::Present
    })
    .await;
    let sent_before_restart = sent_by(&sender).await;
    let port = sender.addr.clone();
    sender.stop().await;
    sender.restart_on(port).await;
    wait_present(&receiver, &hash, Duration::from_secs(120)).await;
    assert!(read_back(&receiver.home(), &hash) == data);
    let moved = sent_before_restart + sent_by(&sender).await;
    assert!(
        moved as f64 <= size as f64 * 1.10,
        "{moved} bytes moved for an attachment of {size}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_vanishes_mid_range_is_not_struck_and_the_attachment_completes_elsewhere() {
    let data = video(4 * MIB, 5);
    let hash = BlobHash::of(&data);
    // It is asked for ranges and drops the connection on each request instead of
    // answering.
    let (_honest, receiver, mut vanishing) = receiver_met_by_hostile_first(&data, |vanishing| {
        vanishing.vanish_on_blob_request = true;
        vanishing.corrupt_blob = Some(data.clone());
    })
    .await;
    let (node, vanished, home) = (receiver.node(), vanishing.peer_id(), receiver.home());
    vanishing
        .drive_while_waiting("the attachment to complete", async || {
            state(&home, &hash) == AttachmentState::Present
        })
        .await;
    assert!(vanishing.blob_requests_received > 0, "it was asked");
    assert_eq!(
        peer_status(node, vanished).await.map_or(0, |p| p.strikes),
        0,
        "a lost connection is nobody's fault"
    );
    assert!(read_back(&home, &hash) == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_is_dropped_when_a_bundle_file_brings_the_attachment() {
    let receiver = spawn(vec![]).await;
    let data = video(2 * MIB, 6);
    let hash = BlobHash::of(&data);
    // The record arrives without its attachment, which nobody connected holds.
    import(&receiver.home(), &data, &[]);
    let node = receiver.node();
    eventually_async(
        "the transfer to start",
        Duration::from_secs(60),
        async || node.status().await.unwrap().transfers.len() == 1,
    )
    .await;

    let report = import(&receiver.home(), &data, &[&data]);
    assert_eq!(report.blobs_new, 1, "{report:?}");
    eventually_async(
        "the transfer to be dropped",
        Duration::from_secs(60),
        async || node.status().await.unwrap().transfers.is_empty(),
    )
    .await;
    assert_eq!(state(&receiver.home(), &hash), AttachmentState::Present);
    assert!(read_back(&receiver.home(), &hash) == data);
    let partials = receiver.home().join("partial");
    assert!(!partials.exists() || partials.read_dir().unwrap().next().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_policy_saved_while_the_node_runs_applies_without_a_restart() {
    let holder = spawn(vec![]).await;
    let data = video(3 * MIB, 7);
    let hash = BlobHash::of(&data);
    let id = hold(&holder.home(), &data);
    // The receiver starts fetching nothing over 1 MiB without being asked.
    let receiver = spawn_with(vec![holder.addr.clone()], |config| {
        config.blob_policy.fetch_up_to = MIB as u64;
    })
    .await;
    converge(
        &[&holder, &receiver],
        &BTreeSet::from([id]),
        Duration::from_secs(60),
    )
    .await;
    let limits = receiver.node().status().await.unwrap().attachments;
    assert_eq!(limits.fetch_up_to, MIB as u64);
    assert_eq!(state(&receiver.home(), &hash), AttachmentState::Missing);

    // Saved in the archive, as the settings page saves it, by another connection.
    Store::open(&receiver.home(), &test_key())
        .unwrap()
        .set_blob_policy(&BlobPolicy {
            fetch_up_to: 8 * MIB as u64,
            quota: Some(1_000_000_000),
            budget: None,
        })
        .unwrap();
    wait_present(&receiver, &hash, Duration::from_secs(60)).await;
    assert!(read_back(&receiver.home(), &hash) == data);
    let limits = receiver.node().status().await.unwrap().attachments;
    assert_eq!(limits.fetch_up_to, 8 * MIB as u64);
    assert_eq!(limits.quota, Some(1_000_000_000));
}
