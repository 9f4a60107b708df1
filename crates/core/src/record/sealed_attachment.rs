//! Attachments of a sealed record: each encrypted, before it is hashed for the record,
//! under its own key derived from the record's content key, so carriers hold, verify
//! and pass on ciphertext whose plaintext only the recipients can recover.
//!
//! The ciphertext is XChaCha20-Poly1305 in the STREAM construction (`aead-stream`,
//! 32-bit big-endian counter, last-segment flag) over 64 KiB segments, with a zero nonce
//! prefix: the key is used for this one attachment only. Truncation, reordering and any
//! change fail authentication.

use std::io::{self, Read, Write};

use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};

const SEGMENT_LEN: usize = 64 * 1024;
const TAG_LEN: usize = 16;
const ATTACHMENT_KEY_CONTEXT: &str = "qoima 2026-11 sealed record attachment v1";

/// The random key of one sealed record, from which its content cipher and every
/// attachment's key are derived. Only recipients recover it.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey(pub(super) [u8; 32]);

impl ContentKey {
    /// A fresh key from `rng`.
    pub fn random(rng: &mut impl rand_core::CryptoRng) -> ContentKey {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        ContentKey(key)
    }

    fn attachment_stream(&self, index: u32) -> StreamBE32<XChaCha20Poly1305> {
        let mut input = [0u8; 36];
        input[..32].copy_from_slice(&self.0);
        input[32..].copy_from_slice(&index.to_le_bytes());
        let key = blake3::derive_key(ATTACHMENT_KEY_CONTEXT, &input);
        StreamBE32::from_aead(XChaCha20Poly1305::new(&key.into()), &[0u8; 19].into())
    }
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(…)")
    }
}

/// The ciphertext of attachment number `index` (its position in the record's list).
pub fn encrypt_attachment(key: &ContentKey, index: u32, plain: &[u8]) -> Vec<u8> {
    let stream = key.attachment_stream(index);
    let segments = plain.len().div_ceil(SEGMENT_LEN).max(1);
    let mut out = Vec::with_capacity(plain.len() + segments * TAG_LEN);
    for n in 0..segments {
        let piece =
            &plain[(n * SEGMENT_LEN).min(plain.len())..((n + 1) * SEGMENT_LEN).min(plain.len())];
        let mut buffer = piece.to_vec();
        stream
            .encrypt_in_place(n as u32, n + 1 == segments, b"", &mut buffer)
            .expect("a segment within the counter's range always encrypts");
        out.extend_from_slice(&buffer);
    }
    out
}

/// Writes the plaintext of attachment `index` read from its ciphertext `input`; an
/// `InvalidData` error if it does not authenticate (altered, cut short, or not this
/// record's). Returns the plaintext length.
pub fn decrypt_attachment(
    key: &ContentKey,
    index: u32,
    mut input: impl Read,
    mut output: impl Write,
) -> io::Result<u64> {
    let stream = key.attachment_stream(index);
    let sealed_len = SEGMENT_LEN + TAG_LEN;
    let mut lookahead: Vec<u8> = Vec::with_capacity(sealed_len + 1);
    let mut written = 0u64;
    let mut segment = 0u32;
    loop {
        // One byte beyond a full segment tells whether it is the last.
        let mut filled = lookahead.len();
        lookahead.resize(sealed_len + 1, 0);
        while filled < lookahead.len() {
            match input.read(&mut lookahead[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        lookahead.truncate(filled);
        let last = lookahead.len() <= sealed_len;
        let take = lookahead.len().min(sealed_len);
        let mut buffer: Vec<u8> = lookahead.drain(..take).collect();
        stream
            .decrypt_in_place(segment, last, b"", &mut buffer)
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the sealed attachment does not authenticate (segment {segment}): altered or cut short"),
                )
            })?;
        output.write_all(&buffer)?;
        written += buffer.len() as u64;
        if last {
            return Ok(written);
        }
        segment = segment.checked_add(1).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "a sealed attachment too long")
        })?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn round_trips_and_refuses_what_was_changed_cut_or_mislabelled() {
        let key = ContentKey([9; 32]);
        for len in [0, 1, SEGMENT_LEN, SEGMENT_LEN + 1, 3 * SEGMENT_LEN + 7] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = encrypt_attachment(&key, 2, &plain);
            let mut back = Vec::new();
            assert_eq!(
                decrypt_attachment(&key, 2, &sealed[..], &mut back).unwrap(),
                len as u64
            );
            assert_eq!(back, plain, "{len}");
            // Another position in the record, or another record's key: refused.
            assert!(decrypt_attachment(&key, 3, &sealed[..], &mut Vec::new()).is_err());
            let other = ContentKey([8; 32]);
            assert!(decrypt_attachment(&other, 2, &sealed[..], &mut Vec::new()).is_err());
            let mut flipped = sealed.clone();
            flipped[sealed.len() / 2] ^= 1;
            assert!(decrypt_attachment(&key, 2, &flipped[..], &mut Vec::new()).is_err());
            if len > SEGMENT_LEN {
                let cut = &sealed[..SEGMENT_LEN + TAG_LEN];
                let error = decrypt_attachment(&key, 2, cut, &mut Vec::new()).unwrap_err();
                assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            }
        }
    }
}
