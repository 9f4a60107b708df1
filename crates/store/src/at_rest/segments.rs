//! Attachment files encrypted in independent 16 KiB segments.
//!
//! The plaintext is cut into segments of [`SEGMENT_LEN`] bytes, the size of the chunk
//! groups verified transfer moves, so any segment can be decrypted (and written) on its
//! own: a range of a video is read without decrypting what comes before it. Each segment
//! is sealed with XChaCha20-Poly1305 in the STREAM construction (`aead-stream`, 32-bit
//! big-endian counter and a last-segment flag in the nonce), which makes reordering,
//! dropping, duplicating and truncating segments detectable. The header is the
//! associated data of every segment.
//!
//! The attachment's length is sealed in the header (not readable without the key) and
//! the file is padded with random bytes to a Padmé length (Nikitin et al., "Reducing
//! Metadata Leakage from Encrypted Files and Communication with PURBs", 2019): the size
//! on disk leaks O(log log n) bits, at most 12 % more bytes, so a known video cannot be
//! recognised by its exact length.
//!
//! ```text
//! 0    8   magic "qoima-m\0"
//! 8    2   version (u16 LE) = 1
//! 10   2   reserved, zero
//! 12   32  salt: the file's keys are derived from the archive key and this salt
//! 44   19  nonce prefix (random)
//! 63   1   reserved, zero
//! 64   24  the plaintext length (u64 LE) sealed with XChaCha20-Poly1305 under the
//!          file's length key (unique to the file, so the nonce is zero), bytes 0..64
//!          as associated data: authenticated before it is believed
//! 88   …   segments: min(16 KiB, rest) ciphertext bytes + 16-byte tag each; at least
//!          one segment, even for an empty attachment; bytes 0..88 are the associated
//!          data of each
//! …    …   random padding up to the Padmé length of the whole file
//! ```

use std::io::{self, Read, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rayon::prelude::*;

use super::keys::ArchiveKey;

/// Plaintext bytes per segment: the 16 KiB chunk group of verified transfer.
pub const SEGMENT_LEN: usize = 16 * 1024;
const TAG_LEN: usize = 16;
/// Segments sealed or opened together, in parallel: 1 MiB of plaintext.
const BATCH_SEGMENTS: usize = 64;
const BATCH_LEN: usize = BATCH_SEGMENTS * SEGMENT_LEN;
/// Length of the header before the first segment.
pub const HEADER_LEN: usize = 88;
const SEALED_SIZE_AT: usize = 64;
const MAGIC: &[u8; 8] = b"qoima-m\0";
const VERSION: u16 = 1;

/// Why an encrypted attachment file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// Not an encrypted attachment file of this version.
    #[error("not an encrypted attachment file, or its header is damaged")]
    NotOurs,
    /// The header does not authenticate: altered, damaged, or from another archive.
    #[error("attachment file header fails authentication: the file was altered or damaged")]
    TamperedHeader,
    /// A segment or the header does not authenticate: the file was altered, truncated
    /// or damaged on disk.
    #[error("attachment file segment {0} fails authentication: the file was altered or damaged")]
    Tampered(u64),
    /// Reading the file failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl From<SegmentError> for io::Error {
    fn from(e: SegmentError) -> io::Error {
        match e {
            SegmentError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

struct Header {
    bytes: [u8; HEADER_LEN],
    size: u64,
}

impl Header {
    fn new(key: &ArchiveKey, size: u64) -> io::Result<Header> {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..8].copy_from_slice(MAGIC);
        bytes[8..10].copy_from_slice(&VERSION.to_le_bytes());
        getrandom::fill(&mut bytes[12..63]).map_err(|e| io::Error::other(e.to_string()))?;
        let salt: [u8; 32] = bytes[12..44].try_into().expect("32 bytes");
        let sealed = size_cipher(key, &salt)
            .encrypt(
                &XNonce::default(),
                Payload {
                    msg: &size.to_le_bytes(),
                    aad: &bytes[..SEALED_SIZE_AT],
                },
            )
            .map_err(|_| io::Error::other("encryption failed"))?;
        bytes[SEALED_SIZE_AT..].copy_from_slice(&sealed);
        Ok(Header { bytes, size })
    }

    /// Parses and authenticates a header read from disk.
    fn open(key: &ArchiveKey, bytes: [u8; HEADER_LEN]) -> Result<Header, SegmentError> {
        if &bytes[..8] != MAGIC
            || bytes[8..10] != VERSION.to_le_bytes()
            || bytes[10..12] != [0, 0]
            || bytes[63] != 0
        {
            return Err(SegmentError::NotOurs);
        }
        let salt: [u8; 32] = bytes[12..44].try_into().expect("32 bytes");
        let size = size_cipher(key, &salt)
            .decrypt(
                &XNonce::default(),
                Payload {
                    msg: &bytes[SEALED_SIZE_AT..],
                    aad: &bytes[..SEALED_SIZE_AT],
                },
            )
            .map_err(|_| SegmentError::TamperedHeader)?;
        let size = u64::from_le_bytes(
            size[..]
                .try_into()
                .map_err(|_| SegmentError::TamperedHeader)?,
        );
        Ok(Header { bytes, size })
    }

    fn salt(&self) -> [u8; 32] {
        self.bytes[12..44].try_into().expect("32 bytes")
    }

    fn segments(&self) -> u64 {
        segments_for(self.size)
    }

    fn stream(&self, key: &ArchiveKey) -> StreamBE32<XChaCha20Poly1305> {
        let file_key = key.blob_file_key(&self.salt());
        let aead = XChaCha20Poly1305::new(&(*file_key).into());
        let prefix: [u8; 19] = self.bytes[44..63].try_into().expect("19 bytes");
        StreamBE32::from_aead(aead, &prefix.into())
    }
}

fn size_cipher(key: &ArchiveKey, salt: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&(*key.blob_size_key(salt)).into())
}

/// The Padmé length for `len`: `len` rounded up so that only its top
/// ⌊log₂ ⌊log₂ len⌋⌋ + 1 bits may be non-zero.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let exponent = u64::from(63 - len.leading_zeros());
    let significant = u64::from(64 - exponent.leading_zeros());
    let mask = (1u64 << (exponent - significant)) - 1;
    (len + mask) & !mask
}

