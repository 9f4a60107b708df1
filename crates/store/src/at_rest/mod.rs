//! Encryption at rest: everything under the data directory but the sealed key file is
//! encrypted under one random archive key, which only the key file (wrapped by the
//! passphrase) holds.
//!
//! * [`keys`]: the archive key and the keys derived from it, one per use.
//! * [`database`]: SQLCipher, keyed raw; its cipher settings.
//! * [`segments`]: attachment files encrypted in independently readable 16 KiB segments.
//! * [`sealed`]: small files sealed whole (the node's network key).
//! * [`upgrade`]: encrypting an archive from before, in place and crash-safe.

pub(crate) mod database;
pub mod keys;
pub mod sealed;
pub mod segments;
pub(crate) mod upgrade;

pub use upgrade::needs_upgrade;
