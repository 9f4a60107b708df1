//! Reading a bundle file that may be sealed (`export --passphrase`): the first bytes say
//! which; a sealed one is opened with its own passphrase before anything is verified.

use std::io::Read;
use std::path::Path;

use qoima_store::sealed_bundle::{is_sealed_bundle, open_sealed};

use crate::context::bundle_passphrase;

/// `input` (the file at `path`) as bundle bytes: as it is, or unsealed.
pub fn bundle_input<'a>(
    mut input: impl Read + 'a,
    path: &Path,
) -> anyhow::Result<Box<dyn Read + 'a>> {
    let mut head = [0u8; 8];
    let mut filled = 0;
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let whole = std::io::Cursor::new(head[..filled].to_vec()).chain(input);
    if !is_sealed_bundle(&head[..filled]) {
        return Ok(Box::new(whole));
    }
    let passphrase = bundle_passphrase(
        &format!(
            "Passphrase of the sealed bundle {}: ",
            crate::output::safe(&path.display().to_string())
        ),
        false,
    )?;
    Ok(Box::new(open_sealed(whole, passphrase.as_bytes())?))
}
