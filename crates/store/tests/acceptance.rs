//! The acceptance policy: `trusted` keeps only vouched-for authors, `open` keeps every
//! valid record within quotas for unknown authors. Declining is local policy: the sender
//! is never at fault, and declined ids are not fetched again.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::test_key;
use qoima_core::fixtures::{self, key_record};
use qoima_core::{Details, RecordKind, VerifiedRecord};
use qoima_store::{Acceptance, Declined, ImportReport, Policy, Quotas, Source, Store};

fn store(policy: Policy) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    store.set_policy(&policy).unwrap();
    (dir, store)
}

fn import(store: &mut Store, records: &[VerifiedRecord]) -> ImportReport {
    let bundle = fixtures::bundle(&fixtures::author(99), records, &[]);
    store
        .import_network_bundle(&bundle[..], Source::Peer("peer".into()))
        .unwrap()
}

#[test]
fn under_trusted_an_unknown_author_is_declined_without_fault_until_trusted() {
    let (_dir, mut store) = store(Policy {
        accept: Acceptance::Trusted,
        quotas: Quotas::default(),
    });
    let (known, stranger) = (fixtures::author(1), fixtures::author(2));
    store.trust_add(&known.public(), "Мадина").unwrap();
    let forged = fixtures::chain(&stranger, 1, 40).remove(0);
    let honest = fixtures::chain(&known, 1, 40).remove(0);
    let report = import(&mut store, &[forged.clone(), honest.clone()]);
    assert!(report.is_clean());
    assert_eq!(
        report.sender_fault(),
        None,
        "declining is no fault of the sender"
    );
    assert_eq!(report.records_new, 1);
    assert_eq!(report.declined, vec![(Declined::NotTrusted, 1)]);
    assert!(store.get(&forged.id()).is_err());
    assert!(store.get(&honest.id()).is_ok());
    // Not fetched again while declined…
    assert!(store.missing(&[forged.id()]).unwrap().is_empty());
    // …until its author is trusted.
    store.trust_add(&stranger.public(), "Руслан").unwrap();
    assert_eq!(store.missing(&[forged.id()]).unwrap(), vec![forged.id()]);
    assert_eq!(
        import(&mut store, std::slice::from_ref(&forged)).records_new,
        1
    );
}

#[test]
fn under_trusted_an_endorsed_author_is_kept() {
    let (_dir, mut store) = store(Policy {
        accept: Acceptance::Trusted,
        quotas: Quotas::default(),
    });
    let (madina, ruslan) = (fixtures::author(1), fixtures::author(2));
    store.trust_add(&madina.public(), "Мадина").unwrap();
    let endorsement = key_record(
        &madina,
        1,
        None,
        RecordKind::KeyEndorsement,
        Details::KeyEndorsement {
            key: ruslan.public(),
            name: "Руслан".into(),
            since_ms: 0,
        },
    );
    let by_ruslan = fixtures::chain(&ruslan, 1, 40).remove(0);
    let report = import(&mut store, &[endorsement, by_ruslan.clone()]);
    assert_eq!(report.records_new, 2);
    assert!(report.declined.is_empty());
}

#[test]
fn a_flood_of_100000_records_from_one_unknown_key_stays_within_its_quota() {
    let (_dir, mut store) = store(Policy {
        accept: Acceptance::Open,
        quotas: Quotas {
            records_per_hour: Some(1_000),
            bytes_per_author: None,
            unknown_per_hour: None,
        },
    });
    let flooder = fixtures::author(66);
    let mut records = fixtures::chain(&flooder, 100_000, 0);
    let honest = fixtures::chain(&fixtures::author(1), 3, 200);
    // The honest records come last, behind the whole flood.
    records.extend(honest.iter().cloned());
    let report = import(&mut store, &records);
    assert!(report.is_clean());
    assert_eq!(report.sender_fault(), None);
    assert_eq!(report.records_new, 1_003);
    assert_eq!(report.declined, vec![(Declined::OverHourlyQuota, 99_000)]);
    for record in &honest {
        assert!(store.get(&record.id()).is_ok());
    }
    assert_eq!(store.record_count().unwrap(), 1_003);
    // Offered again within the hour: nothing more is kept or fetched.
    let report = import(&mut store, &records[..2_000]);
    assert_eq!(report.records_new, 0);
    assert_eq!(report.declined, vec![(Declined::OverHourlyQuota, 1_000)]);
}

#[test]
fn an_unknown_author_over_its_bytes_is_declined_and_a_trusted_one_is_not() {
    let (_dir, mut store) = store(Policy {
        accept: Acceptance::Open,
        quotas: Quotas {
            records_per_hour: None,
            bytes_per_author: Some(20_000),
            unknown_per_hour: None,
        },
    });
    let (stranger, friend) = (fixtures::author(2), fixtures::author(3));
    store.trust_add(&friend.public(), "друг").unwrap();
    let big = fixtures::chain(&stranger, 10, 4_000);
    let report = import(&mut store, &big);
    let kept = report.records_new;
    assert!((2..10).contains(&kept), "kept {kept}");
    assert_eq!(report.declined, vec![(Declined::OverByteQuota, 10 - kept)]);
    let report = import(&mut store, &fixtures::chain(&friend, 10, 4_000));
    assert_eq!(report.records_new, 10, "no quota for a trusted author");
}

