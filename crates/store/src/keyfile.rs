//! The key file: the author's signing key and the archive key, sealed under the
//! passphrase.
//!
//! Threat answered: device seizure. Without the passphrase the file reveals nothing, not
//! even the public key (which would tie the device to its author's records). Argon2id
//! makes guessing slow; XChaCha20-Poly1305 (random 24-byte nonce) detects any alteration.
//! The archive key is generated now and will encrypt the archive at rest; destroying this
//! file destroys access to everything sealed under it.
//!
//! ```text
//! 0   8   magic "qoima-k\0"
//! 8   2   version (u16 LE) = 1
//! 10  4   Argon2id memory in KiB (u32 LE)
//! 14  4   Argon2id iterations (u32 LE)
//! 18  4   Argon2id lanes (u32 LE)
//! 22  16  salt
//! 38  24  nonce
//! 62  80  ciphertext of seed(32) ‖ archive key(32), plus the 16-byte tag;
//!         the 62 header bytes are the associated data
//! ```

use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use fs_err as fs;
use qoima_core::AuthorSecret;
use zeroize::Zeroizing;

use crate::ArchiveKey;
use crate::fsutil::create_new_atomically;

const MAGIC: &[u8; 8] = b"qoima-k\0";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 62;
const SECRETS_LEN: usize = 64;
const FILE_LEN: usize = HEADER_LEN + SECRETS_LEN + 16;

/// Argon2id cost: 64 MiB and 3 passes, about half a second on a modest laptop. Enough
/// to make each passphrase guess expensive, cheap enough for every command that signs.
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
const LANES: u32 = 1;

/// Why the key file could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// There is already a key here; overwriting it would lose an identity.
    #[error("a key already exists at {0}; refusing to overwrite it")]
    AlreadyExists(String),
    /// No key here yet.
    #[error(
        "there is no archive in {0} (none was made there, or it was wiped); `qoima init` makes one"
    )]
    Missing(String),
    /// The passphrase does not open the file (or the file was altered).
    #[error("wrong passphrase (or the key file was altered)")]
    WrongPassphrase,
    /// The file is not a key file this version understands.
    #[error("{0} is not a qoima key file, or is damaged")]
    Malformed(String),
    /// An empty passphrase would leave the key unprotected.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the key file holds.
pub struct Secrets {
    /// The author's signing key.
    pub author: AuthorSecret,
    /// The key that encrypts the archive at rest.
    pub archive_key: ArchiveKey,
}

/// Generates a new author key and archive key and seals them at `path`.
pub fn create(path: &Path, passphrase: &[u8]) -> Result<Secrets, KeyFileError> {
    if passphrase.is_empty() {
        return Err(KeyFileError::EmptyPassphrase);
    }
    if path.exists() {
        return Err(KeyFileError::AlreadyExists(path.display().to_string()));
    }
    let mut plain = Zeroizing::new([0u8; SECRETS_LEN]);
    getrandom::fill(&mut plain[..]).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut salt).map_err(|e| std::io::Error::other(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;

    let mut file = Vec::with_capacity(FILE_LEN);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&VERSION.to_le_bytes());
    file.extend_from_slice(&MEMORY_KIB.to_le_bytes());
    file.extend_from_slice(&ITERATIONS.to_le_bytes());
    file.extend_from_slice(&LANES.to_le_bytes());
    file.extend_from_slice(&salt);
    file.extend_from_slice(&nonce);
    debug_assert_eq!(file.len(), HEADER_LEN);
    let cipher = cipher_for(passphrase, &salt, MEMORY_KIB, ITERATIONS, LANES)?;
    let sealed = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &plain[..],
                aad: &file,
            },
        )
        .map_err(|_| KeyFileError::Malformed("encryption failed".into()))?;
    file.extend_from_slice(&sealed);
    debug_assert_eq!(file.len(), FILE_LEN);

    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    // The temporary file is created readable by its owner only, so the key never
    // exists with wider permissions; set again in case the platform differs.
    match create_new_atomically(path, &file) {
        Ok(()) => {}
        // Another `init` (or node's first run) won the race: its key stays.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyFileError::AlreadyExists(path.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    }
    restrict_permissions(path)?;
    Ok(split(&plain))
}

