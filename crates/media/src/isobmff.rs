//! ISO base media files (MP4, MOV, 3GP, HEIF): cleaned in place.
//!
//! Chunk offset tables and item locations point at absolute positions in the file, so
//! removing a box would move everything after it and break them. Instead a metadata
//! box keeps its size and becomes a `free` box full of zeros, and metadata items and
//! samples are overwritten where they lie: the file keeps its exact length and layout.

use std::ops::Range;

use crate::read::{Reader, to_usize};
use crate::removed::{Report, printable};
use crate::{Cleaned, Fail, Removed, heif, samples};

/// The `uuid` box type Adobe uses for XMP in MP4 files.
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

/// Handlers of tracks that hold timed metadata rather than pictures or sound: ISO
/// `meta` (GoPro GPMF, Apple `mebx`, drone logs) and Google's camera motion `camm`.
const METADATA_HANDLERS: &[&[u8; 4]] = &[b"meta", b"camm"];

/// One box: where it starts, where its contents start and where it ends, all as
/// offsets into the whole file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxRef {
    /// The four-character type.
    pub(crate) kind: [u8; 4],
    /// The offset of the size field.
    pub(crate) start: usize,
    /// Size and type fields, and the 64-bit size if present; not the `uuid` user type.
    pub(crate) header: usize,
    /// The offset of the contents, after the `uuid` user type if any.
    pub(crate) body: usize,
    /// One past the last byte.
    pub(crate) end: usize,
}

impl BoxRef {
    /// The contents.
    pub(crate) fn contents<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.body..self.end]
    }
}

/// The boxes that exactly fill `range` of `data`, the contents of another box.
pub(crate) fn children(data: &[u8], range: Range<usize>) -> Result<Vec<BoxRef>, Fail> {
    walk(data, range, false)
}

/// The boxes of the whole file. A size of zero ("to the end") is accepted only here,
/// as ISO/IEC 14496-12 allows it only for the last box of the file.
fn top_level(data: &[u8]) -> Result<Vec<BoxRef>, Fail> {
    walk(data, 0..data.len(), true)
}

fn walk(data: &[u8], range: Range<usize>, top: bool) -> Result<Vec<BoxRef>, Fail> {
    let mut boxes = Vec::new();
    let mut pos = range.start;
    while pos < range.end {
        let mut reader = Reader::new(&data[pos..range.end]);
        let size = reader.u32("a box header")?;
        let kind: [u8; 4] = reader.array("a box header")?;
        let name = printable(&kind);
        let size = match size {
            1 => to_usize(
                reader.u64(&format!("the size of box {name}"))?,
                "a box size",
            )?,
            0 if top => range.end - pos,
            0 => {
                return Err(Fail::Damaged(format!(
                    "box {name} of size zero inside another box"
                )));
            }
            n => to_usize(n.into(), "a box size")?,
        };
        let header = reader.pos();
        if &kind == b"uuid" {
            reader.take(16, "the type of a uuid box")?;
        }
        let body = reader.pos();
        if size < body {
            return Err(Fail::Damaged(format!(
                "box {name} is smaller than its header"
            )));
        }
        if size > range.end - pos {
            return Err(Fail::Damaged(format!(
                "box {name} at byte {pos} runs past the end of its container"
            )));
        }
        boxes.push(BoxRef {
            kind,
            start: pos,
            header: pos + header,
            body: pos + body,
            end: pos + size,
        });
        pos += size;
    }
    Ok(boxes)
}

/// The first child of type `kind` among `boxes`.
pub(crate) fn find(boxes: &[BoxRef], kind: &[u8; 4]) -> Option<BoxRef> {
    boxes.iter().find(|b| &b.kind == kind).copied()
}

/// The contents of the file's `mdat` boxes, where samples and item data belong.
///
/// An offset that points elsewhere, into the boxes that describe the file, is never
/// followed: overwriting there would wreck the file instead of cleaning it.
#[derive(Debug)]
pub(crate) struct Media(Vec<Range<usize>>);

impl Media {
    /// Whether `range` lies inside one `mdat` box.
    pub(crate) fn holds(&self, range: &Range<usize>) -> bool {
        self.0
            .iter()
            .any(|mdat| mdat.start <= range.start && range.end <= mdat.end)
    }
}

/// Changes to make to a copy of the file, all within its bounds.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    zero: Vec<Range<usize>>,
    write: Vec<(usize, Vec<u8>)>,
    rename: Vec<usize>,
}

impl Edits {
    /// Turns a box into a `free` box of the same size with zeroed contents.
    pub(crate) fn free(&mut self, b: &BoxRef) {
        self.rename.push(b.start);
        self.zero.push(b.header..b.end);
    }

