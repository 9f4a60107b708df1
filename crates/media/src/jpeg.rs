//! JPEG: rebuilt segment by segment, keeping what decoding needs and nothing that
//! describes the camera, the place or the person.
//!
//! The whole file is walked, including the entropy-coded data of every scan, because
//! a progressive JPEG may carry APPn and COM segments between its scans, and the
//! Multi-Picture Format and phone "motion photos" append whole images or videos, each
//! with its own EXIF, after the end-of-image marker.

use crate::removed::{Report, printable};
use crate::{Cleaned, Fail, Removed, exif};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const COM: u8 = 0xFE;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP13: u8 = 0xED;
const APP14: u8 = 0xEE;
const APP15: u8 = 0xEF;
/// TEM, a marker without a length.
const TEM: u8 = 0x01;

const EXIF: &[u8] = b"Exif\0\0";
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENDED: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const ICC: &[u8] = b"ICC_PROFILE\0";
const JFIF: &[u8] = b"JFIF\0";
const JFXX: &[u8] = b"JFXX\0";
const ADOBE: &[u8] = b"Adobe";
const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";

/// JFIF APP0 contents up to the thumbnail: identifier, version, units, densities and
/// the thumbnail's width and height.
const JFIF_HEADER: usize = 14;
/// The Adobe APP14 contents: identifier, version, two flag words, colour transform.
const ADOBE_LEN: usize = 12;

/// What to do with one segment.
enum Verdict {
    Keep,
    Drop(Removed),
    /// Write these contents instead; the removal is reported.
    Replace(Vec<u8>, Removed),
}

