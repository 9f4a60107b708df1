//! `qoima-bench import-records`: importing a bundle of signed records, against the
//! cost of verifying the same signatures alone under the format's rule (ZIP-215, batch
//! and single), on one core and on all cores.

use std::io::BufReader;
use std::time::Duration;

use anyhow::Context;
use qoima_core::{AuthorKey, KeyCache, RECORD_SIGNATURE_CONTEXT, SignatureBatch, VerifiedRecord};
use qoima_store::Source;
use rayon::prelude::*;

use crate::corpus::{Corpus, Flavour, write_bundle};
use crate::util::{Table, WorkDir, cores, median, min_max, pool, secs, timed};

/// Signatures verified together in one batch: as many as the importer reads before it
/// checks them (it then cuts them into one batch per thread, of at least 64).
const CHUNK: usize = 512;
/// The goal: import at least this share of the batch verification rate, on every core.
const GOAL: f64 = 0.8;

/// Options of `import-records`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records in the bundle.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Bytes of text per record (the signed record is about 200 bytes more).
    #[arg(long, default_value_t = 1000)]
    text_bytes: usize,
    /// Authors the records are spread over.
    #[arg(long, default_value_t = 4)]
    authors: usize,
    /// Times each measurement is repeated (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Keep files here instead of a temporary directory.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

/// What the verification-only measurements get: each record's author, signed body and
/// signature, split in advance (the keys are checked and cached as the importer does).
struct Prepared {
    authors: Vec<AuthorKey>,
    bodies: Vec<Vec<u8>>,
    signatures: Vec<[u8; 64]>,
}

fn prepare(records: &[VerifiedRecord]) -> anyhow::Result<Prepared> {
    let mut prepared = Prepared {
        authors: Vec::with_capacity(records.len()),
        bodies: Vec::with_capacity(records.len()),
        signatures: Vec::with_capacity(records.len()),
    };
    for record in records {
        let bytes = record.bytes();
        let (body, signature) = bytes.split_at(bytes.len() - 64);
        prepared.authors.push(record.body().author);
        prepared.bodies.push(body.to_vec());
        prepared
            .signatures
            .push(signature.try_into().context("64-byte signature")?);
    }
    Ok(prepared)
}

/// The format's rule in one batch per chunk, as the importer checks signatures.
fn batch_chunk(p: &Prepared, start: usize, seed: &[u8; 32]) -> bool {
    let end = (start + CHUNK).min(p.bodies.len());
    let mut keys = KeyCache::new();
    let mut batch = SignatureBatch::new();
    for i in start..end {
        batch.queue(
            &mut keys,
            &p.authors[i],
            RECORD_SIGNATURE_CONTEXT,
            &p.bodies[i],
            &p.signatures[i],
        );
    }
    batch.verify(seed).into_iter().all(|valid| valid)
}

fn batch_one_thread(p: &Prepared, seed: &[u8; 32]) -> bool {
    (0..p.bodies.len())
        .step_by(CHUNK)
        .all(|start| batch_chunk(p, start, seed))
}

fn batch_all_cores(p: &Prepared, seed: &[u8; 32]) -> bool {
    (0..p.bodies.len())
        .into_par_iter()
        .step_by(CHUNK)
        .all(|start| batch_chunk(p, start, seed))
}

/// The format's rule one signature at a time, keys cached.
fn single_one_thread(p: &Prepared) -> bool {
    let mut keys = KeyCache::new();
    (0..p.bodies.len()).all(|i| {
        keys.verify(
            &p.authors[i],
            RECORD_SIGNATURE_CONTEXT,
            &p.bodies[i],
            &p.signatures[i],
        )
    })
}

