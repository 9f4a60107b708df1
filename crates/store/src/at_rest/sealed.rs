//! Small files sealed whole under the archive key (the node's network key).
//!
//! ```text
//! 0   8   magic "qoima-s\0"
//! 8   24  nonce (random)
//! 32  …   XChaCha20-Poly1305 ciphertext and tag; the associated data is the magic
//!         followed by the file's purpose ("node.key"), so one sealed file cannot be
//!         passed off as another
//! ```

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::keys::ArchiveKey;

const MAGIC: &[u8; 8] = b"qoima-s\0";
const NONCE_LEN: usize = 24;
/// Sealed files are small; a larger one is not ours.
const PLAIN_MAX: usize = 64 * 1024;

/// Why a sealed file could not be opened.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealedError {
    /// The bytes do not start like a sealed file (an older, plaintext file perhaps).
    #[error("not a sealed file")]
    NotSealed,
    /// The file does not authenticate under this archive's key.
    #[error("the sealed file was altered, or belongs to another archive")]
    Tampered,
}

/// Whether `bytes` look like a sealed file (not whether they authenticate).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Seals `plain` for `purpose`.
pub fn seal(key: &ArchiveKey, purpose: &str, plain: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let sealed = cipher(key)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain,
                aad: &associated_data(purpose),
            },
        )
        .map_err(|_| std::io::Error::other("encryption failed"))?;
    let mut file = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&nonce);
    file.extend_from_slice(&sealed);
    Ok(file)
}

/// Opens a file sealed for `purpose`.
pub fn open(
    key: &ArchiveKey,
    purpose: &str,
    file: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealedError> {
    if !is_sealed(file) {
        return Err(SealedError::NotSealed);
    }
    if file.len() < MAGIC.len() + NONCE_LEN + 16 || file.len() > PLAIN_MAX {
        return Err(SealedError::Tampered);
    }
    let nonce: [u8; NONCE_LEN] = file[8..32].try_into().expect("24 bytes");
    cipher(key)
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &file[32..],
                aad: &associated_data(purpose),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealedError::Tampered)
}

fn cipher(key: &ArchiveKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&(*key.sealed_file_key()).into())
}

fn associated_data(purpose: &str) -> Vec<u8> {
    [MAGIC.as_slice(), purpose.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let key = ArchiveKey::from_bytes([5; 32]);
        let file = seal(&key, "node.key", b"secret network key").unwrap();
        assert_eq!(
            &open(&key, "node.key", &file).unwrap()[..],
            b"secret network key"
        );
        assert!(!file.windows(6).any(|w| w == b"secret"));
        assert_eq!(open(&key, "other", &file), Err(SealedError::Tampered));
        let other = ArchiveKey::from_bytes([6; 32]);
        assert_eq!(open(&other, "node.key", &file), Err(SealedError::Tampered));
        let mut flipped = file.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(open(&key, "node.key", &flipped), Err(SealedError::Tampered));
        assert_eq!(
            open(&key, "node.key", &file[..20]),
            Err(SealedError::Tampered)
        );
        assert_eq!(
            open(&key, "node.key", b"\x08\x01\x12\x40plaintext protobuf"),
            Err(SealedError::NotSealed)
        );
    }
}
