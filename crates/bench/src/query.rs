//! `qoima-bench query`: `list` and `search` on a large archive, through the library and
//! through the real `qoima` binary. The archive is built once per size and kept under
//! `target/bench-data/`.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use qoima_core::RecordKind;
use qoima_store::{ListQuery, Source, Store};

use crate::corpus::{
    COMMON_WORD, Corpus, Flavour, KAZAKH_WORD, RARE_EVERY, RARE_WORD, write_bundle,
};
use crate::import_records::verdict;
use crate::util::{Table, median, min_max, ms, remove_dir, secs, target_dir, timed};

/// Options of `query`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records in the archive.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Bytes of text per record.
    #[arg(long, default_value_t = 1000)]
    text_bytes: usize,
    /// Authors the records are spread over.
    #[arg(long, default_value_t = 8)]
    authors: usize,
    /// Records per bundle while building the archive.
    #[arg(long, default_value_t = 200_000)]
    bundle_records: usize,
    /// Runs of each query (the median is reported).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// The `qoima` binary (default: target/release/qoima).
    #[arg(long)]
    qoima: Option<PathBuf>,
    /// Where the archive is built and kept (default: target/bench-data/query-N-tT).
    #[arg(long)]
    dir: Option<PathBuf>,
}

const MARKER: &str = "complete";

/// The passphrase of the archive's key file, which `qoima` asks for.
const BENCH_PASSPHRASE: &str = "qoima-bench";

/// Builds the archive in `dir/home` unless a complete one is there already; returns
/// whether it was reused.
fn ensure_store(args: &Args, dir: &Path) -> anyhow::Result<bool> {
    let home = dir.join("home");
    if dir.join(MARKER).is_file() {
        return Ok(true);
    }
    remove_dir(dir)?;
    std::fs::create_dir_all(&home)?;
    // `qoima list` refuses a data directory without a key file.
    // The archive is encrypted under the key file's archive key, as `qoima` opens it.
    let secrets = qoima_store::keyfile::create(&home.join("key"), BENCH_PASSPHRASE.as_bytes())?;
    let mut store = crate::util::without_quotas(Store::open(&home, &secrets.archive_key)?)?;
    let mut corpus = Corpus::new(args.authors, args.text_bytes, Flavour::Varied);
    let bundle = dir.join("building.qoima");
    let (mut sign_time, mut import_time) = (Duration::ZERO, Duration::ZERO);
    let mut done = 0;
    while done < args.records {
        let count = args.bundle_records.min(args.records - done);
        let (records, t) = timed(|| corpus.next(count));
        sign_time += t;
        write_bundle(&bundle, &corpus.authors()[0], &records)?;
        drop(records);
        let (report, t) = timed(|| -> anyhow::Result<_> {
            let input = BufReader::with_capacity(1 << 20, std::fs::File::open(&bundle)?);
            Ok(store.import_bundle(input, Source::File("building.qoima".into()))?)
        });
        import_time += t;
        let report = report?;
        anyhow::ensure!(report.is_clean(), "building the archive: {report:?}");
        done += count;
        println!(
            "  built {done} of {} records (signing {} s, importing {} s so far)",
            args.records,
            secs(sign_time),
            secs(import_time)
        );
    }
    std::fs::remove_file(&bundle)?;
    drop(store);
    std::fs::write(
        dir.join(MARKER),
        format!(
            "records={} text_bytes={} authors={}\n",
            args.records, args.text_bytes, args.authors
        ),
    )?;
    Ok(false)
}

/// One query, as library call and as `qoima` arguments.
struct Case {
    label: String,
    list: Option<ListQuery>,
    search: Option<String>,
    cli: Vec<String>,
}

impl Case {
    fn run(&self, store: &Store) -> anyhow::Result<usize> {
        Ok(match (&self.list, &self.search) {
            (Some(query), _) => store.list(query)?.len(),
            (None, Some(text)) => store.search(text, 50)?.len(),
            (None, None) => 0,
        })
    }
}