/// The rule before ZIP-215 (`verify_strict`), for comparison.
fn strict_one_thread(p: &Prepared) -> anyhow::Result<bool> {
    let mut keys: Vec<(AuthorKey, ed25519_dalek::VerifyingKey)> = Vec::new();
    for (i, author) in p.authors.iter().enumerate() {
        let key = match keys.iter().find(|(a, _)| a == author) {
            Some((_, key)) => *key,
            None => {
                let key = author.verifying_key()?;
                keys.push((*author, key));
                key
            }
        };
        let message = [RECORD_SIGNATURE_CONTEXT, &p.bodies[i]].concat();
        let signature = ed25519_dalek::Signature::from_bytes(&p.signatures[i]);
        if key.verify_strict(&message, &signature).is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

fn from_bytes_one_thread(records: &[VerifiedRecord]) -> bool {
    records
        .iter()
        .all(|r| VerifiedRecord::from_bytes(r.bytes().to_vec()).is_ok())
}

/// Runs the benchmark and prints its table.
pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.records > 0 && args.repeat > 0, "nothing to measure");
    let work = WorkDir::new(args.dir.as_deref())?;
    let n = args.records;
    let all = cores();
    println!(
        "import-records: {n} records, ~{} bytes of text each, {} authors, {all} cores, median of {}",
        args.text_bytes, args.authors, args.repeat
    );

    let mut corpus = Corpus::new(args.authors, args.text_bytes, Flavour::Plain);
    let (records, gen_time) = timed(|| corpus.next(n));
    let bundle = work.path().join("records.qoima");
    let size = write_bundle(&bundle, &corpus.authors()[0], &records)?;
    let mean_record = records.iter().map(|r| r.bytes().len()).sum::<usize>() / n;
    println!(
        "  generated and signed in {} s on {all} cores; bundle {} bytes (mean record {mean_record} bytes): {}",
        secs(gen_time),
        size,
        bundle.display()
    );
    let prepared = prepare(&records)?;

    let one = pool(1)?;
    let every = pool(all)?;
    let repeat =
        |f: &mut dyn FnMut() -> anyhow::Result<Duration>| -> anyhow::Result<Vec<Duration>> {
            (0..args.repeat).map(|_| f()).collect()
        };
    let check = |ok: bool, what: &str| -> anyhow::Result<()> {
        anyhow::ensure!(ok, "{what}: a signature failed to verify");
        Ok(())
    };

    // A fixed seed: the coefficients' cost does not depend on their values.
    let seed = [7u8; 32];
    let a = repeat(&mut || {
        let (ok, t) = one.install(|| timed(|| batch_one_thread(&prepared, &seed)));
        check(ok, "batch verify")?;
        Ok(t)
    })?;
    let b = repeat(&mut || {
        let (ok, t) = every.install(|| timed(|| batch_all_cores(&prepared, &seed)));
        check(ok, "batch verify")?;
        Ok(t)
    })?;
    let c = repeat(&mut || {
        let (ok, t) = one.install(|| timed(|| single_one_thread(&prepared)));
        check(ok, "single verify")?;
        Ok(t)
    })?;
    let strict = repeat(&mut || {
        let (ok, t) = one.install(|| timed(|| strict_one_thread(&prepared)));
        check(ok?, "verify_strict")?;
        Ok(t)
    })?;
    let f = repeat(&mut || {
        let (ok, t) = one.install(|| timed(|| from_bytes_one_thread(&records)));
        check(ok, "VerifiedRecord::from_bytes")?;
        Ok(t)
    })?;
    drop(prepared);
    drop(records);

    let import = |threads: &rayon::ThreadPool, name: &str| -> anyhow::Result<Duration> {
        let home = work.fresh(name)?;
        let mut store = crate::util::open_store(&home)?;
        let (report, t) = threads.install(|| {
            timed(|| -> anyhow::Result<_> {
                let file = std::fs::File::open(&bundle)?;
                let input = BufReader::with_capacity(1 << 20, file);
                Ok(store.import_bundle(input, Source::File("records.qoima".into()))?)
            })
        });
        let report = report?;
        anyhow::ensure!(
            report.is_clean() && report.records_new == n as u64,
            "import was not clean: {} new, {:?}, {} rejected",
            report.records_new,
            report.fatal,
            report.rejected.len()
        );
        drop(store);
        crate::util::remove_dir(&home)?;
        Ok(t)
    };
    let d = repeat(&mut || import(&one, "store-1"))?;
    let e = repeat(&mut || import(&every, "store-all"))?;

    let rate = |times: &[Duration]| n as f64 / median(times).as_secs_f64();
    let mut table = Table::new(&[
        "measurement",
        "threads",
        "median s",
        "min s",
        "max s",
        "records/s",
    ]);
    let mut add = |label: &str, threads: usize, times: &[Duration]| {
        let (lo, hi) = min_max(times);
        table.row(vec![
            label.into(),
            threads.to_string(),
            secs(median(times)),
            secs(lo),
            secs(hi),
            format!("{:.0}", rate(times)),
        ]);
    };
    add("(a) ZIP-215 batch, chunks of 512", 1, &a);
    add("(b) ZIP-215 batch, chunks of 512", all, &b);
    add("(c) ZIP-215 single, one by one", 1, &c);
    add("    verify_strict, one by one", 1, &strict);
    add("    VerifiedRecord::from_bytes", 1, &f);
    add("(d) Store::import_bundle", 1, &d);
    add("(e) Store::import_bundle", all, &e);
    println!();
    table.print();
    println!();
    let ratio = |x: &[Duration], y: &[Duration]| rate(x) / rate(y);
    println!(
        "  (e)/(b) import vs batch verify, all cores:   {:.3}",
        ratio(&e, &b)
    );
    println!(
        "  (d)/(a) import vs batch verify, one core:    {:.3}",
        ratio(&d, &a)
    );
    println!(
        "  (b)/(a) batch verify, all cores vs one:      {:.3}",
        ratio(&b, &a)
    );
    println!(
        "  (c)/(a) single vs batch verify, one core:    {:.3}",
        ratio(&c, &a)
    );
    println!(
        "  verify_strict/(c) old rule vs ZIP-215 single: {:.3}",
        ratio(&strict, &c)
    );
    println!(
        "  from_bytes/(c) full record check vs bare single verify: {:.3}",
        ratio(&f, &c)
    );
    println!(
        "  goal: import >= {GOAL} x batch verification on all cores: (e)/(b) {}",
        verdict(ratio(&e, &b) >= GOAL)
    );
    println!(
        "  note: import with a 1-thread pool still runs its SQLite writer on a thread of its own"
    );
    Ok(())
}

/// "met" or "NOT met".
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
