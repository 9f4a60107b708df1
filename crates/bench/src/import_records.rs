//! `qoima-bench import-records`: importing a bundle of signed records, against the
//! cost of verifying the same signatures alone (batch and single), on one core and on
//! all cores.

use std::io::BufReader;
use std::time::Duration;

use anyhow::Context;
use ed25519_dalek::{Signature, VerifyingKey};
use qoima_core::{RECORD_SIGNATURE_CONTEXT, VerifiedRecord};
use qoima_store::Source;
use rayon::prelude::*;

use crate::corpus::{Corpus, Flavour, write_bundle};
use crate::util::{Table, WorkDir, cores, median, min_max, pool, secs, timed};

/// Signatures verified together by `verify_batch`, as the importer batches them.
const CHUNK: usize = 512;

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

/// What the verification-only measurements get: the signed messages, signatures and
/// parsed keys, prepared in advance (an importer could cache the few authors' keys too).
struct Prepared {
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
    keys: Vec<VerifyingKey>,
}

fn prepare(records: &[VerifiedRecord]) -> anyhow::Result<Prepared> {
    let mut cache: Vec<([u8; 32], VerifyingKey)> = Vec::new();
    let mut prepared = Prepared {
        messages: Vec::with_capacity(records.len()),
        signatures: Vec::with_capacity(records.len()),
        keys: Vec::with_capacity(records.len()),
    };
    for record in records {
        let bytes = record.bytes();
        let (body, signature) = bytes.split_at(bytes.len() - 64);
        let mut message = Vec::with_capacity(RECORD_SIGNATURE_CONTEXT.len() + body.len());
        message.extend_from_slice(RECORD_SIGNATURE_CONTEXT);
        message.extend_from_slice(body);
        let author = *record.body().author.as_bytes();
        let key = match cache.iter().find(|(a, _)| *a == author) {
            Some((_, key)) => *key,
            None => {
                let key = VerifyingKey::from_bytes(&author)?;
                cache.push((author, key));
                key
            }
        };
        prepared.messages.push(message);
        prepared
            .signatures
            .push(Signature::from_slice(signature).context("64-byte signature")?);
        prepared.keys.push(key);
    }
    Ok(prepared)
}

fn batch_chunk(p: &Prepared, start: usize) -> bool {
    let end = (start + CHUNK).min(p.messages.len());
    let messages: Vec<&[u8]> = p.messages[start..end].iter().map(Vec::as_slice).collect();
    ed25519_dalek::verify_batch(&messages, &p.signatures[start..end], &p.keys[start..end]).is_ok()
}

fn batch_one_thread(p: &Prepared) -> bool {
    (0..p.messages.len())
        .step_by(CHUNK)
        .all(|start| batch_chunk(p, start))
}

fn batch_all_cores(p: &Prepared) -> bool {
    (0..p.messages.len())
        .into_par_iter()
        .step_by(CHUNK)
        .all(|start| batch_chunk(p, start))
}

fn strict_one_thread(p: &Prepared) -> bool {
    (0..p.messages.len()).all(|i| {
        p.keys[i]
            .verify_strict(&p.messages[i], &p.signatures[i])
            .is_ok()
    })
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

    let a = repeat(&mut || {
        let (ok, t) = one.install(|| timed(|| batch_one_thread(&prepared)));
        check(ok, "batch verify")?;
        Ok(t)
    })?;
    let b = repeat(&mut || {
        let (ok, t) = every.install(|| timed(|| batch_all_cores(&prepared)));
        check(ok, "batch verify")?;
        Ok(t)
    })?;
    let c = repeat(&mut || {
        let (ok, t) = one.install(|| timed(|| strict_one_thread(&prepared)));
        check(ok, "verify_strict")?;
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
    add("(a) verify_batch, chunks of 512", 1, &a);
    add("(b) verify_batch, chunks of 512", all, &b);
    add("(c) verify_strict, one by one", 1, &c);
    add("    VerifiedRecord::from_bytes", 1, &f);
    add("(d) Store::import_bundle", 1, &d);
    add("(e) Store::import_bundle", all, &e);
    println!();
    table.print();
    println!();
    let ratio = |x: &[Duration], y: &[Duration]| rate(x) / rate(y);
    println!(
        "  (d)/(a) import vs batch verify, one core:    {:.3}",
        ratio(&d, &a)
    );
    println!(
        "  (e)/(b) import vs batch verify, all cores:   {:.3}",
        ratio(&e, &b)
    );
    println!(
        "  (e)/(a) import all cores vs batch one core:  {:.3}",
        ratio(&e, &a)
    );
    println!(
        "  (c)/(a) verify_strict vs batch, one core:    {:.3}",
        ratio(&c, &a)
    );
    println!(
        "  from_bytes/(c) full record check vs bare verify_strict: {:.3}",
        ratio(&f, &c)
    );
    println!(
        "  goal: import >= 0.7 x batch verification: (d)/(a) {}, (e)/(b) {}",
        verdict(ratio(&d, &a) >= 0.7),
        verdict(ratio(&e, &b) >= 0.7)
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
