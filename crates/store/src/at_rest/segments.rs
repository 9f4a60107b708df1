//! Attachment files encrypted in independent 16 KiB segments.
//!
//! The plaintext is cut into segments of [`SEGMENT_LEN`] bytes, the size of the chunk
//! groups verified transfer moves, so any segment can be decrypted (and written) on its
//! own: a range of a video is read without decrypting what comes before it. Each segment
//! is sealed with XChaCha20-Poly1305 in the STREAM construction (`aead-stream`, 32-bit
//! big-endian counter and a last-segment flag in the nonce), which makes reordering,
//! dropping, duplicating and truncating segments detectable. The header is the
//! associated data of every segment, so its length field is only believed once a
//! segment has been authenticated under it.
//!
//! ```text
//! 0    8   magic "qoima-m\0"
//! 8    2   version (u16 LE) = 1
//! 10   2   reserved, zero
//! 12   8   plaintext length (u64 LE)
//! 20   32  salt: the file's key is derived from the archive key and this salt
//! 52   19  nonce prefix (random)
//! 71   1   reserved, zero
//! 72   …   segments: min(16 KiB, rest) ciphertext bytes + 16-byte tag each;
//!          at least one segment, even for an empty attachment
//! ```

use std::io::{self, Read, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};

use super::keys::ArchiveKey;

/// Plaintext bytes per segment: the 16 KiB chunk group of verified transfer.
pub const SEGMENT_LEN: usize = 16 * 1024;
const TAG_LEN: usize = 16;
/// Length of the header before the first segment.
pub const HEADER_LEN: usize = 72;
const MAGIC: &[u8; 8] = b"qoima-m\0";
const VERSION: u16 = 1;

/// Why an encrypted attachment file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// Not an encrypted attachment file of this version.
    #[error("not an encrypted attachment file, or its header is damaged")]
    NotOurs,
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
    fn new(size: u64) -> io::Result<Header> {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..8].copy_from_slice(MAGIC);
        bytes[8..10].copy_from_slice(&VERSION.to_le_bytes());
        bytes[12..20].copy_from_slice(&size.to_le_bytes());
        getrandom::fill(&mut bytes[20..71]).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Header { bytes, size })
    }

    /// Parses a header read from disk. Its length is not yet authenticated.
    fn parse(bytes: [u8; HEADER_LEN]) -> Result<Header, SegmentError> {
        if &bytes[..8] != MAGIC
            || bytes[8..10] != VERSION.to_le_bytes()
            || bytes[10..12] != [0, 0]
            || bytes[71] != 0
        {
            return Err(SegmentError::NotOurs);
        }
        let size = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        Ok(Header { bytes, size })
    }

    fn salt(&self) -> [u8; 32] {
        self.bytes[20..52].try_into().expect("32 bytes")
    }

    fn segments(&self) -> u64 {
        segments_for(self.size)
    }

    fn stream(&self, key: &ArchiveKey) -> StreamBE32<XChaCha20Poly1305> {
        let file_key = key.blob_file_key(&self.salt());
        let aead = XChaCha20Poly1305::new(&(*file_key).into());
        let prefix: [u8; 19] = self.bytes[52..71].try_into().expect("19 bytes");
        StreamBE32::from_aead(aead, &prefix.into())
    }
}

/// Number of segments holding `size` plaintext bytes (at least one).
pub fn segments_for(size: u64) -> u64 {
    size.div_ceil(SEGMENT_LEN as u64).max(1)
}

/// Length on disk of an encrypted file of `size` plaintext bytes.
pub fn encrypted_len(size: u64) -> u64 {
    HEADER_LEN as u64 + size + segments_for(size) * TAG_LEN as u64
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
        let header = Header::new(size)?;
        out.write_all(&header.bytes)?;
        let stream = header.stream(key);
        Ok(SegmentWriter {
            out,
            header,
            stream,
            buffer: Vec::with_capacity(SEGMENT_LEN + TAG_LEN),
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
            let take = (SEGMENT_LEN - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            // A full segment is sealed at once unless it may be the last: the last one
            // is sealed by `finish`, with the flag that marks the end.
            if self.buffer.len() == SEGMENT_LEN && self.next_segment + 1 < self.header.segments() {
                self.seal_buffer(false)?;
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
        self.seal_buffer(true)?;
        Ok(self.out)
    }

    fn seal_buffer(&mut self, last: bool) -> io::Result<()> {
        let position = u32::try_from(self.next_segment).expect("checked in new");
        self.stream
            .encrypt_in_place(position, last, &self.header.bytes, &mut self.buffer)
            .map_err(|_| io::Error::other("encryption failed"))?;
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        self.next_segment += 1;
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
        let mut bytes = [0u8; HEADER_LEN];
        file.read_exact_at(&mut bytes, 0)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => SegmentError::NotOurs,
                _ => e.into(),
            })?;
        let header = Header::parse(bytes)?;
        if segments_for(header.size) > u64::from(u32::MAX) {
            return Err(SegmentError::NotOurs);
        }
        let stream = header.stream(key);
        let reader = SegmentReader {
            file,
            header,
            stream,
        };
        let mut first = Vec::new();
        reader.read_segment(0, &mut first)?;
        Ok(reader)
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
            self.reader
                .read_segment(self.next_segment, &mut self.buffer)?;
            self.next_segment += 1;
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
        assert_eq!(file.len() as u64, encrypted_len(plain.len() as u64));
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
            Err(SegmentError::Tampered(0))
        ));

        // Cut at a segment boundary: the last segment left lacks the "last" flag.
        let cut = file[..HEADER_LEN + 2 * (SEGMENT_LEN + TAG_LEN)].to_vec();
        let error = decrypt(&key, cut).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);

        // A header claiming fewer bytes: nothing authenticates under it.
        let mut shorter = file.clone();
        shorter[12..20].copy_from_slice(&(SEGMENT_LEN as u64).to_le_bytes());
        assert!(matches!(
            SegmentReader::open(shorter, &key),
            Err(SegmentError::Tampered(0))
        ));

        // A header claiming 2^60 bytes is refused before any allocation.
        let mut huge = file.clone();
        huge[12..20].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(SegmentReader::open(huge, &key).is_err());

        assert!(matches!(
            SegmentReader::open(b"short".to_vec(), &key),
            Err(SegmentError::NotOurs)
        ));
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
            let at = at.index(file.len());
            file[at] ^= 1 << bit;
            prop_assert!(decrypt(&key, file).is_err());
        }
    }
}
