//! `qoima fetch`: ask the running node for a record's attachments now.

use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use qoima_node::control;
use qoima_store::AttachmentState;

use crate::context::Context;
use crate::output::{errln, outln};

/// How often `--wait` asks how far the attachments are.
const POLL_EVERY: Duration = Duration::from_millis(500);

pub fn run(ctx: &Context, id: &str, wait: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let id = store.resolve(id)?;
    let record = store.get(&id)?.record;
    let attachments = &record.body().attachments;
    let missing: Vec<_> = attachments
        .iter()
        .filter(|a| store.attachment_state(&a.blake3).ok() != Some(AttachmentState::Present))
        .collect();
    if missing.is_empty() {
        outln!(
            "All {} attachment(s) of {} are here.",
            attachments.len(),
            id.short()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let hashes: Vec<_> = missing.iter().map(|a| a.blake3).collect();
    control::fetch(ctx.home(), &hashes)?;
    let total: u64 = missing.iter().map(|a| a.size).sum();
    errln!(
        "Asked the node for {} attachment(s) of {} ({total} bytes); they come from any \
         peer that has them, checked piece by piece.",
        missing.len(),
        id.short()
    );
    if !wait {
        errln!("See how far they are with `qoima show {}`.", id.short());
        return Ok(ExitCode::SUCCESS);
    }
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, about {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        let mut have = 0;
        let mut done = true;
        for a in &missing {
            match store.attachment_state(&a.blake3)? {
                AttachmentState::Present => have += a.size,
                AttachmentState::Partial { have: part, .. } => {
                    have += part.min(a.size);
                    done = false;
                }
                AttachmentState::Missing => done = false,
            }
        }
        progress.set_position(have);
        if done {
            progress.finish_and_clear();
            outln!("All attachments of {} are here and verified.", id.short())?;
            return Ok(ExitCode::SUCCESS);
        }
        // The node must still run for them to come.
        control::query_status(ctx.home())?;
        std::thread::sleep(POLL_EVERY);
    }
}
