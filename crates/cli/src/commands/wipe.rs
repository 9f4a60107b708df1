//! `qoima wipe`: destroy the archive, key material first.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use qoima_node::control::{self, ControlError};
use qoima_store::keyfile::KeyFileError;

use crate::context::Context;
use crate::exit::UsageError;
use crate::output::{errln, outln, safe};

pub fn run(ctx: &Context, yes: bool) -> anyhow::Result<ExitCode> {
    let home = ctx.home();
    if !ctx.key_path().exists() {
        anyhow::bail!(KeyFileError::Missing(home.display().to_string()));
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(UsageError(
                "wipe asks for confirmation on a terminal; in a script, add --yes".into()
            ));
        }
        errln!(
            "This destroys the archive in {} for good: every record, attachment and key.",
            safe(&home.display().to_string())
        );
        errln!("Nobody can recover it, not even with the passphrase. Type WIPE to go on:");
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "WIPE" {
            errln!("Nothing was changed.");
            return Ok(ExitCode::from(crate::exit::INVALID));
        }
    }
    // The key file goes first, before anything that can wait; then a running node
    // forgets the key it holds and closes the database, and the files go.
    let started = std::time::Instant::now();
    qoima_store::wipe::destroy_key(home)?;
    let unreadable = started.elapsed();
    match control::lock(home) {
        Ok(()) | Err(ControlError::NotRunning(_)) => {}
        Err(e) => errln!("The running node did not confirm it stopped ({e}); removing anyway."),
    }
    qoima_store::wipe::remove_archive(home)?;
    outln!(
        "Wiped. The archive was unreadable after {} ms (its key destroyed), and removed after {} ms.",
        unreadable.as_millis(),
        started.elapsed().as_millis()
    )?;
    Ok(ExitCode::SUCCESS)
}
