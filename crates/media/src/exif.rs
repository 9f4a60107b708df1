//! Reads the two things this crate wants from an EXIF (TIFF) block, whether it has a
//! GPS position and the orientation, and writes the minimal block that keeps only the
//! orientation.
//!
//! Reading is best effort: a block that cannot be followed is removed all the same, it
//! just counts as having no position and no orientation.

/// IFD0 tag pointing to the GPS IFD.
const GPS_IFD: u16 = 0x8825;
/// IFD0 tag for the orientation, 1 (upright) to 8.
const ORIENTATION: u16 = 0x0112;
/// GPS tag for the version of the GPS IFD, the one tag that is no position.
const GPS_VERSION: u16 = 0x0000;
/// TIFF field type SHORT.
const SHORT: u16 = 3;

/// What [`inspect`] found in an EXIF block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Found {
    /// The GPS IFD has at least one tag besides its version.
    pub(crate) gps: bool,
    /// The orientation tag, when it is a valid value other than 1 (upright).
    pub(crate) orientation: Option<u16>,
}

/// Reads a TIFF block as found in EXIF: "II*\0" or "MM\0*", then IFD0.
pub(crate) fn inspect(tiff: &[u8]) -> Found {
    let Some(order) = Order::of(tiff) else {
        return Found::default();
    };
    let Some(ifd0) = order.u32(tiff, 4) else {
        return Found::default();
    };
    let mut found = Found::default();
    for (tag, kind, count, value_at) in order.entries(tiff, ifd0) {
        match tag {
            ORIENTATION if kind == SHORT && count == 1 => {
                found.orientation = order
                    .u16(tiff, value_at)
                    .filter(|value| (2..=8).contains(value));
            }
            GPS_IFD => {
                found.gps = order.u32(tiff, value_at).is_some_and(|gps| {
                    order.entries(tiff, gps).any(|(tag, ..)| tag != GPS_VERSION)
                });
            }
            _ => {}
        }
    }
    found
}

/// The smallest valid TIFF block holding only `orientation`: big-endian, one IFD with
/// one entry. EXIF calls a few more IFD0 tags required (resolution, YCbCr
/// positioning); viewers read the orientation without them, and a validator's warning
/// about their absence is the price of keeping nothing else.
pub(crate) fn orientation_only(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0*");
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&ORIENTATION.to_be_bytes());
    tiff.extend_from_slice(&SHORT.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    // A SHORT value sits left-justified in the 4-byte value field.
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    // No next IFD.
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff
}

/// TIFF byte order.
#[derive(Debug, Clone, Copy)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn of(tiff: &[u8]) -> Option<Order> {
        match tiff.get(..4)? {
            b"II*\0" => Some(Order::Little),
            b"MM\0*" => Some(Order::Big),
            _ => None,
        }
    }

    fn u16(self, tiff: &[u8], at: usize) -> Option<u16> {
        let bytes = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Order::Little => u16::from_le_bytes(bytes),
            Order::Big => u16::from_be_bytes(bytes),
        })
    }

    fn u32(self, tiff: &[u8], at: usize) -> Option<usize> {
        let bytes = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        let value = match self {
            Order::Little => u32::from_le_bytes(bytes),
            Order::Big => u32::from_be_bytes(bytes),
        };
        usize::try_from(value).ok()
    }

    /// The entries of the IFD at `at` as (tag, type, count, offset of the value field);
    /// those past the end of the block are not yielded.
    fn entries(self, tiff: &[u8], at: usize) -> impl Iterator<Item = (u16, u16, usize, usize)> {
        let count = self.u16(tiff, at).unwrap_or(0);
        (0..usize::from(count)).map_while(move |i| {
            let entry = at.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
            let tag = self.u16(tiff, entry)?;
            let kind = self.u16(tiff, entry.checked_add(2)?)?;
            let count = self.u32(tiff, entry.checked_add(4)?)?;
            let value_at = entry.checked_add(8)?;
            tiff.get(value_at..value_at.checked_add(4)?)?;
            Some((tag, kind, count, value_at))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_only_reads_back() {
        for orientation in 2..=8 {
            let tiff = orientation_only(orientation);
            assert_eq!(tiff.len(), 26);
            assert_eq!(
                inspect(&tiff),
                Found {
                    gps: false,
                    orientation: Some(orientation)
                }
            );
        }
    }

    #[test]
    fn little_endian_gps_and_orientation() {
        // IFD0 at 8 with two entries; the GPS IFD at 38 with a latitude reference.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(&1u16.to_le_bytes());
        tiff.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
        assert_eq!(
            inspect(&tiff),
            Found {
                gps: true,
                orientation: Some(6)
            }
        );
    }

    #[test]
    fn garbage_finds_nothing() {
        for tiff in [
            &b""[..],
            b"II*\0",
            b"MM\0*\xff\xff\xff\xff",
            b"II*\0\x08\0\0\0\xff\xff",
        ] {
            assert_eq!(inspect(tiff), Found::default());
        }
    }
}
