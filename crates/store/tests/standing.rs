//! Records about records and keys: retractions delete their author's record and keep a
//! tombstone, revocations make later records suspect, endorsements make keys endorsed.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

mod common;

use common::test_key;
use qoima_core::fixtures::{self, key_record};
use qoima_core::{
    AuthorKey, AuthorSecret, Details, Link, LinkKind, RecordId, RecordKind, VerifiedRecord,
};
use qoima_store::{AttachmentState, AuthorTrust, Source, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &test_key()).unwrap();
    (dir, store)
}

fn import(store: &mut Store, records: &[VerifiedRecord], blobs: &[&[u8]]) -> u64 {
    let bundle = fixtures::bundle(&fixtures::author(99), records, blobs);
    let report = store
        .import_bundle(&bundle[..], Source::File("t.qb".into()))
        .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    report.records_new
}

/// A retraction by `author` (its record `seq`, after `prev`) of `target`.
fn retraction(
    author: &AuthorSecret,
    seq: u64,
    prev: Option<RecordId>,
    target: RecordId,
    created_ms: Option<i64>,
) -> VerifiedRecord {
    let mut body = fixtures::body(author, seq, prev, "withdrawn");
    body.kind = RecordKind::Retraction;
    body.details = Details::None;
    body.links = vec![Link {
        kind: LinkKind::Retracts,
        target,
    }];
    if let Some(ms) = created_ms {
        body.created.unix_ms = ms;
    }
    VerifiedRecord::sign(&body, author).unwrap()
}

fn revocation(
    author: &AuthorSecret,
    seq: u64,
    prev: Option<RecordId>,
    since: i64,
) -> VerifiedRecord {
    key_record(
        author,
        seq,
        prev,
        RecordKind::KeyRevocation,
        Details::KeyRevocation {
            since_ms: Some(since),
            reason: "seized at a checkpoint".into(),
        },
    )
}

fn endorsement(author: &AuthorSecret, seq: u64, of: &AuthorSecret, name: &str) -> VerifiedRecord {
    key_record(
        author,
        seq,
        None,
        RecordKind::KeyEndorsement,
        Details::KeyEndorsement {
            key: of.public(),
            name: name.into(),
            since_ms: 0,
        },
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Waits (on the clock itself, with a deadline) until the wall clock has passed `ms`.
fn clock_past(ms: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while now_ms() <= ms {
        assert!(
            std::time::Instant::now() < deadline,
            "the clock stands still"
        );
        std::thread::yield_now();
    }
}

#[test]
fn an_authors_retraction_deletes_the_record_and_its_attachment_and_keeps_a_tombstone() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let photo = b"the photo that identifies a witness".repeat(100);
    let mut body = fixtures::body(&a, 1, None, "testimony with a photo");
    body.attachments = vec![fixtures::attachment(&photo, "image/jpeg", "p.jpg")];
    let record = VerifiedRecord::sign(&body, &a).unwrap();
    import(&mut store, std::slice::from_ref(&record), &[&photo]);
    let hash = record.body().attachments[0].blake3;
    assert_eq!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Present
    );

    let retract = retraction(&a, 2, Some(record.id()), record.id(), None);
    import(&mut store, std::slice::from_ref(&retract), &[]);

    assert!(store.get(&record.id()).is_err(), "the record is deleted");
    assert!(store.is_retracted(&record.id()).unwrap());
    assert_eq!(
        store.attachment_state(&hash).unwrap(),
        AttachmentState::Missing
    );
    assert!(
        store.read_blob(&hash).unwrap().is_none(),
        "the file is gone"
    );
    assert!(
        store.get(&retract.id()).is_ok(),
        "the retraction is kept and carried"
    );
    // Held as a tombstone: not fetched again, and its id stays in the index.
    assert!(store.missing(&[record.id()]).unwrap().is_empty());
    assert!(
        store
            .index_entries()
            .unwrap()
            .iter()
            .any(|(_, id)| *id == record.id().0)
    );
    // Offered again (a peer or a stick that still has it), it is not stored.
    assert_eq!(
        import(&mut store, std::slice::from_ref(&record), &[&photo]),
        0
    );
    assert!(store.get(&record.id()).is_err());
    assert_eq!(store.search("testimony", 10).unwrap().len(), 0);
}

