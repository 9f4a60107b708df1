//! A fetch of what a session found, timed on the link and cut by the acceptance
//! policy's quota. Modelled on `PeerSync` (`crates/node/src/session.rs`): batches of
//! 64 ids doubling up to 1,024, three in flight, in the order of the ids (a session's
//! `need` is sorted by id), and the records imported in that order, so the quota runs
//! out part-way and every record after that point is declined. Under a per-peer share
//! (`fair_share.rs`) the node asks a peer for no more than it may keep from it, so
//! nothing is declined and the rest is left for later.

use serde::{Deserialize, Serialize};

use crate::node_rules::{FETCH_BATCH, FETCH_BATCH_FIRST, FETCHES_IN_FLIGHT};
use crate::params::Link;
use crate::records::RecordNo;

/// The order a node asks for what a session found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FetchOrder {
    /// By id, as `need` comes (the node before it shuffled): a record's place among the
    /// flood is fixed by its id, the same at every fetch, and a flooder could grind ids
    /// that sort first.
    Id,
    /// In an order the node draws afresh for each fetch (the node now,
    /// `crates/node/src/session.rs`, `fetch_order`): a record's place among the flood
    /// is a new draw each time, and no id can buy a better one.
    Random,
}

impl FetchOrder {
    /// The order of runs saved before the option existed: by id.
    pub fn before_the_option() -> FetchOrder {
        FetchOrder::Id
    }
}

/// Costs of a fetch on the wire.
#[derive(Debug, Clone, Copy)]
pub struct FetchCost {
    /// The link.
    pub link: Link,
    /// Bytes of one record.
    pub record_bytes: u64,
    /// Bytes a request and its answer add besides ids and records.
    pub batch_overhead: u64,
}

/// What one fetch brought.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    /// New records transferred and kept.
    pub accepted: Vec<RecordNo>,
    /// New records transferred and declined (over the quota).
    pub declined: Vec<RecordNo>,
    /// New records found but not asked for (past `asked_max`): neither kept nor
    /// declined, left for another peer or the next hour.
    pub not_asked: Vec<RecordNo>,
    /// Flood records transferred and kept.
    pub flood_accepted: u64,
    /// Records transferred (kept or not).
    pub transferred: u64,
    /// Bytes both ways: requests (ids) and answers (records).
    pub bytes: u64,
    /// Time it took.
    pub elapsed_ms: f64,
}

/// How much of what a session found a fetch takes.
#[derive(Debug, Clone, Copy)]
pub struct Take {
    /// Records that may be kept (the quota left).
    pub room: u64,
    /// Records asked for at most, the first in id order (`u64::MAX`: all found).
    pub asked_max: u64,
}

/// Fetches `wanted` new records (each with the share of the flood asked for before it:
/// in id order the share of the id range below its id, `Records::id_share`, since
/// flood ids are random) and `flood` flood records within `budget_ms`, asking for at
/// most `take.asked_max` and keeping at most `take.room`.
pub fn fetch(
    wanted: &[(RecordNo, f64)],
    flood: u64,
    take: Take,
    cost: &FetchCost,
    budget_ms: f64,
) -> Fetched {
    let room = take.room;
    let total = (wanted.len() as u64 + flood).min(take.asked_max);
    let (fit, bytes, elapsed_ms) = records_that_fit(total, cost, budget_ms);
    let kept_limit = fit.min(room);
    let mut fetched = Fetched {
        transferred: fit,
        bytes,
        elapsed_ms,
        ..Fetched::default()
    };
    let mut new_kept = 0u64;
    for (rank, &(record, share)) in wanted.iter().enumerate() {
        let position = rank as u64 + (flood as f64 * share) as u64;
        if position < kept_limit {
            fetched.accepted.push(record);
            new_kept += 1;
        } else if position < fit {
            fetched.declined.push(record);
        } else if position >= total {
            fetched.not_asked.push(record);
        }
    }
    fetched.flood_accepted = (kept_limit - new_kept).min(flood);
    fetched
}

