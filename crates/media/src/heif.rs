//! HEIF (HEIC, AVIF): the metadata items of the picture's `meta` box, overwritten
//! where they lie.
//!
//! `iinf` names each item's type: `Exif`, or `mime` with a content type (XMP is
//! `application/rdf+xml`). `iloc` says where its bytes are: extents in the file, or in
//! the `idat` box. Those bytes get an empty but valid placeholder of the same length,
//! so readers that expect an EXIF or XMP item find one, with nothing in it.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::exif;
use crate::isobmff::{BoxRef, Edits, Media, children, find};
use crate::read::{Reader, to_usize};
use crate::removed::{Report, printable};
use crate::{Fail, Removed};

/// An EXIF item with no tags: a zero offset to the TIFF header, then a big-endian
/// TIFF header whose IFD0 has no entries and no successor.
const EMPTY_EXIF: &[u8] = b"\0\0\0\0MM\0*\0\0\0\x08\0\0\0\0\0\0";

/// An XMP packet with no properties; the rest of the item is padded with spaces,
/// which XML allows after the root element.
const EMPTY_XMP: &[u8] = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>";

/// Where an item's bytes lie: absolute ranges of the file, in the item's order.
type Extents = Vec<Range<usize>>;

/// A metadata item to overwrite.
#[derive(Debug)]
enum Kind {
    Exif,
    Xmp,
    /// Another `mime` item, by content type; or XMP in a content encoding (compressed),
    /// which a placeholder in clear would not fit.
    OtherMime(String),
}

/// Overwrites the metadata items of a HEIF `meta` box (a full box).
pub(crate) fn strip_items(
    data: &[u8],
    meta: &BoxRef,
    media: &Media,
    edits: &mut Edits,
    report: &mut Report,
) -> Result<(), Fail> {
    let first_child = (meta.body + 4).min(meta.end);
    let boxes = children(data, first_child..meta.end)?;
    let Some(iinf) = find(&boxes, b"iinf") else {
        return Ok(());
    };
    let items = item_kinds(data, &iinf)?;
    if items.is_empty() {
        return Ok(());
    }
    let Some(iloc) = find(&boxes, b"iloc") else {
        return Err(Fail::Damaged("metadata items without locations".into()));
    };
    let idat = find(&boxes, b"idat").map(|idat| idat.body..idat.end);
    for (id, extents, in_idat) in locations(data, &iloc, &items, idat)? {
        let Some(kind) = items.get(&id) else {
            continue;
        };
        // Item data in the file proper has to be media data, not the boxes that
        // describe the file; `locations` already kept `idat` items inside `idat`.
        if !in_idat && !extents.iter().all(|e| media.holds(e)) {
            return Err(Fail::Unsupported("a metadata item outside the media data"));
        }
        let total = extents
            .iter()
            .try_fold(0usize, |sum, e| sum.checked_add(e.len()));
        if total.is_none_or(|total| total > data.len()) {
            return Err(Fail::Damaged("an item's extents exceed the file".into()));
        }
        let content: Vec<u8> = extents
            .iter()
            .flat_map(|e| &data[e.clone()])
            .copied()
            .collect();
        let placeholder = placeholder(kind, content.len());
        if content == placeholder {
            continue;
        }
        let mut rest = placeholder.as_slice();
        for extent in &extents {
            // The placeholder is exactly as long as the extents together.
            let (part, tail) = rest.split_at_checked(extent.len()).unwrap_or((rest, &[]));
            edits.write(extent.start, part.to_vec());
            rest = tail;
        }
        report.add(match kind {
            Kind::Exif => Removed::Exif {
                gps: exif_gps(&content),
            },
            Kind::Xmp => Removed::Xmp,
            Kind::OtherMime(content_type) => Removed::Other {
                what: format!("HEIF item \"{content_type}\""),
            },
        });
    }
    Ok(())
}

/// What a cleaned item of `len` bytes holds.
fn placeholder(kind: &Kind, len: usize) -> Vec<u8> {
    let (start, pad): (&[u8], u8) = match kind {
        Kind::Exif if len >= EMPTY_EXIF.len() => (EMPTY_EXIF, 0),
        Kind::Xmp if len >= EMPTY_XMP.len() => (EMPTY_XMP, b' '),
        _ => (&[], 0),
    };
    let mut bytes = start.to_vec();
    bytes.resize(len, pad);
    bytes
}

/// Whether an EXIF item's TIFF block, after its 4-byte header offset, has a position.
fn exif_gps(content: &[u8]) -> bool {
    let Some(offset) = content.get(..4).and_then(|b| b.try_into().ok()) else {
        return false;
    };
    let tiff = usize::try_from(u32::from_be_bytes(offset))
        .ok()
        .and_then(|offset| content.get(4usize.checked_add(offset)?..));
    tiff.is_some_and(|tiff| exif::inspect(tiff).gps)
}