fn cases(authors: &[qoima_core::AuthorSecret]) -> Vec<Case> {
    let list = |kind, author| ListQuery {
        kind,
        author,
        since_ms: None,
        limit: 50,
        ..ListQuery::default()
    };
    let author = authors.get(2).or(authors.first()).map(|a| a.public());
    let mut cases = vec![
        Case {
            label: "list --limit 50".into(),
            list: Some(list(None, None)),
            search: None,
            cli: vec!["list".into(), "--limit".into(), "50".into()],
        },
        Case {
            label: "list --kind detention".into(),
            list: Some(list(Some(RecordKind::Detention), None)),
            search: None,
            cli: vec!["list".into(), "--kind".into(), "detention".into()],
        },
    ];
    if let Some(author) = author {
        cases.push(Case {
            label: "list --author KEY".into(),
            list: Some(list(None, Some(author))),
            search: None,
            cli: vec!["list".into(), "--author".into(), author.to_hex()],
        });
    }
    for (what, word) in [
        ("common", COMMON_WORD),
        ("rare", RARE_WORD),
        ("Kazakh", KAZAKH_WORD),
    ] {
        cases.push(Case {
            label: format!("search {word} ({what})"),
            list: None,
            search: Some(word.into()),
            cli: vec!["search".into(), word.into()],
        });
    }
    cases
}

fn run_cli(qoima: &Path, home: &Path, args: &[String]) -> anyhow::Result<(usize, Duration)> {
    let (out, t) = timed(|| {
        Command::new(qoima)
            .arg("--home")
            .arg(home)
            .env("QOIMA_PASSPHRASE", BENCH_PASSPHRASE)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
    });
    let out = out.with_context(|| format!("running {}", qoima.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "qoima {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((
        out.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        t,
    ))
}

/// Runs the benchmark and prints its table.
pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.records > 0 && args.runs > 0, "nothing to measure");
    let dir = args.dir.clone().unwrap_or_else(|| {
        target_dir()
            .join("bench-data")
            .join(format!("query-{}-t{}", args.records, args.text_bytes))
    });
    println!(
        "query: {} records (~{} bytes of text, {} authors), median of {} runs",
        args.records, args.text_bytes, args.authors, args.runs
    );
    let (reused, build_time) = timed(|| ensure_store(&args, &dir));
    if reused? {
        println!(
            "  reusing the archive built earlier in {} (delete it to rebuild)",
            dir.display()
        );
    } else {
        println!(
            "  built the archive in {} s: {}",
            secs(build_time),
            dir.display()
        );
    }
    let home = dir.join("home");
    let qoima = args
        .qoima
        .clone()
        .unwrap_or_else(|| target_dir().join("release").join("qoima"));
    let have_cli = qoima.is_file();
    if !have_cli {
        println!(
            "  NOTE: {} is missing, so the binary is not measured; build it first with\n        cargo build --release -p qoima-cli",
            qoima.display()
        );
    }

    let corpus = Corpus::new(args.authors, args.text_bytes, Flavour::Varied);
    let key = archive_key(&home)?;
    let (store, open_time) = timed(|| Store::open(&home, &key));
    let store = store.with_context(|| {
        format!(
            "opening the archive in {}; if a qoima of another version made or migrated it \
             (the bench and target/release/qoima must come from the same tree), delete it to rebuild",
            dir.display()
        )
    })?;
    // An archive of an earlier schema is upgraded by this open; an upgrade that remakes
    // the search index queues every record, and this is what the first search (or the
    // node, when idle) then has to do.
    println!("  opened in {} ms (with any schema upgrade)", ms(open_time));
    let pending = store.search_pending_count()?;
    if pending > 0 {
        let (indexed, took) = timed(|| store.index_pending_search(usize::MAX));
        println!(
            "  indexed {} records waiting for the search index in {} s",
            indexed?,
            secs(took)
        );
    }
    println!(
        "  archive database: {} MB",
        database_bytes(&home)? / 1_000_000
    );
    println!(
        "  {} records in the archive; the rare word is in one record of {RARE_EVERY}",
        store.record_count()?
    );
    let mut table = Table::new(&[
        "query",
        "rows",
        "lib median ms",
        "lib min-max ms",
        "lib+open ms",
        "qoima median ms",
        "qoima min-max ms",
    ]);
    let mut worst = Duration::ZERO;
    for case in cases(corpus.authors()) {
        let rows = case.run(&store)?; // warm-up, not counted
        let mut lib = Vec::with_capacity(args.runs);
        for _ in 0..args.runs {
            let (n, t) = timed(|| case.run(&store));
            anyhow::ensure!(n? == rows, "{}: result count changed", case.label);
            lib.push(t);
        }
        let mut opened = Vec::with_capacity(args.runs);
        for _ in 0..args.runs {
            let (n, t) =
                timed(|| -> anyhow::Result<usize> { case.run(&Store::open(&home, &key)?) });
            n?;
            opened.push(t);
        }
        let mut cli = Vec::with_capacity(args.runs);
        let mut cli_rows = 0;
        if have_cli {
            run_cli(&qoima, &home, &case.cli)?; // warm-up
            for _ in 0..args.runs {
                let (n, t) = run_cli(&qoima, &home, &case.cli)?;
                cli_rows = n;
                cli.push(t);
            }
            anyhow::ensure!(
                cli_rows == rows,
                "{}: qoima printed {cli_rows} lines, the library found {rows}",
                case.label
            );
        }
        worst = worst.max(median(&lib)).max(median(&opened));
        if have_cli {
            worst = worst.max(median(&cli));
        }
        let range = |t: &[Duration]| {
            let (lo, hi) = min_max(t);
            format!("{}-{}", ms(lo), ms(hi))
        };
        table.row(vec![
            case.label.clone(),
            rows.to_string(),
            ms(median(&lib)),
            range(&lib),
            ms(median(&opened)),
            if have_cli {
                ms(median(&cli))
            } else {
                "-".into()
            },
            if have_cli { range(&cli) } else { "-".into() },
        ]);
    }
    println!();
    table.print();
    println!();
    println!(
        "  lib+open: Store::open and the query each time, as one `qoima` command does in-process"
    );
    println!(
        "  goal: every query < 100 ms: {} (slowest median {} ms)",
        verdict(worst < Duration::from_millis(100)),
        ms(worst)
    );
    Ok(())
}

