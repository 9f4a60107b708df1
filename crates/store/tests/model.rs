//! Model-based property test of the store: random sequences of imports (of random subsets
//! of a fixed pool, with damaged items, truncated, with trailing bytes, repeated), local
//! inserts and reopenings, checked after every step against a plain set of the record ids
//! and blob hashes that were validly delivered.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use qoima_core::bundle::{BundleWriter, HEADER_LEN, ItemKind, ItemRef, Manifest};
use qoima_core::{BlobHash, RecordId, VerifiedRecord, fixtures};
use qoima_store::{ImportReport, ListQuery, SenderFault, Source, Store, StoreError};

/// One thing a bundle can carry.
enum PoolItem {
    /// A valid signed record.
    Valid(Box<VerifiedRecord>),
    /// Record bytes that fail verification; `reason` is what verification says.
    Invalid { bytes: Vec<u8>, reason: String },
    /// Attachment bytes.
    Blob(Vec<u8>),
}

impl PoolItem {
    fn kind(&self) -> ItemKind {
        match self {
            PoolItem::Blob(_) => ItemKind::Blob,
            _ => ItemKind::Record,
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            PoolItem::Valid(record) => record.bytes(),
            PoolItem::Invalid { bytes, .. } | PoolItem::Blob(bytes) => bytes,
        }
    }

    /// The hash the manifest gives for the item.
    fn hash(&self) -> [u8; 32] {
        match self {
            PoolItem::Blob(bytes) => BlobHash::of(bytes).0,
            other => RecordId::of(other.bytes()).0,
        }
    }
}

/// Three authors' chains, two records that do not verify, two blobs (one over the size
/// at which the reader hashes on the rayon pool).
static POOL: LazyLock<Vec<PoolItem>> = LazyLock::new(|| {
    let mut pool = Vec::new();
    for (seed, text_len) in [(21u8, 40), (22, 300), (23, 2000)] {
        let author = fixtures::author(seed);
        pool.extend(
            fixtures::chain(&author, 5, text_len)
                .into_iter()
                .map(|r| PoolItem::Valid(Box::new(r))),
        );
    }
    let stranger = fixtures::author(24);
    let good = fixtures::chain(&stranger, 2, 100);
    // The last signature byte flipped; then a body byte flipped under the old signature.
    let mut bad_signature = good[0].bytes().to_vec();
    *bad_signature.last_mut().unwrap() ^= 0x40;
    let mut bad_body = good[1].bytes().to_vec();
    let middle = bad_body.len() / 2;
    bad_body[middle] ^= 0x01;
    for bytes in [bad_signature, bad_body] {
        let reason = VerifiedRecord::from_bytes(bytes.clone())
            .expect_err("damaged fixture must not verify")
            .to_string();
        pool.push(PoolItem::Invalid { bytes, reason });
    }
    pool.push(PoolItem::Blob(b"a small attachment ".repeat(300)));
    pool.push(PoolItem::Blob(
        (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect(),
    ));
    pool
});

fn valid_indexes() -> Vec<usize> {
    (0..POOL.len())
        .filter(|&i| matches!(POOL[i], PoolItem::Valid(_)))
        .collect()
}

/// A position chosen at random: a fraction of whatever length it is applied to.
#[derive(Debug, Clone, Copy)]
struct Pick(u32);

impl Pick {
    /// A position in `0..len` (`len` must not be 0).
    fn index(self, len: usize) -> usize {
        assert!(len > 0, "nothing to pick from");
        ((u64::from(self.0) * len as u64) >> 32) as usize
    }

    /// The position at `fraction` (0 ≤ fraction < 1) of any length.
    fn frac(fraction: f64) -> Pick {
        Pick((fraction * f64::from(u32::MAX)) as u32)
    }
}

fn pick() -> impl Strategy<Value = Pick> {
    any::<u32>().prop_map(Pick)
}

/// How a bundle's bytes end.
#[derive(Debug, Clone)]
enum End {
    /// Complete.
    Whole,
    /// Cut inside the region before the first item (`item` 0) or inside item `item - 1`.
    Cut { item: Pick, at: Pick },
    /// Followed by extra bytes.
    Trailing(Vec<u8>),
}

/// What is done to a bundle after it was written.
#[derive(Debug, Clone)]
struct Damage {
    /// (item, byte within the item, xor mask)
    item_flips: Vec<(Pick, Pick, u8)>,
    /// A byte of the header, manifest or manifest signature, and its xor mask.
    head_flip: Option<(Pick, u8)>,
    end: End,
}

#[derive(Debug, Clone)]
enum Op {
    /// Import a bundle of these pool items, in this order, signed by this seed.
    Import {
        items: Vec<usize>,
        damage: Damage,
        bundler: u8,
        by_peer: bool,
    },
    /// Import again the bytes of an earlier step's bundle.
    Reimport(Pick),
    /// `insert_local` of a valid pool record.
    InsertLocal(Pick),
    /// Close the store and open it again.
    Reopen,
}

fn damage() -> impl Strategy<Value = Damage> {
    let flips = prop_oneof![
        3 => Just(Vec::new()),
        2 => proptest::collection::vec((pick(), pick(), 1u8..=255), 1..=2),
    ];
    let head = prop_oneof![
        8 => Just(None),
        1 => (pick(), 1u8..=255).prop_map(Some),
    ];
    let end = prop_oneof![
        4 => Just(End::Whole),
        3 => (pick(), pick()).prop_map(|(item, at)| End::Cut { item, at }),
        1 => proptest::collection::vec(any::<u8>(), 1..4).prop_map(End::Trailing),
    ];
    (flips, head, end).prop_map(|(item_flips, head_flip, end)| Damage {
        item_flips,
        head_flip,
        end,
    })
}

fn op() -> impl Strategy<Value = Op> {
    let n = POOL.len();
    let import = (
        proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 0..=n).prop_shuffle(),
        damage(),
        21u8..=24,
        any::<bool>(),
    )
        .prop_map(|(items, damage, bundler, by_peer)| Op::Import {
            items,
            damage,
            bundler,
            by_peer,
        });
    prop_oneof![
        6 => import,
        2 => pick().prop_map(Op::Reimport),
        2 => pick().prop_map(Op::InsertLocal),
        1 => Just(Op::Reopen),
    ]
}

