//! PNG: rebuilt chunk by chunk. Critical chunks and the ancillary chunks that change
//! how the image looks stay; every other ancillary chunk goes, known or not, because
//! a chunk this crate does not know may carry anything.
//!
//! Chunks are copied whole, so their CRCs stay valid; the only chunk written anew is
//! the minimal eXIf that keeps the orientation, sealed with a fresh CRC.

use crate::read::{Reader, to_usize};
use crate::removed::{Report, printable};
use crate::{Cleaned, Fail, Removed, exif};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The PNG specification's limit on a chunk's length.
const MAX_CHUNK: u32 = 0x7FFF_FFFF;

/// Ancillary chunks needed to show the image as its author saw it: transparency,
/// colour space, bit depth, background, histogram, pixel density, HDR and animation.
const RENDERING: &[&[u8; 4]] = &[
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"mDCv", b"cLLI",
    b"cLLi", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT",
];

/// The keyword of the iTXt chunk holding XMP.
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

/// Rebuilds the PNG in `data` without its metadata.
pub(crate) fn strip(data: &[u8]) -> Result<Cleaned, Fail> {
    let mut reader = Reader::new(data);
    if reader.take(SIGNATURE.len(), "the signature")? != SIGNATURE {
        return Err(Fail::Damaged("no PNG signature".into()));
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(SIGNATURE);
    let mut report = Report::default();
    let mut first = true;
    loop {
        let start = reader.pos();
        let len = reader.u32("a chunk length")?;
        if len > MAX_CHUNK {
            return Err(Fail::Damaged(format!(
                "a chunk length of {len} at byte {start}"
            )));
        }
        let kind: [u8; 4] = reader.array("a chunk type")?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Fail::Damaged(format!(
                "a chunk type that is no name at byte {start}"
            )));
        }
        let name = printable(&kind);
        let contents = reader.take(
            to_usize(len.into(), "a chunk length")?,
            &format!("chunk {name}"),
        )?;
        let crc = reader.u32(&format!("the CRC of chunk {name}"))?;
        if crc != chunk_crc(&kind, contents) {
            return Err(Fail::Damaged(format!("chunk {name} fails its CRC")));
        }
        if first && &kind != b"IHDR" {
            return Err(Fail::Damaged("the first chunk is not IHDR".into()));
        }
        first = false;
        let whole = &data[start..reader.pos()];
        match verdict(&kind, contents) {
            Verdict::Keep => out.extend_from_slice(whole),
            Verdict::Drop(removed) => report.add(removed),
            Verdict::Replace(contents, removed) => {
                write_chunk(&mut out, &kind, &contents);
                report.add(removed);
            }
        }
        if &kind == b"IEND" {
            let trailing = data.len() - reader.pos();
            if trailing > 0 {
                report.add(Removed::TrailingData { len: trailing });
            }
            return Ok((out, report.into_vec()));
        }
    }
}

enum Verdict {
    Keep,
    Drop(Removed),
    Replace(Vec<u8>, Removed),
}

fn verdict(kind: &[u8; 4], contents: &[u8]) -> Verdict {
    // Bit 5 of the first letter clear (upper case) marks a critical chunk, one a
    // decoder must understand to show the image at all.
    let critical = kind[0].is_ascii_uppercase();
    if critical || RENDERING.contains(&kind) {
        return Verdict::Keep;
    }
    match kind {
        b"eXIf" => {
            let found = exif::inspect(contents);
            let removed = Removed::Exif { gps: found.gps };
            match found.orientation.map(exif::orientation_only) {
                Some(minimal) if minimal == contents => Verdict::Keep,
                Some(minimal) => Verdict::Replace(minimal, removed),
                None => Verdict::Drop(removed),
            }
        }
        b"tEXt" | b"zTXt" | b"iTXt" => {
            // Every text chunk starts with a NUL-terminated Latin-1 keyword.
            let keyword = contents.split(|&b| b == 0).next().unwrap_or_default();
            if kind == b"iTXt" && keyword == XMP_KEYWORD {
                Verdict::Drop(Removed::Xmp)
            } else {
                Verdict::Drop(Removed::Text {
                    keyword: printable(keyword),
                })
            }
        }
        b"tIME" => Verdict::Drop(Removed::Timestamps),
        _ => Verdict::Drop(Removed::Other {
            what: format!("PNG chunk \"{}\"", printable(kind)),
        }),
    }
}

/// The CRC of a chunk, over its type and contents.
fn chunk_crc(kind: &[u8; 4], contents: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(contents);
    hasher.finalize()
}

/// Appends a whole chunk; only called with the 26-byte minimal EXIF block.
fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], contents: &[u8]) {
    let len = u32::try_from(contents.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(contents);
    out.extend_from_slice(&chunk_crc(kind, contents).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], contents: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_chunk(&mut out, kind, contents);
        out
    }

    #[test]
    fn unknown_ancillary_goes_unknown_critical_stays() {
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        let critical = chunk(b"ABCD", b"needed");
        let iend = chunk(b"IEND", b"");
        let file = [
            SIGNATURE,
            &ihdr,
            &chunk(b"caBX", b"provenance"),
            &critical,
            &iend,
            b"junk",
        ]
        .concat();
        let (out, removed) = strip(&file).expect("valid structure");
        assert_eq!(out, [SIGNATURE, &ihdr, &critical, &iend].concat());
        assert_eq!(
            removed,
            [
                Removed::Other {
                    what: "PNG chunk \"caBX\"".into()
                },
                Removed::TrailingData { len: 4 }
            ]
        );
    }

    #[test]
    fn bad_crc_is_an_error() {
        let mut ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        let last = ihdr.len() - 1;
        ihdr[last] ^= 1;
        let file = [SIGNATURE, &ihdr, &chunk(b"IEND", b"")].concat();
        assert!(matches!(strip(&file), Err(Fail::Damaged(_))));
    }

    #[test]
    fn missing_iend_is_an_error() {
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        let file = [SIGNATURE, &ihdr].concat();
        assert!(matches!(strip(&file), Err(Fail::Damaged(_))));
    }
}
