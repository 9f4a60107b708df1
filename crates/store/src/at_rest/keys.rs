//! The archive key and the keys derived from it.
//!
//! One random 32-byte archive key, wrapped by the passphrase in the key file, is the
//! root of everything encrypted at rest. Each use gets its own key, derived with
//! BLAKE3's key-derivation mode under a context string naming that use, so no two uses
//! ever share a key and none reveals another.

use zeroize::Zeroizing;

/// Context strings: globally unique, hard-coded, never reused for anything else
/// (BLAKE3's rule for `derive_key`).
const DATABASE_CONTEXT: &str = "qoima 2026-11-23 archive database key";
const BLOB_NAME_CONTEXT: &str = "qoima 2026-11-23 attachment file names";
const BLOB_FILE_CONTEXT: &str = "qoima 2026-11-23 attachment file key";
const BLOB_SIZE_CONTEXT: &str = "qoima 2026-11-23 attachment file length key";
const SEALED_FILE_CONTEXT: &str = "qoima 2026-11-23 sealed small files";

/// The key that encrypts the archive at rest. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct ArchiveKey(Zeroizing<[u8; 32]>);

impl ArchiveKey {
    /// Wraps key bytes (from the key file, or from the running node).
    pub fn from_bytes(bytes: [u8; 32]) -> ArchiveKey {
        ArchiveKey(Zeroizing::new(bytes))
    }

    /// The key bytes, for handing to the local command line over the control socket.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SQLCipher's raw-key form `x'…'`: 64 hex digits, which SQLCipher uses as the
    /// AES key directly instead of running its own passphrase derivation. Public for
    /// tools that open the database directly (`PRAGMA key = …` in a SQLCipher shell).
    pub fn database_key_literal(&self) -> Zeroizing<String> {
        let key = Zeroizing::new(blake3::derive_key(DATABASE_CONTEXT, &self.0[..]));
        let hex = Zeroizing::new(data_encoding::HEXLOWER.encode(&key[..]));
        Zeroizing::new(format!("x'{}'", hex.as_str()))
    }

    /// The key naming attachment files: names are a keyed hash of the content hash,
    /// so a seized disk does not tell which known photos or videos it holds.
    pub(crate) fn blob_name_key(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(blake3::derive_key(BLOB_NAME_CONTEXT, &self.0[..]))
    }

    /// The key of one attachment file, from the random salt in its header.
    pub(crate) fn blob_file_key(&self, salt: &[u8; 32]) -> Zeroizing<[u8; 32]> {
        self.derive_salted(BLOB_FILE_CONTEXT, salt)
    }

    /// The key sealing one attachment file's length in its header, from its salt.
    pub(crate) fn blob_size_key(&self, salt: &[u8; 32]) -> Zeroizing<[u8; 32]> {
        self.derive_salted(BLOB_SIZE_CONTEXT, salt)
    }

    /// A key for `context` from the archive key and a per-file salt.
    fn derive_salted(&self, context: &str, salt: &[u8; 32]) -> Zeroizing<[u8; 32]> {
        let mut material = Zeroizing::new([0u8; 64]);
        material[..32].copy_from_slice(&self.0[..]);
        material[32..].copy_from_slice(salt);
        Zeroizing::new(blake3::derive_key(context, &material[..]))
    }

    /// The key of small sealed files (the node's network key).
    pub(crate) fn sealed_file_key(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(blake3::derive_key(SEALED_FILE_CONTEXT, &self.0[..]))
    }
}

impl std::fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArchiveKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_use_gets_its_own_key() {
        let key = ArchiveKey::from_bytes([7; 32]);
        let salt = [1; 32];
        let keys = [
            *key.blob_name_key(),
            *key.blob_file_key(&salt),
            *key.blob_file_key(&[2; 32]),
            *key.blob_size_key(&salt),
            *key.sealed_file_key(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
            assert_ne!(a, key.as_bytes());
        }
        assert_eq!(key.database_key_literal().len(), 2 + 64 + 1);
        assert_eq!(format!("{key:?}"), "ArchiveKey(…)");
    }
}
