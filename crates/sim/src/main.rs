//! `qoima-sim`: runs the scenarios and prints their table, or JSON, and writes the
//! plots. See the crate docs (`cargo doc -p qoima-sim`) and BENCHMARKS.md for the model.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use qoima_sim::fair_share::QuotaRule;
use qoima_sim::fetch::FetchOrder;
use qoima_sim::params::{DAY_MS, Params};
use qoima_sim::plots;
use qoima_sim::scenario::{Scenario, Summary, run_scenario};

/// Simulates a city in an internet shutdown: thousands of nodes meeting on LANs and
/// hotspots, some online for an hour or two a day, some hostile, reconciling their
/// archives with the real qoima-sync code. Reports how long one testimony takes to
/// reach 50 %, 90 % and 99 % of the honest nodes, and the bytes each node spends.
///
/// Every scenario of the cross product of --nodes, --window and --hostile is run
/// under --seeds seeds; medians over seeds are reported. The run is a function of the
/// seed and the options alone: the same command prints the same table.
///
/// Example: qoima-sim --nodes 1000,10000 --seeds 3 --plots crates/sim/plots
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// City sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    nodes: Vec<usize>,
    /// Whether some nodes have internet for an hour or two a day: on, off, or both.
    #[arg(long, value_enum, default_value_t = Toggle::Both)]
    window: Toggle,
    /// Whether 10 % of the nodes are hostile (half flood, half withhold): on, off, or
    /// both.
    #[arg(long, value_enum, default_value_t = Toggle::Both)]
    hostile: Toggle,
    /// How the hourly quota for records of unknown authors is divided between the peers
    /// that deliver them, comma-separated to run several: shared (the store today),
    /// per-peer (an eighth of it per peer at most), per-peer-gossip-first (per-peer,
    /// and a sync leaves the last eighth of each to records pushed by gossip).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "shared")]
    quota_rule: Vec<RuleArg>,
    /// The order a node asks a peer for what a session found, comma-separated to run
    /// both: random (the node since schema version 14: drawn afresh for each fetch) or
    /// id (the node before it).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "random")]
    fetch_order: Vec<OrderArg>,
    /// Under a per-peer rule, do not reconcile with a peer whose share is spent until
    /// the hour turns.
    #[arg(long)]
    pause_spent_peers: bool,
    /// The first seed; runs use this seed and the ones after it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seeds per scenario; the table shows medians over them.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Simulated days.
    #[arg(long, default_value_t = 7)]
    days: u64,
    /// Records every node holds at the start, in cities up to --large-from nodes.
    #[arg(long, default_value_t = 20_000)]
    base_records: usize,
    /// Records every node holds at the start in cities of --large-from nodes or more:
    /// real reconciliation costs time in proportion to the archive, and the large city
    /// runs ten times the sessions.
    #[arg(long, default_value_t = 2_000)]
    base_records_large: usize,
    /// Cities of this many nodes or more use --base-records-large.
    #[arg(long, default_value_t = 5_000)]
    large_from: usize,
    /// Bytes of one record.
    #[arg(long, default_value_t = 1_500)]
    record_bytes: u64,
    /// Scenarios run at once (each on one thread).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print JSON (every run, its parameters and counters) instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write that JSON to this file (the table still goes to stdout).
    #[arg(long)]
    json_file: Option<PathBuf>,
    /// Run nothing: read the summaries these files hold (written by --json or
    /// --json-file, e.g. by runs of different sizes on different machines) and print
    /// their table and plots together.
    #[arg(long, value_delimiter = ',')]
    from_json: Vec<PathBuf>,
    /// Write reached.svg and bytes.svg into this directory (created if missing).
    #[arg(long)]
    plots: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Toggle {
    On,
    Off,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RuleArg {
    Shared,
    PerPeer,
    PerPeerGossipFirst,
}

impl RuleArg {
    fn rule(self) -> QuotaRule {
        match self {
            RuleArg::Shared => QuotaRule::Shared,
            RuleArg::PerPeer => QuotaRule::PerPeer,
            RuleArg::PerPeerGossipFirst => QuotaRule::PerPeerGossipFirst,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OrderArg {
    Id,
    Random,
}

impl OrderArg {
    fn order(self) -> FetchOrder {
        match self {
            OrderArg::Id => FetchOrder::Id,
            OrderArg::Random => FetchOrder::Random,
        }
    }
}

/// One scenario under one acceptance rule and fetch order.
#[derive(Debug, Clone, Copy)]
struct Variant {
    scenario: Scenario,
    rule: QuotaRule,
    order: FetchOrder,
}

impl Toggle {
    fn values(self) -> Vec<bool> {
        match self {
            Toggle::On => vec![true],
            Toggle::Off => vec![false],
            Toggle::Both => vec![false, true],
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if cli.days == 0 || cli.seeds == 0 || cli.jobs == 0 {
        bail!("--days, --seeds and --jobs must be at least 1");
    }
    if !cli.from_json.is_empty() {
        let mut summaries: Vec<Summary> = Vec::new();
        for path in &cli.from_json {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let more: Vec<Summary> = serde_json::from_str(&text)
                .with_context(|| format!("reading the summaries in {}", path.display()))?;
            summaries.extend(more);
        }
        let days = summaries
            .iter()
            .map(|s| s.params.horizon_ms / DAY_MS)
            .max()
            .unwrap_or(cli.days);
        return output(&cli, &summaries, days);
    }
    let mut scenarios = Vec::new();
    for &nodes in &cli.nodes {
        for window in cli.window.values() {
            for hostile in cli.hostile.values() {
                for rule in &cli.quota_rule {
                    for order in &cli.fetch_order {
                        let scenario = Scenario {
                            nodes,
                            window,
                            hostile,
                        };
                        scenarios.push(Variant {
                            scenario,
                            rule: rule.rule(),
                            order: order.order(),
                        });
                    }
                }
            }
        }
    }
    let params_of = |v: &Variant| {
        let s = v.scenario;
        let mut params = Params::city(s.nodes, s.window, s.hostile, cli.seed);
        params.quota_rule = v.rule;
        params.fetch_order = v.order;
        params.pause_spent_peers = cli.pause_spent_peers;
        params.horizon_ms = cli.days * DAY_MS;
        params.record_bytes = cli.record_bytes;
        params.base_records = if s.nodes >= cli.large_from {
            cli.base_records_large
        } else {
            cli.base_records
        };
        params
    };
    for scenario in &scenarios {
        params_of(scenario)
            .validate()
            .with_context(|| scenario.scenario.name())?;
    }
    // Largest first (taken from the end), so the threads finish together.
    let mut queue: Vec<(usize, Variant)> = scenarios.iter().copied().enumerate().collect();
    queue.sort_by_key(|(_, v)| v.scenario.nodes);
    let queue = Mutex::new(queue);
    let done: Mutex<Vec<(usize, Summary)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..cli.jobs.min(scenarios.len()) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.pop());
                    let Ok(Some((i, scenario))) = next else { break };
                    let (name, rule) = (scenario.scenario.name(), scenario.rule.name());
                    eprintln!("running {name}, {rule}, {:?} order …", scenario.order);
                    // Validated above: a scenario cannot fail here.
                    if let Ok(summary) =
                        run_scenario(scenario.scenario, &params_of(&scenario), cli.seeds)
                        && let Ok(mut done) = done.lock()
                    {
                        done.push((i, summary));
                    }
                }
            });
        }
    });
    let mut done = done
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a run panicked"))?;
    if done.len() != scenarios.len() {
        bail!("a run panicked");
    }
    done.sort_by_key(|(i, _)| *i);
    let summaries: Vec<Summary> = done.into_iter().map(|(_, s)| s).collect();
    output(&cli, &summaries, cli.days)
}