/// Opens the key file at `path` with `passphrase`.
pub fn open(path: &Path, passphrase: &[u8]) -> Result<Secrets, KeyFileError> {
    let file = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeyFileError::Missing(path.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let malformed = || KeyFileError::Malformed(path.display().to_string());
    if file.len() != FILE_LEN || &file[..8] != MAGIC || file[8..10] != VERSION.to_le_bytes() {
        return Err(malformed());
    }
    let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes"));
    let (memory, iterations, lanes) = (u32_at(10), u32_at(14), u32_at(18));
    // Refuse costs an altered header could use to exhaust memory or time before the
    // tag check can catch the alteration.
    if !cost_is_sane(memory, iterations, lanes) {
        return Err(malformed());
    }
    let salt = &file[22..38];
    let nonce: [u8; 24] = file[38..62].try_into().expect("24 bytes");
    let cipher = cipher_for(passphrase, salt, memory, iterations, lanes)?;
    let plain = cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &file[HEADER_LEN..],
                aad: &file[..HEADER_LEN],
            },
        )
        .map_err(|_| KeyFileError::WrongPassphrase)?;
    let plain = Zeroizing::new(plain);
    let plain: &[u8; SECRETS_LEN] = plain[..].try_into().map_err(|_| malformed())?;
    Ok(split(plain))
}

fn split(plain: &[u8; SECRETS_LEN]) -> Secrets {
    let seed: [u8; 32] = plain[..32].try_into().expect("32 bytes");
    let archive_key: [u8; 32] = plain[32..].try_into().expect("32 bytes");
    Secrets {
        author: AuthorSecret::from_seed(&seed),
        archive_key: ArchiveKey::from_bytes(archive_key),
    }
}

fn cipher_for(
    passphrase: &[u8],
    salt: &[u8],
    memory: u32,
    iterations: u32,
    lanes: u32,
) -> Result<XChaCha20Poly1305, KeyFileError> {
    let key = stretch(passphrase, salt, memory, iterations, lanes)
        .map_err(|e| KeyFileError::Malformed(format!("key derivation: {e}")))?;
    XChaCha20Poly1305::new_from_slice(&key[..])
        .map_err(|_| KeyFileError::Malformed("key length".into()))
}

/// Whether Argon2id costs read from a file are ones this program would write: an altered
/// header must not be able to exhaust memory or time before a tag can catch the
/// alteration.
pub(crate) fn cost_is_sane(memory_kib: u32, iterations: u32, lanes: u32) -> bool {
    memory_kib <= 4 * 1024 * 1024 && iterations <= 64 && lanes <= 16
}

/// A 32-byte key from a passphrase with Argon2id (also for sealed bundles).
pub(crate) fn stretch(
    passphrase: &[u8],
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
) -> Result<Zeroizing<[u8; 32]>, argon2::Error> {
    let params = Params::new(memory_kib, iterations, lanes, Some(32))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
        passphrase,
        salt,
        &mut key[..],
    )?;
    Ok(key)
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_wrong_passphrase_overwrite_and_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let made = create(&path, b"correct horse").unwrap();
        let opened = open(&path, b"correct horse").unwrap();
        assert_eq!(made.author.public(), opened.author.public());
        assert_eq!(made.archive_key.as_bytes(), opened.archive_key.as_bytes());
        assert!(matches!(
            open(&path, b"wrong"),
            Err(KeyFileError::WrongPassphrase)
        ));
        assert!(matches!(
            create(&path, b"x"),
            Err(KeyFileError::AlreadyExists(_))
        ));

        let mut bytes = fs::read(&path).unwrap();
        bytes[30] ^= 1; // the salt, covered as associated data
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            open(&path, b"correct horse"),
            Err(KeyFileError::WrongPassphrase)
        ));
        fs::write(&path, &bytes[..40]).unwrap();
        assert!(matches!(
            open(&path, b"correct horse"),
            Err(KeyFileError::Malformed(_))
        ));
    }
}
