//! `qoima`: the command-line front of the archive. Thin glue: parsing, prompting,
//! printing; the work is done by `qoima-store` and `qoima-core`.

mod cli;
mod commands;
mod context;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", exit::describe(&error));
            exit::code_for(&error)
        }
    }
}
