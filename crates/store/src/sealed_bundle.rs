//! Sealed bundle files: a whole bundle (manifest included) encrypted under a passphrase
//! of its own, for a USB stick that may be found at a checkpoint. Whoever finds it learns
//! its length and that it is a sealed qoima bundle; nothing else. The recipient learns
//! the passphrase by another way than the stick.
//!
//! The passphrase is stretched by Argon2id; the bundle's bytes are sealed with
//! XChaCha20-Poly1305 in the STREAM construction (`aead-stream`) in 64 KiB segments, the
//! last one flagged, so reordering, truncation and any change are detected. The header
//! is the associated data of every segment. No padding is added: the length shows.
//!
//! ```text
//! 0   8   magic "qoima-p\0"
//! 8   2   version (u16 LE) = 1
//! 10  4   Argon2id memory in KiB (u32 LE)
//! 14  4   Argon2id iterations (u32 LE)
//! 18  4   Argon2id lanes (u32 LE)
//! 22  16  salt
//! 38  19  STREAM nonce prefix
//! 57  …   segments: min(64 KiB, rest) ciphertext bytes + 16-byte tag each; at least
//!         one (the last, flagged), even for an empty input
//! ```

use std::io::{self, Read, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};

use crate::keyfile::{cost_is_sane, stretch};

const MAGIC: &[u8; 8] = b"qoima-p\0";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 57;
const SEGMENT_LEN: usize = 64 * 1024;
const TAG_LEN: usize = 16;

/// Why a sealed bundle could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealedBundleError {
    /// The passphrase does not open it (or its first segment was altered).
    #[error("wrong passphrase for this sealed bundle (or the file was altered)")]
    WrongPassphrase,
    /// Not a sealed bundle, or its header is damaged.
    #[error("not a sealed bundle, or its header is damaged")]
    Malformed,
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Argon2id cost of a sealed bundle's passphrase.
#[derive(Debug, Clone, Copy)]
pub struct SealParams {
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
}

impl Default for SealParams {
    /// 64 MiB and 3 passes, as the key file.
    fn default() -> Self {
        SealParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        }
    }
}

impl SealParams {
    /// Cheap parameters, for tests only.
    #[doc(hidden)]
    pub fn for_tests() -> Self {
        SealParams {
            memory_kib: 8 * 1024,
            iterations: 1,
            lanes: 1,
        }
    }
}

/// Whether `first_bytes` start like a sealed bundle.
pub fn is_sealed_bundle(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(MAGIC)
}

fn stream(
    passphrase: &[u8],
    header: &[u8; HEADER_LEN],
    params: SealParams,
) -> Result<StreamBE32<XChaCha20Poly1305>, SealedBundleError> {
    if !cost_is_sane(params.memory_kib, params.iterations, params.lanes) {
        return Err(SealedBundleError::Malformed);
    }
    let key = stretch(
        passphrase,
        &header[22..38],
        params.memory_kib,
        params.iterations,
        params.lanes,
    )
    .map_err(|_| SealedBundleError::Malformed)?;
    let aead = XChaCha20Poly1305::new(&(*key).into());
    let prefix: [u8; 19] = header[38..57].try_into().expect("19 bytes");
    Ok(StreamBE32::from_aead(aead, &prefix.into()))
}

/// Writes a sealed bundle: the bytes written to it are the bundle; [`SealWriter::finish`]
/// seals the last segment.
pub struct SealWriter<W: Write> {
    out: W,
    header: [u8; HEADER_LEN],
    stream: StreamBE32<XChaCha20Poly1305>,
    buffer: Vec<u8>,
    next_segment: u32,
}

impl<W: Write> SealWriter<W> {
    /// Starts a sealed bundle under `passphrase`, writing the header to `out`.
    pub fn new(out: W, passphrase: &[u8]) -> io::Result<SealWriter<W>> {
        SealWriter::with_params(out, passphrase, SealParams::default())
    }

