//! `strip` on small real files: the metadata goes, the picture and its colours stay,
//! a clean file comes back byte for byte.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;

use common::*;
use qoima_media::{Format, MAX_INPUT, MediaError, Outcome, Removed, Stripped, strip};

fn stripped(bytes: &[u8]) -> Stripped {
    match strip(bytes) {
        Ok(Outcome::Stripped(stripped)) => stripped,
        other => panic!("expected a cleaned file, got {other:?}"),
    }
}

fn decode_jpeg(bytes: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut decoder = zune_jpeg::JpegDecoder::new(Cursor::new(bytes));
    let pixels = decoder.decode().unwrap();
    (pixels, decoder.icc_profile())
}

fn decode_png(bytes: &[u8]) -> Vec<u8> {
    match zune_png::PngDecoder::new(Cursor::new(bytes))
        .decode()
        .unwrap()
    {
        zune_png::zune_core::result::DecodingResult::U8(pixels) => pixels,
        _ => panic!("8-bit PNG expected"),
    }
}

/// Cleaning a cleaned file changes nothing and reports nothing.
fn assert_idempotent(cleaned: &Stripped) {
    let again = stripped(&cleaned.bytes);
    assert_eq!(again.removed, []);
    assert_eq!(again.bytes, cleaned.bytes);
}

#[test]
fn jpeg_loses_every_metadata_segment_and_keeps_its_colours() {
    let mut file = jpeg(false, true, &jpeg_metadata(None));
    // A second picture after the end of the image, as the Multi-Picture Format and
    // motion photos append, with its own EXIF.
    file.extend_from_slice(&jpeg(
        false,
        false,
        &[segment(0xE1, b"Exif\0\0QOIMA-SECRET-2ND")],
    ));
    assert!(contains(&file, b"QOIMA-SECRET-GPS"));

    let cleaned = stripped(&file);
    assert_eq!(cleaned.format, Format::Jpeg);
    assert!(!contains(&cleaned.bytes, SECRET), "a marked byte survived");
    assert!(contains(&cleaned.bytes, ICC));
    assert_eq!(
        &cleaned.removed[..4],
        [
            Removed::Exif { gps: true },
            Removed::Xmp,
            Removed::Iptc,
            Removed::Other {
                what: "JPEG APP2 segment \"FPXR\"".into()
            },
        ]
    );
    assert!(cleaned.removed.contains(&Removed::Comment));
    assert!(
        cleaned
            .removed
            .iter()
            .any(|r| matches!(r, Removed::TrailingData { .. }))
    );

    let (before, _) = decode_jpeg(&file);
    let (after, icc) = decode_jpeg(&cleaned.bytes);
    assert_eq!(after, before, "the picture changed");
    assert_eq!(icc.as_deref(), Some(ICC));
    assert_idempotent(&cleaned);
}

#[test]
fn jpeg_keeps_a_non_default_orientation_alone() {
    let file = jpeg(false, true, &jpeg_metadata(Some(6)));
    let cleaned = stripped(&file);
    assert_eq!(cleaned.removed[0], Removed::Exif { gps: true });
    assert!(!contains(&cleaned.bytes, SECRET));
    // The minimal block: big-endian TIFF, one entry, tag 0x0112, SHORT, value 6.
    let minimal = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    assert!(contains(&cleaned.bytes, minimal));
    decode_jpeg(&cleaned.bytes);
    assert_idempotent(&cleaned);
}

#[test]
fn progressive_jpeg_loses_metadata_between_scans() {
    let file = jpeg(true, true, &[]);
    // Before the second scan header: APP and COM segments are allowed there.
    let sos: Vec<usize> = file
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == &[0xFF, 0xDA])
        .map(|(i, _)| i)
        .collect();
    assert!(sos.len() > 1, "a progressive JPEG has several scans");
    let hidden = [
        segment(0xFE, b"QOIMA-SECRET-BETWEEN-SCANS"),
        segment(0xE1, &[&b"Exif\0\0"[..], &tiff_with_gps(None)].concat()),
    ]
    .concat();
    let file = [&file[..sos[1]], &hidden, &file[sos[1]..]].concat();

    let cleaned = stripped(&file);
    assert!(!contains(&cleaned.bytes, SECRET));
    assert_eq!(
        cleaned.removed,
        [Removed::Comment, Removed::Exif { gps: true }]
    );
    assert_eq!(decode_jpeg(&cleaned.bytes).0, decode_jpeg(&file).0);
}

#[test]
fn clean_jpeg_comes_back_unchanged() {
    let file = jpeg(false, true, &[]);
    let cleaned = stripped(&file);
    assert_eq!(cleaned.removed, []);
    assert_eq!(cleaned.bytes, file);
}

