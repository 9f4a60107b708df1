//! What stripping removed, in words for a notice to the person adding the file.

use std::fmt;

/// One kind of metadata removed from a file.
///
/// `Display` gives a short English phrase, so a notice can read
/// "removed: EXIF (with GPS position), XMP".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Removed {
    /// An EXIF block: camera make, model and serial number, maker notes, times, and
    /// possibly a GPS position.
    Exif {
        /// A GPS position was found in it (best effort: an unreadable block counts as
        /// having none, though it is removed all the same).
        gps: bool,
    },
    /// An XMP packet (editing history, author, often a copy of the EXIF fields).
    Xmp,
    /// Photoshop image resources, where IPTC captions, bylines and places live.
    Iptc,
    /// A free-text comment.
    Comment,
    /// A small copy of the picture stored beside it, which may show what a crop cut
    /// away.
    Thumbnail,
    /// A PNG text chunk (tEXt, zTXt or iTXt other than XMP).
    Text {
        /// The chunk's keyword, e.g. `Author`, with anything but printable ASCII
        /// replaced by `?`.
        keyword: String,
    },
    /// Times of creation or modification kept by the container.
    Timestamps,
    /// Movie metadata boxes (`udta`, `meta`): device, software, often a location.
    MovieMetadata {
        /// A position was found in it (`©xyz`, `loci`, or an ISO 6709 location key;
        /// best effort).
        gps: bool,
    },
    /// A track of timed metadata, such as the GPS and motion log of an action camera
    /// or a drone.
    MetadataTrack {
        /// The track's sample format, e.g. `gpmd` for GoPro.
        kind: String,
    },
    /// Bytes after the end of the image: extra pictures of the Multi-Picture Format,
    /// an appended video, vendor trailers.
    TrailingData {
        /// How many bytes.
        len: usize,
    },
    /// Any other metadata, described by the container's own name for it.
    Other {
        /// E.g. `JPEG APP11 segment "JP"` or `PNG chunk "caBX"`.
        what: String,
    },
}

impl fmt::Display for Removed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Removed::Exif { gps: true } => f.write_str("EXIF (with GPS position)"),
            Removed::Exif { gps: false } => f.write_str("EXIF"),
            Removed::Xmp => f.write_str("XMP"),
            Removed::Iptc => f.write_str("IPTC/Photoshop data"),
            Removed::Comment => f.write_str("comment"),
            Removed::Thumbnail => f.write_str("embedded thumbnail"),
            Removed::Text { keyword } => write!(f, "text \"{keyword}\""),
            Removed::Timestamps => f.write_str("timestamps"),
            Removed::MovieMetadata { gps: true } => {
                f.write_str("movie metadata (with GPS position)")
            }
            Removed::MovieMetadata { gps: false } => f.write_str("movie metadata"),
            Removed::MetadataTrack { kind } => write!(f, "timed metadata track \"{kind}\""),
            Removed::TrailingData { len } => {
                write!(f, "{len} bytes after the end of the image")
            }
            Removed::Other { what } => f.write_str(what),
        }
    }
}

/// Collects [`Removed`] items, each kind once: ten XMP segments make one "XMP", and
/// EXIF with a position anywhere makes "EXIF (with GPS position)".
#[derive(Debug, Default)]
pub(crate) struct Report(Vec<Removed>);

impl Report {
    /// Notes one removal.
    pub(crate) fn add(&mut self, item: Removed) {
        for have in &mut self.0 {
            match (&mut *have, &item) {
                (Removed::Exif { gps }, Removed::Exif { gps: more }) => {
                    *gps |= *more;
                    return;
                }
                (Removed::MovieMetadata { gps }, Removed::MovieMetadata { gps: more }) => {
                    *gps |= *more;
                    return;
                }
                (Removed::TrailingData { len }, Removed::TrailingData { len: more }) => {
                    *len = len.saturating_add(*more);
                    return;
                }
                (have, item) if have == item => return,
                _ => {}
            }
        }
        self.0.push(item);
    }

    /// The removals, in the order first seen.
    pub(crate) fn into_vec(self) -> Vec<Removed> {
        self.0
    }
}

/// A name from a file, made safe to print: printable ASCII only, at most 40 characters,
/// so a hostile file cannot smuggle control characters into the terminal.
pub(crate) fn printable(name: &[u8]) -> String {
    name.iter()
        .take(40)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_merges_kinds() {
        let mut report = Report::default();
        report.add(Removed::Exif { gps: false });
        report.add(Removed::Xmp);
        report.add(Removed::Exif { gps: true });
        report.add(Removed::Xmp);
        report.add(Removed::TrailingData { len: 3 });
        report.add(Removed::TrailingData { len: 4 });
        assert_eq!(
            report.into_vec(),
            [
                Removed::Exif { gps: true },
                Removed::Xmp,
                Removed::TrailingData { len: 7 }
            ]
        );
    }

    #[test]
    fn printable_replaces_control_characters() {
        assert_eq!(printable(b"Au\x1b[2Jthor\xff"), "Au?[2Jthor?");
    }

    #[test]
    fn display_reads_as_a_notice() {
        let items = [Removed::Exif { gps: true }, Removed::Xmp, Removed::Comment];
        let text: Vec<String> = items.iter().map(ToString::to_string).collect();
        assert_eq!(text.join(", "), "EXIF (with GPS position), XMP, comment");
    }
}
