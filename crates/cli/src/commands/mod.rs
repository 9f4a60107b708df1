//! One module per command; [`run`] dispatches.

mod add;
mod attachment;
mod export;
mod fetch;
mod import;
mod init;
mod key;
mod list;
mod network_key;
mod node;
mod sealed_originals;
mod show;
mod statements;
mod trust;
mod ui;
mod verify;
mod wipe;

use std::process::ExitCode;

use crate::cli::{Cli, Command, KeyCommand, NetworkKeyCommand, TrustCommand};
use crate::context::Context;
use crate::exit::UsageError;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(cli.home)?;
    match cli.command {
        Command::Init => init::run(&ctx),
        Command::Node(args) => node::run(&ctx, args),
        Command::Status { json } => node::status(&ctx, json),
        Command::Peers { json } => node::peers(&ctx, json),
        Command::Key(KeyCommand::Show { persona, json }) => {
            key::show(&ctx, persona.as_deref(), json)
        }
        Command::Key(KeyCommand::List { json }) => key::list(&ctx, json),
        Command::Key(KeyCommand::New { name }) => key::new(&ctx, &name),
        Command::Key(KeyCommand::Default { name }) => key::set_default(&ctx, &name),
        Command::Key(KeyCommand::Revoke {
            persona,
            since,
            reason,
            yes,
        }) => statements::revoke(
            &ctx,
            persona.as_deref(),
            since.as_deref(),
            reason.as_deref(),
            yes,
        ),
        Command::Key(KeyCommand::RevocationCert {
            file,
            persona,
            reason,
            paper,
        }) => {
            statements::revocation_cert(&ctx, &file, persona.as_deref(), reason.as_deref(), paper)
        }
        Command::Key(KeyCommand::Sealing { persona }) => {
            statements::publish_sealing_key(&ctx, persona.as_deref())
        }
        Command::Trust(TrustCommand::Endorse { key, name, persona }) => {
            statements::endorse(&ctx, &key, &name, persona.as_deref())
        }
        Command::Retract { id, reason } => statements::retract(&ctx, &id, reason.as_deref()),
        Command::Trust(TrustCommand::Add { key, name }) => trust::add(&ctx, &key, &name),
        Command::Trust(TrustCommand::List { json }) => trust::list(&ctx, json),
        Command::Trust(TrustCommand::Remove { key }) => trust::remove(&ctx, &key),
        Command::Lock => node::lock(&ctx),
        Command::Ui { no_open } => ui::open(&ctx, no_open),
        Command::Wipe { yes } => wipe::run(&ctx, yes),
        Command::NetworkKey(NetworkKeyCommand::New { file }) => network_key::new(&file),
        Command::Add(args) => add::run(&ctx, *args),
        Command::List(args) => list::list(&ctx, args),
        Command::Search { text, limit, json } => list::search(&ctx, &text, limit, json),
        Command::Show { id, json } => show::run(&ctx, &id, json),
        Command::Attachment { id, number, file } => attachment::run(&ctx, &id, number, &file),
        Command::Fetch { id, wait } => fetch::run(&ctx, &id, wait),
        Command::Export(args) => export::run(&ctx, args),
        Command::Import { files, json } => import::run(&ctx, &files, json),
        Command::Verify { target, json } => verify::run(&ctx, &target, json),
    }
}

/// Parses a record kind name given on the command line.
fn parse_kind(name: &str) -> anyhow::Result<qoima_core::RecordKind> {
    qoima_core::RecordKind::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = qoima_core::RecordKind::ALL
            .iter()
            .map(|k| k.name())
            .collect();
        UsageError(format!(
            "unknown kind {name:?}; use one of: {}",
            names.join(", ")
        ))
        .into()
    })
}

/// The keys for sealed records of the recipients `named` (keys, fingerprints or trusted
/// names): [`qoima_store::Store::sealing_keys_for`], its refusals as usage errors.
fn sealing_keys(
    store: &qoima_store::Store,
    named: &[String],
) -> anyhow::Result<Vec<qoima_core::SealingKey>> {
    store.sealing_keys_for(named).map_err(|e| match e {
        qoima_store::SealToError::Store(e) => e.into(),
        refused => UsageError(refused.to_string()).into(),
    })
}

/// Creates `path` for writing, refusing to write over anything already there.
fn create_new_file(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::Error::new(UsageError(format!(
                "{} already exists: choose a new file name (nothing is ever written over a file)",
                path.display()
            ))),
            _ => anyhow::anyhow!("{}: {e}", path.display()),
        })
}

/// Parses a time given on the command line to the start of the unit written.
fn parse_since(text: &str) -> anyhow::Result<i64> {
    qoima_core::parse_instant_ms(text).map_err(|e| UsageError(e.to_string()).into())
}