/// Number of segments holding `size` plaintext bytes (at least one).
pub fn segments_for(size: u64) -> u64 {
    size.div_ceil(SEGMENT_LEN as u64).max(1)
}

/// Length of the header and segments of `size` plaintext bytes, before padding.
pub fn encrypted_len(size: u64) -> u64 {
    HEADER_LEN as u64 + size + segments_for(size) * TAG_LEN as u64
}

/// Length on disk of an encrypted file of `size` plaintext bytes, padding included.
pub fn stored_len(size: u64) -> u64 {
    padme(encrypted_len(size))
}

/// Seals the segments from `first` holding `plain` (whole segments; only the
/// attachment's last may be short, and an empty attachment is one empty segment) in
/// parallel, returning their ciphertext in order. Whether a segment is the last follows
/// from its index and the header's size.
fn seal_segments(
    stream: &StreamBE32<XChaCha20Poly1305>,
    header: &Header,
    first: u64,
    plain: &[u8],
) -> io::Result<Vec<u8>> {
    let last_index = header.segments() - 1;
    let chunks: Vec<&[u8]> = if plain.is_empty() {
        vec![&[]]
    } else {
        plain.chunks(SEGMENT_LEN).collect()
    };
    let sealed: Vec<io::Result<Vec<u8>>> = chunks
        .par_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let index = first + i as u64;
            let mut segment = Vec::with_capacity(chunk.len() + TAG_LEN);
            segment.extend_from_slice(chunk);
            let position = u32::try_from(index)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "no such segment"))?;
            stream
                .encrypt_in_place(position, index == last_index, &header.bytes, &mut segment)
                .map_err(|_| io::Error::other("encryption failed"))?;
            Ok(segment)
        })
        .collect();
    let mut out = Vec::with_capacity(plain.len() + chunks.len() * TAG_LEN);
    for segment in sealed {
        out.extend_from_slice(&segment?);
    }
    Ok(out)
}

/// Writes an attachment of a length known in advance, encrypting as it goes.
pub struct SegmentWriter<W: Write> {
    out: W,
    header: Header,
    stream: StreamBE32<XChaCha20Poly1305>,
    buffer: Vec<u8>,
    next_segment: u64,
    received: u64,
}