    /// Zeroes bytes the caller checked to be inside the file.
    pub(crate) fn zero(&mut self, range: Range<usize>) {
        self.zero.push(range);
    }

    /// Overwrites bytes the caller checked to be inside the file.
    pub(crate) fn write(&mut self, at: usize, bytes: Vec<u8>) {
        self.write.push((at, bytes));
    }

    fn apply(self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        for range in self.zero {
            if let Some(bytes) = out.get_mut(range) {
                bytes.fill(0);
            }
        }
        for (at, bytes) in self.write {
            if let Some(target) = out.get_mut(at..at + bytes.len()) {
                target.copy_from_slice(&bytes);
            }
        }
        for start in self.rename {
            if let Some(kind) = out.get_mut(start + 4..start + 8) {
                kind.copy_from_slice(b"free");
            }
        }
        out
    }
}

/// Cleans an MP4, MOV or HEIF file in place.
pub(crate) fn strip(data: &[u8]) -> Result<Cleaned, Fail> {
    let top = top_level(data)?;
    let fragmented = find(&top, b"moof").is_some();
    let media = Media(
        top.iter()
            .filter(|b| &b.kind == b"mdat")
            .map(|b| b.body..b.end)
            .collect(),
    );
    let mut edits = Edits::default();
    let mut report = Report::default();
    for b in &top {
        match &b.kind {
            b"moov" => movie(data, b, fragmented, &media, &mut edits, &mut report)?,
            // A HEIF file's top-level `meta` is the picture itself; only its metadata
            // items go. Any other top-level `meta` is descriptive and goes whole.
            b"meta" if handler(data, b)? == Some(*b"pict") => {
                heif::strip_items(data, b, &media, &mut edits, &mut report)?;
            }
            b"meta" | b"udta" => metadata_box(data, b, &mut edits, &mut report),
            b"uuid" => uuid_box(data, b, &mut edits, &mut report),
            b"free" | b"skip" => free_space(data, b, &mut edits, &mut report),
            _ => {}
        }
    }
    Ok((edits.apply(data), report.into_vec()))
}

/// The `moov` box: the movie header, its tracks and its metadata.
fn movie(
    data: &[u8],
    moov: &BoxRef,
    fragmented: bool,
    media: &Media,
    edits: &mut Edits,
    report: &mut Report,
) -> Result<(), Fail> {
    for b in &children(data, moov.body..moov.end)? {
        match &b.kind {
            b"mvhd" => timestamps(data, b, edits, report)?,
            b"trak" => track(data, b, fragmented, media, edits, report)?,
            b"udta" | b"meta" => metadata_box(data, b, edits, report),
            b"uuid" => uuid_box(data, b, edits, report),
            b"free" | b"skip" => free_space(data, b, edits, report),
            // A compressed movie header hides its boxes behind zlib.
            b"cmov" => return Err(Fail::Unsupported("the movie header is compressed")),
            _ => {}
        }
    }
    Ok(())
}

/// One `trak`: a timed metadata track goes whole with its samples; any other keeps
/// its media and loses its metadata boxes and times.
fn track(
    data: &[u8],
    trak: &BoxRef,
    fragmented: bool,
    media: &Media,
    edits: &mut Edits,
    report: &mut Report,
) -> Result<(), Fail> {
    let boxes = children(data, trak.body..trak.end)?;
    let mdia = find(&boxes, b"mdia")
        .map(|mdia| children(data, mdia.body..mdia.end))
        .transpose()?
        .unwrap_or_default();
    let handler = find(&mdia, b"hdlr")
        .map(|hdlr| handler_type(data, &hdlr))
        .transpose()?;
    if handler.is_some_and(|h| METADATA_HANDLERS.contains(&&h)) {
        if fragmented {
            return Err(Fail::Unsupported(
                "a timed metadata track in a fragmented movie",
            ));
        }
        let stbl = sample_table(data, &mdia)?;
        let kind = match &stbl {
            Some(stbl) => samples::zero(data, stbl, media, edits)?,
            None => None,
        };
        let kind = kind.or(handler).unwrap_or(*b"meta");
        edits.free(trak);
        report.add(Removed::MetadataTrack {
            kind: printable(&kind),
        });
        return Ok(());
    }
    for b in &boxes {
        match &b.kind {
            b"tkhd" => timestamps(data, b, edits, report)?,
            b"udta" | b"meta" => metadata_box(data, b, edits, report),
            b"uuid" => uuid_box(data, b, edits, report),
            b"free" | b"skip" => free_space(data, b, edits, report),
            _ => {}
        }
    }
    if let Some(mdhd) = find(&mdia, b"mdhd") {
        timestamps(data, &mdhd, edits, report)?;
    }
    Ok(())
}

