//! `qoima init`: a new data directory and author key.

use std::process::ExitCode;

use qoima_store::keyfile::{self, Secrets};

use crate::context::{Context, passphrase};
use crate::output::{outln, safe};

pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    create(ctx)?;
    Ok(ExitCode::SUCCESS)
}

/// Makes the key file and the empty encrypted archive; returns what the key file holds.
pub fn create(ctx: &Context) -> anyhow::Result<Secrets> {
    let path = ctx.key_path();
    let exists = || format!("an archive already exists in {}", ctx.home().display());
    // Checked first so nobody is asked for a passphrase in vain; `keyfile::create` checks
    // again, atomically, in case another `init` creates the key meanwhile.
    if path.exists() {
        return Err(anyhow::Error::new(keyfile::KeyFileError::AlreadyExists(
            path.display().to_string(),
        ))
        .context(exists()));
    }
    let passphrase = passphrase("Choose a passphrase: ", true)?;
    let secrets = keyfile::create(&path, passphrase.as_bytes()).map_err(|e| match e {
        keyfile::KeyFileError::AlreadyExists(_) => anyhow::Error::new(e).context(exists()),
        e => e.into(),
    })?;
    ctx.open_store(&secrets.archive_key, Some(&secrets.author))?;
    let key = secrets.author.public();
    outln!(
        "Created a new archive and author key in {}",
        safe(&ctx.home().display().to_string())
    )?;
    outln!()?;
    outln!("  Fingerprint: {}", key.fingerprint())?;
    outln!("  Public key:  {key}")?;
    outln!()?;
    outln!("Read the fingerprint aloud to people who need to recognise your records.")?;
    outln!("Without the passphrase the key cannot be used, and nobody can recover it.")?;
    outln!("Everything in the archive is encrypted under it on this disk.")?;
    Ok(secrets)
}
