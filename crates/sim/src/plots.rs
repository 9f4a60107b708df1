//! The two charts of a set of scenarios: the share of nodes reached over time, and
//! the distribution of bytes per node.

use crate::scenario::Summary;
use crate::svg::{Chart, Series};

/// Share of honest, present nodes holding the testimony, against days.
pub fn reached(summaries: &[Summary]) -> Chart {
    let days = summaries
        .iter()
        .map(|s| s.params.horizon_ms as f64 / 86_400_000.0)
        .fold(1.0, f64::max);
    Chart {
        title: "The testimony's spread (median over seeds)".into(),
        x_label: "days since it was written".into(),
        y_label: "share of honest nodes holding it".into(),
        x_range: (0.0, days),
        y_range: (0.0, 1.0),
        x_log: false,
        series: summaries
            .iter()
            .map(|s| Series {
                label: s.name.clone(),
                points: s
                    .curve
                    .iter()
                    .enumerate()
                    .map(|(i, &share)| (i as f64 * s.curve_step_hours / 24.0, share))
                    .collect(),
                dashed: s.scenario.hostile,
            })
            .collect(),
    }
}

/// Distribution of all bytes (reconciliation, fetches, gossip) per node: the share of
/// nodes that spent at most x MB.
pub fn bytes(summaries: &[Summary]) -> Chart {
    let mb = |b: u64| (b as f64 / 1e6).max(0.01);
    let high = summaries
        .iter()
        .flat_map(|s| s.bytes_quantiles.iter().copied())
        .max()
        .map_or(10.0, mb);
    Chart {
        title: "Bytes each node sent and received (median over seeds)".into(),
        x_label: "MB per node over the run (log scale)".into(),
        y_label: "share of nodes spending at most that".into(),
        x_range: (0.01, 10f64.powf(high.log10().ceil()).max(1.0)),
        y_range: (0.0, 1.0),
        x_log: true,
        series: summaries
            .iter()
            .map(|s| Series {
                label: s.name.clone(),
                points: s
                    .bytes_quantiles
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| (mb(b), i as f64 / s.bytes_quantiles.len().max(1) as f64))
                    .collect(),
                dashed: s.scenario.hostile,
            })
            .collect(),
    }
}