impl<W: Write> SegmentWriter<W> {
    /// Starts a file of `size` plaintext bytes, writing its header to `out`.
    pub fn new(mut out: W, key: &ArchiveKey, size: u64) -> io::Result<SegmentWriter<W>> {
        if segments_for(size) > u64::from(u32::MAX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "attachment too large to encrypt (over 64 TiB)",
            ));
        }
        let header = Header::new(key, size)?;
        out.write_all(&header.bytes)?;
        let stream = header.stream(key);
        Ok(SegmentWriter {
            out,
            header,
            stream,
            buffer: Vec::with_capacity(BATCH_LEN),
            next_segment: 0,
            received: 0,
        })
    }

    /// Encrypts and writes `data`, the next bytes of the attachment.
    pub fn write_plain(&mut self, mut data: &[u8]) -> io::Result<()> {
        if self.received + data.len() as u64 > self.header.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the attachment is longer than the {} bytes announced",
                    self.header.size
                ),
            ));
        }
        self.received += data.len() as u64;
        while !data.is_empty() {
            let take = (BATCH_LEN - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() == BATCH_LEN {
                self.seal_buffer()?;
            }
        }
        Ok(())
    }

    /// Seals the last segment and returns the output. Fails if fewer bytes were
    /// written than announced.
    pub fn finish(mut self) -> io::Result<W> {
        if self.received != self.header.size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the attachment ended after {} of the {} bytes announced",
                    self.received, self.header.size
                ),
            ));
        }
        if self.next_segment < self.header.segments() {
            self.seal_buffer()?;
        }
        self.pad()?;
        Ok(self.out)
    }

    /// Random bytes up to the Padmé length: indistinguishable from ciphertext.
    fn pad(&mut self) -> io::Result<()> {
        let unpadded = encrypted_len(self.header.size);
        let mut left = padme(unpadded) - unpadded;
        let mut noise = vec![0u8; (left as usize).min(1 << 20)];
        while left > 0 {
            let n = (left as usize).min(noise.len());
            getrandom::fill(&mut noise[..n]).map_err(|e| io::Error::other(e.to_string()))?;
            self.out.write_all(&noise[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Seals the buffered segments, in parallel (they are independent), and writes
    /// them in order. Whether a segment is the last follows from its index and the
    /// announced size.
    fn seal_buffer(&mut self) -> io::Result<()> {
        let sealed = seal_segments(&self.stream, &self.header, self.next_segment, &self.buffer)?;
        self.next_segment += self.buffer.len().div_ceil(SEGMENT_LEN).max(1) as u64;
        self.out.write_all(&sealed)?;
        self.buffer.clear();
        Ok(())
    }
}

/// An encrypted attachment file opened for reading, any segment at a time.
pub struct SegmentReader<F> {
    file: F,
    header: Header,
    stream: StreamBE32<XChaCha20Poly1305>,
}

/// Random access to the bytes of a file.
pub trait ReadAt {
    /// Fills `buf` from `offset`, or fails (`UnexpectedEof` when the file is shorter).
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for std::fs::File {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for Vec<u8> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        let bytes = self.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

impl<F: ReadAt> SegmentReader<F> {
    /// Opens `file`, authenticating its header with its first segment before its
    /// length is believed.
    pub fn open(file: F, key: &ArchiveKey) -> Result<SegmentReader<F>, SegmentError> {
        let reader = Self::open_header(file, key)?;
        let mut first = Vec::new();
        reader.read_segment(0, &mut first)?;
        Ok(reader)
    }

    /// Opens `file` authenticating its header only: for a file being filled in any
    /// order, whose segments may not all be there yet.
    fn open_header(file: F, key: &ArchiveKey) -> Result<SegmentReader<F>, SegmentError> {
        let mut bytes = [0u8; HEADER_LEN];
        file.read_exact_at(&mut bytes, 0)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => SegmentError::NotOurs,
                _ => e.into(),
            })?;
        let header = Header::open(key, bytes)?;
        if segments_for(header.size) > u64::from(u32::MAX) {
            return Err(SegmentError::NotOurs);
        }
        let stream = header.stream(key);
        Ok(SegmentReader {
            file,
            header,
            stream,
        })
    }

    /// The attachment's length, authenticated.
    pub fn size(&self) -> u64 {
        self.header.size
    }

    /// Decrypts segment `index` into `out` (replacing its contents).
    pub fn read_segment(&self, index: u64, out: &mut Vec<u8>) -> Result<(), SegmentError> {
        let segments = self.header.segments();
        if index >= segments {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no such segment").into());
        }
        let plain_len = if index + 1 == segments {
            (self.header.size - index * SEGMENT_LEN as u64) as usize
        } else {
            SEGMENT_LEN
        };
        out.clear();
        out.resize(plain_len + TAG_LEN, 0);
        let offset = HEADER_LEN as u64 + index * (SEGMENT_LEN + TAG_LEN) as u64;
        self.file
            .read_exact_at(out, offset)
            .map_err(|e| match e.kind() {
                // A truncated file: its last segments are missing.
                io::ErrorKind::UnexpectedEof => SegmentError::Tampered(index),
                _ => e.into(),
            })?;
        let position = u32::try_from(index).expect("checked in open");
        self.stream
            .decrypt_in_place(position, index + 1 == segments, &self.header.bytes, out)
            .map_err(|_| SegmentError::Tampered(index))
    }

    /// Decrypts `count` segments from `first` with one read and in parallel, returning
    /// their plaintext in order.
    pub fn read_segments(&self, first: u64, count: u64) -> Result<Vec<u8>, SegmentError> {
        let segments = self.header.segments();
        let end = first + count;
        let cipher_len = |index: u64| -> usize {
            if index + 1 == segments {
                (self.header.size - index * SEGMENT_LEN as u64) as usize + TAG_LEN
            } else {
                SEGMENT_LEN + TAG_LEN
            }
        };
        let total: usize = (first..end).map(cipher_len).sum();
        let mut raw = vec![0u8; total];
        let offset = HEADER_LEN as u64 + first * (SEGMENT_LEN + TAG_LEN) as u64;
        match self.file.read_exact_at(&mut raw, offset) {
            Ok(()) => {}
            // The file is cut short somewhere in this batch: name the first segment
            // missing, one at a time (only on this error path).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                let mut one = Vec::new();
                for index in first..end {
                    self.read_segment(index, &mut one)?;
                }
                return Err(SegmentError::Tampered(first));
            }
            Err(e) => return Err(e.into()),
        }
        let (stream, header) = (&self.stream, &self.header.bytes);
        let opened: Vec<Result<Vec<u8>, SegmentError>> = raw
            .par_chunks(SEGMENT_LEN + TAG_LEN)
            .enumerate()
            .map(|(i, sealed)| {
                let index = first + i as u64;
                let mut segment = sealed.to_vec();
                let position = u32::try_from(index).expect("checked in open");
                stream
                    .decrypt_in_place(position, index + 1 == segments, header, &mut segment)
                    .map_err(|_| SegmentError::Tampered(index))?;
                Ok(segment)
            })
            .collect();
        let mut plain = Vec::with_capacity(total);
        for segment in opened {
            plain.extend_from_slice(&segment?);
        }
        Ok(plain)
    }

    /// Reads the whole attachment from the start, segment by segment.
    pub fn into_read(self) -> PlainReader<F> {
        PlainReader {
            reader: self,
            next_segment: 0,
            buffer: Vec::with_capacity(SEGMENT_LEN + TAG_LEN),
            at: 0,
        }
    }
}

/// An encrypted attachment file filled segment by segment, in any order, as verified
/// groups arrive from peers. A segment is only ever written with the verified bytes of
/// its group, so writing one again (after a restart) seals the same plaintext under the
/// same nonce: the same ciphertext, nothing learned. A segment that was never written,
/// or was torn by a crash, fails authentication and counts as missing.
pub struct PartialFile {
    reader: SegmentReader<std::fs::File>,
}

impl PartialFile {
    /// Starts a file of `size` plaintext bytes, writing its header.
    pub fn create(file: std::fs::File, key: &ArchiveKey, size: u64) -> io::Result<PartialFile> {
        use std::os::unix::fs::FileExt;
        if segments_for(size) > u64::from(u32::MAX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "attachment too large to encrypt (over 64 TiB)",
            ));
        }
        let header = Header::new(key, size)?;
        file.write_all_at(&header.bytes, 0)?;
        let stream = header.stream(key);
        Ok(PartialFile {
            reader: SegmentReader {
                file,
                header,
                stream,
            },
        })
    }

    /// Opens a file started earlier (its header authenticated).
    pub fn open(file: std::fs::File, key: &ArchiveKey) -> Result<PartialFile, SegmentError> {
        Ok(PartialFile {
            reader: SegmentReader::open_header(file, key)?,
        })
    }

    /// The attachment's length.
    pub fn size(&self) -> u64 {
        self.reader.size()
    }

    /// Decrypts segment `index` if it is there and intact.
    pub fn read_segment(&self, index: u64, out: &mut Vec<u8>) -> Result<(), SegmentError> {
        self.reader.read_segment(index, out)
    }

    /// Seals the segments from `first` holding `plain` (whole segments, the last one
    /// short only at the end of the attachment) in parallel and writes them in place.
    pub fn write_segments(&self, first: u64, plain: &[u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let segments = self.reader.header.segments();
        let count = plain.len().div_ceil(SEGMENT_LEN).max(1) as u64;
        if first + count > segments {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no such segment",
            ));
        }
        let out = seal_segments(&self.reader.stream, &self.reader.header, first, plain)?;
        let offset = HEADER_LEN as u64 + first * (SEGMENT_LEN + TAG_LEN) as u64;
        self.reader.file.write_all_at(&out, offset)
    }

    /// Pads the complete file to its Padmé length with random bytes and syncs it.
    pub fn finish(&self) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let file = &self.reader.file;
        let unpadded = encrypted_len(self.reader.header.size);
        let mut at = unpadded;
        let end = padme(unpadded);
        let mut noise = vec![0u8; ((end - at) as usize).min(1 << 20)];
        while at < end {
            let n = ((end - at) as usize).min(noise.len());
            getrandom::fill(&mut noise[..n]).map_err(|e| io::Error::other(e.to_string()))?;
            file.write_all_at(&noise[..n], at)?;
            at += n as u64;
        }
        file.set_len(end)?;
        file.sync_all()
    }
}

