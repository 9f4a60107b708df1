//! `qoima import`: verify bundle files and merge what is valid.

use std::path::Path;
use std::process::ExitCode;

use fs_err as fs;
use indicatif::{ProgressBar, ProgressStyle};
use qoima_store::{ImportReport, Source};
use serde_json::json;

use crate::context::Context;
use crate::exit;
use crate::output::{errln, outln, print_json, safe};

pub fn run(ctx: &Context, files: &[std::path::PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let mut store = ctx.store()?;
    let mut all_clean = true;
    let mut reports = Vec::new();
    let mut reports_new = 0;
    for path in files {
        let report = match import_one(&mut store, path) {
            Ok(report) => report,
            Err(FileProblem::Unreadable(e)) => {
                // One unreadable file must not stop the others from being imported.
                all_clean = false;
                errln!(
                    "{}: cannot read: {}",
                    safe(&path.display().to_string()),
                    safe(&e.to_string())
                );
                reports.push(json!({ "file": path, "error": e.to_string() }));
                continue;
            }
            Err(FileProblem::Store(e)) => return Err(e),
        };
        all_clean &= report.is_clean();
        reports_new += report.records_new;
        if !json {
            print_report(path, &report)?;
        }
        reports.push(json!({ "file": path, "report": report }));
    }
    if reports_new > 0 {
        ctx.tell_node_written();
    }
    if json {
        print_json(&reports)?;
    }
    Ok(ExitCode::from(if all_clean {
        exit::OK
    } else {
        exit::INVALID
    }))
}

enum FileProblem {
    Unreadable(std::io::Error),
    Store(anyhow::Error),
}

fn import_one(store: &mut qoima_store::Store, path: &Path) -> Result<ImportReport, FileProblem> {
    let file = fs::File::open(path).map_err(FileProblem::Unreadable)?;
    let size = file.metadata().map_err(FileProblem::Unreadable)?.len();
    let progress = ProgressBar::new(size).with_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    progress.set_message(file_name(path));
    let input = std::io::BufReader::with_capacity(1024 * 1024, progress.wrap_read(file));
    let secrets = store.sealing_secrets();
    let input =
        crate::sealed::bundle_input(input, path, || Ok(secrets?)).map_err(|e| match e
            .downcast_ref::<std::io::Error>()
        {
            Some(_) => FileProblem::Unreadable(std::io::Error::other(e.to_string())),
            None => FileProblem::Store(e),
        })?;
    let report = store
        .import_bundle(input, Source::File(file_name(path)))
        .map_err(|e| FileProblem::Store(e.into()))?;
    progress.finish_and_clear();
    Ok(report)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn print_report(path: &Path, report: &ImportReport) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let name = safe(&name);
    let Some(bundle) = report.bundle else {
        outln!(
            "{name}: not imported: {}",
            safe(report.fatal.as_deref().unwrap_or("unreadable"))
        )?;
        return Ok(());
    };
    let bundler = report
        .bundler
        .map(|k| k.fingerprint().to_string())
        .unwrap_or_default();
    outln!(
        "{name}: bundle {} signed by {bundler}: {} new, {} already present, {} rejected{}",
        bundle.short(),
        report.records_new,
        report.records_present,
        report.rejected.len(),
        match report.blobs_new + report.blobs_present {
            0 => String::new(),
            _ => format!(
                "; attachments: {} new, {} already present",
                report.blobs_new, report.blobs_present
            ),
        }
    )?;
    for (why, count) in &report.declined {
        outln!(
            "  {count} valid record(s) not kept: {} (this archive's policy: see `qoima node --accept`)",
            why.describe()
        )?;
    }
    for rejection in &report.rejected {
        outln!(
            "  rejected item {} ({}): {}",
            rejection.index,
            safe(&rejection.item),
            safe(&rejection.reason)
        )?;
    }
    if let Some(fatal) = &report.fatal {
        outln!(
            "  damaged: {}. The {} records verified before the damage were kept; the rest of the file was not read.",
            safe(fatal),
            report.records_new + report.records_present
        )?;
    }
    Ok(())
}