    /// As [`SealWriter::new`], with the given Argon2id cost.
    pub fn with_params(
        mut out: W,
        passphrase: &[u8],
        params: SealParams,
    ) -> io::Result<SealWriter<W>> {
        if passphrase.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a sealed bundle needs a passphrase",
            ));
        }
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        header[8..10].copy_from_slice(&VERSION.to_le_bytes());
        header[10..14].copy_from_slice(&params.memory_kib.to_le_bytes());
        header[14..18].copy_from_slice(&params.iterations.to_le_bytes());
        header[18..22].copy_from_slice(&params.lanes.to_le_bytes());
        getrandom::fill(&mut header[22..57]).map_err(|e| io::Error::other(e.to_string()))?;
        let stream = stream(passphrase, &header, params).map_err(io::Error::other)?;
        out.write_all(&header)?;
        Ok(SealWriter {
            out,
            header,
            stream,
            buffer: Vec::with_capacity(SEGMENT_LEN + TAG_LEN),
            next_segment: 0,
        })
    }

    /// Seals what is buffered as the last segment and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal(true)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn seal(&mut self, last: bool) -> io::Result<()> {
        self.stream
            .encrypt_in_place(self.next_segment, last, &self.header, &mut self.buffer)
            .map_err(|_| io::Error::other("encryption failed"))?;
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        self.next_segment = self
            .next_segment
            .checked_add(1)
            .ok_or_else(|| io::Error::other("bundle too large to seal"))?;
        Ok(())
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // A full segment is sealed only once more data shows it is not the last.
        if self.buffer.len() == SEGMENT_LEN && !data.is_empty() {
            self.seal(false)?;
        }
        let take = (SEGMENT_LEN - self.buffer.len()).min(data.len());
        self.buffer.extend_from_slice(&data[..take]);
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Opens a sealed bundle: checks the passphrase on the first segment, then yields the
/// bundle's bytes. A later segment that fails (altered, reordered, cut short) is an
/// `InvalidData` read error saying so.
pub fn open_sealed<R: Read>(
    mut input: R,
    passphrase: &[u8],
) -> Result<SealReader<R>, SealedBundleError> {
    let mut header = [0u8; HEADER_LEN];
    input.read_exact(&mut header).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => SealedBundleError::Malformed,
        _ => e.into(),
    })?;
    if &header[..8] != MAGIC || header[8..10] != VERSION.to_le_bytes() {
        return Err(SealedBundleError::Malformed);
    }
    let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let params = SealParams {
        memory_kib: u32_at(10),
        iterations: u32_at(14),
        lanes: u32_at(18),
    };
    let stream = stream(passphrase, &header, params)?;
    let mut reader = SealReader {
        input,
        header,
        stream,
        next_segment: 0,
        lookahead: Vec::new(),
        plain: Vec::new(),
        at: 0,
        finished: false,
    };
    match reader.next_segment() {
        Ok(()) => Ok(reader),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => Err(SealedBundleError::WrongPassphrase),
        Err(e) => Err(e.into()),
    }
}

/// The bundle's bytes, read out of a sealed bundle.
pub struct SealReader<R> {
    input: R,
    header: [u8; HEADER_LEN],
    stream: StreamBE32<XChaCha20Poly1305>,
    next_segment: u32,
    /// Bytes read past the current segment: whether more follow decides its flag.
    lookahead: Vec<u8>,
    plain: Vec<u8>,
    at: usize,
    finished: bool,
}

impl<R: Read> SealReader<R> {
    /// Reads and opens the next segment into `plain`.
    fn next_segment(&mut self) -> io::Result<()> {
        let sealed_len = SEGMENT_LEN + TAG_LEN;
        // One byte beyond a full segment tells whether it is the last.
        while self.lookahead.len() < sealed_len + 1 {
            let mut buf = vec![0u8; sealed_len + 1 - self.lookahead.len()];
            let n = match self.input.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            self.lookahead.extend_from_slice(&buf[..n]);
        }
        let last = self.lookahead.len() <= sealed_len;
        let take = self.lookahead.len().min(sealed_len);
        let mut segment: Vec<u8> = self.lookahead.drain(..take).collect();
        self.stream
            .decrypt_in_place(self.next_segment, last, &self.header, &mut segment)
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the sealed bundle was altered or cut short (segment {} fails authentication)",
                        self.next_segment
                    ),
                )
            })?;
        self.next_segment = self.next_segment.saturating_add(1);
        self.plain = segment;
        self.at = 0;
        self.finished = last;
        Ok(())
    }
}

impl<R: Read> Read for SealReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.plain.len() {
            if self.finished {
                return Ok(0);
            }
            self.next_segment()?;
        }
        let n = (self.plain.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn seal(plain: &[u8]) -> Vec<u8> {
        let mut writer =
            SealWriter::with_params(Vec::new(), b"pass", SealParams::for_tests()).unwrap();
        for piece in plain.chunks(7000) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    fn open(file: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, io::Error> {
        let mut out = Vec::new();
        open_sealed(file, passphrase)
            .map_err(io::Error::other)?
            .read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_at_segment_boundaries() {
        for len in [0, 1, SEGMENT_LEN, SEGMENT_LEN + 1, 3 * SEGMENT_LEN] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let file = seal(&plain);
            assert!(is_sealed_bundle(&file));
            assert_eq!(open(&file, b"pass").unwrap(), plain, "{len}");
        }
    }

    #[test]
    fn a_wrong_passphrase_truncation_and_huge_costs_are_refused() {
        let plain = vec![7u8; 2 * SEGMENT_LEN + 5];
        let file = seal(&plain);
        assert!(matches!(
            open_sealed(&file[..], b"wrong"),
            Err(SealedBundleError::WrongPassphrase)
        ));
        // Cut at a segment boundary: what is left ends without the "last" flag.
        let cut = &file[..HEADER_LEN + 2 * (SEGMENT_LEN + TAG_LEN)];
        let error = open(cut, b"pass").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            error.to_string().contains("altered or cut short"),
            "{error}"
        );

        let mut huge = file.clone();
        huge[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        let started = std::time::Instant::now();
        assert!(matches!(
            open_sealed(&huge[..], b"pass"),
            Err(SealedBundleError::Malformed)
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(matches!(
            open_sealed(&b"qoima-b\0 a plain bundle"[..], b"pass"),
            Err(SealedBundleError::Malformed)
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn any_flipped_byte_is_caught(len in 0usize..150_000, at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let plain: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
            let mut file = seal(&plain);
            let at = at.index(file.len());
            file[at] ^= 1 << bit;
            prop_assert!(open(&file, b"pass").is_err());
        }
    }
}
