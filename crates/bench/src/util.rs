//! Small helpers shared by the subcommands: timing, medians, tables, working directories.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs `f` and returns its result with the wall-clock time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The median of some durations (the mean of the middle two for an even count).
pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Smallest and largest of some durations.
pub fn min_max(times: &[Duration]) -> (Duration, Duration) {
    let min = times.iter().min().copied().unwrap_or_default();
    let max = times.iter().max().copied().unwrap_or_default();
    (min, max)
}

/// Milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

/// Seconds with three decimals.
pub fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// A plain text table, columns padded to their widest cell; the first column is
/// left-aligned, the others right-aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as the header has).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints the table to standard output.
    pub fn print(&self) {
        let columns = self.header.len();
        let mut widths = vec![0usize; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |row: &Vec<String>| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if i == 0 {
                        format!("{cell:<w$}", w = widths[i])
                    } else {
                        format!("{cell:>w$}", w = widths[i])
                    }
                })
                .collect();
            println!("  {}", cells.join("  ").trim_end());
        };
        line(&self.header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        println!("  {}", rule.join("  "));
        for row in &self.rows {
            line(row);
        }
    }
}

/// Where a run keeps its files: the `--dir` given (kept afterwards), else a temporary
/// directory removed when this is dropped.
pub struct WorkDir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl WorkDir {
    /// Uses `dir` if given (creating it), else a new temporary directory.
    pub fn new(dir: Option<&Path>) -> anyhow::Result<WorkDir> {
        match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                Ok(WorkDir {
                    path: dir.to_owned(),
                    _temp: None,
                })
            }
            None => {
                let temp = tempfile::Builder::new().prefix("qoima-bench-").tempdir()?;
                Ok(WorkDir {
                    path: temp.path().to_owned(),
                    _temp: Some(temp),
                })
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh, empty subdirectory `name` (removed first if it exists).
    pub fn fresh(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.path.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// Removes a directory tree if it exists.
pub fn remove_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(())
}

/// This process's peak resident set size so far (`VmHWM`), in KiB, from
/// `/proc/self/status`.
pub fn peak_rss_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM line in /proc/self/status"))
}

/// The peak resident set size (`VmHWM`) of the running process `pid`, in KiB.
pub fn peak_rss_kib_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM line in /proc/{pid}/status"))
}

/// The workspace's `target` directory (where `cargo build --release` puts `qoima`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// Logical cores rayon uses by default.
pub fn cores() -> usize {
    rayon::current_num_threads()
}

/// A rayon pool with exactly `threads` threads.
pub fn pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("bench-pool-{i}"))
        .build()?)
}

/// The archive key of the archives benchmarks make (never a real archive's).
pub fn bench_key() -> qoima_store::ArchiveKey {
    qoima_store::ArchiveKey::from_bytes([42; 32])
}

/// Opens (or makes) a benchmark archive under [`bench_key`], with no quotas: a
/// benchmark measures the work of storing and syncing, and its few authors would
/// otherwise be declined as a flood after 10,000 records an hour.
pub fn open_store(home: &std::path::Path) -> anyhow::Result<qoima_store::Store> {
    let store = qoima_store::Store::open(home, &bench_key())?;
    without_quotas(store)
}

/// `store` with its acceptance policy set to keep every valid record.
pub fn without_quotas(mut store: qoima_store::Store) -> anyhow::Result<qoima_store::Store> {
    store.set_policy(&qoima_store::Policy {
        accept: qoima_store::Acceptance::Open,
        quotas: qoima_store::Quotas::NONE,
    })?;
    Ok(store)
}

/// Runs a node with `config` in this process (a child of a benchmark), prints its TCP
/// address with its peer id, and stops it when standard input closes.
pub fn serve_node_until_stdin_closes(config: qoima_node::NodeConfig) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let node = qoima_node::Node::start(config)
            .await
            .map_err(anyhow::Error::msg)?;
        let status = node.status().await.context("status")?;
        let addr = status
            .listen_addrs
            .iter()
            .find(|a| a.contains("/tcp/"))
            .context("no TCP listener")?;
        println!("{addr}/p2p/{}", status.peer_id);
        std::io::stdout().flush()?;
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        })
        .await?;
        node.shutdown().await;
        anyhow::Ok(())
    })
}
