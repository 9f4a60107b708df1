//! Exit statuses scripts can rely on, and error messages a person can act on.

use std::process::ExitCode;

use qoima_store::StoreError;
use qoima_store::keyfile::KeyFileError;
use qoima_store::sealed_bundle::SealedBundleError;

/// Everything checked out.
pub const OK: u8 = 0;
/// Something failed verification or was rejected.
pub const INVALID: u8 = 1;
/// No such record or file, or no running node.
pub const NOT_FOUND: u8 = 3;
/// No key yet, or the passphrase is wrong.
pub const KEY: u8 = 4;
/// Anything else (I/O, database).
pub const OTHER: u8 = 5;

/// The exit status for an error that ended a command.
pub fn code_for(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return ExitCode::from(match e {
                StoreError::NotFound(_) | StoreError::Ambiguous(_) => NOT_FOUND,
                StoreError::Corrupt(_) | StoreError::Tampered(_) => INVALID,
                StoreError::Invalid(_) => 2,
                _ => OTHER,
            });
        }
        if let Some(e) = cause.downcast_ref::<SealedBundleError>() {
            return ExitCode::from(match e {
                SealedBundleError::WrongPassphrase | SealedBundleError::NotARecipient => KEY,
                SealedBundleError::Malformed => INVALID,
                SealedBundleError::Io(_) => OTHER,
            });
        }
        if let Some(e) = cause.downcast_ref::<KeyFileError>() {
            return ExitCode::from(match e {
                KeyFileError::Io(_) => OTHER,
                _ => KEY,
            });
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>()
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return ExitCode::from(NOT_FOUND);
        }
        if let Some(qoima_node::control::ControlError::NotRunning(_)) = cause.downcast_ref() {
            return ExitCode::from(NOT_FOUND);
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return ExitCode::from(2);
        }
    }
    ExitCode::from(OTHER)
}

/// The whole chain of an error on one line: "what we did: why it failed".
pub fn describe(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// A mistake in how the command was called that clap cannot see (a bad time, an unknown
/// kind).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
