//! Criterion benchmarks of the record hot paths: signing, verifying (through
//! `VerifiedRecord::from_bytes` and `from_bytes_batch`, the format's rule bare, one by
//! one and in a `SignatureBatch`, and for comparison the rule before it, `verify_strict`,
//! and `ed25519_dalek::verify_batch`), BLAKE3, and streaming a bundle with `BundleReader`.
//!
//! `cargo bench -p qoima-core`; each group keeps to a few seconds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use qoima_core::bundle::{BundleReader, Item};
use qoima_core::{
    KeyCache, RECORD_SIGNATURE_CONTEXT, RecordId, SignatureBatch, VerifiedRecord, fixtures,
    verify_with_context,
};

/// Bytes of text in each record: the signed record is about 1.2 KB.
const TEXT_BYTES: usize = 1000;
/// Signatures checked together, as the importer batches them.
const BATCH: usize = 512;
/// Records in the streamed bundle.
const BUNDLE_RECORDS: usize = 10_000;

/// The message a record's signature covers, its signature and its author's key.
fn signed_parts(record: &VerifiedRecord) -> (Vec<u8>, Signature, VerifyingKey) {
    let bytes = record.bytes();
    let (body, signature) = bytes.split_at(bytes.len() - 64);
    let mut message = RECORD_SIGNATURE_CONTEXT.to_vec();
    message.extend_from_slice(body);
    let signature = Signature::from_slice(signature).expect("64 bytes");
    let key = record
        .body()
        .author
        .verifying_key()
        .expect("fixture keys are valid");
    (message, signature, key)
}

fn records(c: &mut Criterion) {
    let author = fixtures::author(1);
    let chain = fixtures::chain(&author, BATCH, TEXT_BYTES);
    let record = &chain[1];
    let mut group = c.benchmark_group("record");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));

    let body = record.body().clone();
    group.bench_function("sign", |b| {
        b.iter(|| VerifiedRecord::sign(black_box(&body), &author).expect("valid"))
    });
    group.bench_function("from_bytes", |b| {
        b.iter_batched(
            || record.bytes().to_vec(),
            |bytes| VerifiedRecord::from_bytes(bytes).expect("valid"),
            BatchSize::SmallInput,
        )
    });
    let (message, signature, key) = signed_parts(record);
    let signature_bytes = signature.to_bytes();
    let author_key = record.body().author;
    let body_bytes = &message[RECORD_SIGNATURE_CONTEXT.len()..];
    group.bench_function("verify_with_context", |b| {
        b.iter(|| {
            verify_with_context(
                &author_key,
                RECORD_SIGNATURE_CONTEXT,
                black_box(body_bytes),
                &signature_bytes,
            )
        })
    });
    group.bench_function("verify_strict", |b| {
        b.iter(|| {
            key.verify_strict(black_box(&message), &signature)
                .expect("valid")
        })
    });
    group.bench_function("verifying_key_from_bytes", |b| {
        b.iter(|| VerifyingKey::from_bytes(black_box(record.body().author.as_bytes())))
    });
    group.finish();

    let parts: Vec<_> = chain.iter().map(signed_parts).collect();
    let messages: Vec<&[u8]> = parts.iter().map(|(m, _, _)| m.as_slice()).collect();
    let signatures: Vec<Signature> = parts.iter().map(|(_, s, _)| *s).collect();
    let keys: Vec<VerifyingKey> = parts.iter().map(|(_, _, k)| *k).collect();
    let mut group = c.benchmark_group("verify_512");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(BATCH as u64));
    let bodies: Vec<&[u8]> = messages
        .iter()
        .map(|m| &m[RECORD_SIGNATURE_CONTEXT.len()..])
        .collect();
    group.bench_function("signature_batch", |b| {
        b.iter(|| {
            let mut keys = KeyCache::new();
            let mut batch = SignatureBatch::new();
            for (record, body) in chain.iter().zip(&bodies) {
                let signature: [u8; 64] = record.bytes()[record.bytes().len() - 64..]
                    .try_into()
                    .expect("64 bytes");
                batch.queue(
                    &mut keys,
                    &record.body().author,
                    RECORD_SIGNATURE_CONTEXT,
                    black_box(body),
                    &signature,
                );
            }
            assert!(batch.verify(&[7; 32]).into_iter().all(|valid| valid));
        })
    });
    group.bench_function("from_bytes_batch", |b| {
        b.iter_batched(
            || {
                chain
                    .iter()
                    .map(|r| (r.id(), r.bytes().to_vec()))
                    .collect::<Vec<(RecordId, Vec<u8>)>>()
            },
            |records| {
                let verdicts =
                    VerifiedRecord::from_bytes_batch(records, &mut KeyCache::new(), &[7; 32]);
                assert!(verdicts.iter().all(Result::is_ok));
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("verify_batch", |b| {
        b.iter(|| {
            ed25519_dalek::verify_batch(black_box(&messages), &signatures, &keys).expect("valid")
        })
    });
    group.bench_function("verify_strict_each", |b| {
        b.iter(|| {
            for ((message, signature), key) in messages.iter().zip(&signatures).zip(&keys) {
                key.verify_strict(black_box(message), signature)
                    .expect("valid");
            }
        })
    });
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("blake3");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, size) in [("1KiB", 1024), ("1MiB", 1 << 20)] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| b.iter(|| blake3::hash(black_box(&data))));
    }
    group.finish();
}

fn bundle_reader(c: &mut Criterion) {
    let author = fixtures::author(2);
    let chain = fixtures::chain(&author, BUNDLE_RECORDS, TEXT_BYTES);
    let bundle = fixtures::bundle(&author, &chain, &[]);
    let mut group = c.benchmark_group("bundle_reader");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(BUNDLE_RECORDS as u64));
    group.bench_function("stream_10k_records", |b| {
        b.iter(|| {
            let mut reader = BundleReader::open(black_box(bundle.as_slice())).expect("valid");
            let mut records = 0usize;
            while let Some(item) = reader.next_item().expect("complete") {
                if let Item::Record { bytes, .. } = item {
                    records += bytes.expect("hash matches").len();
                }
            }
            records
        })
    });
    group.finish();
}

criterion_group!(benches, records, hashing, bundle_reader);
criterion_main!(benches);
