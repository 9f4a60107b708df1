//! Reading a bundle file that may be sealed (`export --passphrase` or `--seal-to`) or on
//! paper (`key revocation-cert --paper`): the first bytes say which; a sealed one is opened with its own passphrase, or with this
//! archive's keys for sealed records, before anything is verified.

use std::io::Read;
use std::path::Path;

use qoima_core::SealingSecret;
use qoima_store::sealed_bundle::{
    SealedWith, open_for_recipient, open_sealed, read_head, sealed_with,
};

use crate::context::bundle_passphrase;

/// `input` (the file at `path`) as bundle bytes: as it is, or unsealed.
pub fn bundle_input<'a>(
    mut input: impl Read + 'a,
    path: &Path,
    secrets: impl FnOnce() -> anyhow::Result<Vec<SealingSecret>>,
) -> anyhow::Result<Box<dyn Read + 'a>> {
    let mut head = [0u8; 8];
    let (filled, failed) = read_head(&mut input, &mut head);
    if let Some(e) = failed {
        return Err(e.into());
    }
    let whole = std::io::Cursor::new(head[..filled].to_vec()).chain(input);
    if crate::paper::is_paper(&head[..filled]) {
        let mut text = String::new();
        whole
            .take(crate::paper::TEXT_MAX)
            .read_to_string(&mut text)
            .map_err(|e| anyhow::anyhow!("a bundle on paper must be text: {e}"))?;
        return Ok(Box::new(std::io::Cursor::new(crate::paper::from_paper(
            &text,
        )?)));
    }
    match sealed_with(&head[..filled]) {
        None => return Ok(Box::new(whole)),
        Some(SealedWith::Recipients) => {
            return Ok(Box::new(open_for_recipient(whole, &secrets()?)?));
        }
        Some(SealedWith::Passphrase) => {}
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