/// [`Read`] over the decrypted bytes; an altered segment is an `InvalidData` error.
pub struct PlainReader<F> {
    reader: SegmentReader<F>,
    next_segment: u64,
    buffer: Vec<u8>,
    at: usize,
}

impl<F: ReadAt> PlainReader<F> {
    /// The attachment's length.
    pub fn size(&self) -> u64 {
        self.reader.size()
    }
}

impl<F: ReadAt> Read for PlainReader<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.buffer.len() {
            if self.next_segment == self.reader.header.segments() {
                return Ok(0);
            }
            let count =
                (self.reader.header.segments() - self.next_segment).min(BATCH_SEGMENTS as u64);
            self.buffer = self.reader.read_segments(self.next_segment, count)?;
            self.next_segment += count;
            self.at = 0;
        }
        let n = (self.buffer.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn encrypt(key: &ArchiveKey, plain: &[u8], pieces: usize) -> Vec<u8> {
        let mut writer = SegmentWriter::new(Vec::new(), key, plain.len() as u64).unwrap();
        for piece in plain.chunks(pieces.max(1)) {
            writer.write_plain(piece).unwrap();
        }
        let file = writer.finish().unwrap();
        assert_eq!(file.len() as u64, stored_len(plain.len() as u64));
        file
    }

    fn decrypt(key: &ArchiveKey, file: Vec<u8>) -> Result<Vec<u8>, io::Error> {
        let mut out = Vec::new();
        SegmentReader::open(file, key)?
            .into_read()
            .read_to_end(&mut out)?;
        Ok(out)
    }

    fn plain(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn round_trips_at_segment_boundaries() {
        let key = ArchiveKey::from_bytes([3; 32]);
        for len in [
            0,
            1,
            SEGMENT_LEN - 1,
            SEGMENT_LEN,
            SEGMENT_LEN + 1,
            3 * SEGMENT_LEN,
        ] {
            let data = plain(len);
            assert_eq!(decrypt(&key, encrypt(&key, &data, 1000)).unwrap(), data);
        }
    }

    #[test]
    fn any_segment_reads_on_its_own() {
        let key = ArchiveKey::from_bytes([3; 32]);
        let data = plain(5 * SEGMENT_LEN + 10);
        let reader = SegmentReader::open(encrypt(&key, &data, 7777), &key).unwrap();
        let mut out = Vec::new();
        reader.read_segment(5, &mut out).unwrap();
        assert_eq!(out, data[5 * SEGMENT_LEN..]);
        reader.read_segment(2, &mut out).unwrap();
        assert_eq!(out, data[2 * SEGMENT_LEN..3 * SEGMENT_LEN]);
    }

    #[test]
    fn the_plaintext_does_not_appear_in_the_file() {
        let key = ArchiveKey::from_bytes([3; 32]);
        let marker = b"MARKER-in-the-attachment".repeat(2000);
        let file = encrypt(&key, &marker, 4096);
        assert!(!file.windows(24).any(|w| w == &marker[..24]));
    }

    #[test]
    fn a_wrong_key_truncation_and_a_changed_length_are_tampering() {
        let key = ArchiveKey::from_bytes([3; 32]);
        let data = plain(3 * SEGMENT_LEN);
        let file = encrypt(&key, &data, 9999);

        let other = ArchiveKey::from_bytes([4; 32]);
        assert!(matches!(
            SegmentReader::open(file.clone(), &other),
            Err(SegmentError::TamperedHeader)
        ));

        // Cut at a segment boundary: the last segment left lacks the "last" flag.
        let cut = file[..HEADER_LEN + 2 * (SEGMENT_LEN + TAG_LEN)].to_vec();
        let error = decrypt(&key, cut).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);

        // A changed sealed length, or salt: the header does not authenticate.
        for at in [SEALED_SIZE_AT, 20] {
            let mut altered = file.clone();
            altered[at] ^= 1;
            assert!(matches!(
                SegmentReader::open(altered, &key),
                Err(SegmentError::TamperedHeader)
            ));
        }

        assert!(matches!(
            SegmentReader::open(b"short".to_vec(), &key),
            Err(SegmentError::NotOurs)
        ));
    }

    #[test]
    fn the_length_on_disk_is_padded_and_hides_the_exact_size() {
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1000), 1024);
        for len in [100_000u64, 7_340_119, 1_073_741_829] {
            let padded = padme(len);
            assert!(
                padded >= len && padded - len <= len / 8,
                "{len} -> {padded}"
            );
        }
        // Two videos a few kilobytes apart end up the same size on disk.
        assert_eq!(stored_len(50_000_000), stored_len(50_003_000));
        let key = ArchiveKey::from_bytes([3; 32]);
        let data = plain(70_000);
        assert_eq!(decrypt(&key, encrypt(&key, &data, 777)).unwrap(), data);
    }

    #[test]
    fn swapped_segments_are_tampering() {
        let key = ArchiveKey::from_bytes([3; 32]);
        let data = plain(3 * SEGMENT_LEN);
        let mut file = encrypt(&key, &data, 9999);
        let seg = SEGMENT_LEN + TAG_LEN;
        let (a, b) = (HEADER_LEN, HEADER_LEN + seg);
        let first: Vec<u8> = file[a..a + seg].to_vec();
        file.copy_within(b..b + seg, a);
        file[b..b + seg].copy_from_slice(&first);
        assert!(matches!(
            SegmentReader::open(file, &key),
            Err(SegmentError::Tampered(0))
        ));
    }

    #[test]
    fn writing_more_or_less_than_announced_fails() {
        let key = ArchiveKey::from_bytes([3; 32]);
        let mut writer = SegmentWriter::new(Vec::new(), &key, 10).unwrap();
        assert!(writer.write_plain(&[0; 11]).is_err());
        let mut writer = SegmentWriter::new(Vec::new(), &key, 10).unwrap();
        writer.write_plain(&[0; 9]).unwrap();
        assert_eq!(
            writer.finish().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_flipped_byte_is_caught(len in 0usize..40_000, at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let key = ArchiveKey::from_bytes([9; 32]);
            let data = plain(len);
            let mut file = encrypt(&key, &data, 5000);
            // The padding after the last segment carries nothing: only the header and
            // the segments are authenticated.
            let at = at.index(encrypted_len(len as u64) as usize);
            file[at] ^= 1 << bit;
            prop_assert!(decrypt(&key, file).is_err());
        }
    }
}
