//! Tests across modules: records through bundles, tampering, and decoders fed garbage.

use proptest::prelude::*;

use crate::bundle::{BundleError, BundleReader, Item, ItemError};
use crate::fixtures;
use crate::{RecordError, VerifiedRecord};

/// Reads a whole bundle, returning per-item results (true = good) or the fatal error.
fn read_all(bytes: &[u8]) -> Result<Vec<bool>, BundleError> {
    let mut reader = BundleReader::open(bytes)?;
    let mut results = Vec::new();
    while let Some(item) = reader.next_item()? {
        match item {
            Item::Record { bytes, id, .. } => results.push(
                bytes
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        VerifiedRecord::from_bytes_with_id(b, id).map_err(|e| e.to_string())
                    })
                    .is_ok(),
            ),
            Item::Blob(blob) => results.push(blob.finish()?.is_ok()),
        }
    }
    Ok(results)
}

#[test]
fn signed_record_round_trips_and_is_named_by_its_hash() {
    let secret = fixtures::author(1);
    let record = &fixtures::chain(&secret, 1, 100)[0];
    let again = VerifiedRecord::from_bytes(record.bytes().to_vec()).unwrap();
    assert_eq!(again.id(), record.id());
    assert_eq!(again.body(), record.body());
    assert_eq!(record.id(), crate::RecordId::of(record.bytes()));
}

#[test]
fn every_flipped_bit_of_a_record_is_caught() {
    let secret = fixtures::author(1);
    let record = &fixtures::chain(&secret, 1, 40)[0];
    for byte in 0..record.bytes().len() {
        let mut bytes = record.bytes().to_vec();
        bytes[byte] ^= 0x01;
        assert!(
            VerifiedRecord::from_bytes(bytes).is_err(),
            "flip at {byte} accepted"
        );
    }
}

#[test]
fn record_naming_another_author_is_refused() {
    let (alice, mallory) = (fixtures::author(1), fixtures::author(2));
    let mut body = fixtures::body(&alice, 1, None, "x");
    assert!(matches!(
        VerifiedRecord::sign(&body, &mallory),
        Err(RecordError::WrongSigner)
    ));
    // Sign as Mallory, then swap the author field to Alice: the signature no longer fits.
    body.author = mallory.public();
    let signed = VerifiedRecord::sign(&body, &mallory).unwrap();
    let mut bytes = signed.bytes().to_vec();
    let at = bytes
        .windows(32)
        .position(|w| w == mallory.public().as_bytes())
        .unwrap();
    bytes[at..at + 32].copy_from_slice(alice.public().as_bytes());
    assert_eq!(
        VerifiedRecord::from_bytes(bytes),
        Err(RecordError::BadSignature)
    );
}

#[test]
fn bundle_round_trip_and_item_level_tampering() {
    let secret = fixtures::author(3);
    let records = fixtures::chain(&secret, 3, 200);
    let blob = vec![7u8; 300_000];
    let good = fixtures::bundle(&secret, &records, &[&blob]);
    assert_eq!(read_all(&good).unwrap(), vec![true; 4]);

    let mut reader = BundleReader::open(&good[..]).unwrap();
    assert_eq!(reader.manifest().record_count(), 3);
    let first = reader.next_item().unwrap().unwrap();
    assert!(matches!(
        first,
        Item::Record {
            index: 0,
            bytes: Ok(_),
            ..
        }
    ));

    // Flip the last byte of the first record and the last byte of the blob.
    let record_end = good.len() - blob.len() - records[1].bytes().len() - records[2].bytes().len();
    let mut bad = good.clone();
    bad[record_end - 1] ^= 0xff;
    assert_eq!(read_all(&bad).unwrap(), vec![false, true, true, true]);
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    assert_eq!(read_all(&bad).unwrap(), vec![true, true, true, false]);
}

#[test]
fn bundle_level_damage_is_fatal_and_named() {
    let secret = fixtures::author(3);
    let good = fixtures::bundle(&secret, &fixtures::chain(&secret, 2, 50), &[b"blob"]);
    let mut magic = good.clone();
    magic[0] = b'Q';
    assert!(matches!(read_all(&magic), Err(BundleError::BadMagic)));
    for cut in [5, 20, 100, good.len() - 1] {
        assert!(
            matches!(read_all(&good[..cut]), Err(BundleError::Truncated(_))),
            "cut at {cut}"
        );
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        read_all(&trailing),
        Err(BundleError::TrailingData)
    ));
    // A flip inside the manifest breaks the signature (or the encoding).
    let mut manifest = good.clone();
    manifest[crate::bundle::HEADER_LEN + 40] ^= 1;
    assert!(matches!(
        read_all(&manifest),
        Err(BundleError::BadSignature | BundleError::ManifestEncoding(_))
    ));
    let mut huge = good.clone();
    huge[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        read_all(&huge),
        Err(BundleError::ManifestTooLong(_))
    ));
}

