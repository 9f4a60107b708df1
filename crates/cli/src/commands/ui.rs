//! `qoima ui`: the running node's web interface, opened in the browser. The node serves
//! it (see `node.rs`); this only asks the node for a one-time address that lets a browser in.

use std::process::{Command, ExitCode, Stdio};

use qoima_node::control;

use crate::context::Context;
use crate::output::{errln, outln};

pub fn open(ctx: &Context, no_open: bool) -> anyhow::Result<ExitCode> {
    let url = control::query_ui(ctx.home())?;
    // The address lets the first browser that opens it in, within a minute: printed only
    // when asked for.
    if no_open {
        outln!("{url}")?;
        return Ok(ExitCode::SUCCESS);
    }
    if start_browser(&url) {
        outln!("Opened in your browser.")?;
    } else {
        errln!(
            "No browser could be started here: run `qoima ui --no-open` and open the address it prints."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Hands `url` to the desktop's opener; false if there is none. The address is passed as
/// one argument, never through a shell.
fn start_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}
