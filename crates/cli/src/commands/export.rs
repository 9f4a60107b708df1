//! `qoima export`: a bundle file, signed by a one-time key unless the courier chooses to
//! vouch for it with their author key (`--sign-as-me`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use qoima_core::AuthorSecret;
use qoima_store::ExportQuery;
use qoima_store::fsutil::AtomicFile;

use super::{parse_kind, parse_since};
use crate::cli::ExportArgs;
use crate::context::{Context, bundle_passphrase};
use crate::output::{outln, safe};
use qoima_store::sealed_bundle::SealWriter;

pub fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let query = ExportQuery {
        kind: args.kind.as_deref().map(parse_kind).transpose()?,
        since_ms: args.since.as_deref().map(parse_since).transpose()?,
        with_attachments: args.with_attachments,
        collection: args.collection,
        include_held_back: args.include_unshared,
    };
    let mut store = ctx.store()?;
    let bundler = if args.sign_as_me {
        store.persona_secret(None)?
    } else {
        throwaway_bundler()?
    };
    let recipients = super::sealing_keys(&store, &args.seal_to)?;
    let seal_passphrase = if args.passphrase {
        Some(bundle_passphrase(
            "Choose a passphrase for this bundle: ",
            true,
        )?)
    } else {
        None
    };
    // Written under a temporary name and renamed when complete: a bundle file that
    // exists is a whole bundle, even if the USB stick is pulled out mid-write.
    let file = AtomicFile::create(&args.file)
        .with_context(|| format!("creating {}", args.file.display()))?;
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} writing {bytes} ({bytes_per_sec})")
            .expect("valid template"),
    );
    let counted = Counted {
        inner: file,
        progress: progress.clone(),
    };
    let (report, counted) = match &seal_passphrase {
        None if !recipients.is_empty() => {
            let sealed = SealWriter::to_recipients(counted, &recipients)?;
            let mut output = std::io::BufWriter::with_capacity(1024 * 1024, sealed);
            let report = store.export(&mut output, &query, &bundler)?;
            let sealed = output.into_inner().map_err(|e| e.into_error())?;
            (report, sealed.finish()?)
        }
        None => {
            let mut output = std::io::BufWriter::with_capacity(1024 * 1024, counted);
            let report = store.export(&mut output, &query, &bundler)?;
            (report, output.into_inner().map_err(|e| e.into_error())?)
        }
        Some(passphrase) => {
            let sealed = SealWriter::new(counted, passphrase.as_bytes())?;
            let mut output = std::io::BufWriter::with_capacity(1024 * 1024, sealed);
            let report = store.export(&mut output, &query, &bundler)?;
            let sealed = output.into_inner().map_err(|e| e.into_error())?;
            (report, sealed.finish()?)
        }
    };
    let file = counted.inner;
    file.commit()
        .with_context(|| format!("writing {}", args.file.display()))?;
    progress.finish_and_clear();
    outln!(
        "Wrote {}: {} records, {} attachments ({} bytes), bundle {}",
        safe(&args.file.display().to_string()),
        report.records,
        report.blobs,
        report.payload_bytes,
        report.bundle
    )?;
    if report.blobs_missing > 0 {
        outln!(
            "{} attachments are referenced but not held here, so not included.",
            report.blobs_missing
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A key used for one bundle and then forgotten ([`qoima_store::throwaway_bundler`]).
pub(super) fn throwaway_bundler() -> anyhow::Result<AuthorSecret> {
    Ok(qoima_store::throwaway_bundler()?)
}

/// A writer that advances a progress bar by the bytes written through it.
struct Counted<W> {
    inner: W,
    progress: ProgressBar,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
