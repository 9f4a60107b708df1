//! `qoima key show`.

use std::process::ExitCode;

use serde_json::json;

use crate::context::Context;
use crate::output::print_json;

pub fn show(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let key = ctx.secrets()?.author.public();
    if json {
        print_json(&json!({ "public_key": key, "fingerprint": key.fingerprint().to_string() }))?;
    } else {
        println!("Fingerprint: {}", key.fingerprint());
        println!("Public key:  {key}");
    }
    Ok(ExitCode::SUCCESS)
}
