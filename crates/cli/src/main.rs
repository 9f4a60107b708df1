//! `qoima`: the command-line front of the archive. Thin glue: parsing, prompting,
//! printing; the work is done by `qoima-store` and `qoima-core`.

mod cli;
mod commands;
mod context;
mod exit;
mod output;
mod paper;
mod sealed;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        // Whoever read our output stopped reading (`| head`). What the command did is
        // done; reporting a failure would make a script retry it (and, for `add`, store
        // the record twice).
        Err(error) if error.downcast_ref::<output::StdoutClosed>().is_some() => ExitCode::SUCCESS,
        Err(error) => {
            // Errors may quote data (a title, a file name): escaped like any other output.
            output::errln!("error: {}", output::safe(&exit::describe(&error)));
            exit::code_for(&error)
        }
    }
}
