//! Sealed bundle files: a whole bundle (manifest included) encrypted, for a USB stick that
//! may be found at a checkpoint. Whoever finds it learns its length and that it is a
//! sealed qoima bundle; nothing else. Two ways to hold the key:
//!
//! * a passphrase of its own (`export --passphrase`), which the recipient learns by
//!   another way than the stick;
//! * recipients' keys for sealed records (`export --seal-to`): a random file key wrapped
//!   with HPKE for each (as a record's sealed part is, under another `info`), so only
//!   their archives open it and no passphrase has to travel. Recipients are not named.
//!
//! The passphrase is stretched by Argon2id; the bundle's bytes are sealed with
//! XChaCha20-Poly1305 in the STREAM construction (`aead-stream`) in 64 KiB segments, the
//! last one flagged, so reordering, truncation and any change are detected. The header
//! is the associated data of every segment. No padding is added: the length shows.
//!
//! Under a passphrase:
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
//!
//! To recipients (n from 1 to 16; each entry HPKE suite 1, as in FORMAT.md "Sealed
//! parts", with `info` "qoima sealed bundle file key v1" and empty associated data; the
//! STREAM key is BLAKE3 `derive_key("qoima 2026-11 recipient-sealed bundle v1", file key)`):
//!
//! ```text
//! 0      8    magic "qoima-r\0"
//! 8      2    version (u16 LE) = 1
//! 10     1    n
//! 11     82n  per recipient: suite (u16 LE) = 1, enc (32), wrapped file key (48)
//! 11+82n 19   STREAM nonce prefix
//! …      …    segments, as above
//! ```

use std::io::{self, Read, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};

use qoima_core::{SealingKey, SealingSecret, unwrap_key, wrap_key};

use crate::keyfile::{cost_is_sane, stretch};

const MAGIC: &[u8; 8] = b"qoima-p\0";
const RECIPIENTS_MAGIC: &[u8; 8] = b"qoima-r\0";
const ENTRY_LEN: usize = 2 + 32 + 48;
const PREFIX_LEN: usize = 19;
const FILE_KEY_INFO: &[u8] = b"qoima sealed bundle file key v1";
const FILE_KEY_CONTEXT: &str = "qoima 2026-11 recipient-sealed bundle v1";
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
    /// Sealed to recipients, none of whom is a persona of this archive.
    #[error("this bundle is sealed to other recipients: none of your keys opens it")]
    NotARecipient,
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

/// How a sealed bundle's key is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedWith {
    /// A passphrase of its own.
    Passphrase,
    /// Recipients' keys for sealed records.
    Recipients,
}

/// Reads into `head` until it is full or `input` ends, for [`sealed_with`] to look at:
/// how many bytes it holds, and the read error that stopped it early, if one did (the
/// bytes read before it are counted, so a caller that goes on reads nothing twice).
pub fn read_head(input: &mut impl Read, head: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// Whether `first_bytes` start like a sealed bundle, and of which kind.
pub fn sealed_with(first_bytes: &[u8]) -> Option<SealedWith> {
    if first_bytes.starts_with(MAGIC) {
        Some(SealedWith::Passphrase)
    } else if first_bytes.starts_with(RECIPIENTS_MAGIC) {
        Some(SealedWith::Recipients)
    } else {
        None
    }
}

/// Whether `first_bytes` start like a sealed bundle.
pub fn is_sealed_bundle(first_bytes: &[u8]) -> bool {
    sealed_with(first_bytes).is_some()
}

fn recipients_stream(file_key: &[u8; 32], header: &[u8]) -> StreamBE32<XChaCha20Poly1305> {
    let key = blake3::derive_key(FILE_KEY_CONTEXT, file_key);
    let aead = XChaCha20Poly1305::new(&key.into());
    let prefix: [u8; PREFIX_LEN] = header[header.len() - PREFIX_LEN..]
        .try_into()
        .expect("the header ends with the prefix");
    StreamBE32::from_aead(aead, &prefix.into())
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
    header: Vec<u8>,
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
            header: header.to_vec(),
            stream,
            buffer: Vec::with_capacity(SEGMENT_LEN + TAG_LEN),
            next_segment: 0,
        })
    }

    /// Starts a bundle sealed to `recipients` (1 to 16 keys for sealed records).
    pub fn to_recipients(mut out: W, recipients: &[SealingKey]) -> io::Result<SealWriter<W>> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let mut file_key = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut file_key[..]).map_err(|e| io::Error::other(e.to_string()))?;
        let entries = wrap_key(&file_key, recipients, FILE_KEY_INFO, b"", &mut rng)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let mut header = Vec::with_capacity(11 + ENTRY_LEN * entries.len() + PREFIX_LEN);
        header.extend_from_slice(RECIPIENTS_MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.push(entries.len() as u8);
        for entry in &entries {
            header.extend_from_slice(&entry.suite.to_le_bytes());
            header.extend_from_slice(&entry.enc);
            header.extend_from_slice(&entry.wrapped_key);
        }
        let mut prefix = [0u8; PREFIX_LEN];
        getrandom::fill(&mut prefix).map_err(|e| io::Error::other(e.to_string()))?;
        header.extend_from_slice(&prefix);
        let stream = recipients_stream(&file_key, &header);
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
    SealReader::start(
        input,
        header.to_vec(),
        stream,
        Some(SealedBundleError::WrongPassphrase),
    )
}

