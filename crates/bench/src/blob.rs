//! `qoima-bench blob`: one large attachment through the store (add, export with
//! attachments, import), against `cat` copying the same file; peak memory of export and
//! import measured in child processes.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use qoima_core::{Attachment, Details, RecordBody, RecordKind, VerifiedRecord, fixtures};
use qoima_store::fsutil::AtomicFile;
use qoima_store::{ExportQuery, Source, Store};

use crate::corpus::mix;
use crate::import_records::verdict;
use crate::util::{Table, WorkDir, peak_rss_kib, remove_dir, secs, timed};

/// Options of `blob`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the attachment in MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// What a child process is asked to do (hidden subcommand `blob-child`).
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    /// `export` or `import`.
    what: String,
    /// The store to export from or import into.
    #[arg(long)]
    home: PathBuf,
    /// The bundle file to write or read.
    #[arg(long)]
    bundle: PathBuf,
}

/// Writes `bytes` pseudo-random bytes (splitmix64, not zeros, not compressible) to `path`
/// and syncs it.
pub(crate) fn random_file(path: &Path, bytes: u64) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut chunk = vec![0u8; 1 << 20];
    let mut state = 0x5EED_u64;
    let mut left = bytes;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            state = state.wrapping_add(1);
            word.copy_from_slice(&mix(state).to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// The export as `qoima export --with-attachments` does it: a 1 MiB buffer over an
/// atomic file, committed (synced and renamed) at the end.
fn export(home: &Path, bundle: &Path) -> anyhow::Result<u64> {
    let mut store = crate::util::open_store(home)?;
    let report = export_with_attachments(&mut store, bundle)?;
    anyhow::ensure!(
        report.blobs == 1,
        "export wrote {} blobs, not 1",
        report.blobs
    );
    Ok(report.payload_bytes)
}

/// Everything in `store`, attachments included, to a bundle file at `bundle`, as
/// `qoima export --with-attachments` writes it.
pub(crate) fn export_with_attachments(
    store: &mut Store,
    bundle: &Path,
) -> anyhow::Result<qoima_store::ExportReport> {
    let query = ExportQuery {
        with_attachments: true,
        collection: "default".into(),
        ..ExportQuery::default()
    };
    let file = AtomicFile::create(bundle)?;
    let mut output = BufWriter::with_capacity(1 << 20, file);
    let report = store.export(&mut output, &query, &fixtures::author(1))?;
    output.into_inner().map_err(|e| e.into_error())?.commit()?;
    Ok(report)
}

/// The import as `qoima import` does it: a 1 MiB buffered reader over the file.
fn import(home: &Path, bundle: &Path) -> anyhow::Result<()> {
    let mut store = crate::util::open_store(home)?;
    let input = BufReader::with_capacity(1 << 20, std::fs::File::open(bundle)?);
    let report = store.import_bundle(input, Source::File("blob.qoima".into()))?;
    anyhow::ensure!(
        report.is_clean() && report.blobs_new == 1 && report.records_new == 1,
        "import was not clean: {report:?}"
    );
    Ok(())
}

/// The hidden child: does one export or import and prints its time and peak RSS.
pub fn child(args: ChildArgs) -> anyhow::Result<()> {
    let before = peak_rss_kib()?;
    let start = Instant::now();
    match args.what.as_str() {
        "export" => {
            export(&args.home, &args.bundle)?;
        }
        "import" => import(&args.home, &args.bundle)?,
        other => anyhow::bail!("unknown child task {other:?}"),
    }
    let elapsed = start.elapsed();
    println!(
        "elapsed_s={} start_peak_kib={before} peak_kib={}",
        elapsed.as_secs_f64(),
        peak_rss_kib()?
    );
    Ok(())
}

struct ChildResult {
    elapsed: Duration,
    peak_kib: u64,
    start_peak_kib: u64,
}

fn run_child(what: &str, home: &Path, bundle: &Path) -> anyhow::Result<ChildResult> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["blob-child", what, "--home"])
        .arg(home)
        .arg("--bundle")
        .arg(bundle)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running the {what} child"))?;
    anyhow::ensure!(
        out.status.success(),
        "the {what} child failed: {}",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> anyhow::Result<f64> {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the {what} child printed no {name}: {text}"))
    };
    Ok(ChildResult {
        elapsed: Duration::from_secs_f64(field("elapsed_s")?),
        peak_kib: field("peak_kib")? as u64,
        start_peak_kib: field("start_peak_kib")? as u64,
    })
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .sync_all()?;
    Ok(())
}