/// A written (and possibly damaged) bundle, with where each item lies.
#[derive(Debug, Clone)]
struct Built {
    bytes: Vec<u8>,
    /// Pool index, first byte, end (exclusive), whether its bytes were altered.
    items: Vec<(usize, usize, usize, bool)>,
    /// The reader refuses the header, manifest or signature.
    open_fails: bool,
    /// A byte before the first item was altered.
    head_flipped: bool,
    /// Bytes actually present of the undamaged length (`None`: all of them).
    cut: Option<usize>,
    trailing: bool,
}

fn build(items: &[usize], damage: &Damage, bundler: u8) -> Built {
    let bundler = fixtures::author(bundler);
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: 1_700_000_000_000,
        collection: "model".into(),
        items: items
            .iter()
            .map(|&i| ItemRef {
                kind: POOL[i].kind(),
                hash: POOL[i].hash(),
                size: POOL[i].bytes().len() as u64,
            })
            .collect(),
    };
    let mut writer = BundleWriter::new(Vec::new(), manifest, &bundler).unwrap();
    for &i in items {
        match &POOL[i] {
            PoolItem::Blob(bytes) => writer.write_blob(&bytes[..]).unwrap(),
            other => writer.write_record(other.bytes()).unwrap(),
        }
    }
    let mut bytes = writer.finish().unwrap();
    let manifest_len = u32::from_le_bytes(bytes[10..14].try_into().unwrap()) as usize;
    let items_start = HEADER_LEN + manifest_len + 64;

    let mut spans = Vec::new();
    let mut at = items_start;
    for &i in items {
        let end = at + POOL[i].bytes().len();
        spans.push((i, at, end, false));
        at = end;
    }
    assert_eq!(at, bytes.len());

    if !spans.is_empty() {
        for (item, byte, mask) in &damage.item_flips {
            let (_, start, end, _) = spans[item.index(spans.len())];
            bytes[start + byte.index(end - start)] ^= mask;
        }
    }
    for span in &mut spans {
        span.3 = bytes[span.1..span.2] != *POOL[span.0].bytes();
    }
    let mut open_fails = false;
    let mut head_flipped = false;
    if let Some((at, mask)) = damage.head_flip {
        bytes[at.index(items_start)] ^= mask;
        open_fails = true;
        head_flipped = true;
    }
    let mut cut = None;
    let mut trailing = false;
    match &damage.end {
        End::Whole => {}
        End::Cut { item, at } => {
            let region = item.index(spans.len() + 1);
            let (start, end) = match region {
                0 => (0, items_start),
                k => (spans[k - 1].1, spans[k - 1].2),
            };
            let len = start + at.index(end - start);
            bytes.truncate(len);
            cut = Some(len);
            open_fails |= len < items_start;
        }
        End::Trailing(extra) => {
            bytes.extend_from_slice(extra);
            trailing = true;
        }
    }
    Built {
        bytes,
        items: spans,
        open_fails,
        head_flipped,
        cut,
        trailing,
    }
}

/// The model: what was validly delivered.
#[derive(Debug, Default)]
struct Model {
    records: BTreeSet<RecordId>,
    blobs: BTreeSet<BlobHash>,
}

