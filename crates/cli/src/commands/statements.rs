//! Records a person signs about records and keys rather than about events:
//! `qoima retract`, `qoima key revoke`, `qoima key revocation-cert`, `qoima key sealing`
//! and `qoima trust endorse`. Each is an ordinary signed record that travels like any
//! other; what it changes on a node is decided there (`qoima_store` `standing.rs`).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use qoima_core::bundle::{BundleWriter, ItemKind, ItemRef, Manifest};
use qoima_core::{
    AuthorSecret, ClaimedTime, ClockSource, Consent, Details, Link, LinkKind, RecordBody, RecordId,
    RecordKind, VerifiedRecord, format_ms,
};
use qoima_store::Store;

use crate::context::Context;
use crate::exit::UsageError;
use crate::output::{errln, outln, safe};

/// A body by `signer` of `kind`, following `previous` in its chain; it consents to
/// sharing, since these records exist to travel.
pub(super) fn body(
    signer: &AuthorSecret,
    previous: Option<(u64, RecordId)>,
    kind: RecordKind,
    details: Details,
    title: &str,
    text: &str,
    links: Vec<Link>,
) -> RecordBody {
    let (seq, prev) = match previous {
        Some((seq, id)) => (seq + 1, Some(id)),
        None => (1, None),
    };
    let mut body = RecordBody {
        version: qoima_core::RECORD_FORMAT_VERSION,
        kind,
        author: signer.public(),
        seq,
        prev,
        created: ClaimedTime {
            unix_ms: jiff::Timestamp::now().as_millisecond(),
            source: ClockSource::Device,
            uncertainty_s: 0,
        },
        occurred: None,
        place: None,
        lang: String::new(),
        title: title.into(),
        text: text.into(),
        tags: Vec::new(),
        details,
        attachments: Vec::new(),
        links,
        consent: Consent {
            share_with_organisations: true,
            publish: false,
            use_in_court: false,
        },
        sealed: None,
    };
    body.version = body.needed_version();
    body
}

/// Signs and stores the record, appended to the signer's chain, and tells the node.
fn publish(
    ctx: &Context,
    store: &mut Store,
    signer: &AuthorSecret,
    make: impl FnOnce(Option<(u64, RecordId)>) -> RecordBody,
) -> anyhow::Result<VerifiedRecord> {
    let record = store.append_local(&signer.public(), |previous| -> anyhow::Result<_> {
        Ok(VerifiedRecord::sign(&make(previous), signer).map_err(|e| UsageError(e.to_string()))?)
    })?;
    ctx.tell_node_written();
    Ok(record)
}

/// `qoima retract ID`: the author withdraws one of their records.
pub fn retract(ctx: &Context, id: &str, reason: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut store = ctx.store()?;
    let id = store.resolve(id)?;
    let target = store.get(&id)?.record;
    let author = target.body().author;
    let Some(persona) = store.personas()?.into_iter().find(|p| p.key == author) else {
        anyhow::bail!(UsageError(format!(
            "record {} is signed by {}, not by one of your personas: only its author can \
             retract it",
            id.short(),
            author.fingerprint()
        )));
    };
    if target.body().kind == RecordKind::KeyRevocation {
        anyhow::bail!(UsageError(
            "a revocation cannot be retracted: a seized key must not be able to undo it".into()
        ));
    }
    let signer = store.persona_secret(Some(&persona.name))?;
    let record = publish(ctx, &mut store, &signer, |previous| {
        body(
            &signer,
            previous,
            RecordKind::Retraction,
            Details::None,
            "Retraction",
            reason.unwrap_or(""),
            vec![Link {
                kind: LinkKind::Retracts,
                target: id,
            }],
        )
    })?;
    outln!("{}", record.id())?;
    errln!(
        "Retracted {}: it is deleted here with its attachments. The retraction travels to \
         your peers, and each node that receives it deletes the record too (copies already \
         exported to files or seized devices cannot be reached).",
        id.short()
    );
    Ok(ExitCode::SUCCESS)
}

/// `qoima key revoke`: the persona's key says it is compromised.
pub fn revoke(
    ctx: &Context,
    persona: Option<&str>,
    since: Option<&str>,
    reason: Option<&str>,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let since_ms = since.map(super::parse_since).transpose()?;
    let mut store = ctx.store()?;
    let signer = store.persona_secret(persona)?;
    if !yes {
        confirm(&format!(
            "Revoke key {}? Every node that receives this will treat records it signs {} as \
             suspect. This cannot be undone. Type REVOKE to go on:",
            signer.public().fingerprint(),
            since_ms.map_or("from now on".to_owned(), |ms| format!(
                "from {}",
                format_ms(ms)
            ))
        ))?;
    }
    let since_ms = Some(since_ms.unwrap_or_else(|| jiff::Timestamp::now().as_millisecond()));
    let record = publish(ctx, &mut store, &signer, |previous| {
        body(
            &signer,
            previous,
            RecordKind::KeyRevocation,
            Details::KeyRevocation {
                since_ms,
                reason: reason.unwrap_or("").into(),
            },
            "Key revoked",
            "",
            Vec::new(),
        )
    })?;
    outln!("{}", record.id())?;
    errln!(
        "Key {} is revoked. Make a new persona (`qoima key new`) and tell the people who \
         trust you its fingerprint in person.",
        signer.public().fingerprint()
    );
    Ok(ExitCode::SUCCESS)
}

