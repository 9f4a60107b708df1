//! `qoima network-key new`, and reading the key file for `qoima node --network-key`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use qoima_net::network_key::{self, NetworkKeyError};

use crate::exit::UsageError;
use crate::output::{outln, safe};

/// Writes a new closed-group key to `file`, refusing to replace an existing file.
pub fn new(file: &Path) -> anyhow::Result<ExitCode> {
    let key = network_key::generate().context("making a network key")?;
    match network_key::write_new(file, &key) {
        Ok(()) => {}
        Err(NetworkKeyError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Replacing a group's key would cut this member off from the group.
            return Err(UsageError(format!(
                "{} already exists; it is not replaced (choose another file name)",
                file.display()
            ))
            .into());
        }
        Err(e) => {
            return Err(e).with_context(|| format!("writing {}", file.display()));
        }
    }
    outln!(
        "Wrote a new closed-group network key to {}.",
        safe(&file.display().to_string())
    )?;
    outln!()?;
    outln!("A node started with `qoima node --network-key FILE` connects only to nodes")?;
    outln!("started with the same key, and they only to it. Every member of the group needs")?;
    outln!("a copy of this same file: hand it over in person or over a channel you trust.")?;
    outln!("Anyone holding it can join the group; keep it as secret as the group itself.")?;
    outln!("In a closed group QUIC is off: the nodes use TCP only.")?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the key file given to `qoima node --network-key`.
pub fn read(file: &Path) -> anyhow::Result<[u8; 32]> {
    network_key::read(file).map_err(|e| match e {
        NetworkKeyError::Io(io) => {
            anyhow::Error::new(io).context(format!("reading the network key {}", file.display()))
        }
        other => UsageError(format!("{}: {other}", file.display())).into(),
    })
}
