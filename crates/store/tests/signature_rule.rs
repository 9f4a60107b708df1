//! The import checks signatures in batches; a record's verdict must be exactly the one
//! `VerifiedRecord::from_bytes` gives it, whatever else is in its batch. Records here
//! carry the signature rule's edge cases (FORMAT.md, "Signatures"): nonce points with a
//! small-order component (valid under the rule, refused by the rule before it) and `s` + ℓ
//! (refused), mixed among ordinary signatures in batches of several pieces.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::*;
use qoima_core::fixtures::{self, record_signed_with_torsion};
use qoima_core::{RecordId, VerifiedRecord};
use qoima_store::{Source, Store};

#[test]
fn batched_import_gives_each_record_its_single_verdict() {
    // One record per author (seq 1), so the acceptance rules see nothing but signatures.
    let mut records = Vec::new();
    for seed in 1..=200u8 {
        let author = fixtures::author(seed);
        let body = fixtures::body(&author, 1, None, &format!("record by {seed}"));
        let torsion = usize::from(seed % 8);
        let s_plus_order = seed % 17 == 0;
        records.push(record_signed_with_torsion(
            seed,
            &body,
            torsion,
            s_plus_order,
            u64::from(seed),
        ));
    }
    let single: Vec<bool> = records
        .iter()
        .map(|bytes| VerifiedRecord::from_bytes(bytes.clone()).is_ok())
        .collect();
    assert_eq!(single.iter().filter(|valid| !**valid).count(), 11);
    assert!(
        single[1..8].iter().all(|valid| *valid),
        "torsion in R is valid"
    );

    let slices: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let bundle = fixtures::bundle_of_bytes(&fixtures::author(250), &slices, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let report = store
        .import_bundle(bundle.as_slice(), Source::File("edge.qb".into()))
        .unwrap();
    assert!(report.fatal.is_none(), "{:?}", report.fatal);
    let refused: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
    let expected: Vec<usize> = (0..records.len()).filter(|i| !single[*i]).collect();
    assert_eq!(refused, expected);
    for rejection in &report.rejected {
        assert_eq!(
            rejection.item,
            format!("record {}", RecordId::of(&records[rejection.index]))
        );
        assert!(
            rejection.reason.contains("signature"),
            "{}",
            rejection.reason
        );
    }
    assert_eq!(report.records_new, 200 - 11);
}