/// `qoima key revocation-cert FILE`: a revocation made now and kept aside, to be
/// imported anywhere if the key is seized; it counts from when a node first sees it.
pub fn revocation_cert(
    ctx: &Context,
    file: &Path,
    persona: Option<&str>,
    reason: Option<&str>,
    paper: bool,
) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let signer = store.persona_secret(persona)?;
    let previous = store.head_of(&signer.public())?;
    let body = body(
        &signer,
        previous,
        RecordKind::KeyRevocation,
        Details::KeyRevocation {
            since_ms: None,
            reason: reason.unwrap_or("").into(),
        },
        "Key revoked",
        "",
        Vec::new(),
    );
    let record = VerifiedRecord::sign(&body, &signer).map_err(|e| UsageError(e.to_string()))?;
    write_single_record_bundle(file, &record, paper)?;
    outln!("{}", file.display())?;
    errln!(
        "Revocation of {} written to {} and NOT published. Keep it away from this device \
         (on paper or another stick). If the key is seized, `qoima import` it on any node: \
         records the key signs after that node sees it show as suspect.",
        signer.public().fingerprint(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `qoima key sealing`: publishes the persona's key for sealed records.
pub fn publish_sealing_key(ctx: &Context, persona: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut store = ctx.store()?;
    let signer = store.persona_secret(persona)?;
    let sealing = store.sealing_secret(&signer.public())?.public();
    if store.sealing_key_of(&signer.public())? == Some(sealing) {
        outln!("{sealing}")?;
        errln!("Already published: others can seal records to you.");
        return Ok(ExitCode::SUCCESS);
    }
    let record = publish(ctx, &mut store, &signer, |previous| {
        body(
            &signer,
            previous,
            RecordKind::EncryptionKey,
            Details::EncryptionKey { x25519: sealing },
            "Key for sealed records",
            "",
            Vec::new(),
        )
    })?;
    outln!("{sealing}")?;
    errln!(
        "Published in record {}: once it reaches them, others can seal records to {} \
         (`qoima add … --seal-to {}`).",
        record.id().short(),
        signer.public().fingerprint(),
        signer.public().fingerprint()
    );
    Ok(ExitCode::SUCCESS)
}

/// `qoima trust endorse KEY --name NAME`: vouch for a key in public.
pub fn endorse(
    ctx: &Context,
    key: &str,
    name: &str,
    persona: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut store = ctx.store()?;
    let key = store.resolve_author(key)?;
    let signer = store.persona_secret(persona)?;
    let record = publish(ctx, &mut store, &signer, |previous| {
        body(
            &signer,
            previous,
            RecordKind::KeyEndorsement,
            Details::KeyEndorsement {
                key,
                name: name.into(),
                since_ms: jiff::Timestamp::now().as_millisecond(),
            },
            "Endorsement",
            "",
            Vec::new(),
        )
    })?;
    outln!("{}", record.id())?;
    errln!(
        "You now vouch in public for {} as {}. Everyone who receives this record learns that \
         you know each other; people who trust you see its records as endorsed.",
        key.fingerprint(),
        safe(name)
    );
    Ok(ExitCode::SUCCESS)
}

fn confirm(question: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(UsageError(
            "this cannot be undone: run it in a terminal to confirm, or pass --yes".into()
        ));
    }
    errln!("{question}");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "REVOKE" {
        anyhow::bail!(UsageError("not confirmed; nothing changed".into()));
    }
    Ok(())
}

/// A bundle file holding just `record`, signed by a throw-away key (as text for paper
/// if `paper`); never replaces a file.
fn write_single_record_bundle(
    file: &Path,
    record: &VerifiedRecord,
    paper: bool,
) -> anyhow::Result<()> {
    let bundler = super::export::throwaway_bundler()?;
    let manifest = Manifest {
        bundler: bundler.public(),
        created_ms: jiff::Timestamp::now().as_millisecond(),
        collection: "default".into(),
        items: vec![ItemRef {
            kind: ItemKind::Record,
            hash: record.id().0,
            size: record.bytes().len() as u64,
        }],
    };
    let mut writer = BundleWriter::new(Vec::new(), manifest, &bundler)?;
    writer.write_record(record.bytes())?;
    let bundle = writer.finish()?;
    let mut out = super::create_new_file(file)?;
    if paper {
        out.write_all(crate::paper::to_paper(&bundle).as_bytes())?;
    } else {
        out.write_all(&bundle)?;
    }
    out.sync_all()?;
    Ok(())
}