/// What an import of `built` must report, given the model before it (which it updates).
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    opened: bool,
    records_listed: usize,
    records_new: u64,
    records_present: u64,
    blobs_new: u64,
    blobs_present: u64,
    /// (manifest index, item text, reason substring)
    rejected: BTreeSet<(usize, String, String)>,
    fatal: bool,
    /// A network import of a bundle listing a blob: refused whole.
    carries_blobs: bool,
}

/// What importing `built` does to a store holding `model` (updated). `network`: it came
/// from a peer, through `import_network_bundle`.
fn expect(built: &Built, model: &mut Model, network: bool) -> Expected {
    let mut out = Expected {
        fatal: true,
        ..Default::default()
    };
    if built.open_fails {
        return out;
    }
    out.opened = true;
    out.fatal = false;
    out.records_listed = built
        .items
        .iter()
        .filter(|(i, ..)| POOL[*i].kind() == ItemKind::Record)
        .count();
    if network
        && built
            .items
            .iter()
            .any(|(i, ..)| POOL[*i].kind() == ItemKind::Blob)
    {
        out.fatal = true;
        out.carries_blobs = true;
        return out;
    }
    let available = built.cut.unwrap_or(usize::MAX);
    for (index, &(pool, start, end, corrupted)) in built.items.iter().enumerate() {
        if available < start {
            break; // never reached: the stream ended inside an earlier item
        }
        let complete = available >= end;
        match &POOL[pool] {
            PoolItem::Blob(_) => {
                let hash = BlobHash(POOL[pool].hash());
                // Its bytes are read and checked even if it is already stored: the
                // verdict depends on the bundle only.
                if !complete {
                    // Cut inside it: nothing of it is stored, reading stops below.
                } else if corrupted {
                    out.rejected.insert((
                        index,
                        format!("blob {hash}"),
                        "does not match its hash".into(),
                    ));
                } else if model.blobs.contains(&hash) {
                    out.blobs_present += 1;
                } else {
                    out.blobs_new += 1;
                    model.blobs.insert(hash);
                }
            }
            record => {
                let id = RecordId(record.hash());
                if !complete {
                    // Cut inside it: nothing of it is stored, reading stops below.
                } else if corrupted {
                    out.rejected.insert((
                        index,
                        format!("record {id}"),
                        "does not match its hash".into(),
                    ));
                } else if let PoolItem::Invalid { reason, .. } = record {
                    out.rejected
                        .insert((index, format!("record {id}"), reason.clone()));
                } else if model.records.insert(id) {
                    out.records_new += 1;
                } else {
                    out.records_present += 1;
                }
            }
        }
        if !complete {
            out.fatal = true;
            break;
        }
    }
    out.fatal |= built.trailing;
    out
}

fn check_report(report: &ImportReport, expected: &Expected, built: &Built) {
    assert_eq!(report.bundle.is_some(), expected.opened, "{report:?}");
    assert_eq!(report.fatal.is_some(), expected.fatal, "{report:?}");
    let fault = if expected.carries_blobs {
        Some(SenderFault::CarriesBlobs)
    } else if expected.fatal {
        Some(SenderFault::Unreadable)
    } else if !expected.rejected.is_empty() {
        Some(SenderFault::BadItem {
            rejected: expected.rejected.len(),
        })
    } else {
        None
    };
    assert_eq!(report.sender_fault(), fault, "{report:?}");
    if let Some(fatal) = &report.fatal {
        if expected.carries_blobs {
            assert_eq!(
                fatal,
                "network bundles carry records only; attachments have their own protocol"
            );
        } else if built.head_flipped {
            // Which check fails first depends on the byte: magic, version, length,
            // encoding or signature.
        } else if built.trailing {
            assert!(fatal.contains("unexpected data"), "{fatal}");
        } else if built.cut.is_some() {
            assert!(fatal.contains("truncated"), "{fatal}");
        }
    }
    let got = (
        report.records_listed,
        report.records_new,
        report.records_present,
        report.blobs_new,
        report.blobs_present,
    );
    let want = (
        expected.records_listed,
        expected.records_new,
        expected.records_present,
        expected.blobs_new,
        expected.blobs_present,
    );
    assert_eq!(
        got, want,
        "(listed, new, present, blobs new, blobs present)"
    );
    assert_eq!(
        report.rejected.len(),
        expected.rejected.len(),
        "{:?}",
        report.rejected
    );
    for rejection in &report.rejected {
        let (_, item, reason) = expected
            .rejected
            .iter()
            .find(|(index, ..)| *index == rejection.index)
            .unwrap_or_else(|| panic!("unexpected rejection {rejection:?}"));
        assert_eq!(&rejection.item, item);
        assert!(
            rejection.reason.contains(reason.as_str()),
            "{rejection:?} should say {reason:?}"
        );
    }
}

