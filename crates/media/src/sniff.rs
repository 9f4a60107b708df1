//! Recognises a format from the file's first bytes.

use crate::Format;

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Major brands of the HEIF family of still images (HEIC, AVIF and the generic
/// `mif1`), and of their image sequences.
const HEIF_BRANDS: &[&[u8; 4]] = &[
    b"mif1", b"mif2", b"msf1", b"miaf", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx",
    b"hevm", b"hevs", b"avif", b"avis", b"avio",
];

/// Box types a QuickTime movie from before `ftyp` existed may start with.
const OLD_QUICKTIME: &[&[u8; 4]] = &[b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

/// The format of `bytes`, or `None` for anything that is no photo, video or audio.
pub(crate) fn format(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(JPEG) {
        return Some(Format::Jpeg);
    }
    if bytes.starts_with(PNG) {
        return Some(Format::Png);
    }
    if let Some(format) = isobmff(bytes) {
        return Some(format);
    }
    // Everything else is only named, so the caller can warn that it was not cleaned.
    let kind = infer::get(bytes)?;
    match kind.matcher_type() {
        infer::MatcherType::Image | infer::MatcherType::Video | infer::MatcherType::Audio => {
            Some(Format::Other {
                mime: kind.mime_type(),
            })
        }
        _ => None,
    }
}

/// HEIF or MP4 by the `ftyp` box's major brand; a QuickTime movie by its first box.
fn isobmff(bytes: &[u8]) -> Option<Format> {
    let kind = bytes.get(4..8)?;
    if kind == b"ftyp" {
        let brand = bytes.get(8..12)?;
        if HEIF_BRANDS.iter().any(|b| b.as_slice() == brand) {
            return Some(Format::Heif);
        }
        // Canon's CR3 raw files are ISO-BMFF too, with their metadata in boxes this
        // crate does not know.
        if brand == b"crx " {
            return Some(Format::Other {
                mime: "image/x-canon-cr3",
            });
        }
        return Some(Format::Mp4);
    }
    let size = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
    let plausible =
        size == 1 || (size >= 8 && usize::try_from(size).is_ok_and(|s| s <= bytes.len()));
    (plausible && OLD_QUICKTIME.iter().any(|b| b.as_slice() == kind)).then_some(Format::Mp4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_by_signature() {
        assert_eq!(format(b"\xff\xd8\xff\xe0"), Some(Format::Jpeg));
        assert_eq!(format(b"\x89PNG\r\n\x1a\n"), Some(Format::Png));
        assert_eq!(
            format(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Some(Format::Heif)
        );
        assert_eq!(format(b"\0\0\0\x14ftypqt  \0\0\0\0qt  "), Some(Format::Mp4));
        assert_eq!(format(b"\0\0\0\x08moov"), Some(Format::Mp4));
        assert_eq!(
            format(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(Format::Other { mime: "image/webp" })
        );
        assert_eq!(format(b"GIF89a"), Some(Format::Other { mime: "image/gif" }));
        assert_eq!(format(b"plain text"), None);
        assert_eq!(format(b"%PDF-1.7"), None);
        assert_eq!(format(b""), None);
    }
}