#[test]
fn the_policy_is_kept_in_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        accept: Acceptance::Trusted,
        quotas: Quotas {
            records_per_hour: Some(5),
            bytes_per_author: None,
            unknown_per_hour: None,
        },
    };
    {
        let mut store = Store::open(dir.path(), &test_key()).unwrap();
        assert_eq!(store.policy().unwrap(), Policy::default());
        store.set_policy(&policy).unwrap();
    }
    let store = Store::open(dir.path(), &test_key()).unwrap();
    assert_eq!(store.policy().unwrap(), policy);
}

#[test]
fn a_revocation_is_kept_whatever_the_policy() {
    let (_dir, mut store) = store(Policy {
        accept: Acceptance::Trusted,
        quotas: Quotas::default(),
    });
    let stranger = fixtures::author(2);
    let revocation = key_record(
        &stranger,
        1,
        None,
        RecordKind::KeyRevocation,
        Details::KeyRevocation {
            since_ms: None,
            reason: String::new(),
        },
    );
    let report = import(&mut store, std::slice::from_ref(&revocation));
    assert_eq!(report.records_new, 1);
    assert!(report.declined.is_empty());
}

#[test]
fn a_flood_spread_over_many_keys_stays_within_the_shared_quota() {
    let (_dir, mut store) = store(Policy {
        accept: Acceptance::Open,
        quotas: Quotas {
            records_per_hour: Some(1_000),
            bytes_per_author: None,
            unknown_per_hour: Some(250),
        },
    });
    let friend = fixtures::author(1);
    store.trust_add(&friend.public(), "друг").unwrap();
    // Ten throwaway keys, each well within its own quota.
    let mut flood = Vec::new();
    for seed in 50..60 {
        flood.extend(fixtures::chain(&fixtures::author(seed), 40, 0));
    }
    let report = import(&mut store, &flood);
    assert_eq!(report.records_new, 250);
    assert_eq!(report.declined, vec![(Declined::OverSharedQuota, 150)]);
    // Counted across imports within the hour; a trusted author is not counted at all.
    let more = fixtures::chain(&fixtures::author(70), 5, 0);
    assert_eq!(import(&mut store, &more).records_new, 0);
    let honest = fixtures::chain(&friend, 5, 0);
    assert_eq!(import(&mut store, &honest).records_new, 5);
}

#[test]
fn quotas_are_counted_the_same_over_many_small_imports_as_over_one() {
    let quotas = Quotas {
        records_per_hour: Some(7),
        bytes_per_author: Some(20_000),
        unknown_per_hour: None,
    };
    let policy = Policy {
        accept: Acceptance::Open,
        quotas,
    };
    let stranger = fixtures::author(2);
    let big = fixtures::chain(&stranger, 10, 4_000);
    let small = fixtures::chain(&fixtures::author(3), 10, 0);

    let (_at_once_dir, mut at_once) = store(policy);
    let big_at_once = import(&mut at_once, &big).records_new;
    let small_at_once = import(&mut at_once, &small).records_new;
    assert!((2..10).contains(&big_at_once), "kept {big_at_once}");
    assert_eq!(small_at_once, 7, "the hourly quota");

    // A catch-up over a link arrives as many small bundles: the archive's counters must
    // carry each author's usage from one to the next.
    let (_one_by_one_dir, mut one_by_one) = store(policy);
    let big_one_by_one: u64 = big
        .iter()
        .map(|r| import(&mut one_by_one, std::slice::from_ref(r)).records_new)
        .sum();
    let small_one_by_one: u64 = small
        .iter()
        .map(|r| import(&mut one_by_one, std::slice::from_ref(r)).records_new)
        .sum();
    assert_eq!(big_one_by_one, big_at_once);
    assert_eq!(small_one_by_one, small_at_once);
    let report = import(&mut one_by_one, &big);
    assert_eq!(report.records_new, 0);
    assert_eq!(
        report.declined,
        vec![(Declined::OverByteQuota, 10 - big_at_once)]
    );
}

#[test]
fn the_counters_survive_reopening_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        accept: Acceptance::Open,
        quotas: Quotas {
            records_per_hour: Some(5),
            bytes_per_author: None,
            unknown_per_hour: None,
        },
    };
    let records = fixtures::chain(&fixtures::author(2), 8, 0);
    {
        let mut store = Store::open(dir.path(), &test_key()).unwrap();
        store.set_policy(&policy).unwrap();
        assert_eq!(import(&mut store, &records[..3]).records_new, 3);
    }
    let mut store = Store::open(dir.path(), &test_key()).unwrap();
    let report = import(&mut store, &records[3..]);
    assert_eq!(report.records_new, 2);
    assert_eq!(report.declined, vec![(Declined::OverHourlyQuota, 3)]);
}
