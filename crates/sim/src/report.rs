//! What a run is reported as: spread times, the share reached over time, and bytes per
//! node, over the honest nodes whose devices were not seized (the ones the testimony
//! can and should reach).

use serde::{Deserialize, Serialize};

use crate::params::{HOUR_MS, Params};
use crate::sim::{Counters, RunResult};
use crate::world::Role;

/// Points of the reached curve: one every this often.
pub const CURVE_STEP_MS: u64 = HOUR_MS / 2;
/// Points of the bytes distribution kept for plots.
pub const QUANTILES: usize = 100;

/// Median and 99th percentile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median.
    pub median: u64,
    /// 99th percentile.
    pub p99: u64,
}

/// One run of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// Honest nodes present at the end.
    pub counted: usize,
    /// Hours until the testimony reached 50 %, 90 %, 99 % of them (`None`: not within
    /// the horizon).
    pub hours_to: [Option<f64>; 3],
    /// Share reached at the horizon.
    pub reached_at_end: f64,
    /// Reconciliation bytes per node.
    pub reconcile_bytes: Spread,
    /// Fetch and gossip bytes per node.
    pub record_bytes: Spread,
    /// All bytes per node.
    pub total_bytes: Spread,
    /// Share reached at every `CURVE_STEP_MS`.
    pub curve: Vec<f64>,
    /// Total bytes per node at `QUANTILES` evenly spaced quantiles.
    pub bytes_quantiles: Vec<u64>,
    /// What the run did.
    pub counters: Counters,
}

/// The shares the spread is timed at.
pub const MILESTONES: [f64; 3] = [0.5, 0.9, 0.99];

impl RunReport {
    /// Summarises `result`.
    pub fn new(params: &Params, result: &RunResult) -> RunReport {
        let counted: Vec<_> = result
            .nodes
            .iter()
            .filter(|n| n.role == Role::Honest && n.present)
            .collect();
        let mut times: Vec<u64> = counted.iter().filter_map(|n| n.reached_at).collect();
        times.sort_unstable();
        let total = counted.len().max(1);
        let hours_to = MILESTONES.map(|share| {
            let needed = (share * total as f64).ceil() as usize;
            times
                .get(needed.saturating_sub(1))
                .filter(|_| needed <= times.len())
                .map(|&t| t as f64 / HOUR_MS as f64)
        });
        let curve = (0..=params.horizon_ms / CURVE_STEP_MS)
            .map(|step| {
                let t = step * CURVE_STEP_MS;
                times.partition_point(|&r| r <= t) as f64 / total as f64
            })
            .collect();
        let reconcile: Vec<u64> = counted.iter().map(|n| n.reconcile_bytes).collect();
        let records: Vec<u64> = counted.iter().map(|n| n.record_bytes).collect();
        let mut all: Vec<u64> = counted
            .iter()
            .map(|n| n.reconcile_bytes + n.record_bytes)
            .collect();
        all.sort_unstable();
        let bytes_quantiles = (0..QUANTILES)
            .filter_map(|q| all.get(q * all.len() / QUANTILES).copied())
            .collect();
        RunReport {
            seed: params.seed,
            counted: counted.len(),
            hours_to,
            reached_at_end: times.len() as f64 / total as f64,
            reconcile_bytes: spread(reconcile),
            record_bytes: spread(records),
            total_bytes: spread(all),
            curve,
            bytes_quantiles,
            counters: result.counters.clone(),
        }
    }
}

fn spread(mut values: Vec<u64>) -> Spread {
    values.sort_unstable();
    let at = |q: f64| {
        values
            .get(((values.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    Spread {
        median: at(0.5),
        p99: at(0.99),
    }
}

/// The median of `values`, where `None` (not reached) counts as longer than any time;
/// `None` if the median itself is not reached.
pub fn median_time(values: &[Option<f64>]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().map(|v| v.unwrap_or(f64::INFINITY)).collect();
    sorted.sort_by(f64::total_cmp);
    let middle = *sorted.get(sorted.len().saturating_sub(1) / 2)?;
    middle.is_finite().then_some(middle)
}

/// The median of `values` (the lower one of an even count).
pub fn median_u64(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}
