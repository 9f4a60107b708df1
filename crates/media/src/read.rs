//! Big-endian reads that check every length against the bytes that remain, so a
//! field pointing past the end is an error instead of a panic.

use crate::Fail;

/// A cursor over a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// How far the cursor has gone.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes, or [`Fail::Damaged`] naming `what` was cut off.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Fail> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| Fail::Damaged(format!("{what} is cut off")))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Fail> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// One byte.
    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, Fail> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian `u16`.
    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, Fail> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u32`.
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, Fail> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u64`.
    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, Fail> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A big-endian unsigned field of `size` bytes (0, 4 or 8, as ISO-BMFF allows).
    pub(crate) fn sized(&mut self, size: u8, what: &str) -> Result<u64, Fail> {
        match size {
            0 => Ok(0),
            4 => Ok(u64::from(self.u32(what)?)),
            8 => self.u64(what),
            _ => Err(Fail::Damaged(format!("{what} has a size of {size} bytes"))),
        }
    }

    /// Bytes up to a NUL, which is consumed; the rest of the data if there is none.
    pub(crate) fn c_string(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(nul) => {
                self.pos += nul + 1;
                &rest[..nul]
            }
            None => {
                self.pos = self.data.len();
                rest
            }
        }
    }
}

/// A length from a file as `usize`; on 64-bit targets always, elsewhere checked.
pub(crate) fn to_usize(n: u64, what: &str) -> Result<usize, Fail> {
    usize::try_from(n).map_err(|_| Fail::Damaged(format!("{what} is too large")))
}