#[test]
fn hash_mismatch_error_names_the_item() {
    let message = ItemError::HashMismatch { index: 4 }.to_string();
    assert!(message.contains("item 4"), "{message}");
}

proptest! {
    #[test]
    fn record_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = VerifiedRecord::from_bytes(bytes);
    }

    #[test]
    fn bundle_reader_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_all(&bytes);
    }

    #[test]
    fn bundle_reader_never_panics_on_mutations(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let secret = fixtures::author(4);
        let mut bytes = fixtures::bundle(&secret, &fixtures::chain(&secret, 2, 30), &[b"attachment"]);
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        let cut = cut.index(bytes.len() + 1);
        let _ = read_all(&bytes[..cut]);
    }

    #[test]
    fn any_body_round_trips(seq in 1u64..u64::MAX, text in "\\PC{0,200}", tags in proptest::collection::vec("[a-zа-яәғқңөұүһі]{1,12}", 0..5)) {
        let secret = fixtures::author(5);
        let prev = (seq > 1).then(|| crate::RecordId::of(b"prev"));
        let mut body = fixtures::body(&secret, seq, prev, &text);
        body.tags = tags;
        let record = VerifiedRecord::sign(&body, &secret).unwrap();
        let again = VerifiedRecord::from_bytes(record.bytes().to_vec()).unwrap();
        prop_assert_eq!(again.body(), &body);
    }
}

/// The pieces a time is written with, plus characters that are more than one byte in
/// UTF-8 (Latin, Cyrillic, Arabic-Indic digits, an emoji), so generated text lands
/// multi-byte characters where the parser looks at fixed positions.
const TIME_ALPHABET: &str = "[0-9TtZz:+\\-./ é١ж😀]{0,40}";

/// A draft with `text` in every free-text field, parsed from JSON and made into a body.
fn draft_from_any_text(text: &str, when: &str, lat: f64, lon: f64) {
    let json = serde_json::json!({
        "kind": "testimony",
        "title": text,
        "text": text,
        "occurred_at": when,
        "place": { "name": text, "lat": lat, "lon": lon, "radius_m": 5 },
        "lang": text,
        "tags": [text],
        "details": { "type": "testimony", "witness_ref": text, "relation": "eyewitness" },
    });
    let draft: crate::draft::RecordDraft =
        serde_json::from_value(json).expect("the documented fields");
    let _ = draft.into_body(
        crate::draft::Authorship {
            author: fixtures::author(6).public(),
            previous: None,
            created: crate::ClaimedTime {
                unix_ms: 1_641_386_096_000,
                source: crate::ClockSource::Device,
                uncertainty_s: 0,
            },
        },
        Vec::new(),
    );
}

// The parsers of text people type (`--occurred-at`, `--since`, `add --from FILE`) must
// refuse, never panic, whatever they are given. The fuzz targets `time` and `draft_json`
// (fuzz/) search the same space guided by coverage; these run on stable with every test.
proptest! {
    #[test]
    fn time_parser_never_panics_on_any_unicode(text in any::<String>()) {
        let _ = crate::TimeSpan::parse(&text);
        let _ = crate::parse_instant_ms(&text);
    }

    #[test]
    fn time_parser_never_panics_on_time_like_text(text in TIME_ALPHABET) {
        if let Ok(span) = crate::TimeSpan::parse(&text) {
            prop_assert!(span.start_ms <= span.end_ms, "{text:?}: {span:?}");
        }
        let _ = crate::parse_instant_ms(&text);
    }

    #[test]
    fn time_parser_never_panics_after_a_valid_prefix(
        prefix in prop::sample::select(vec![
            "2022", "2022-01", "2022-01-05", "2022-01-05T14", "2022-01-05T14:30",
            "2022-01-05T14:30:15", "2022-01-05T14:30:15.", "2022-01-05T14:30:15.1",
            "2022-01-05T14:30+06:", "2022-01-05/",
        ]),
        tail in any::<String>(),
    ) {
        let text = format!("{prefix}{tail}");
        let _ = crate::TimeSpan::parse(&text);
    }

    #[test]
    fn draft_parser_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(draft) = serde_json::from_slice::<crate::draft::RecordDraft>(&bytes) {
            let _ = draft.into_body(
                crate::draft::Authorship {
                    author: fixtures::author(6).public(),
                    previous: Some((u64::MAX, crate::RecordId::of(b"prev"))),
                    created: crate::ClaimedTime {
                        unix_ms: i64::MIN,
                        source: crate::ClockSource::Manual,
                        uncertainty_s: u32::MAX,
                    },
                },
                Vec::new(),
            );
        }
    }

    #[test]
    fn draft_parser_never_panics_on_any_unicode(
        text in any::<String>(),
        when in TIME_ALPHABET,
        lat in any::<f64>(),
        lon in any::<f64>(),
    ) {
        draft_from_any_text(&text, &when, lat, lon);
    }

    #[test]
    fn draft_parser_never_panics_on_any_unicode_json_text(text in any::<String>()) {
        let _ = serde_json::from_str::<crate::draft::RecordDraft>(&text);
    }
}
