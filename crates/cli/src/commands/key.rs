//! `qoima key show`.

use std::process::ExitCode;

use serde_json::json;

use crate::context::Context;
use crate::output::{outln, print_json};

pub fn show(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let key = ctx.secrets()?.author.public();
    if json {
        print_json(&json!({ "public_key": key, "fingerprint": key.fingerprint().to_string() }))?;
    } else {
        outln!("Fingerprint: {}", key.fingerprint())?;
        outln!("Public key:  {key}")?;
    }
    Ok(ExitCode::SUCCESS)
}
