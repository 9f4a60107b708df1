//! The node's network key: its libp2p identity, kept in `node.key`, made on first
//! start. Deliberately unrelated to the author key, so that relaying a record reveals
//! nothing about who wrote it.

use std::path::Path;

use fs_err as fs;
use qoima_net::libp2p::identity::Keypair;

/// Loads the node key from `home/node.key`, creating it if absent.
pub fn load_or_create(home: &Path) -> Result<Keypair, String> {
    let path = home.join("node.key");
    match fs::read(&path) {
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes).map_err(|e| {
            format!(
                "{} is damaged ({e}); delete it to make a new network identity",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let keypair = Keypair::generate_ed25519();
            let bytes = keypair.to_protobuf_encoding().map_err(|e| e.to_string())?;
            qoima_store::fsutil::write_atomically(&path, &bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| e.to_string())?;
            }
            Ok(keypair)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A network identity for this run only, never written: peers cannot recognise this
/// device from one run to the next (at the cost of being a stranger to them each time).
pub fn ephemeral() -> Keypair {
    Keypair::generate_ed25519()
}
