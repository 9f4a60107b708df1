//! `qoima-bench at-rest`: what encryption at rest costs, as ratios of the same runs with
//! and without it in one process (`Store::open` against
//! `Store::open_unprotected_for_comparison`), and how long a wipe takes.
//!
//! * records: import of a bundle of N records into a fresh store; then `search` for a
//!   common, a rare and a Kazakh word, median of 20 each.
//! * attachments: `add_blob_file` of one pseudo-random file, export with attachments to
//!   a bundle file, and import of that bundle into a fresh store.
//! * wipe: an encrypted archive holding `--wipe-gib` GiB of attachments (distinct
//!   pseudo-random contents), then `wipe`: the time until the key material is destroyed
//!   (the archive is unreadable from then on) and until every file is removed.
//!
//! Plain and encrypted runs alternate, `--rounds` times each, and medians are compared.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qoima_core::{Attachment, Details, RecordKind, VerifiedRecord, fixtures};
use qoima_store::{Source, Store};

use crate::corpus::{Corpus, Flavour, mix, write_bundle};
use crate::util::{Table, WorkDir, median, remove_dir, secs, timed};

/// Options of `at-rest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records in the imported bundle.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Size of the attachment in MiB.
    #[arg(long, default_value_t = 256)]
    blob_mib: u64,
    /// Size of the archive wiped, in GiB of attachments (0: no wipe measurement).
    #[arg(long, default_value_t = 10)]
    wipe_gib: u64,
    /// Runs of each measurement, alternating plain and encrypted.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Encrypted,
}

fn open(home: &Path, mode: Mode) -> anyhow::Result<Store> {
    Ok(match mode {
        Mode::Plain => crate::util::without_quotas(Store::open_unprotected_for_comparison(home)?)?,
        Mode::Encrypted => crate::util::open_store(home)?,
    })
}

/// Medians per mode of one measurement.
#[derive(Default)]
struct Pair {
    plain: Vec<Duration>,
    encrypted: Vec<Duration>,
}

impl Pair {
    fn push(&mut self, mode: Mode, t: Duration) {
        match mode {
            Mode::Plain => self.plain.push(t),
            Mode::Encrypted => self.encrypted.push(t),
        }
    }

    /// Throughput with encryption as a fraction of throughput without.
    fn ratio(&self) -> f64 {
        median(&self.plain).as_secs_f64() / median(&self.encrypted).as_secs_f64()
    }