/// Opens a bundle sealed to recipients with whichever of `secrets` (this archive's keys
/// for sealed records) it is sealed to.
pub fn open_for_recipient<R: Read>(
    mut input: R,
    secrets: &[SealingSecret],
) -> Result<SealReader<R>, SealedBundleError> {
    let malformed = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => SealedBundleError::Malformed,
        _ => e.into(),
    };
    let mut header = vec![0u8; 11];
    input.read_exact(&mut header).map_err(malformed)?;
    let n = usize::from(header[10]);
    if &header[..8] != RECIPIENTS_MAGIC
        || header[8..10] != VERSION.to_le_bytes()
        || !(1..=qoima_core::limits::SEALED_RECIPIENTS_MAX).contains(&n)
    {
        return Err(SealedBundleError::Malformed);
    }
    header.resize(11 + ENTRY_LEN * n + PREFIX_LEN, 0);
    input.read_exact(&mut header[11..]).map_err(malformed)?;
    let entries: Vec<qoima_core::SealedRecipient> = header[11..11 + ENTRY_LEN * n]
        .chunks_exact(ENTRY_LEN)
        .map(|e| qoima_core::SealedRecipient {
            suite: u16::from_le_bytes([e[0], e[1]]),
            enc: e[2..34].to_vec(),
            wrapped_key: e[34..].to_vec(),
        })
        .collect();
    let mut file_key = None;
    for secret in secrets {
        if let Some(key) = unwrap_key(&entries, FILE_KEY_INFO, b"", secret)
            .map_err(|_| SealedBundleError::Malformed)?
        {
            file_key = Some(zeroize::Zeroizing::new(key));
            break;
        }
    }
    let file_key = file_key.ok_or(SealedBundleError::NotARecipient)?;
    let stream = recipients_stream(&file_key, &header);
    SealReader::start(input, header, stream, None)
}

impl<R: Read> SealReader<R> {
    /// Opens the first segment: failing there is `first_fails` if given (under a
    /// passphrase: the wrong one), else the segment's own error ("altered or cut short").
    fn start(
        input: R,
        header: Vec<u8>,
        stream: StreamBE32<XChaCha20Poly1305>,
        first_fails: Option<SealedBundleError>,
    ) -> Result<SealReader<R>, SealedBundleError> {
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
            Err(e) => match first_fails {
                Some(error) if e.kind() == io::ErrorKind::InvalidData => Err(error),
                _ => Err(e.into()),
            },
        }
    }
}

/// The bundle's bytes, read out of a sealed bundle.
pub struct SealReader<R> {
    input: R,
    header: Vec<u8>,
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

    fn to_recipients(plain: &[u8], recipients: &[SealingKey]) -> Vec<u8> {
        let mut writer = SealWriter::to_recipients(Vec::new(), recipients).unwrap();
        writer.write_all(plain).unwrap();
        writer.finish().unwrap()
    }

    fn open_as(file: &[u8], secrets: &[SealingSecret]) -> Result<Vec<u8>, SealedBundleError> {
        let mut out = Vec::new();
        open_for_recipient(file, secrets)?
            .read_to_end(&mut out)
            .map_err(SealedBundleError::Io)?;
        Ok(out)
    }

    #[test]
    fn a_bundle_sealed_to_recipients_opens_for_each_of_them_and_nobody_else() {
        let (ngo, lawyer, stranger) = (
            SealingSecret::from_seed([1; 32]),
            SealingSecret::from_seed([2; 32]),
            SealingSecret::from_seed([3; 32]),
        );
        let plain: Vec<u8> = (0..SEGMENT_LEN * 2 + 9).map(|i| (i % 251) as u8).collect();
        let file = to_recipients(&plain, &[ngo.public(), lawyer.public()]);
        assert_eq!(sealed_with(&file), Some(SealedWith::Recipients));
        assert_eq!(open_as(&file, &[stranger.clone(), ngo]).unwrap(), plain);
        assert_eq!(open_as(&file, &[lawyer]).unwrap(), plain);
        assert!(matches!(
            open_as(&file, &[stranger]),
            Err(SealedBundleError::NotARecipient)
        ));
        assert!(matches!(
            open_as(&file, &[]),
            Err(SealedBundleError::NotARecipient)
        ));
    }

    #[test]
    fn a_damaged_recipient_sealed_bundle_is_refused() {
        let ngo = SealingSecret::from_seed([1; 32]);
        let plain = vec![5u8; SEGMENT_LEN + 3];
        let file = to_recipients(&plain, &[ngo.public()]);
        // No recipients at all, or more than 16.
        for n in [0u8, 17, 255] {
            let mut bad = file.clone();
            bad[10] = n;
            assert!(matches!(
                open_as(&bad, std::slice::from_ref(&ngo)),
                Err(SealedBundleError::Malformed)
            ));
        }
        // The nonce prefix (part of every segment's associated data) altered.
        let mut bad = file.clone();
        bad[11 + ENTRY_LEN] ^= 1;
        let error = open_as(&bad, std::slice::from_ref(&ngo)).unwrap_err();
        assert!(
            error.to_string().contains("altered or cut short"),
            "{error}"
        );
        // The wrapped key altered: it no longer opens for anyone.
        let mut bad = file.clone();
        bad[11 + 40] ^= 1;
        assert!(matches!(
            open_as(&bad, std::slice::from_ref(&ngo)),
            Err(SealedBundleError::NotARecipient)
        ));
        // Cut inside the header, and cut after the first segment.
        assert!(matches!(
            open_as(&file[..50], std::slice::from_ref(&ngo)),
            Err(SealedBundleError::Malformed)
        ));
        let header_len = 11 + ENTRY_LEN + PREFIX_LEN;
        let cut = &file[..header_len + SEGMENT_LEN + TAG_LEN];
        let error = open_as(cut, &[ngo]).unwrap_err();
        assert!(
            error.to_string().contains("altered or cut short"),
            "{error}"
        );
    }
}
