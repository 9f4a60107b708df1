//! The flood, modelled rather than materialised. Flooders write valid, useless records
//! under fresh keys faster than any archive may keep them; what limits the damage is
//! the acceptance policy of the honest nodes they meet (`node_rules`: 10,000 records
//! per unknown author per hour, 50,000 per hour from all unknown authors).
//!
//! Materialising them is out of reach (a few hundred thousand records per node per
//! day, at 10,000 nodes), so flood records are counted, not listed: all flooders' output
//! is taken as one stream, and each node holds a prefix of it (a count). A node lacks
//! `their count - mine` of another's, which under-states the real difference (real
//! holdings are scattered subsets), so the flood's cost here is a lower bound. Their
//! reconciliation bytes are modelled too, at [`RECONCILE_BYTES_PER_FLOOD_ID`]; their
//! fetch is modelled like every fetch (`fetch.rs`), and they take quota exactly like
//! real records.

use crate::node_rules::RECORDS_PER_UNKNOWN_AUTHOR_PER_HOUR;
use crate::params::{HOUR_MS, Params};

/// Bytes of reconciliation per flood id one side lacks: records written at the end of
/// the claimed-time order are found by negentropy listing their ids, and the other side
/// lists them in its own session too; BENCHMARKS.md §4 measures 0.55 × the ids one way
/// for new records, so about 1.1 × 32 bytes for both sessions.
pub const RECONCILE_BYTES_PER_FLOOD_ID: u64 = 36;

/// The flood stream: how many records all flooders have written by `now`.
#[derive(Debug, Clone, Copy)]
pub struct Flood {
    flooders: u64,
    per_hour: u64,
    per_key: u64,
}

impl Flood {
    /// The flood of `flooders` nodes under `params`.
    pub fn new(params: &Params, flooders: usize) -> Flood {
        Flood {
            flooders: flooders as u64,
            per_hour: params.flood_records_per_hour,
            per_key: params.flood_records_per_key.max(1),
        }
    }

    /// Records of the stream written by `now`.
    pub fn level(&self, now: u64) -> u64 {
        (u128::from(self.flooders) * u128::from(self.per_hour) * u128::from(now)
            / u128::from(HOUR_MS)) as u64
    }

    /// Of `offered` flood records, those the quota per unknown author lets through in
    /// one hour: each key is kept up to the quota, so a flooder that signs more than
    /// that under one key loses the rest.
    pub fn within_author_quota(&self, offered: u64) -> u64 {
        let keys = offered.div_ceil(self.per_key);
        offered.min(keys.saturating_mul(self.per_key.min(RECORDS_PER_UNKNOWN_AUTHOR_PER_HOUR)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_over_the_author_quota_lose_the_rest() {
        let mut params = Params::city(10, false, true, 1);
        params.flood_records_per_key = 25_000;
        let flood = Flood::new(&params, 2);
        assert_eq!(flood.within_author_quota(50_000), 20_000);
        assert_eq!(flood.level(HOUR_MS), 2 * params.flood_records_per_hour);
        params.flood_records_per_key = 10_000;
        assert_eq!(Flood::new(&params, 2).within_author_quota(50_000), 50_000);
    }
}
