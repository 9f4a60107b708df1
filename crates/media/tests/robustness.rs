//! Damaged and hostile input: truncated and mutated copies of valid files, and random
//! bytes, must give an answer (cleaned, unsupported, not media, or an error), never a
//! panic; and whatever comes out cleaned must clean again to itself.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::LazyLock;

use common::*;
use proptest::prelude::*;
use qoima_media::{Format, MediaError, Outcome, strip};

/// One valid file of each format this crate cleans.
static SAMPLES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    vec![
        jpeg(false, true, &jpeg_metadata(Some(6))),
        jpeg(true, false, &jpeg_metadata(None)),
        png(&png_metadata(Some(3))),
        mp4(),
        heic(),
    ]
});

/// Strips `bytes` and checks the promises that hold for any input.
fn check(bytes: &[u8]) {
    match strip(bytes) {
        Ok(Outcome::Stripped(cleaned)) => {
            if cleaned.removed.is_empty() {
                assert_eq!(cleaned.bytes, bytes);
            }
            if matches!(cleaned.format, Format::Heif | Format::Mp4) {
                assert_eq!(
                    cleaned.bytes.len(),
                    bytes.len(),
                    "in place changed the length"
                );
            }
            // Cleaning what came out finds nothing more.
            match strip(&cleaned.bytes) {
                Ok(Outcome::Stripped(again)) => {
                    assert_eq!(again.removed, [], "a second pass found more");
                }
                other => panic!("a cleaned file no longer cleans: {other:?}"),
            }
        }
        Ok(Outcome::Unsupported { .. } | Outcome::NotMedia) => {}
        Err(MediaError::Malformed { why, .. }) => assert!(!why.is_empty()),
        Err(err @ MediaError::TooLarge { .. }) => panic!("small input refused: {err}"),
    }
}

/// Box sizes and segment lengths are where parsers break: overwrite one 32-bit field
/// at `at` with a hostile value.
fn hostile_u32(file: &[u8], at: usize, value: u32) -> Vec<u8> {
    let mut file = file.to_vec();
    if file.len() >= 4 {
        let at = at % (file.len() - 3);
        file[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }
    file
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn truncated_files_never_panic(sample in 0..5usize, cut in any::<prop::sample::Index>()) {
        let file = &SAMPLES[sample];
        check(&file[..cut.index(file.len() + 1)]);
    }

    #[test]
    fn mutated_files_never_panic(
        sample in 0..5usize,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut file = SAMPLES[sample].clone();
        for (at, byte) in flips {
            let at = at.index(file.len());
            file[at] = byte;
        }
        check(&file);
    }

    #[test]
    fn hostile_lengths_never_panic(
        sample in 0..5usize,
        at in any::<usize>(),
        value in prop_oneof![
            Just(0u32), Just(1), Just(7), Just(8), Just(0xFFFF), Just(0x7FFF_FFFF),
            Just(u32::MAX), any::<u32>(),
        ],
    ) {
        check(&hostile_u32(&SAMPLES[sample], at, value));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_signature_never_panic(
        signature in prop::sample::select(vec![
            &b"\xFF\xD8\xFF"[..],
            b"\x89PNG\r\n\x1a\n",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            b"\0\0\0\x14ftypisom\0\0\0\0isom",
        ]),
        rest in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        check(&[signature, &rest].concat());
    }
}

#[test]
fn nested_boxes_with_huge_and_zero_sizes_are_errors() {
    let ftyp = bx(b"ftyp", b"isom\0\0\0\0isom");
    for moov_contents in [
        // A child claiming 4 GiB inside a small box.
        [&u32::MAX.to_be_bytes()[..], b"udta"].concat(),
        // A 64-bit size larger than any file.
        [&1u32.to_be_bytes()[..], b"udta", &u64::MAX.to_be_bytes()].concat(),
        // Size zero is "to the end of the file", allowed only at the top.
        [&0u32.to_be_bytes()[..], b"udta"].concat(),
        // Smaller than its own header.
        [&3u32.to_be_bytes()[..], b"trak"].concat(),
    ] {
        let file = [ftyp.clone(), bx(b"moov", &moov_contents)].concat();
        assert!(
            matches!(
                strip(&file),
                Err(MediaError::Malformed {
                    format: Format::Mp4,
                    ..
                })
            ),
            "{moov_contents:02X?}"
        );
    }
}
