//! `qoima init`: a new data directory and author key.

use std::process::ExitCode;

use qoima_store::{Store, keyfile};

use crate::context::{Context, passphrase};

pub fn run(ctx: &Context) -> anyhow::Result<ExitCode> {
    let path = ctx.key_path();
    if path.exists() {
        anyhow::bail!(keyfile::KeyFileError::AlreadyExists(
            path.display().to_string()
        ));
    }
    let passphrase = passphrase("Choose a passphrase: ", true)?;
    let secrets = keyfile::create(&path, passphrase.as_bytes())?;
    Store::open(ctx.home())?;
    let key = secrets.author.public();
    println!(
        "Created a new archive and author key in {}",
        ctx.home().display()
    );
    println!();
    println!("  Fingerprint: {}", key.fingerprint());
    println!("  Public key:  {key}");
    println!();
    println!("Read the fingerprint aloud to people who need to recognise your records.");
    println!("Without the passphrase the key cannot be used, and nobody can recover it.");
    Ok(ExitCode::SUCCESS)
}