/// The `stbl` box of a track's `mdia` children, through `minf`.
fn sample_table(data: &[u8], mdia: &[BoxRef]) -> Result<Option<BoxRef>, Fail> {
    let Some(minf) = find(mdia, b"minf") else {
        return Ok(None);
    };
    Ok(find(&children(data, minf.body..minf.end)?, b"stbl"))
}

/// `udta` or `meta` of the movie or a track: goes whole.
fn metadata_box(data: &[u8], b: &BoxRef, edits: &mut Edits, report: &mut Report) {
    edits.free(b);
    report.add(Removed::MovieMetadata {
        gps: has_position(b.contents(data)),
    });
}

/// Free space: players skip it, but an editor that shrank the metadata may have left
/// the old bytes behind in it, so whatever it holds is zeroed.
fn free_space(data: &[u8], b: &BoxRef, edits: &mut Edits, report: &mut Report) {
    if b.contents(data).iter().any(|&byte| byte != 0) {
        edits.zero(b.body..b.end);
        report.add(Removed::Other {
            what: "leftover bytes in free space".into(),
        });
    }
}

/// A vendor's `uuid` box: XMP, or data this crate cannot read, so it goes whole.
fn uuid_box(data: &[u8], b: &BoxRef, edits: &mut Edits, report: &mut Report) {
    edits.free(b);
    let user_type = &data[b.header..b.body];
    report.add(if user_type == XMP_UUID {
        Removed::Xmp
    } else {
        Removed::Other {
            what: "MP4 uuid box".into(),
        }
    });
}

/// Zeroes the creation and modification times of `mvhd`, `tkhd` or `mdhd`; both
/// directly follow the version and flags, 32 bits each in version 0, 64 in version 1.
fn timestamps(data: &[u8], b: &BoxRef, edits: &mut Edits, report: &mut Report) -> Result<(), Fail> {
    let contents = b.contents(data);
    let width = match contents.first() {
        Some(0) => 8,
        Some(1) => 16,
        _ => return Ok(()),
    };
    let Some(times) = contents.get(4..4 + width) else {
        return Err(Fail::Damaged(format!(
            "box {} is cut off",
            printable(&b.kind)
        )));
    };
    if times.iter().any(|&t| t != 0) {
        edits.zero(b.body + 4..b.body + 4 + width);
        report.add(Removed::Timestamps);
    }
    Ok(())
}

/// The handler type of a `meta` box, which is a full box in ISO files and a plain one
/// in QuickTime: its `hdlr` is the first child either way.
fn handler(data: &[u8], meta: &BoxRef) -> Result<Option<[u8; 4]>, Fail> {
    let contents = meta.contents(data);
    let first_child = if contents.get(4..8) == Some(&b"hdlr"[..]) {
        meta.body
    } else {
        meta.body + 4
    };
    let boxes = children(data, first_child.min(meta.end)..meta.end)?;
    find(&boxes, b"hdlr")
        .map(|hdlr| handler_type(data, &hdlr))
        .transpose()
}

/// The handler type in a `hdlr` box: after version, flags and a predefined field.
fn handler_type(data: &[u8], hdlr: &BoxRef) -> Result<[u8; 4], Fail> {
    let mut reader = Reader::new(hdlr.contents(data));
    reader.take(8, "a handler box")?;
    reader.array("a handler box")
}

/// Whether movie metadata holds a position: QuickTime's `©xyz`, 3GPP's `loci`, or
/// Apple's ISO 6709 location key. A byte search, so best effort.
fn has_position(contents: &[u8]) -> bool {
    [&b"\xA9xyz"[..], b"loci", b"ISO6709"]
        .iter()
        .any(|needle| contents.windows(needle.len()).any(|w| w == *needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_reject_bad_sizes() {
        let cases: [&[u8]; 5] = [
            b"\0\0\0\x04free",
            b"\0\0\0\x10free",
            b"\0\0\0\x01free\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\0\0\0\x18uuid0123",
            b"\0\0\0",
        ];
        for data in cases {
            assert!(
                matches!(children(data, 0..data.len()), Err(Fail::Damaged(_))),
                "{data:02X?}"
            );
        }
    }

    #[test]
    fn size_zero_runs_to_the_end_only_at_the_top() {
        let data = b"\0\0\0\x10moov\0\0\0\0udta";
        let top = top_level(data).expect("valid");
        assert_eq!(top[0].end, 16);
        assert!(matches!(children(data, 8..16), Err(Fail::Damaged(_))));
        let last = b"\0\0\0\0mdatxyz";
        assert_eq!(top_level(last).expect("valid")[0].end, 11);
    }
}
