//! Scenarios (a city size, with or without the window, with or without hostile
//! nodes), each run over several seeds and summarised by the median.

use serde::{Deserialize, Serialize};

use crate::fetch::FetchOrder;
use crate::params::{HOUR_MS, Params, ParamsError};
use crate::report::{CURVE_STEP_MS, RunReport, Spread, median_time, median_u64};
use crate::sim::simulate;

/// What a scenario varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Nodes.
    pub nodes: usize,
    /// The daily window.
    pub window: bool,
    /// 10 % hostile nodes.
    pub hostile: bool,
}

impl Scenario {
    /// A short name for tables and legends.
    pub fn name(&self) -> String {
        format!(
            "{} nodes, {}, {}",
            self.nodes,
            if self.window { "window" } else { "no window" },
            if self.hostile {
                "10% hostile"
            } else {
                "honest"
            }
        )
    }
}

/// A scenario's runs and their medians.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The scenario.
    pub scenario: Scenario,
    /// Its name.
    pub name: String,
    /// The parameters of its first run (the others differ only in the seed).
    pub params: Params,
    /// Median over seeds of the hours to 50 %, 90 %, 99 % (`None`: not reached in
    /// at least half the runs).
    pub hours_to: [Option<f64>; 3],
    /// Median share reached at the horizon.
    pub reached_at_end: f64,
    /// Medians over seeds of the per-node medians and 99th percentiles.
    pub reconcile_bytes: Spread,
    /// Same, fetch and gossip bytes.
    pub record_bytes: Spread,
    /// Same, all bytes.
    pub total_bytes: Spread,
    /// Pointwise median over seeds of the share reached, every `curve_step_hours`.
    pub curve: Vec<f64>,
    /// Hours between curve points.
    pub curve_step_hours: f64,
    /// Pointwise median of the total-bytes quantiles.
    pub bytes_quantiles: Vec<u64>,
    /// Each run.
    pub runs: Vec<RunReport>,
}

/// Runs `params` under `seeds` seeds (`params.seed`, `params.seed + 1`, …).
pub fn run_scenario(
    scenario: Scenario,
    params: &Params,
    seeds: u64,
) -> Result<Summary, ParamsError> {
    params.validate()?;
    let runs: Vec<RunReport> = (0..seeds.max(1))
        .map(|k| {
            let mut p = params.clone();
            p.seed = params.seed.wrapping_add(k);
            let result = simulate(p.clone());
            RunReport::new(&p, &result)
        })
        .collect();
    Ok(summarise(scenario, params, runs))
}

fn summarise(scenario: Scenario, params: &Params, runs: Vec<RunReport>) -> Summary {
    let hours_to =
        [0, 1, 2].map(|i| median_time(&runs.iter().map(|r| r.hours_to[i]).collect::<Vec<_>>()));
    let median_of =
        |f: &dyn Fn(&RunReport) -> u64| median_u64(&runs.iter().map(f).collect::<Vec<_>>());
    let spread_of = |f: &dyn Fn(&RunReport) -> Spread| Spread {
        median: median_of(&|r| f(r).median),
        p99: median_of(&|r| f(r).p99),
    };
    let pointwise = |column: &dyn Fn(&RunReport) -> &[f64]| -> Vec<f64> {
        let len = runs.iter().map(|r| column(r).len()).min().unwrap_or(0);
        (0..len)
            .map(|i| {
                let mut values: Vec<f64> = runs.iter().map(|r| column(r)[i]).collect();
                values.sort_by(f64::total_cmp);
                values[(values.len() - 1) / 2]
            })
            .collect()
    };
    let quantiles = {
        let len = runs
            .iter()
            .map(|r| r.bytes_quantiles.len())
            .min()
            .unwrap_or(0);
        (0..len)
            .map(|i| {
                median_u64(
                    &runs
                        .iter()
                        .map(|r| r.bytes_quantiles[i])
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    };
    let mut ends: Vec<f64> = runs.iter().map(|r| r.reached_at_end).collect();
    ends.sort_by(f64::total_cmp);
    // The quota rule and fetch order are named unless they are the node's own.
    let mut name = scenario.name();
    if params.quota_rule.per_peer() {
        name = format!("{name}, {}", params.quota_rule.name());
    }
    if params.fetch_order == FetchOrder::Random {
        name.push_str(", random order");
    }
    if params.pause_spent_peers && params.quota_rule.per_peer() {
        name.push_str(", pause spent");
    }
    Summary {
        scenario,
        name,
        params: params.clone(),
        hours_to,
        reached_at_end: ends[(ends.len() - 1) / 2],
        reconcile_bytes: spread_of(&|r| r.reconcile_bytes),
        record_bytes: spread_of(&|r| r.record_bytes),
        total_bytes: spread_of(&|r| r.total_bytes),
        curve: pointwise(&|r| &r.curve),
        curve_step_hours: CURVE_STEP_MS as f64 / HOUR_MS as f64,
        bytes_quantiles: quantiles,
        runs,
    }
}
