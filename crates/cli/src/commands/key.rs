//! `qoima key show|list|new|default`: the author keys (personas) of this archive.

use std::process::ExitCode;

use qoima_core::format_ms;
use serde_json::json;

use crate::context::Context;
use crate::output::{outln, print_json, safe};

pub fn show(ctx: &Context, persona: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let key = ctx.store()?.persona_secret(persona)?.public();
    if json {
        print_json(&json!({ "public_key": key, "fingerprint": key.fingerprint().to_string() }))?;
    } else {
        outln!("Fingerprint: {}", key.fingerprint())?;
        outln!("Public key:  {key}")?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let personas = ctx.store()?.personas()?;
    if json {
        let rows: Vec<_> = personas
            .iter()
            .map(|p| {
                json!({
                    "name": p.name, "public_key": p.key,
                    "fingerprint": p.key.fingerprint().to_string(),
                    "default": p.default, "created_ms": p.created_ms,
                })
            })
            .collect();
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    for p in &personas {
        outln!(
            "{} {:<16} {}  made {}",
            if p.default { "*" } else { " " },
            safe(&p.name),
            p.key.fingerprint(),
            format_ms(p.created_ms)
        )?;
    }
    outln!()?;
    outln!(
        "* signs records unless `--as NAME` says otherwise (change it with `qoima key default NAME`)."
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn new(ctx: &Context, name: &str) -> anyhow::Result<ExitCode> {
    let persona = ctx.store()?.new_persona(name)?;
    outln!("Made the persona {}.", safe(&persona.name))?;
    outln!()?;
    outln!("  Fingerprint: {}", persona.key.fingerprint())?;
    outln!("  Public key:  {}", persona.key)?;
    outln!()?;
    outln!(
        "Sign with it: qoima add … --as {}. Nothing links its records to your other keys,",
        safe(&persona.name)
    )?;
    outln!("unless you sign with both in the same place or tell someone.")?;
    Ok(ExitCode::SUCCESS)
}

pub fn set_default(ctx: &Context, name: &str) -> anyhow::Result<ExitCode> {
    ctx.store()?.set_default_persona(name)?;
    outln!(
        "Records are now signed as {} unless `--as` says otherwise.",
        safe(name)
    )?;
    Ok(ExitCode::SUCCESS)
}
