//! The node's network key: its libp2p identity, kept in `node.key` sealed under the
//! archive key, made on first start. Deliberately unrelated to the author key, so that
//! relaying a record reveals nothing about who wrote it; sealed, so that a seized disk
//! does not tell which peer id this device had on the network.

use qoima_net::libp2p::identity::Keypair;
use qoima_store::{NODE_KEY_FILE, Store};

/// Loads the node key from the archive's sealed `node.key`, creating it if absent.
pub fn load_or_create(store: &Store) -> Result<Keypair, String> {
    let damaged = |e: &dyn std::fmt::Display| {
        format!(
            "{} is damaged ({e}); delete it to make a new network identity",
            store.home().join(NODE_KEY_FILE).display()
        )
    };
    match store.read_sealed_file(NODE_KEY_FILE) {
        Ok(Some(bytes)) => Keypair::from_protobuf_encoding(&bytes).map_err(|e| damaged(&e)),
        Ok(None) => {
            let keypair = Keypair::generate_ed25519();
            let bytes =
                zeroize::Zeroizing::new(keypair.to_protobuf_encoding().map_err(|e| e.to_string())?);
            store
                .write_sealed_file(NODE_KEY_FILE, &bytes)
                .map_err(|e| e.to_string())?;
            Ok(keypair)
        }
        Err(e) => Err(damaged(&e)),
    }
}

/// A network identity for this run only, never written: peers cannot recognise this
/// device from one run to the next (at the cost of being a stranger to them each time).
pub fn ephemeral() -> Keypair {
    Keypair::generate_ed25519()
}