/// The metadata items named in `iinf`, by item ID.
fn item_kinds(data: &[u8], iinf: &BoxRef) -> Result<BTreeMap<u32, Kind>, Fail> {
    let mut reader = Reader::new(iinf.contents(data));
    let version = reader.u8("the item information")?;
    reader.take(3, "the item information")?;
    if version == 0 {
        reader.u16("the item count")?;
    } else {
        reader.u32("the item count")?;
    }
    let mut items = BTreeMap::new();
    for infe in children(data, iinf.body + reader.pos()..iinf.end)? {
        if &infe.kind != b"infe" {
            continue;
        }
        let mut reader = Reader::new(infe.contents(data));
        let version = reader.u8("an item entry")?;
        reader.take(3, "an item entry")?;
        let id = match version {
            2 => u32::from(reader.u16("an item entry")?),
            3 => reader.u32("an item entry")?,
            _ => {
                return Err(Fail::Unsupported(
                    "an item entry of a version without a type",
                ));
            }
        };
        // The protection index: encrypted or not, the bytes are overwritten alike.
        reader.u16("an item entry")?;
        let item_type: [u8; 4] = reader.array("an item entry")?;
        let _name = reader.c_string();
        let kind = match &item_type {
            b"Exif" => Kind::Exif,
            b"mime" => {
                let content_type = printable(reader.c_string());
                let encoded = !reader.c_string().is_empty();
                let xmp = content_type.contains("rdf+xml") || content_type.contains("xmp");
                if xmp && !encoded {
                    Kind::Xmp
                } else {
                    Kind::OtherMime(content_type)
                }
            }
            _ => continue,
        };
        items.insert(id, kind);
    }
    Ok(items)
}

/// The byte ranges of the `wanted` items, from `iloc`, and whether they are in `idat`.
fn locations(
    data: &[u8],
    iloc: &BoxRef,
    wanted: &BTreeMap<u32, Kind>,
    idat: Option<Range<usize>>,
) -> Result<Vec<(u32, Extents, bool)>, Fail> {
    let what = "the item locations";
    let mut reader = Reader::new(iloc.contents(data));
    let version = reader.u8(what)?;
    if version > 2 {
        return Err(Fail::Unsupported("item locations of an unknown version"));
    }
    reader.take(3, what)?;
    let sizes = reader.u8(what)?;
    let (offset_size, length_size) = (sizes >> 4, sizes & 0x0F);
    let sizes = reader.u8(what)?;
    let base_offset_size = sizes >> 4;
    let index_size = if version == 0 { 0 } else { sizes & 0x0F };
    let count = if version < 2 {
        u32::from(reader.u16(what)?)
    } else {
        reader.u32(what)?
    };
    let mut found = Vec::new();
    for _ in 0..count {
        let id = if version < 2 {
            u32::from(reader.u16(what)?)
        } else {
            reader.u32(what)?
        };
        let method = if version == 0 {
            0
        } else {
            reader.u16(what)? & 0x0F
        };
        let data_reference = reader.u16(what)?;
        let base = reader.sized(base_offset_size, what)?;
        let extent_count = reader.u16(what)?;
        let is_wanted = wanted.contains_key(&id);
        if index_size == 0 && offset_size == 0 && length_size == 0 {
            // Extents of zero bytes each in the table: every one means "the whole
            // container", which no metadata item can sensibly be.
            if is_wanted && extent_count > 0 {
                return Err(Fail::Unsupported(
                    "a metadata item spanning its whole container",
                ));
            }
            continue;
        }
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            reader.sized(index_size, what)?;
            let offset = reader.sized(offset_size, what)?;
            let length = reader.sized(length_size, what)?;
            if is_wanted {
                extents.push((offset, length));
            }
        }
        // Items in another file (a data reference other than this one) have no bytes
        // here to overwrite.
        if !is_wanted || data_reference != 0 {
            continue;
        }
        let container = match method {
            0 => 0..data.len(),
            1 => idat
                .clone()
                .ok_or_else(|| Fail::Damaged("an item in a missing idat box".into()))?,
            _ => return Err(Fail::Unsupported("a metadata item built from other items")),
        };
        let mut ranges = Vec::with_capacity(extents.len());
        for (offset, length) in extents {
            if length == 0 {
                return Err(Fail::Unsupported(
                    "a metadata item spanning its whole container",
                ));
            }
            let start = base
                .checked_add(offset)
                .and_then(|o| u64::try_from(container.start).ok()?.checked_add(o));
            let end = start.and_then(|s| s.checked_add(length));
            let (Some(start), Some(end)) = (start, end) else {
                return Err(Fail::Damaged("an item location overflows".into()));
            };
            let (start, end) = (to_usize(start, what)?, to_usize(end, what)?);
            if end > container.end {
                return Err(Fail::Damaged(
                    "a metadata item lies past its container".into(),
                ));
            }
            ranges.push(start..end);
        }
        found.push((id, ranges, method == 1));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_valid_and_sized() {
        assert_eq!(placeholder(&Kind::Exif, 30).len(), 30);
        assert!(placeholder(&Kind::Exif, 30).starts_with(EMPTY_EXIF));
        assert_eq!(placeholder(&Kind::Exif, 5), [0; 5]);
        let xmp = placeholder(&Kind::Xmp, 60);
        assert!(xmp.starts_with(EMPTY_XMP) && xmp.ends_with(b"   "));
        assert!(!exif_gps(&placeholder(&Kind::Exif, 30)));
    }
}
