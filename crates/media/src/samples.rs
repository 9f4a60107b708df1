//! Finds where a track's samples lie in the file, from its sample table, so a timed
//! metadata track (a GPS log) can be zeroed where it lies.
//!
//! The table says: chunk n starts at `stco[n]`; `stsc` says how many samples each
//! chunk holds; `stsz` gives each sample's size. A chunk's samples are contiguous, so
//! one zeroed range per chunk covers them, and the work is bounded by the tables'
//! lengths, which are bounded by the file's.

use crate::Fail;
use crate::isobmff::{BoxRef, Edits, Media, children, find};
use crate::read::{Reader, to_usize};

/// Zeroes every sample of the track whose `stbl` this is, and returns the type of its
/// first sample entry (`gpmd`, `camm`, `mebx`…) when there is one.
pub(crate) fn zero(
    data: &[u8],
    stbl: &BoxRef,
    media: &Media,
    edits: &mut Edits,
) -> Result<Option<[u8; 4]>, Fail> {
    let boxes = children(data, stbl.body..stbl.end)?;
    let kind = find(&boxes, b"stsd")
        .map(|stsd| sample_entry(data, &stsd))
        .transpose()?
        .flatten();
    if find(&boxes, b"stz2").is_some() {
        return Err(Fail::Unsupported(
            "compact sample sizes in a metadata track",
        ));
    }
    let (Some(stsz), Some(stsc)) = (find(&boxes, b"stsz"), find(&boxes, b"stsc")) else {
        // No samples described, none to zero.
        return Ok(kind);
    };
    let sizes = Sizes::read(stsz.contents(data))?;
    let runs = table(stsc.contents(data), 12, "the sample-to-chunk table")?;
    let (offsets, wide) = match (find(&boxes, b"stco"), find(&boxes, b"co64")) {
        (Some(stco), _) => (
            table(stco.contents(data), 4, "the chunk offset table")?,
            false,
        ),
        (None, Some(co64)) => (
            table(co64.contents(data), 8, "the chunk offset table")?,
            true,
        ),
        (None, None) => return Ok(kind),
    };
    let chunks = offsets.len() / if wide { 8 } else { 4 };
    let mut run = 0;
    let mut sample = 0;
    for chunk in 0..chunks {
        // The run of `stsc` that covers this chunk (chunks count from 1).
        while let Some(next_first) = field(runs, (run + 1) * 12) {
            if to_usize(next_first.into(), "a chunk number")? > chunk + 1 {
                break;
            }
            run += 1;
        }
        let per_chunk = match field(runs, run * 12) {
            Some(first) if to_usize(first.into(), "a chunk number")? <= chunk + 1 => {
                field(runs, run * 12 + 4).unwrap_or(0)
            }
            _ => return Err(damaged("a chunk no sample-to-chunk entry covers")),
        };
        let count = to_usize(per_chunk.into(), "a sample count")?.min(sizes.count - sample);
        if count == 0 {
            continue;
        }
        let start = if wide {
            let at = chunk * 8;
            let high = field(offsets, at).unwrap_or(0);
            let low = field(offsets, at + 4).unwrap_or(0);
            to_usize((u64::from(high) << 32) | u64::from(low), "a chunk offset")?
        } else {
            to_usize(
                field(offsets, chunk * 4).unwrap_or(0).into(),
                "a chunk offset",
            )?
        };
        let len = sizes.total(sample, count)?;
        let end = start
            .checked_add(len)
            .ok_or_else(|| damaged("a metadata sample lies past the end of the file"))?;
        if !media.holds(&(start..end)) {
            return Err(damaged("metadata samples outside the media data"));
        }
        edits.zero(start..end);
        sample += count;
    }
    Ok(kind)
}

/// The sample sizes of `stsz`: one size for all, or one per sample.
struct Sizes<'a> {
    fixed: usize,
    table: &'a [u8],
    count: usize,
}

impl<'a> Sizes<'a> {
    fn read(contents: &'a [u8]) -> Result<Self, Fail> {
        let mut reader = Reader::new(contents);
        reader.take(4, "the sample size table")?;
        let fixed = to_usize(reader.u32("the sample size table")?.into(), "a sample size")?;
        let count = to_usize(
            reader.u32("the sample size table")?.into(),
            "a sample count",
        )?;
        let table = if fixed == 0 {
            let len = count
                .checked_mul(4)
                .ok_or_else(|| damaged("the sample size table is too large"))?;
            reader.take(len, "the sample size table")?
        } else {
            &[]
        };
        Ok(Sizes {
            fixed,
            table,
            count,
        })
    }

    /// The bytes taken by `count` samples from `first` on.
    fn total(&self, first: usize, count: usize) -> Result<usize, Fail> {
        let too_large = || damaged("metadata samples larger than the file");
        if self.fixed != 0 {
            return self.fixed.checked_mul(count).ok_or_else(too_large);
        }
        let mut total: usize = 0;
        for i in first..first + count {
            let size = field(self.table, i * 4).unwrap_or(0);
            total = total
                .checked_add(to_usize(size.into(), "a sample size")?)
                .ok_or_else(too_large)?;
        }
        Ok(total)
    }
}

/// The entries of a full box that holds a 32-bit entry count and then entries of
/// `width` bytes, as one slice checked to hold them all.
fn table<'a>(contents: &'a [u8], width: usize, what: &str) -> Result<&'a [u8], Fail> {
    let mut reader = Reader::new(contents);
    reader.take(4, what)?;
    let count = to_usize(reader.u32(what)?.into(), what)?;
    let len = count
        .checked_mul(width)
        .ok_or_else(|| damaged(&format!("{what} is too large")))?;
    reader.take(len, what)
}

/// The big-endian `u32` at `at`, if inside `table`.
fn field(table: &[u8], at: usize) -> Option<u32> {
    let bytes = table.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// The type of the first entry of `stsd`.
fn sample_entry(data: &[u8], stsd: &BoxRef) -> Result<Option<[u8; 4]>, Fail> {
    let mut reader = Reader::new(stsd.contents(data));
    reader.take(4, "the sample description")?;
    if reader.u32("the sample description")? == 0 {
        return Ok(None);
    }
    reader.take(4, "a sample entry")?;
    Ok(Some(reader.array("a sample entry")?))
}

fn damaged(why: &str) -> Fail {
    Fail::Damaged(why.into())
}
