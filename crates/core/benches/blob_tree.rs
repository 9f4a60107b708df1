//! Criterion benchmarks of attachment ranges over the network: building a blob's tree
//! (`GroupHasher`) against plain BLAKE3 of the same bytes, and encoding and decoding
//! (verifying) one 1 MiB range, the size a node asks a peer for.
//!
//! `cargo bench -p qoima-core --bench blob_tree`; compare the rows as ratios: the
//! machine is shared.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qoima_core::BlobHash;
use qoima_core::blob_tree::{GroupHasher, decode_range, encode_range, range_bytes};

/// The blob: 16 MiB, so a range sits deep enough in the tree to carry inner hashes.
const BLOB_LEN: usize = 16 * 1024 * 1024;
/// Groups in a range as nodes ask for them: 64 × 16 KiB = 1 MiB.
const RANGE_GROUPS: u64 = 64;

fn blob() -> Vec<u8> {
    (0..BLOB_LEN as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn blob_tree(c: &mut Criterion) {
    let data = blob();
    let root = BlobHash::of(&data);
    let mut group = c.benchmark_group("blob_tree");
    group.measurement_time(Duration::from_secs(4));

    group.throughput(Throughput::Bytes(BLOB_LEN as u64));
    group.bench_function("blake3 of 16 MiB (plain hash)", |b| {
        b.iter(|| blake3::hash(black_box(&data)))
    });
    group.bench_function("GroupHasher of 16 MiB (tree and outboard)", |b| {
        b.iter(|| {
            let mut tree = GroupHasher::new(BLOB_LEN as u64);
            tree.update(black_box(&data));
            tree.finish()
        })
    });

    let mut tree = GroupHasher::new(BLOB_LEN as u64);
    tree.update(&data);
    let outboard = tree.finish().expect("the whole blob was hashed");
    let first = 128; // 2 MiB in: not aligned to the range size above it
    let (start, len) = range_bytes(BLOB_LEN as u64, first, RANGE_GROUPS).expect("inside");
    let slice = &data[start as usize..(start + len) as usize];
    let encoded = encode_range(&outboard, first, RANGE_GROUPS, slice).expect("encodes");

    group.throughput(Throughput::Bytes(len));
    group.bench_function("encode a 1 MiB range", |b| {
        b.iter(|| encode_range(&outboard, first, RANGE_GROUPS, black_box(slice)))
    });
    group.bench_function("decode and verify a 1 MiB range", |b| {
        b.iter(|| {
            let mut taken = 0usize;
            decode_range(
                &root,
                BLOB_LEN as u64,
                first,
                RANGE_GROUPS,
                black_box(&encoded),
                |_, bytes| taken += bytes.len(),
            )
            .expect("verifies");
            taken
        })
    });
    group.finish();
}

criterion_group!(benches, blob_tree);
criterion_main!(benches);