/// How many of `total` records arrive within `budget_ms`, the bytes moved, and the time
/// taken. Each round trip carries up to three batches.
fn records_that_fit(total: u64, cost: &FetchCost, budget_ms: f64) -> (u64, u64, f64) {
    let per_record = cost.record_bytes + 32;
    let mut batch = FETCH_BATCH_FIRST as u64;
    let (mut done, mut bytes, mut elapsed) = (0u64, 0u64, 0.0f64);
    while done < total {
        let mut round_records = 0;
        let mut batches = 0;
        while batches < FETCHES_IN_FLIGHT && done + round_records < total {
            round_records += batch.min(total - done - round_records);
            batch = (batch * 2).min(FETCH_BATCH as u64);
            batches += 1;
        }
        let round_bytes = round_records * per_record + batches as u64 * cost.batch_overhead;
        let round_ms = cost.link.rtt_ms as f64 + cost.link.transfer_ms(round_bytes);
        if elapsed + round_ms <= budget_ms {
            done += round_records;
            bytes += round_bytes;
            elapsed += round_ms;
            continue;
        }
        // The contact ends in this round: the records that arrived before it did.
        let left = budget_ms - elapsed - cost.link.rtt_ms as f64;
        let record_ms = cost.link.transfer_ms(per_record);
        let partial = if left > 0.0 {
            ((left / record_ms) as u64).min(round_records)
        } else {
            0
        };
        done += partial;
        bytes += partial * per_record + batches as u64 * cost.batch_overhead;
        elapsed = budget_ms;
        break;
    }
    (done, bytes, elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COST: FetchCost = FetchCost {
        link: Link {
            bits_per_second: 8_000.0,
            rtt_ms: 100,
        },
        record_bytes: 968,
        batch_overhead: 0,
    };

    /// Everything found asked for, `room` kept.
    fn asking_all(room: u64) -> Take {
        Take {
            room,
            asked_max: u64::MAX,
        }
    }

    #[test]
    fn what_fits_arrives_and_the_quota_declines_the_rest() {
        // 1 KB a record at 1 KB/s: one second each, plus 100 ms per round trip.
        let wanted: Vec<(RecordNo, f64)> = (0..10).map(|n| (n, 0.0)).collect();
        let all = fetch(&wanted, 0, asking_all(u64::MAX), &COST, f64::MAX);
        assert_eq!(all.accepted.len(), 10);
        assert!(
            (all.elapsed_ms - 10_100.0).abs() < 1.0,
            "{}",
            all.elapsed_ms
        );
        let cut = fetch(&wanted, 0, asking_all(u64::MAX), &COST, 4_150.0);
        assert_eq!((cut.accepted.len(), cut.transferred), (4, 4));
        let quota = fetch(&wanted, 0, asking_all(3), &COST, f64::MAX);
        assert_eq!((quota.accepted.len(), quota.declined.len()), (3, 7));
    }

    #[test]
    fn flood_ids_before_a_record_take_the_quota_first() {
        let wanted = [(7, 0.5)];
        let fetched = fetch(&wanted, 100, asking_all(40), &COST, f64::MAX);
        assert_eq!(fetched.declined, vec![7]);
        assert_eq!(fetched.flood_accepted, 40);
        let early = fetch(&[(7, 0.1)], 100, asking_all(40), &COST, f64::MAX);
        assert_eq!((early.accepted, early.flood_accepted), (vec![7], 39));
    }

    #[test]
    fn asking_no_more_than_the_room_leaves_the_rest_undeclined() {
        let wanted = [(7, 0.5), (8, 0.01)];
        let take = Take {
            room: 40,
            asked_max: 40,
        };
        let fetched = fetch(&wanted, 100, take, &COST, f64::MAX);
        assert_eq!(fetched.accepted, vec![8]);
        assert!(fetched.declined.is_empty());
        assert_eq!(fetched.not_asked, vec![7]);
        assert_eq!((fetched.transferred, fetched.flood_accepted), (40, 39));
    }
}