#[test]
fn png_loses_text_exif_and_time_and_keeps_its_colours() {
    let mut file = png(&png_metadata(None));
    file.extend_from_slice(b"QOIMA-SECRET-AFTER-IEND");
    let cleaned = stripped(&file);
    assert_eq!(cleaned.format, Format::Png);
    assert!(!contains(&cleaned.bytes, SECRET));
    assert_eq!(
        cleaned.removed,
        [
            Removed::Exif { gps: true },
            Removed::Text {
                keyword: "Author".into()
            },
            Removed::Text {
                keyword: "Comment".into()
            },
            Removed::Xmp,
            Removed::Timestamps,
            Removed::Other {
                what: "PNG chunk \"caBX\"".into()
            },
            Removed::TrailingData { len: 23 },
        ]
    );
    assert!(contains(&cleaned.bytes, ICC), "iCCP went");
    assert!(contains(&cleaned.bytes, b"pHYs"));
    assert_eq!(decode_png(&cleaned.bytes), decode_png(&file));
    assert_eq!(decode_png(&cleaned.bytes), pixels(4, 4));
    assert_idempotent(&cleaned);
}

#[test]
fn png_keeps_a_non_default_orientation_alone() {
    let cleaned = stripped(&png(&png_metadata(Some(8))));
    assert!(!contains(&cleaned.bytes, SECRET));
    let minimal = b"eXIfMM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x08\0\0\0\0\0\0";
    assert!(contains(&cleaned.bytes, minimal));
    assert_eq!(decode_png(&cleaned.bytes), pixels(4, 4));
    assert_idempotent(&cleaned);
}

#[test]
fn clean_png_comes_back_unchanged() {
    let file = png(&[]);
    let cleaned = stripped(&file);
    assert_eq!(cleaned.removed, []);
    assert_eq!(cleaned.bytes, file);
}

#[test]
fn mp4_is_cleaned_in_place() {
    let file = mp4();
    let cleaned = stripped(&file);
    assert_eq!(cleaned.format, Format::Mp4);
    assert_eq!(cleaned.bytes.len(), file.len(), "offsets would move");
    assert!(!contains(&cleaned.bytes, SECRET));
    assert!(!contains(&cleaned.bytes, b"ISO6709"));
    assert!(contains(&cleaned.bytes, MEDIA), "the video samples changed");
    // Each kind once: the track's `udta` without a position and the movie's with
    // one make a single "movie metadata (with GPS position)".
    assert_eq!(
        cleaned.removed,
        [
            Removed::Other {
                what: "leftover bytes in free space".into()
            },
            Removed::Timestamps,
            Removed::MovieMetadata { gps: true },
            Removed::MetadataTrack {
                kind: "gpmd".into()
            },
        ]
    );
    // The video track's sample is still where its chunk offset says.
    let at = cleaned.bytes.len() - MEDIA.len() - GPMF[0].len() - GPMF[1].len();
    assert_eq!(&cleaned.bytes[at..at + MEDIA.len()], MEDIA);
    assert_idempotent(&cleaned);
}

#[test]
fn heic_items_are_overwritten_in_place() {
    let file = heic();
    let cleaned = stripped(&file);
    assert_eq!(cleaned.format, Format::Heif);
    assert_eq!(cleaned.bytes.len(), file.len());
    assert!(!contains(&cleaned.bytes, SECRET));
    assert!(contains(&cleaned.bytes, PICTURE), "the picture changed");
    assert_eq!(cleaned.removed, [Removed::Exif { gps: true }, Removed::Xmp]);
    // Readers still find an EXIF and an XMP item, just empty ones.
    assert!(contains(
        &cleaned.bytes,
        b"\0\0\0\0MM\0*\0\0\0\x08\0\0\0\0\0\0"
    ));
    assert!(contains(
        &cleaned.bytes,
        b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>"
    ));
    assert_idempotent(&cleaned);
}

#[test]
fn formats_it_cannot_clean_are_named_not_passed() {
    let webp = b"RIFF\x1a\0\0\0WEBPVP8X\x0a\0\0\0\x08\0\0\0\0\0\0\0\0\0EXIFQOIMA-SECRET";
    assert_eq!(
        strip(webp),
        Ok(Outcome::Unsupported {
            format: Format::Other { mime: "image/webp" },
            reason: "this format's metadata cannot be removed yet",
        })
    );
    assert!(matches!(
        strip(b"GIF89a\x01\0\x01\0"),
        Ok(Outcome::Unsupported { .. })
    ));
    assert_eq!(strip(b"a testimony in plain text"), Ok(Outcome::NotMedia));
    assert_eq!(strip(b""), Ok(Outcome::NotMedia));
}

#[test]
fn damaged_files_are_errors() {
    let file = jpeg(false, true, &jpeg_metadata(None));
    let err = strip(&file[..file.len() / 2]).unwrap_err();
    assert!(matches!(
        err,
        MediaError::Malformed {
            format: Format::Jpeg,
            ..
        }
    ));
    assert!(err.to_string().starts_with("damaged JPEG file: "), "{err}");

    let file = png(&[]);
    assert!(matches!(
        strip(&file[..file.len() - 3]),
        Err(MediaError::Malformed {
            format: Format::Png,
            ..
        })
    ));

    let mut file = mp4();
    // The movie box claims more bytes than the file has.
    let moov = file.windows(4).position(|w| w == b"moov").unwrap() - 4;
    file[moov..moov + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        strip(&file),
        Err(MediaError::Malformed {
            format: Format::Mp4,
            ..
        })
    ));
}

#[test]
fn input_above_the_limit_is_refused() {
    let big = vec![0u8; MAX_INPUT + 1];
    assert_eq!(
        strip(&big),
        Err(MediaError::TooLarge {
            len: MAX_INPUT + 1,
            max: MAX_INPUT
        })
    );
}