#[test]
fn a_retraction_by_another_key_changes_nothing() {
    let (_dir, mut store) = store();
    let (a, b) = (fixtures::author(1), fixtures::author(2));
    let record = fixtures::chain(&a, 1, 50).remove(0);
    import(&mut store, std::slice::from_ref(&record), &[]);
    let forged = retraction(&b, 1, None, record.id(), None);
    assert_eq!(import(&mut store, std::slice::from_ref(&forged), &[]), 1);
    assert!(store.get(&record.id()).is_ok());
    assert!(!store.is_retracted(&record.id()).unwrap());
    assert!(store.get(&forged.id()).is_ok(), "carried as a record");
}

#[test]
fn a_retraction_that_arrives_first_keeps_its_record_out_but_only_its_authors() {
    let (_dir, mut store) = store();
    let (a, b) = (fixtures::author(1), fixtures::author(2));
    let records = fixtures::chain(&a, 2, 50);
    let by_author = retraction(&a, 3, Some(records[1].id()), records[0].id(), None);
    let by_other = retraction(&b, 1, None, records[1].id(), None);
    import(&mut store, &[by_author, by_other], &[]);
    import(&mut store, &records, &[]);
    assert!(store.get(&records[0].id()).is_err());
    assert!(store.is_retracted(&records[0].id()).unwrap());
    assert!(
        store.get(&records[1].id()).is_ok(),
        "B cannot retract A's record"
    );
}

#[test]
fn a_retraction_signed_after_the_revocation_deletes_nothing() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let records = fixtures::chain(&a, 1, 50);
    import(&mut store, &records, &[]);
    let since = now_ms() - 1000;
    import(
        &mut store,
        &[revocation(&a, 2, Some(records[0].id()), since)],
        &[],
    );
    assert_eq!(
        store.author_trust(&a.public()).unwrap(),
        AuthorTrust::Revoked { since_ms: since }
    );
    // The seized key signs a retraction "now": after the revocation, so it is suspect.
    let forced = retraction(
        &a,
        3,
        Some(records[0].id()),
        records[0].id(),
        Some(since + 10),
    );
    import(&mut store, std::slice::from_ref(&forced), &[]);
    assert!(store.get(&records[0].id()).is_ok(), "nothing deleted");
    assert!(!store.is_retracted(&records[0].id()).unwrap());
}

#[test]
fn records_after_a_revocation_are_suspect_and_those_seen_before_keep_their_standing() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let mut early = fixtures::body(&a, 1, None, "seen before the revocation");
    // It even claims a time after the revocation (a wrong clock): seen first, it stands.
    early.created.unix_ms = now_ms() + 3_600_000;
    let early = VerifiedRecord::sign(&early, &a).unwrap();
    import(&mut store, std::slice::from_ref(&early), &[]);
    let since = now_ms() + 1;
    clock_past(since);
    let mut late = fixtures::body(&a, 2, Some(early.id()), "after the seizure");
    late.created.unix_ms = since + 5;
    let late = VerifiedRecord::sign(&late, &a).unwrap();
    let mut backdated = fixtures::body(&a, 3, Some(late.id()), "claims an earlier time");
    backdated.created.unix_ms = since - 86_400_000;
    let backdated = VerifiedRecord::sign(&backdated, &a).unwrap();
    import(
        &mut store,
        &[
            revocation(&a, 4, Some(backdated.id()), since),
            late.clone(),
            backdated.clone(),
        ],
        &[],
    );
    let standing = |r: &VerifiedRecord| {
        let stored = store.get(&r.id()).unwrap();
        store
            .is_suspect(&a.public(), r.body().created.unix_ms, stored.stored_ms)
            .unwrap()
    };
    assert!(!standing(&early));
    assert!(standing(&late));
    // Claiming a time before the revocation is what a backdating key would do; the
    // rule judges by the claimed time, so it is not marked (THREAT_MODEL.md says so).
    assert!(!standing(&backdated));
}

#[test]
fn a_revocation_cannot_be_retracted() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let revoke = revocation(&a, 1, None, now_ms() + 3_600_000);
    import(&mut store, std::slice::from_ref(&revoke), &[]);
    import(
        &mut store,
        &[retraction(&a, 2, Some(revoke.id()), revoke.id(), None)],
        &[],
    );
    assert!(store.get(&revoke.id()).is_ok());
    assert!(matches!(
        store.author_trust(&a.public()).unwrap(),
        AuthorTrust::Revoked { .. }
    ));
}

