//! Version 2 of the record format: records about keys and sealed parts, and the promise
//! that every version 1 record keeps its bytes.

use qoima_core::fixtures::{self, FixtureRng};
use qoima_core::{
    ContentKey, Details, Place, RECORD_FORMAT_V2, RECORD_FORMAT_VERSION, RecordError, RecordKind,
    SEAL_SUITE_HPKE_X25519_CHACHA, SealError, Sealed, SealedContent, SealedRecipient,
    SealingSecret, VerifiedRecord, encoding::encode, open_sealed, seal,
};

fn field_error(body: &qoima_core::RecordBody, secret: &qoima_core::AuthorSecret) -> String {
    match VerifiedRecord::sign(body, secret) {
        Err(RecordError::Field(why)) => why,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn secret(n: u8) -> SealingSecret {
    SealingSecret::from_seed([n; 32])
}

fn key() -> ContentKey {
    ContentKey::random(&mut FixtureRng::new("content key"))
}

fn content() -> SealedContent {
    SealedContent {
        title: String::new(),
        text: "Свидетель: Айгерим Н., +7 701 000 00 00".into(),
        place: Some(Place {
            name: "ул. Толе би 59, кв. 12".into(),
            point: None,
        }),
        details: Details::None,
        attachments: Vec::new(),
    }
}

#[test]
fn a_record_that_needs_nothing_new_is_still_written_as_version_1() {
    let a = fixtures::author(1);
    let body = fixtures::body(&a, 1, None, "text");
    assert_eq!(body.needed_version(), RECORD_FORMAT_VERSION);
    let record = VerifiedRecord::sign(&body, &a).unwrap();
    // Version 1 bytes have no trailing `sealed`: the encoding ends with the consent.
    assert_eq!(record.bytes().len() - 64, encode(&body).len());
    let mut as_v2 = body.clone();
    as_v2.version = RECORD_FORMAT_V2;
    assert_eq!(encode(&as_v2).len(), encode(&body).len() + 1);
    // A version 2 spelling of the same body is valid too, and a different record.
    let v2 = VerifiedRecord::sign(&as_v2, &a).unwrap();
    assert_ne!(v2.id(), record.id());
}

#[test]
fn records_about_keys_need_version_2_and_their_own_details() {
    let a = fixtures::author(1);
    let c = fixtures::author(3);
    let endorsement = fixtures::key_record(
        &a,
        1,
        None,
        RecordKind::KeyEndorsement,
        Details::KeyEndorsement {
            key: c.public(),
            name: "Мадина".into(),
            since_ms: 1_641_000_000_000,
        },
    );
    assert_eq!(endorsement.body().version, RECORD_FORMAT_V2);
    let again = VerifiedRecord::from_bytes(endorsement.bytes().to_vec()).unwrap();
    assert_eq!(again.body(), endorsement.body());

    let mut v1 = endorsement.body().clone();
    v1.version = RECORD_FORMAT_VERSION;
    assert_eq!(
        field_error(&v1, &a),
        "a key_endorsement record with these details needs format version 2, not 1"
    );
    let mut itself = endorsement.body().clone();
    itself.details = Details::KeyEndorsement {
        key: a.public(),
        name: "me".into(),
        since_ms: 0,
    };
    assert_eq!(field_error(&itself, &a), "a key cannot endorse itself");
    let mut wrong_kind = endorsement.body().clone();
    wrong_kind.kind = RecordKind::Testimony;
    assert_eq!(
        field_error(&wrong_kind, &a),
        "a testimony record has the details of another kind"
    );
    let mut bare = endorsement.body().clone();
    bare.details = Details::None;
    assert_eq!(
        field_error(&bare, &a),
        "a key_endorsement record has the details of another kind"
    );
    let mut nameless = endorsement.body().clone();
    nameless.details = Details::KeyEndorsement {
        key: c.public(),
        name: "  ".into(),
        since_ms: 0,
    };
    assert_eq!(
        field_error(&nameless, &a),
        "an endorsement names the key's holder"
    );
    let mut weak = endorsement.body().clone();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    weak.details = Details::KeyEndorsement {
        key: qoima_core::AuthorKey(identity),
        name: "weak".into(),
        since_ms: 0,
    };
    assert_eq!(
        field_error(&weak, &a),
        "the endorsed key is not a valid Ed25519 public key"
    );
}

#[test]
fn a_sealed_part_opens_for_each_recipient_and_for_nobody_else() {
    let a = fixtures::author(1);
    let (ngo, lawyer, stranger) = (secret(10), secret(11), secret(12));
    let mut rng = FixtureRng::new("seal");
    let sealed = seal(
        &content(),
        &a.public(),
        &[ngo.public(), lawyer.public()],
        &key(),
        &mut rng,
    )
    .unwrap();
    assert_eq!(sealed.recipients.len(), 2);
    let mut body = fixtures::body(&a, 1, None, "public text");
    body.sealed = Some(sealed);
    body.version = body.needed_version();
    assert_eq!(body.version, RECORD_FORMAT_V2);
    let record = VerifiedRecord::sign(&body, &a).unwrap();
    let record = VerifiedRecord::from_bytes(record.into_bytes()).unwrap();
    let sealed = record.body().sealed.as_ref().unwrap();
    for reader in [&ngo, &lawyer] {
        assert_eq!(
            open_sealed(sealed, &a.public(), reader)
                .unwrap()
                .map(|(c, _)| c),
            Some(content())
        );
    }
    assert_eq!(open_sealed(sealed, &a.public(), &stranger).unwrap(), None);
    // The marker is nowhere in the signed bytes.
    let bytes = record.bytes();
    assert!(!bytes.windows(7).any(|w| w == "Айг".as_bytes()));
}

#[test]
fn a_sealed_part_lifted_into_another_authors_record_does_not_open() {
    let (a, b) = (fixtures::author(1), fixtures::author(2));
    let ngo = secret(10);
    let sealed = seal(
        &content(),
        &a.public(),
        &[ngo.public()],
        &key(),
        &mut FixtureRng::new("lift"),
    )
    .unwrap();
    assert_eq!(open_sealed(&sealed, &b.public(), &ngo).unwrap(), None);
}

#[test]
fn a_damaged_sealed_content_is_named_as_damaged_for_its_recipient() {
    let a = fixtures::author(1);
    let ngo = secret(10);
    let mut sealed = seal(
        &content(),
        &a.public(),
        &[ngo.public()],
        &key(),
        &mut FixtureRng::new("damage"),
    )
    .unwrap();
    sealed.ciphertext[3] ^= 1;
    assert_eq!(
        open_sealed(&sealed, &a.public(), &ngo),
        Err(SealError::Damaged(
            "the content does not authenticate".into()
        ))
    );
}

#[test]
fn an_unknown_suite_is_carried_unread_and_a_known_one_must_have_its_lengths() {
    let a = fixtures::author(1);
    let ngo = secret(10);
    let mut body = fixtures::body(&a, 1, None, "public");
    body.version = RECORD_FORMAT_V2;
    body.sealed = Some(Sealed {
        recipients: vec![SealedRecipient {
            suite: 77,
            enc: vec![7; 1088],
            wrapped_key: vec![1; 48],
        }],
        ciphertext: vec![0; 40],
    });
    assert_eq!(
        field_error(&body, &a),
        "a sealed recipient entry over 256 bytes"
    );
    body.sealed.as_mut().unwrap().recipients[0].enc = vec![7; 200];
    let record = VerifiedRecord::sign(&body, &a).unwrap();
    let record = VerifiedRecord::from_bytes(record.into_bytes()).unwrap();
    assert_eq!(
        open_sealed(record.body().sealed.as_ref().unwrap(), &a.public(), &ngo).unwrap(),
        None
    );
    body.sealed.as_mut().unwrap().recipients[0].suite = SEAL_SUITE_HPKE_X25519_CHACHA;
    assert_eq!(
        field_error(&body, &a),
        "a sealed recipient entry of the wrong length for its suite"
    );
    body.sealed.as_mut().unwrap().recipients.clear();
    assert_eq!(field_error(&body, &a), "a sealed part without recipients");
}

#[test]
fn sealing_refuses_what_it_cannot_do() {
    let a = fixtures::author(1);
    let mut rng = FixtureRng::new("refuse");
    assert_eq!(
        seal(&content(), &a.public(), &[], &key(), &mut rng),
        Err(SealError::NoRecipients)
    );
    let many: Vec<_> = (0..17).map(|n| secret(n).public()).collect();
    assert_eq!(
        seal(&content(), &a.public(), &many, &key(), &mut rng),
        Err(SealError::TooManyRecipients(17))
    );
    let mut key_details = content();
    key_details.details = Details::KeyRevocation {
        since_ms: None,
        reason: String::new(),
    };
    assert!(matches!(
        seal(
            &key_details,
            &a.public(),
            &[secret(1).public()],
            &key(),
            &mut rng
        ),
        Err(SealError::Field(_))
    ));
}