/// Prints the table or the JSON, and writes the JSON file and the plots asked for.
fn output(cli: &Cli, summaries: &[Summary], days: u64) -> Result<()> {
    if cli.json {
        println!("{}", serde_json::to_string_pretty(summaries)?);
    } else {
        print!("{}", table(summaries, days));
    }
    if let Some(path) = &cli.json_file {
        std::fs::write(path, serde_json::to_string_pretty(summaries)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &cli.plots {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, chart) in [
            ("reached.svg", plots::reached(summaries)),
            ("bytes.svg", plots::bytes(summaries)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, chart.to_svg())
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

fn table(summaries: &[Summary], days: u64) -> String {
    let mut out = String::new();
    let hours = |h: Option<f64>| h.map_or_else(|| format!(">{}", days * 24), |h| format!("{h:.1}"));
    let mb = |b: u64| format!("{:.2}", b as f64 / 1e6);
    // Names with a quota rule are longer than the rest.
    let width = summaries
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(38);
    out.push_str(&format!(
        "{:<width$} {:>6} {:>5} {:>7} {:>7} {:>7} {:>7} {:>17} {:>17} {:>17}\n",
        "scenario",
        "base",
        "seeds",
        "50% h",
        "90% h",
        "99% h",
        "reached",
        "reconcile MB",
        "records MB",
        "total MB"
    ));
    out.push_str(&format!(
        "{:<width$} {:>6} {:>5} {:>7} {:>7} {:>7} {:>7} {:>17} {:>17} {:>17}\n",
        "", "", "", "", "", "", "at end", "median / p99", "median / p99", "median / p99"
    ));
    for s in summaries {
        out.push_str(&format!(
            "{:<width$} {:>6} {:>5} {:>7} {:>7} {:>7} {:>6.1}% {:>17} {:>17} {:>17}\n",
            s.name,
            s.params.base_records,
            s.runs.len(),
            hours(s.hours_to[0]),
            hours(s.hours_to[1]),
            hours(s.hours_to[2]),
            100.0 * s.reached_at_end,
            format!(
                "{} / {}",
                mb(s.reconcile_bytes.median),
                mb(s.reconcile_bytes.p99)
            ),
            format!("{} / {}", mb(s.record_bytes.median), mb(s.record_bytes.p99)),
            format!("{} / {}", mb(s.total_bytes.median), mb(s.total_bytes.p99)),
        ));
    }
    out
}