/// The store holds exactly the model, every record verifies, nothing invalid is present.
fn check_store(store: &Store, model: &Model, home: &Path) {
    let listed = store
        .list(&ListQuery {
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    let ids: BTreeSet<RecordId> = listed.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), listed.len(), "a record listed twice");
    assert_eq!(ids, model.records);
    assert_eq!(store.record_count().unwrap(), model.records.len() as u64);
    for item in POOL.iter() {
        match item {
            PoolItem::Valid(record) => {
                let id = record.id();
                if model.records.contains(&id) {
                    let stored = store.get(&id).unwrap();
                    assert_eq!(stored.record.id(), id);
                    assert_eq!(stored.record.bytes(), record.bytes());
                    assert!(!stored.provenance.is_empty());
                } else {
                    assert!(matches!(store.get(&id), Err(StoreError::NotFound(_))));
                }
            }
            PoolItem::Invalid { bytes, .. } => {
                let id = RecordId::of(bytes);
                assert!(
                    matches!(store.get(&id), Err(StoreError::NotFound(_))),
                    "invalid record {id} stored"
                );
            }
            PoolItem::Blob(bytes) => {
                let hash = BlobHash::of(bytes);
                match store.read_blob(&hash).unwrap() {
                    Some(mut reader) => {
                        assert!(model.blobs.contains(&hash), "blob {hash} stored");
                        let mut stored = Vec::new();
                        reader.read_to_end(&mut stored).unwrap();
                        assert!(&stored == bytes, "blob {hash} differs");
                    }
                    None => assert!(!model.blobs.contains(&hash), "blob {hash} lost"),
                }
            }
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(home.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "scratch files left: {leftovers:?}");
}

fn run(ops: &[Op]) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let mut model = Model::default();
    let mut history: Vec<Built> = Vec::new();
    let valid = valid_indexes();
    for (step, op) in ops.iter().enumerate() {
        let source = |by_peer: bool| match by_peer {
            true => Source::Peer(format!("peer-{step}")),
            false => Source::File(format!("step-{step}.qb")),
        };
        match op {
            Op::Import {
                items,
                damage,
                bundler,
                by_peer,
            } => {
                let built = build(items, damage, *bundler);
                let expected = expect(&built, &mut model, *by_peer);
                let report = if *by_peer {
                    store.import_network_bundle(&built.bytes[..], source(true))
                } else {
                    store.import_bundle(&built.bytes[..], source(false))
                }
                .unwrap();
                check_report(&report, &expected, &built);
                history.push(built);
            }
            Op::Reimport(which) => {
                if history.is_empty() {
                    continue;
                }
                let built = history[which.index(history.len())].clone();
                let expected = expect(&built, &mut model, false);
                let report = store
                    .import_bundle(&built.bytes[..], source(false))
                    .unwrap();
                check_report(&report, &expected, &built);
            }
            Op::InsertLocal(which) => {
                let PoolItem::Valid(record) = &POOL[valid[which.index(valid.len())]] else {
                    unreachable!("valid_indexes holds valid records only")
                };
                let new = store.insert_local(record).unwrap();
                assert_eq!(new, model.records.insert(record.id()), "insert_local");
            }
            Op::Reopen => {
                drop(store);
                store = Store::open(dir.path(), &test_key()).unwrap();
            }
        }
        check_store(&store, &model, dir.path());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn store_matches_the_model_after_every_step(
        ops in proptest::collection::vec(op(), 1..10)
    ) {
        run(&ops);
    }
}

/// The cases the generator must be able to produce, spelled out, so a weakened generator
/// or expectation cannot hide them.
#[test]
fn hand_written_sequence_covers_every_kind_of_step() {
    let all: Vec<usize> = (0..POOL.len()).collect();
    let whole = Damage {
        item_flips: Vec::new(),
        head_flip: None,
        end: End::Whole,
    };
    let import = |items: Vec<usize>, damage: Damage| Op::Import {
        items,
        damage,
        bundler: 21,
        by_peer: false,
    };
    let flip_first = Damage {
        item_flips: vec![(Pick::frac(0.0), Pick::frac(0.5), 0x80)],
        ..whole.clone()
    };
    let cut_in_third = Damage {
        end: End::Cut {
            item: Pick::frac(0.99),
            at: Pick::frac(0.5),
        },
        ..whole.clone()
    };
    let ops = vec![
        Op::InsertLocal(Pick::frac(0.0)),
        import(vec![0, 1, 2, 15], flip_first.clone()),
        import(vec![3, 4, 16, 17], cut_in_third),
        import(all.clone(), whole.clone()),
        Op::Reopen,
        Op::Reimport(Pick::frac(0.0)),
        import(
            all,
            Damage {
                head_flip: Some((Pick::frac(0.3), 1)),
                ..whole.clone()
            },
        ),
        import(
            vec![18, 5],
            Damage {
                end: End::Trailing(vec![0]),
                ..whole
            },
        ),
    ];
    run(&ops);
}
