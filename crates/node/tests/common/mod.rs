//! Real nodes on loopback for the tests: each with its own archive in a temporary
//! directory, its own network key, listening on 127.0.0.1 with an ephemeral port.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of this

pub mod hostile;

use std::collections::BTreeSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qoima_core::{RecordId, VerifiedRecord, fixtures};
use qoima_node::{Multiaddr, Node, NodeConfig};
use qoima_store::{ListQuery, Store};

pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub node: Option<Node>,
    pub addr: Multiaddr,
}

impl TestNode {
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn node(&self) -> &Node {
        self.node.as_ref().expect("running")
    }

    /// Stops the node (the archive stays).
    pub async fn stop(&mut self) {
        if let Some(node) = self.node.take() {
            node.shutdown().await;
        }
    }

    /// Starts it again on the same archive and network key.
    pub async fn restart(&mut self, peers: Vec<Multiaddr>) {
        let node = Node::start(config(&self.home(), peers)).await.unwrap();
        self.addr = tcp_addr(&node).await;
        self.node = Some(node);
    }

    /// Starts it again listening where it listened before (`addr`, as dialed), so
    /// peers that keep redialing it find it again.
    pub async fn restart_on(&mut self, addr: Multiaddr) {
        let listen: Multiaddr = addr
            .iter()
            .filter(|p| !matches!(p, qoima_net::libp2p::multiaddr::Protocol::P2p(_)))
            .collect();
        let mut config = config(&self.home(), vec![]);
        config.listen = vec![listen];
        let node = Node::start(config).await.unwrap();
        self.addr = tcp_addr(&node).await;
        self.node = Some(node);
    }

    /// The ids in this node's archive.
    pub fn ids(&self) -> BTreeSet<RecordId> {
        ids(&self.home())
    }
}

/// A node still running when its test ends is stopped and its archive closed: the test
/// process may exit right after, and SQLCipher tears itself down at exit.
impl Drop for TestNode {
    fn drop(&mut self) {
        if let (Some(node), Ok(runtime)) = (self.node.take(), tokio::runtime::Handle::try_current())
        {
            tokio::task::block_in_place(|| runtime.block_on(node.shutdown()));
        }
    }
}

pub fn config(home: &Path, peers: Vec<Multiaddr>) -> NodeConfig {
    let mut config = NodeConfig::new(home.to_owned(), test_key());
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.peers = peers;
    config.mdns = false; // libp2p mDNS ignores loopback; these tests dial explicitly
    config.sync_interval = Duration::from_secs(2);
    config.poll_interval = Duration::from_millis(100);
    config.heartbeat = Duration::from_millis(300);
    config
}

/// Starts a node on a fresh archive, dialing `peers`.
pub async fn spawn(peers: Vec<Multiaddr>) -> TestNode {
    spawn_with(peers, |_| {}).await
}

pub async fn spawn_with(peers: Vec<Multiaddr>, adjust: impl FnOnce(&mut NodeConfig)) -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut config = config(&home, peers);
    adjust(&mut config);
    let node = Node::start(config).await.unwrap();
    let addr = tcp_addr(&node).await;
    TestNode {
        dir,
        node: Some(node),
        addr,
    }
}

/// The node's TCP listen address with its peer id.
pub async fn tcp_addr(node: &Node) -> Multiaddr {
    let status = node.status().await.unwrap();
    let addr = status
        .listen_addrs
        .iter()
        .find(|a| a.contains("/tcp/"))
        .expect("a TCP listener");
    format!("{addr}/p2p/{}", status.peer_id).parse().unwrap()
}

/// Writes `count` new records by the author with `seed` into the archive at `home`, as
/// `qoima add` would from another process (a separate connection to the same archive).
pub fn add_records(home: &Path, seed: u8, count: usize) -> Vec<RecordId> {
    let mut store = Store::open(home, &test_key()).unwrap();
    let author = fixtures::author(seed);
    let head = store.head_of(&author.public()).unwrap();
    let (mut seq, mut prev) = match head {
        Some((seq, id)) => (seq + 1, Some(id)),
        None => (1, None),
    };
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let body = fixtures::body(
            &author,
            seq,
            prev,
            &format!("record {seq} by author {seed}"),
        );
        let record = VerifiedRecord::sign(&body, &author).unwrap();
        store.insert_local(&record).unwrap();
        ids.push(record.id());
        prev = Some(record.id());
        seq += 1;
    }
    ids
}

pub fn ids(home: &Path) -> BTreeSet<RecordId> {
    let store = Store::open(home, &test_key()).unwrap();
    store
        .list(&ListQuery {
            limit: 1_000_000,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

/// Waits until `condition` holds, checking every 100 ms; panics with `what` after
/// `deadline`.
pub async fn eventually(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// As [`eventually`], for a condition that has to ask a node.
pub async fn eventually_async<F: AsyncFnMut() -> bool>(
    what: &str,
    deadline: Duration,
    mut condition: F,
) {
    let start = tokio::time::Instant::now();
    while !condition().await {
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every node holds exactly `expected`.
pub async fn converge(nodes: &[&TestNode], expected: &BTreeSet<RecordId>, deadline: Duration) {
    eventually("all archives to hold the same records", deadline, || {
        nodes.iter().all(|n| n.ids() == *expected)
    })
    .await;
}

pub async fn with_timeout<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), future)
        .await
        .unwrap_or_else(|_| panic!("{what} took over 120 s"))
}

/// The archive key of the stores here.
pub fn test_key() -> qoima_store::ArchiveKey {
    qoima_store::ArchiveKey::from_bytes([42; 32])
}

/// The archive database opened directly, with its key.
pub fn keyed_db(path: &std::path::Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path).unwrap();
    let key = test_key().database_key_literal();
    db.execute_batch(&format!("PRAGMA key = \"{}\";", key.as_str()))
        .unwrap();
    db
}