/// The key the archive in `home` is encrypted under, from its key file.
pub fn archive_key(home: &Path) -> anyhow::Result<qoima_store::ArchiveKey> {
    let secrets = qoima_store::keyfile::open(&home.join("key"), BENCH_PASSPHRASE.as_bytes())
        .with_context(|| {
            format!(
                "opening the key file in {}; an archive built by an older qoima-bench \
                 (under a fixed key) must be deleted to rebuild",
                home.display()
            )
        })?;
    Ok(secrets.archive_key)
}

/// Bytes of the archive's database and its write-ahead log.
fn database_bytes(home: &Path) -> anyhow::Result<u64> {
    let db = home.join(qoima_store::DB_FILE);
    let wal = home.join(format!("{}-wal", qoima_store::DB_FILE));
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    anyhow::ensure!(db.is_file(), "no database in {}", home.display());
    Ok(size(&db) + size(&wal))
}

/// The archive of `query` with these parameters, built unless already there: its data
/// directory (for `web-pages`, which measures the interface on the same archive).
pub fn shared_archive(
    records: usize,
    text_bytes: usize,
    authors: usize,
) -> anyhow::Result<PathBuf> {
    let args = Args {
        records,
        text_bytes,
        authors,
        bundle_records: 200_000,
        runs: 1,
        qoima: None,
        dir: None,
    };
    let dir = target_dir()
        .join("bench-data")
        .join(format!("query-{records}-t{text_bytes}"));
    let (reused, build_time) = timed(|| ensure_store(&args, &dir));
    if reused? {
        println!("  reusing the archive in {}", dir.display());
    } else {
        println!(
            "  built the archive in {} s: {}",
            secs(build_time),
            dir.display()
        );
    }
    Ok(dir.join("home"))
}