#[test]
fn an_endorsement_chain_from_a_trusted_key_makes_a_key_endorsed_and_loops_end() {
    let (_dir, mut store) = store();
    let (madina, ruslan, dana, stranger) = (
        fixtures::author(1),
        fixtures::author(2),
        fixtures::author(3),
        fixtures::author(4),
    );
    // Madina (trusted here) vouches for Ruslan, Ruslan for Dana; Dana and the stranger
    // vouch for each other (a loop with no trusted key in it).
    import(
        &mut store,
        &[
            endorsement(&madina, 1, &ruslan, "Руслан"),
            endorsement(&ruslan, 1, &dana, "Дана"),
            endorsement(&dana, 1, &stranger, "Stranger"),
            endorsement(&stranger, 1, &dana, "Dana"),
        ],
        &[],
    );
    assert_eq!(
        store.author_trust(&dana.public()).unwrap(),
        AuthorTrust::Unknown
    );
    store.trust_add(&madina.public(), "Мадина").unwrap();
    assert_eq!(
        store.author_trust(&ruslan.public()).unwrap(),
        AuthorTrust::Endorsed {
            name: "Руслан".into(),
            by: "Мадина".into(),
            hops: 1
        }
    );
    assert_eq!(
        store.author_trust(&dana.public()).unwrap(),
        AuthorTrust::Endorsed {
            name: "Дана".into(),
            by: "Мадина".into(),
            hops: 2
        }
    );
    assert_eq!(
        store.author_trust(&stranger.public()).unwrap(),
        AuthorTrust::Endorsed {
            name: "Stranger".into(),
            by: "Мадина".into(),
            hops: 3
        }
    );
}

#[test]
fn endorsed_keys_are_listed_with_who_vouches_and_go_with_that_trust() {
    let (_dir, mut store) = store();
    let (madina, ruslan, dana) = (
        fixtures::author(1),
        fixtures::author(2),
        fixtures::author(3),
    );
    import(
        &mut store,
        &[
            endorsement(&madina, 1, &ruslan, "Руслан"),
            endorsement(&ruslan, 1, &dana, "Дана"),
        ],
        &[],
    );
    assert!(store.endorsed_keys().unwrap().is_empty());
    store.trust_add(&madina.public(), "Мадина").unwrap();
    let listed: Vec<(AuthorKey, String, String, u32)> = store
        .endorsed_keys()
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.name, e.by, e.hops))
        .collect();
    assert_eq!(
        listed,
        [
            (dana.public(), "Дана".into(), "Мадина".into(), 2),
            (ruslan.public(), "Руслан".into(), "Мадина".into(), 1),
        ]
    );
    // Trusted directly, a key leaves the endorsed list and vouches in its own name.
    store.trust_add(&ruslan.public(), "Руслан Б.").unwrap();
    let listed = store.endorsed_keys().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].key, listed[0].by.as_str(), listed[0].hops),
        (dana.public(), "Руслан Б.", 1)
    );
    // Without the trust that started them, the chains vouch for nobody.
    store.trust_remove(&ruslan.public()).unwrap();
    store.trust_remove(&madina.public()).unwrap();
    assert!(store.endorsed_keys().unwrap().is_empty());
}

#[test]
fn endorsements_a_key_makes_after_its_revocation_count_for_nothing() {
    let (_dir, mut store) = store();
    let (madina, ruslan, forged) = (
        fixtures::author(1),
        fixtures::author(2),
        fixtures::author(3),
    );
    store.trust_add(&madina.public(), "Мадина").unwrap();
    import(
        &mut store,
        &[endorsement(&madina, 1, &ruslan, "Руслан")],
        &[],
    );
    let since = now_ms() - 1;
    import(&mut store, &[revocation(&ruslan, 1, None, since)], &[]);
    // The seized key vouches for a planted key.
    let mut planted = fixtures::body(&ruslan, 2, Some(RecordId::of(b"before")), "");
    planted.kind = RecordKind::KeyEndorsement;
    planted.details = Details::KeyEndorsement {
        key: forged.public(),
        name: "agent".into(),
        since_ms: since,
    };
    // Backdated to before the revocation: first seen after it all the same.
    planted.created.unix_ms = since - 86_400_000;
    planted.version = planted.needed_version();
    planted.title = "e".into();
    planted.tags.clear();
    import(
        &mut store,
        &[VerifiedRecord::sign(&planted, &ruslan).unwrap()],
        &[],
    );
    assert_eq!(
        store.author_trust(&forged.public()).unwrap(),
        AuthorTrust::Unknown
    );
}

