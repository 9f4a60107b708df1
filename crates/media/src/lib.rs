//! Removes the metadata that can betray who took a photo or a video, and where, before
//! the file enters the archive.
//!
//! # Brief overview
//!
//! [`strip`] takes the bytes of one file and answers with an [`Outcome`]:
//!
//! * [`Outcome::Stripped`]: the format is one this crate cleans; [`Stripped::bytes`] is
//!   the cleaned file and [`Stripped::removed`] says what went, in words a notice can
//!   show ([`Removed`] implements `Display`). Nothing removed means the bytes are the
//!   input, unchanged.
//! * [`Outcome::Unsupported`]: a photo, video or audio format this crate recognises but
//!   cannot clean (WebP, GIF, TIFF and raw files, Matroska, MP3…). The bytes may carry
//!   metadata: the caller has to warn, never treat them as clean.
//! * [`Outcome::NotMedia`]: not a photo, video or audio format this crate recognises;
//!   nothing was examined.
//!
//! A damaged file is a [`MediaError::Malformed`], never a panic, and input above
//! [`MAX_INPUT`] is refused with [`MediaError::TooLarge`] before it is read.
//!
//! | format | how |
//! | --- | --- |
//! | JPEG | segments rebuilt without APP1 Exif and XMP (also extended XMP), APP13 Photoshop/IPTC, APP2 FlashPix and MPF, COM, the JFIF thumbnail and every other APPn; data after the end-of-image marker (extra MPF images, appended videos) dropped. The ICC profile (APP2), JFIF (APP0) and Adobe (APP14) segments stay: decoders need them to show the right colours. |
//! | PNG | chunks rebuilt without eXIf, tEXt, zTXt, iTXt (where XMP lives), tIME and every other ancillary chunk not needed to render; data after IEND dropped. Critical chunks and the colour, transparency, density and animation chunks stay; CRCs are checked on the way in. |
//! | HEIF, HEIC, AVIF | in place, same length: the bytes of the `Exif` and `mime` (XMP) items located through `iinf`/`iloc` are overwritten with an empty but valid placeholder. |
//! | MP4, MOV, 3GP, M4A | in place, same length: `udta`, `meta` and `uuid` boxes of the movie and its tracks become `free` boxes with zeroed content, timed metadata tracks (GoPro GPMF, Google CAMM, Apple `mebx`: GPS tracks) become `free` and their samples are zeroed, the creation and modification times in `mvhd`, `tkhd` and `mdhd` are zeroed, and so is whatever an editor left in `free` and `skip` boxes. |
//!
//! The ISO-BMFF formats are cleaned in place so that no offset in the file has to be
//! rewritten: a chunk offset table that is not touched cannot be broken. Samples and
//! items are only overwritten inside `mdat` (HEIF items also in `idat`); a location
//! pointing anywhere else is refused rather than followed.
//!
//! # Orientation
//!
//! Phones record how they were held in the EXIF orientation tag, and removing it would
//! show portrait photos on their side. When a JPEG or PNG has an orientation other than
//! the default, a new EXIF block holding only that one tag takes the place of the old
//! one ([`Removed::Exif`] is still reported: everything else in it went). HEIF and MP4
//! keep orientation outside their metadata (`irot`/`imir` properties, the track matrix),
//! so nothing is kept there.
//!
//! # What is not removed
//!
//! The pixels and samples themselves: faces, street signs, a voice. ICC profiles stay,
//! as they describe a colour space, not a device. Subtitle and chapter tracks of videos
//! are content and stay (some drones write their position into a subtitle track).
//! Bytes inside `mdat` that no track or item refers to are not looked at. Fragmented MP4 files with a timed metadata track are
//! [`Outcome::Unsupported`], as their samples cannot be found without following every
//! fragment.
//!
//! # Dependencies
//!
//! The containers are walked by hand, each length checked against the bytes that
//! remain. `img-parts`, the maintained crate for JPEG and PNG segments, was weighed and
//! left: it keeps everything after the first scan of a JPEG as one opaque block, so a
//! metadata segment between progressive scans and the extra images or video after the
//! end-of-image marker would survive. The MP4 crates (`mp4-atom`, `mp4parse`) decode
//! boxes into structures and encode them again, which moves every offset after a
//! change; cleaning in place needs only box headers. `crc32fast` (maintained, the
//! CRC-32 behind `png` and `flate2`) checks PNG chunks and seals the rewritten ones;
//! `infer`, already used by the CLI, names the formats this crate cannot clean.

