//! Criterion benchmarks of the store's hot paths: importing a 10,000-record bundle into
//! a fresh store, and `list` / `search` on a store of 100,000 records (built once).
//!
//! `cargo bench -p qoima-store`; each group keeps to a few seconds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qoima_core::{AuthorSecret, VerifiedRecord, fixtures};
use qoima_store::{ListQuery, Source, Store};
use rayon::prelude::*;

/// Bytes of text in each record: the signed record is about 1.2 KB.
const TEXT_BYTES: usize = 1000;
/// Records in the imported bundle.
const IMPORT_RECORDS: usize = 10_000;
/// Records in the store that is listed and searched.
const QUERY_RECORDS: usize = 100_000;
/// Authors of the query store's records.
const AUTHORS: usize = 4;
/// A name in one record of every 10,000.
const RARE_WORD: &str = "Кенжебек";

/// `count` chained records by `author`, each with about [`TEXT_BYTES`] of Russian text,
/// and [`RARE_WORD`] in every 10,000th.
fn chain(author: &AuthorSecret, count: usize) -> Vec<VerifiedRecord> {
    let filler = "Площадь Республики, толпа, выстрелы. ".repeat(TEXT_BYTES / 60 + 1);
    let mut out: Vec<VerifiedRecord> = Vec::with_capacity(count);
    for i in 0..count {
        let mut text = format!("{i}: ");
        if i % 10_000 == 5 {
            text.push_str(RARE_WORD);
            text.push(' ');
        }
        text.extend(filler.chars().take(TEXT_BYTES / 2));
        let prev = out.last().map(VerifiedRecord::id);
        let body = fixtures::body(author, i as u64 + 1, prev, &text);
        out.push(VerifiedRecord::sign(&body, author).expect("valid fixture"));
    }
    out
}

fn import(c: &mut Criterion) {
    let author = fixtures::author(1);
    let bundle = fixtures::bundle(&author, &chain(&author, IMPORT_RECORDS), &[]);
    let mut group = c.benchmark_group("import");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(IMPORT_RECORDS as u64));
    group.bench_function("bundle_10k_records_fresh_store", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = Store::open(dir.path(), &test_key()).expect("new store");
                (dir, store)
            },
            |(dir, mut store)| {
                let report = store
                    .import_bundle(black_box(bundle.as_slice()), Source::File("b".into()))
                    .expect("import");
                assert_eq!(report.records_new, IMPORT_RECORDS as u64);
                (dir, store) // dropped outside the timing
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn query(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut store = Store::open(dir.path(), &test_key()).expect("new store");
    let authors: Vec<AuthorSecret> = (1..=AUTHORS as u8).map(fixtures::author).collect();
    let chains: Vec<Vec<VerifiedRecord>> = authors
        .par_iter()
        .map(|a| chain(a, QUERY_RECORDS / AUTHORS))
        .collect();
    for (author, records) in authors.iter().zip(&chains) {
        let bundle = fixtures::bundle(author, records, &[]);
        let report = store
            .import_bundle(bundle.as_slice(), Source::File("b".into()))
            .expect("import");
        assert!(report.is_clean());
    }
    drop(chains);
    assert_eq!(store.record_count().expect("count"), QUERY_RECORDS as u64);

    let mut group = c.benchmark_group("query_100k");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let newest = ListQuery {
        limit: 50,
        ..ListQuery::default()
    };
    group.bench_function("list_limit_50", |b| {
        b.iter(|| store.list(black_box(&newest)).expect("list"))
    });
    let by_author = ListQuery {
        author: Some(authors[1].public()),
        limit: 50,
        ..ListQuery::default()
    };
    group.bench_function("list_author_limit_50", |b| {
        b.iter(|| store.list(black_box(&by_author)).expect("list"))
    });
    group.bench_function("search_common_word", |b| {
        b.iter(|| store.search(black_box("выстрелы"), 50).expect("search"))
    });
    group.bench_function("search_rare_word", |b| {
        b.iter(|| store.search(black_box(RARE_WORD), 50).expect("search"))
    });
    group.finish();
}

/// Attachments at rest: encrypting and decrypting 16 MiB in 16 KiB segments.
fn segments(c: &mut Criterion) {
    use qoima_store::at_rest::segments::{SegmentReader, SegmentWriter};
    use std::io::Read as _;
    let plain: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    let key = test_key();
    let mut group = c.benchmark_group("segments");
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group.sample_size(10);
    group.bench_function("encrypt 16 MiB", |b| {
        b.iter(|| {
            let mut writer =
                SegmentWriter::new(Vec::with_capacity(18 << 20), &key, plain.len() as u64)
                    .expect("writer");
            writer.write_plain(&plain).expect("write");
            writer.finish().expect("finish")
        })
    });
    let mut writer = SegmentWriter::new(Vec::new(), &key, plain.len() as u64).expect("writer");
    writer.write_plain(&plain).expect("write");
    let file = writer.finish().expect("finish");
    group.bench_function("decrypt 16 MiB", |b| {
        b.iter_batched(
            || file.clone(),
            |file| {
                let mut out = Vec::with_capacity(16 << 20);
                SegmentReader::open(file, &key)
                    .expect("open")
                    .into_read()
                    .read_to_end(&mut out)
                    .expect("read");
                out
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, import, query, segments);
criterion_main!(benches);

/// The archive key of the stores here.
fn test_key() -> qoima_store::ArchiveKey {
    qoima_store::ArchiveKey::from_bytes([42; 32])
}
