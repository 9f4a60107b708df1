//! A flood of 100,000 valid but useless gossip messages from one peer against a line of
//! three honest nodes: the victim's memory stays bounded, honest records still cross the
//! line both ways, and the flooder is throttled (never struck: its messages are valid).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::hostile::*;
use common::*;
use qoima_core::{VerifiedRecord, fixtures};

const FLOOD: usize = 100_000;

/// This process's resident memory and its peak, in KiB (Linux).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_useless_gossip_is_throttled_while_honest_records_cross_the_line() {
    let victim = spawn(vec![]).await;
    let middle = spawn(vec![victim.addr.clone()]).await;
    let far = spawn(vec![middle.addr.clone()]).await;
    let mut expected = std::collections::BTreeSet::new();
    expected.extend(add_records(&victim.home(), 90, 1));
    converge(
        &[&victim, &middle, &far],
        &expected,
        Duration::from_secs(60),
    )
    .await;

    let author = fixtures::author(90);
    let old = VerifiedRecord::sign(
        &fixtures::body(&author, 1, None, "record 1 by author 90"),
        &author,
    )
    .unwrap();
    assert!(expected.contains(&old.id()));

    let mut hostile = Hostile::connect(&victim, &[], Answer::Busy).await;
    let (baseline_kib, _) = memory_kib();
    // 100,000 distinct messages (each bundle signed by a fresh key), made as they are
    // sent, 1,000 every 100 ms.
    hostile.feed = Box::new((0..FLOOD).map(move |_| rewrapped(&old)));
    hostile.feed_per_tick = 1000;

    // While the flood runs, honest records are written at both ends of the line.
    let from_far = add_records(&far.home(), 91, 3);
    let from_victim = add_records(&victim.home(), 92, 3);
    expected.extend(from_far.iter().copied());
    expected.extend(from_victim.iter().copied());
    let (v, m, f) = (&victim, &middle, &far);
    let all = expected.clone();
    hostile
        .drive_while_waiting(
            "honest records to cross the line during the flood",
            async || [v, m, f].iter().all(|n| n.ids() == all),
        )
        .await;

    // Let the rest of the flood go out, then judge.
    hostile.publish_all_fed().await;
    assert_eq!(hostile.fed, FLOOD);
    let attacker = hostile.peer_id();
    hostile.settle().await;
    let seen = peer_status(victim.node(), attacker).await.unwrap();
    assert_eq!(seen.strikes, 0, "valid messages are no fault: {seen:?}");
    assert!(seen.throttled > 1000, "{seen:?}");
    for node in [&victim, &middle, &far] {
        assert_eq!(node.ids(), expected, "nothing of the flood is stored");
    }
    // Nothing useless was forwarded: the middle node never heard of the flooder's
    // messages (it would have throttled the victim for them otherwise).
    let victim_at_middle = peer_status(middle.node(), victim.node().peer_id())
        .await
        .unwrap();
    assert_eq!(victim_at_middle.throttled, 0, "{victim_at_middle:?}");
    assert_eq!(victim_at_middle.strikes, 0, "{victim_at_middle:?}");

    let (_, peak_kib) = memory_kib();
    let growth_mib = peak_kib.saturating_sub(baseline_kib) / 1024;
    eprintln!(
        "memory: baseline {} MiB, peak {} MiB",
        baseline_kib / 1024,
        peak_kib / 1024
    );
    // Four swarms share this process (three honest nodes and the flooder): the bound is
    // on what the flood added to all of them.
    assert!(
        growth_mib < 200,
        "the flood grew memory by {growth_mib} MiB"
    );
}