#![deny(missing_docs)]

mod exif;
mod heif;
mod isobmff;
mod jpeg;
mod png;
mod read;
mod removed;
mod samples;
mod sniff;

use std::fmt;

pub use removed::Removed;

/// The largest input [`strip`] examines: 256 MiB, a long phone video. Larger input is
/// [`MediaError::TooLarge`], so the caller decides what to do with it.
pub const MAX_INPUT: usize = 256 * 1024 * 1024;

/// A file format, as recognised from the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// PNG, including animated PNG.
    Png,
    /// The HEIF family of still images: HEIC, AVIF and other `mif1` files.
    Heif,
    /// The MP4 family: MP4, MOV, 3GP, M4A and M4V.
    Mp4,
    /// A photo, video or audio format this crate does not clean, by its MIME type.
    Other {
        /// The MIME type, e.g. `image/webp`.
        mime: &'static str,
    },
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Jpeg => f.write_str("JPEG"),
            Format::Png => f.write_str("PNG"),
            Format::Heif => f.write_str("HEIF"),
            Format::Mp4 => f.write_str("MP4"),
            Format::Other { mime } => f.write_str(mime),
        }
    }
}

/// A file of a format [`strip`] cleans, after cleaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The format of the file.
    pub format: Format,
    /// The cleaned file; exactly the input when [`Stripped::removed`] is empty.
    pub bytes: Vec<u8>,
    /// What was removed, each kind once, in the order found.
    pub removed: Vec<Removed>,
}

/// What [`strip`] made of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The format is one this crate cleans, and it was cleaned.
    Stripped(Stripped),
    /// A media format this crate recognises but does not clean: the bytes may carry
    /// metadata, and the caller has to say so.
    Unsupported {
        /// The format recognised.
        format: Format,
        /// Why it cannot be cleaned, in a few English words.
        reason: &'static str,
    },
    /// Not a photo, video or audio format this crate recognises.
    NotMedia,
}

/// Why [`strip`] gave up on a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The input is larger than [`MAX_INPUT`].
    #[error("{len} bytes is more than the {max} bytes a photo or video may have to be cleaned")]
    TooLarge {
        /// The input's length.
        len: usize,
        /// [`MAX_INPUT`].
        max: usize,
    },
    /// The file is damaged or truncated where its structure had to be followed.
    #[error("damaged {format} file: {why}")]
    Malformed {
        /// The format its first bytes claim.
        format: Format,
        /// What is wrong, in a few English words.
        why: String,
    },
}

/// Why a format module stopped, before the format is attached.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The structure is broken: [`MediaError::Malformed`].
    Damaged(String),
    /// The structure is valid but not one this crate can clean safely.
    Unsupported(&'static str),
}

/// What a format module hands back: the cleaned bytes and what went.
pub(crate) type Cleaned = (Vec<u8>, Vec<Removed>);

/// Removes location, device and author metadata from a photo or video.
///
/// Pure: reads `bytes`, returns a new buffer, touches no file.
///
/// # Errors
///
/// [`MediaError::TooLarge`] above [`MAX_INPUT`]; [`MediaError::Malformed`] when a
/// recognised format's structure is broken or truncated.
pub fn strip(bytes: &[u8]) -> Result<Outcome, MediaError> {
    if bytes.len() > MAX_INPUT {
        return Err(MediaError::TooLarge {
            len: bytes.len(),
            max: MAX_INPUT,
        });
    }
    let Some(format) = sniff::format(bytes) else {
        return Ok(Outcome::NotMedia);
    };
    let result = match format {
        Format::Jpeg => jpeg::strip(bytes),
        Format::Png => png::strip(bytes),
        Format::Heif | Format::Mp4 => isobmff::strip(bytes),
        Format::Other { .. } => {
            return Ok(Outcome::Unsupported {
                format,
                reason: "this format's metadata cannot be removed yet",
            });
        }
    };
    match result {
        Ok((cleaned, removed)) => Ok(Outcome::Stripped(Stripped {
            format,
            // The promise that an untouched file comes back byte for byte is kept here,
            // once, rather than trusted to every format's rebuilding.
            bytes: if removed.is_empty() {
                bytes.to_vec()
            } else {
                cleaned
            },
            removed,
        })),
        Err(Fail::Damaged(why)) => Err(MediaError::Malformed { format, why }),
        Err(Fail::Unsupported(reason)) => Ok(Outcome::Unsupported { format, reason }),
    }
}