#[test]
fn a_revocation_arriving_later_undoes_the_retractions_its_key_made_after_its_time() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let records = fixtures::chain(&a, 1, 50);
    import(&mut store, &records, &[]);
    let seized_at = now_ms() - 60_000;
    // The seized key retracts the record before the owner's revocation gets here.
    let forced = retraction(&a, 2, Some(records[0].id()), records[0].id(), None);
    import(&mut store, std::slice::from_ref(&forced), &[]);
    assert!(store.is_retracted(&records[0].id()).unwrap());
    import(
        &mut store,
        &[revocation(&a, 3, Some(forced.id()), seized_at)],
        &[],
    );
    // The tombstone is gone: a peer that kept the record can give it back.
    assert!(!store.is_retracted(&records[0].id()).unwrap());
    assert_eq!(
        store.missing(&[records[0].id()]).unwrap(),
        vec![records[0].id()]
    );
    assert_eq!(import(&mut store, &records, &[]), 1);
    assert!(store.get(&records[0].id()).is_ok());
}

#[test]
fn a_revocation_reaches_back_at_most_thirty_days() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let before = now_ms();
    import(&mut store, &[revocation(&a, 1, None, 0)], &[]);
    let AuthorTrust::Revoked { since_ms } = store.author_trust(&a.public()).unwrap() else {
        panic!("revoked");
    };
    let reach = 30 * 24 * 3600 * 1000;
    assert!(
        since_ms >= before - reach && since_ms <= now_ms() - reach + 1000,
        "{since_ms}"
    );
}

#[test]
fn a_record_retracted_on_arrival_is_not_counted_as_new() {
    let (_dir, mut store) = store();
    let a = fixtures::author(1);
    let records = fixtures::chain(&a, 2, 50);
    import(
        &mut store,
        &[retraction(
            &a,
            3,
            Some(records[1].id()),
            records[0].id(),
            None,
        )],
        &[],
    );
    assert_eq!(
        import(&mut store, &records, &[]),
        1,
        "only the one not retracted"
    );
}

#[test]
fn the_key_to_seal_to_is_the_last_one_seen_and_never_one_seen_after_a_revocation() {
    use qoima_core::SealingSecret;
    let (_dir, mut store) = store();
    let ngo = fixtures::author(5);
    let key_record_of = |seq: u64, prev, seed: u8, created: i64| {
        let mut body = fixtures::body(&ngo, seq, prev, "");
        body.kind = RecordKind::EncryptionKey;
        body.details = Details::EncryptionKey {
            x25519: SealingSecret::from_seed([seed; 32]).public(),
        };
        body.created.unix_ms = created;
        body.tags.clear();
        body.occurred = None;
        body.version = body.needed_version();
        VerifiedRecord::sign(&body, &ngo).unwrap()
    };
    // A key record dated far in the future arrives first; the real one after it.
    let future = key_record_of(1, None, 1, now_ms() + 10 * 365 * 86_400_000);
    import(&mut store, std::slice::from_ref(&future), &[]);
    let real = key_record_of(2, Some(future.id()), 2, now_ms());
    import(&mut store, std::slice::from_ref(&real), &[]);
    assert_eq!(
        store.sealing_key_of(&ngo.public()).unwrap(),
        Some(SealingSecret::from_seed([2; 32]).public())
    );
    // After a revocation, a newer key record from the seized key is passed over.
    let since = now_ms() + 1;
    clock_past(since);
    import(
        &mut store,
        &[revocation(&ngo, 3, Some(real.id()), since)],
        &[],
    );
    let planted = key_record_of(4, Some(real.id()), 3, since - 1);
    import(&mut store, std::slice::from_ref(&planted), &[]);
    assert_eq!(
        store.sealing_key_of(&ngo.public()).unwrap(),
        Some(SealingSecret::from_seed([2; 32]).public())
    );
}