/// Rebuilds the JPEG in `data` without its metadata.
pub(crate) fn strip(data: &[u8]) -> Result<Cleaned, Fail> {
    let mut out = Vec::with_capacity(data.len());
    let mut report = Report::default();
    if data.get(..2) != Some(&[0xFF, SOI]) {
        return Err(damaged("no start-of-image marker"));
    }
    out.extend_from_slice(&[0xFF, SOI]);
    let mut pos = 2;
    loop {
        if data.get(pos) != Some(&0xFF) {
            return Err(if pos >= data.len() {
                damaged("the file ends before the end-of-image marker")
            } else {
                damaged(&format!("no marker where one belongs, at byte {pos}"))
            });
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else {
            return Err(damaged("the file ends inside a marker"));
        };
        pos += 1;
        match marker {
            EOI => {
                out.extend_from_slice(&[0xFF, EOI]);
                let trailing = data.len() - pos;
                if trailing > 0 {
                    report.add(Removed::TrailingData { len: trailing });
                }
                return Ok((out, report.into_vec()));
            }
            SOI => return Err(damaged("a second start-of-image marker")),
            0x00 => return Err(damaged(&format!("an empty marker at byte {pos}"))),
            TEM | 0xD0..=0xD7 => {
                // Markers without a length; restart markers belong inside scans, but a
                // stray one outside is harmless to keep.
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let len = data
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| damaged("the file ends inside a segment length"))?;
        if len < 2 {
            return Err(damaged(&format!("a segment length of {len} at byte {pos}")));
        }
        let end = pos + len;
        let Some(contents) = data.get(pos + 2..end) else {
            return Err(damaged(&format!(
                "segment {} at byte {} runs past the end of the file",
                marker_name(marker),
                pos - 2
            )));
        };
        match verdict(marker, contents) {
            Verdict::Keep => {
                out.extend_from_slice(&[0xFF, marker]);
                out.extend_from_slice(&data[pos..end]);
            }
            Verdict::Drop(removed) => report.add(removed),
            Verdict::Replace(contents, removed) => {
                write_segment(&mut out, marker, &contents)?;
                report.add(removed);
            }
        }
        pos = end;
        if marker == SOS {
            let scan_end = entropy_end(data, pos)?;
            out.extend_from_slice(&data[pos..scan_end]);
            pos = scan_end;
        }
    }
}

/// Decides one segment's fate from its marker and contents.
fn verdict(marker: u8, contents: &[u8]) -> Verdict {
    let other = || {
        Verdict::Drop(Removed::Other {
            what: format!(
                "JPEG {} segment \"{}\"",
                marker_name(marker),
                identifier(contents)
            ),
        })
    };
    match marker {
        APP0 if contents.starts_with(JFIF) => jfif(contents),
        APP0 if contents.starts_with(JFXX) => Verdict::Drop(Removed::Thumbnail),
        APP1 if contents.starts_with(EXIF) => exif_segment(&contents[EXIF.len()..]),
        APP1 if contents.starts_with(XMP) || contents.starts_with(XMP_EXTENDED) => {
            Verdict::Drop(Removed::Xmp)
        }
        APP2 if contents.starts_with(ICC) => Verdict::Keep,
        APP13 if contents.starts_with(PHOTOSHOP) => Verdict::Drop(Removed::Iptc),
        APP14 if contents.starts_with(ADOBE) => adobe(contents),
        APP0..=APP15 => other(),
        COM => Verdict::Drop(Removed::Comment),
        _ => Verdict::Keep,
    }
}

/// Keeps JFIF's densities, which some viewers use for the aspect ratio, without its
/// thumbnail.
fn jfif(contents: &[u8]) -> Verdict {
    if contents.len() == JFIF_HEADER && contents[12] == 0 && contents[13] == 0 {
        return Verdict::Keep;
    }
    match contents.get(..JFIF_HEADER) {
        Some(header) => {
            let mut header = header.to_vec();
            header[12] = 0;
            header[13] = 0;
            Verdict::Replace(header, Removed::Thumbnail)
        }
        // Decoders assume JFIF's defaults without the segment, so a broken one can go.
        None => Verdict::Drop(Removed::Other {
            what: "JPEG APP0 segment \"JFIF\" (damaged)".into(),
        }),
    }
}

/// Drops EXIF, leaving a minimal block with the orientation when one matters; keeps a
/// block that is already exactly that, so cleaning twice changes nothing.
fn exif_segment(tiff: &[u8]) -> Verdict {
    let found = exif::inspect(tiff);
    let removed = Removed::Exif { gps: found.gps };
    match found.orientation.map(exif::orientation_only) {
        Some(minimal) if minimal == tiff => Verdict::Keep,
        Some(minimal) => Verdict::Replace([EXIF, &minimal].concat(), removed),
        None => Verdict::Drop(removed),
    }
}

/// Keeps the Adobe segment's colour transform flag, which decides how the colours are
/// decoded, and nothing after it.
fn adobe(contents: &[u8]) -> Verdict {
    match contents.len() {
        ADOBE_LEN => Verdict::Keep,
        n if n > ADOBE_LEN => Verdict::Replace(
            contents[..ADOBE_LEN].to_vec(),
            Removed::Other {
                what: "JPEG APP14 segment \"Adobe\" (extra bytes)".into(),
            },
        ),
        // Too short to hold the transform flag: decoders ignore it as it is.
        _ => Verdict::Drop(Removed::Other {
            what: "JPEG APP14 segment \"Adobe\" (damaged)".into(),
        }),
    }
}

/// Where the entropy-coded data starting at `pos` ends: at the first marker that is
/// neither a stuffed 0xFF00 nor a restart marker.
fn entropy_end(data: &[u8], mut pos: usize) -> Result<usize, Fail> {
    loop {
        let Some(ff) = data[pos..].iter().position(|&b| b == 0xFF) else {
            return Err(damaged("the file ends inside the image data"));
        };
        pos += ff;
        match data.get(pos + 1) {
            None => return Err(damaged("the file ends inside the image data")),
            Some(0x00 | 0xD0..=0xD7) => pos += 2,
            Some(_) => return Ok(pos),
        }
    }
}

fn write_segment(out: &mut Vec<u8>, marker: u8, contents: &[u8]) -> Result<(), Fail> {
    let len = u16::try_from(contents.len() + 2)
        .map_err(|_| damaged("a rewritten segment does not fit its length field"))?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(contents);
    Ok(())
}

/// The NUL-terminated identifier APPn segments start with, made printable.
fn identifier(contents: &[u8]) -> String {
    let end = contents
        .iter()
        .take(32)
        .position(|&b| b == 0)
        .unwrap_or(contents.len().min(32));
    printable(&contents[..end])
}

fn marker_name(marker: u8) -> String {
    match marker {
        APP0..=APP15 => format!("APP{}", marker - APP0),
        COM => "COM".into(),
        SOS => "SOS".into(),
        _ => format!("0x{marker:02X}"),
    }
}

fn damaged(why: &str) -> Fail {
    Fail::Damaged(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_segment(&mut out, marker, contents).expect("small segment");
        out
    }

    #[test]
    fn entropy_skips_stuffing_and_restarts() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xFF, 0xD9];
        assert_eq!(entropy_end(&data, 0).ok(), Some(7));
    }

    #[test]
    fn metadata_between_scans_goes() {
        let scan = [&segment(SOS, &[1, 1, 0, 0, 63, 0])[..], &[0x11, 0x22]].concat();
        let file = [
            &[0xFF, SOI][..],
            &scan,
            &segment(COM, b"QOIMA-SECRET"),
            &segment(APP1, b"http://ns.adobe.com/xap/1.0/\0<x/>"),
            &scan,
            &[0xFF, EOI],
        ]
        .concat();
        let (out, removed) = strip(&file).expect("valid structure");
        assert_eq!(out, [&[0xFF, SOI][..], &scan, &scan, &[0xFF, EOI]].concat());
        assert_eq!(removed, [Removed::Comment, Removed::Xmp]);
    }

    #[test]
    fn jfif_thumbnail_goes_but_jfif_stays() {
        let mut contents = b"JFIF\0\x01\x02\x01\0\x48\0\x48\x01\x01".to_vec();
        contents.extend_from_slice(b"rgb");
        let file = [&[0xFF, SOI][..], &segment(APP0, &contents), &[0xFF, EOI]].concat();
        let (out, removed) = strip(&file).expect("valid structure");
        let clean = b"JFIF\0\x01\x02\x01\0\x48\0\x48\0\0";
        assert_eq!(
            out,
            [&[0xFF, SOI][..], &segment(APP0, clean), &[0xFF, EOI]].concat()
        );
        assert_eq!(removed, [Removed::Thumbnail]);
    }

    #[test]
    fn broken_structure_is_an_error() {
        for file in [
            &[0xFF, SOI][..],
            &[0xFF, SOI, 0xFF],
            &[0xFF, SOI, 0xFF, APP1, 0x00],
            &[0xFF, SOI, 0xFF, APP1, 0x00, 0x01],
            &[0xFF, SOI, 0xFF, APP1, 0x00, 0x09, b'E'],
            &[0xFF, SOI, 0x12, 0xFF, EOI],
            &[0xFF, SOI, 0xFF, SOS, 0x00, 0x02, 0x12, 0x34],
            &[0xFF, SOI, 0xFF, SOI, 0xFF, EOI],
        ] {
            assert!(matches!(strip(file), Err(Fail::Damaged(_))), "{file:02X?}");
        }
    }
}
