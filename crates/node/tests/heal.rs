//! A record that rots on disk is never served (a peer would rightly strike us for it):
//! it is detected when a peer asks for it, removed, and fetched again from a peer that
//! holds a good copy. Nobody is struck.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::hostile::peer_status;
use common::*;
use qoima_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotted_record_is_not_served_and_heals_from_a_peer() {
    let a = spawn(vec![]).await;
    let b = spawn(vec![a.addr.clone()]).await;
    let written = add_records(&a.home(), 96, 5);
    let all: std::collections::BTreeSet<_> = written.iter().copied().collect();
    converge(&[&a, &b], &all, Duration::from_secs(60)).await;

    // A bit flips in one stored record on a's disk.
    let rotten = written[2];
    let db = keyed_db(&a.home().join("archive.db"));
    let changed = db
        .execute(
            "UPDATE records SET bytes = CAST(substr(bytes, 1, 40) || x'00' || substr(bytes, 42) AS BLOB) WHERE id = ?1",
            [rotten.0.as_slice()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    assert!(
        Store::open(&a.home(), &test_key())
            .unwrap()
            .get(&rotten)
            .is_err()
    );

    // A newcomer that knows only `a` asks it for everything.
    let c = spawn(vec![a.addr.clone()]).await;
    converge(&[&a, &b, &c], &all, Duration::from_secs(60)).await;
    eventually("a's copy to verify again", Duration::from_secs(60), || {
        Store::open(&a.home(), &test_key())
            .unwrap()
            .get(&rotten)
            .is_ok()
    })
    .await;

    let (a_id, b_id, c_id) = (a.node().peer_id(), b.node().peer_id(), c.node().peer_id());
    for (node, peer) in [(&c, a_id), (&a, c_id), (&a, b_id), (&b, a_id)] {
        let seen = peer_status(node.node(), peer).await.unwrap();
        assert_eq!(seen.strikes, 0, "{seen:?}");
    }
}