    fn row(&self, name: &str, goal: &str) -> Vec<String> {
        let show = |d: Duration| format!("{:.4}", d.as_secs_f64());
        vec![
            name.to_owned(),
            show(median(&self.plain)),
            show(median(&self.encrypted)),
            format!("{:.2}", self.ratio()),
            goal.to_owned(),
        ]
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let work = WorkDir::new(args.dir.as_deref())?;
    let bundle = work.path().join("records.qoima");
    let mut corpus = Corpus::new(8, 1000, Flavour::Varied);
    let records = corpus.next(args.records);
    write_bundle(&bundle, &fixtures::author(99), &records)?;
    drop(records);

    let blob_file = work.path().join("attachment.bin");
    crate::blob::random_file(&blob_file, args.blob_mib << 20)?;

    let (mut import, mut search) = (Pair::default(), Pair::default());
    let (mut add, mut export, mut import_blob) =
        (Pair::default(), Pair::default(), Pair::default());
    for round in 0..args.rounds {
        for mode in [Mode::Plain, Mode::Encrypted] {
            let tag = if mode == Mode::Plain {
                "plain"
            } else {
                "encrypted"
            };
            let home = work.fresh(&format!("records-{tag}-{round}"))?;
            let mut store = open(&home, mode)?;
            let (report, t) = timed(|| {
                let input = BufReader::with_capacity(1 << 20, std::fs::File::open(&bundle)?);
                anyhow::Ok(store.import_bundle(input, Source::File("records.qoima".into()))?)
            });
            let report = report?;
            anyhow::ensure!(report.is_clean(), "import: {report:?}");
            import.push(mode, t);
            let mut times = Vec::new();
            for _ in 0..20 {
                for word in ["площадь", "Жанаозен", "сотқа"] {
                    let (found, t) = timed(|| store.search(word, 50));
                    found?;
                    times.push(t);
                }
            }
            search.push(mode, median(&times));
            drop(store);
            remove_dir(&home)?;

            let (a, e, i) = attachment_round(&work, &blob_file, mode, &format!("{tag}-{round}"))?;
            add.push(mode, a);
            export.push(mode, e);
            import_blob.push(mode, i);
        }
    }

    let mut table = Table::new(&["measurement", "plain s", "encrypted s", "ratio", "goal"]);
    table.row(import.row(&format!("import {} records", args.records), "≥ 0.8"));
    table.row(search.row("search (median of 60)", "≥ 0.8"));
    table.row(add.row(&format!("add a {} MiB attachment", args.blob_mib), "≥ 0.8"));
    table.row(export.row("export it in a bundle", "≥ 0.8"));
    table.row(import_blob.row("import that bundle", "≥ 0.8"));
    table.print();
    println!(
        "ratio: throughput encrypted / throughput plain (median of {} rounds)",
        args.rounds
    );

    if args.wipe_gib > 0 {
        wipe(&work, args.wipe_gib)?;
    }
    Ok(())
}

/// Add, export, import of one attachment; returns the three times.
fn attachment_round(
    work: &WorkDir,
    blob_file: &Path,
    mode: Mode,
    tag: &str,
) -> anyhow::Result<(Duration, Duration, Duration)> {
    let home = work.fresh(&format!("blob-{tag}"))?;
    let mut store = open(&home, mode)?;
    let (blob, add) = timed(|| store.add_blob_file(blob_file));
    let blob = blob?;
    let author = fixtures::author(1);
    let mut body = fixtures::body(&author, 1, None, "with an attachment");
    body.kind = RecordKind::Evidence;
    body.details = Details::None;
    body.attachments = vec![Attachment {
        blake3: blob.blake3,
        sha256: blob.sha256,
        size: blob.size,
        media_type: "application/octet-stream".into(),
        file_name: String::new(),
    }];
    store.insert_local(&VerifiedRecord::sign(&body, &author)?)?;
    let bundle = work.path().join(format!("blob-{tag}.qoima"));
    let (report, export) = timed(|| crate::blob::export_with_attachments(&mut store, &bundle));
    anyhow::ensure!(report?.blobs == 1, "export without its attachment");
    drop(store);
    remove_dir(&home)?;

    let other = work.fresh(&format!("blob-import-{tag}"))?;
    let mut store = open(&other, mode)?;
    let (report, import) = timed(|| {
        let input = BufReader::with_capacity(1 << 20, std::fs::File::open(&bundle)?);
        anyhow::Ok(store.import_bundle(input, Source::File("blob.qoima".into()))?)
    });
    let report = report?;
    anyhow::ensure!(report.is_clean() && report.blobs_new == 1, "{report:?}");
    drop(store);
    remove_dir(&other)?;
    std::fs::remove_file(&bundle)?;
    Ok((add, export, import))
}

/// An encrypted archive of `gib` GiB of attachments, then `wipe`.
fn wipe(work: &WorkDir, gib: u64) -> anyhow::Result<()> {
    let home = work.fresh("wiped")?;
    let mut store = crate::util::open_store(&home)?;
    let chunk_bytes = 256usize << 20;
    let mut chunk = vec![0u8; chunk_bytes];
    let mut state = 0xA11CE_u64;
    let (result, filled) = timed(|| -> anyhow::Result<()> {
        for _ in 0..gib * 4 {
            for word in chunk.chunks_exact_mut(8) {
                state = state.wrapping_add(1);
                word.copy_from_slice(&mix(state).to_le_bytes());
            }
            store.add_blob_bytes(&chunk)?;
        }
        Ok(())
    });
    result?;
    drop(store);
    // `wipe` destroys a key file: the archive's own is made as `init` does (its
    // archive key differs from the benchmark's, which does not matter to a wipe).
    qoima_store::keyfile::create(&home.join(qoima_store::wipe::KEY_FILE), b"bench")?;
    let size = dir_size(&home)?;
    let report = qoima_store::wipe::wipe(&home)?;
    anyhow::ensure!(!home.exists(), "the wiped archive is still there");
    println!();
    println!(
        "wipe of an encrypted archive of {:.1} GiB (filled in {} s): unreadable after {:.1} ms (goal < 1000 ms), every file removed after {:.0} ms",
        size as f64 / f64::from(1u32 << 30),
        secs(filled),
        report.unreadable_after.as_secs_f64() * 1000.0,
        report.removed_after.as_secs_f64() * 1000.0,
    );
    Ok(())
}

fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