/// Runs the benchmark and prints its table.
pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.size_mib > 0, "nothing to measure");
    let work = WorkDir::new(args.dir.as_deref())?;
    let bytes = args.size_mib << 20;
    println!(
        "blob: {} MiB attachment in {}",
        args.size_mib,
        work.path().display()
    );

    let source = work.path().join("random.bin");
    let (made, gen_time) = timed(|| random_file(&source, bytes));
    made?;
    println!("  wrote the random file in {} s", secs(gen_time));

    // cat, alone and followed by fsync of its output (the store syncs what it writes).
    let cat_out = work.path().join("cat.out");
    let cat = || -> anyhow::Result<(Duration, Duration)> {
        let out = std::fs::File::create(&cat_out)?;
        let start = Instant::now();
        let status = Command::new("cat").arg(&source).stdout(out).status()?;
        let cat_time = start.elapsed();
        anyhow::ensure!(status.success(), "cat failed: {status}");
        sync_file(&cat_out)?;
        let with_sync = start.elapsed();
        std::fs::remove_file(&cat_out)?;
        Ok((cat_time, with_sync))
    };
    let (cat_time, cat_sync_time) = cat()?;

    // qoima add evidence --attach FILE: the blob, then a record naming it.
    let home1 = work.fresh("store-1")?;
    let mut store = crate::util::open_store(&home1)?;
    let (added, add_time) = timed(|| store.add_blob_file(&source));
    let blob = added?;
    anyhow::ensure!(blob.size == bytes, "stored {} bytes of {bytes}", blob.size);
    let author = fixtures::author(1);
    let mut body: RecordBody = fixtures::body(&author, 1, None, "Видео с площади.");
    body.kind = RecordKind::Evidence;
    body.details = Details::None;
    body.attachments = vec![Attachment {
        blake3: blob.blake3,
        sha256: blob.sha256,
        size: blob.size,
        media_type: "video/mp4".into(),
        file_name: "random.bin".into(),
    }];
    store.insert_local(&VerifiedRecord::sign(&body, &author)?)?;
    drop(store);

    let bundle = work.path().join("blob.qoima");
    let (exported, export_time) = timed(|| export(&home1, &bundle));
    exported?;
    let bundle_size = std::fs::metadata(&bundle)?.len();

    let home2 = work.fresh("store-2")?;
    let (imported, import_time) = timed(|| import(&home2, &bundle));
    imported?;
    remove_dir(&home2)?;

    // Peak memory, each in a child process of its own.
    let bundle2 = work.path().join("blob-child.qoima");
    let export_child = run_child("export", &home1, &bundle2)?;
    std::fs::remove_file(&bundle2)?;
    let home3 = work.fresh("store-3")?;
    let import_child = run_child("import", &home3, &bundle)?;
    remove_dir(&home3)?;
    remove_dir(&home1)?;
    std::fs::remove_file(&bundle)?;

    let mb = |d: Duration| bytes as f64 / 1e6 / d.as_secs_f64();
    let mut table = Table::new(&["step", "seconds", "MB/s", "vs cat", "vs cat+fsync"]);
    let mut add = |label: &str, d: Duration| {
        table.row(vec![
            label.into(),
            secs(d),
            format!("{:.0}", mb(d)),
            format!("{:.3}", mb(d) / mb(cat_time)),
            format!("{:.3}", mb(d) / mb(cat_sync_time)),
        ]);
    };
    add("cat FILE > OUT", cat_time);
    add("cat FILE > OUT; fsync OUT", cat_sync_time);
    add("Store::add_blob_file", add_time);
    add("Store::export (with attachments)", export_time);
    add("Store::import_bundle", import_time);
    add("export, child process", export_child.elapsed);
    add("import, child process", import_child.elapsed);
    println!();
    table.print();
    println!();
    println!("  bundle file: {bundle_size} bytes");
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "  peak RSS (VmHWM) of the export child: {:.1} MiB (at start {:.1} MiB)",
        mib(export_child.peak_kib),
        mib(export_child.start_peak_kib)
    );
    println!(
        "  peak RSS (VmHWM) of the import child: {:.1} MiB (at start {:.1} MiB)",
        mib(import_child.peak_kib),
        mib(import_child.start_peak_kib)
    );
    let import_ratio = mb(import_time) / mb(cat_sync_time);
    let export_ratio = mb(export_time) / mb(cat_sync_time);
    println!(
        "  import/cat {:.3} (vs cat alone {:.3}), export/cat {:.3} (vs cat alone {:.3})",
        import_ratio,
        mb(import_time) / mb(cat_time),
        export_ratio,
        mb(export_time) / mb(cat_time)
    );
    println!(
        "  goal: ratio >= 0.5 against cat+fsync: import {}, export {}; peak RSS < 100 MB: import {}, export {}",
        verdict(import_ratio >= 0.5),
        verdict(export_ratio >= 0.5),
        verdict((import_child.peak_kib * 1024) < 100_000_000),
        verdict((export_child.peak_kib * 1024) < 100_000_000)
    );
    println!("  note: every file was in the page cache (just written); no cache was dropped");
    Ok(())
}
