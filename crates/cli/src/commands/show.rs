//! `qoima show`: one record in full, with its chain of custody.

use std::process::ExitCode;

use qoima_core::{Details, RecordBody, format_ms};
use qoima_store::{AttachmentState, AuthorTrust, StoredRecord};

use crate::context::Context;
use crate::output::{outln, print_json, safe, safe_multiline};

pub fn run(ctx: &Context, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    if json {
        // The API's own type: `GET /api/v1/records/{id}` answers the same.
        print_json(&store.record_view(id)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Ok(full) = id.trim().parse::<qoima_core::RecordId>()
        && store.is_retracted(&full)?
    {
        anyhow::bail!(qoima_store::StoreError::NotFound(format!(
            "record {full}: its author retracted it; only its tombstone is kept here"
        )));
    }
    let id = store.resolve(id)?;
    let stored = store.get(&id)?;
    let states = stored
        .record
        .body()
        .attachments
        .iter()
        .map(|a| store.attachment_state(&a.blake3))
        .collect::<Result<Vec<_>, _>>()?;
    let body = stored.record.body();
    let trust = store.author_trust(&body.author)?;
    let suspect = store.is_suspect(&body.author, body.created.unix_ms, stored.stored_ms)?;
    let opened = store.open_sealed(&stored.record)?;
    {
        print_record(&stored, &states, &trust)?;
        if suspect {
            outln!(
                "SUSPECT: its key was revoked before this record claims to be written and \
                 before this archive first saw it; whoever holds the key now may have made it."
            )?;
        }
        if let Some(sealed) = &body.sealed {
            print_sealed(sealed.recipients.len(), opened.as_ref())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_sealed(recipients: usize, opened: Option<&qoima_store::Opened>) -> anyhow::Result<()> {
    match opened {
        None => outln!("sealed:    a part sealed to {recipients} recipient(s); not readable here")?,
        Some(Err(e)) => outln!("sealed:    sealed to you, but {e}")?,
        Some(Ok((content, _))) => {
            outln!("sealed:    sealed to you ({recipients} recipient(s) in all); it reads:")?;
            if !content.title.is_empty() {
                outln!("  title:   {}", safe(&content.title))?;
            }
            if let Some(place) = &content.place {
                outln!("  place:   {}", safe(&place.name))?;
            }
            match &content.details {
                Details::Testimony { witness_ref, .. } => {
                    outln!("  witness: {}", safe(witness_ref))?
                }
                Details::Detention {
                    person_ref,
                    facility,
                    authority,
                } => outln!(
                    "  detained: {}; held at {} by {}",
                    safe(person_ref),
                    safe(facility),
                    safe(authority)
                )?,
                _ => {}
            }
            for sealed in &content.attachments {
                let a = &sealed.plain;
                outln!(
                    "  attached: no. {} is {} {} ({} bytes, blake3 {}): `qoima attachment` opens it",
                    sealed.index + 1,
                    safe(&a.file_name),
                    safe(&a.media_type),
                    a.size,
                    a.blake3
                )?;
            }
            for line in safe_multiline(&content.text).lines() {
                outln!("    {line}")?;
            }
        }
    }
    Ok(())
}

/// How an attachment's presence reads on screen.
fn state_text(state: &AttachmentState) -> String {
    match *state {
        AttachmentState::Present => "here".into(),
        AttachmentState::Partial { have, size } => {
            format!("partly here: {}%", super::node::percent(have, size))
        }
        AttachmentState::Missing => "not here yet: `qoima fetch` asks peers for it".into(),
    }
}

fn print_record(
    stored: &StoredRecord,
    states: &[AttachmentState],
    trust: &AuthorTrust,
) -> anyhow::Result<()> {
    let record = &stored.record;
    let body: &RecordBody = record.body();
    // Everything from the record is data: escaped so it cannot forge qoima's own lines.
    outln!("{}  {}", body.kind.name(), safe(&body.title))?;
    outln!("id:        {}", record.id())?;
    outln!(
        "author:    {} (no. {}{})",
        body.author.fingerprint(),
        body.seq,
        body.prev
            .map(|p| format!(", after {}", p.short()))
            .unwrap_or_default()
    )?;
    outln!("trust:     {}", super::trust::describe(trust))?;
    outln!(
        "created:   {} (claimed, {:?} clock{})",
        format_ms(body.created.unix_ms),
        body.created.source,
        match body.created.uncertainty_s {
            0 => String::new(),
            s => format!(", ± {s} s"),
        }
    )?;
    if let Some(span) = body.occurred {
        outln!(
            "happened:  {} – {} ({:?})",
            format_ms(span.start_ms),
            format_ms(span.end_ms),
            span.precision
        )?;
    }
    if let Some(place) = &body.place {
        match place.point {
            Some(point) => {
                let (lat, lon) = point.degrees();
                outln!(
                    "place:     {} ({lat:.5}, {lon:.5} ± {} m)",
                    safe(&place.name),
                    point.radius_m
                )?;
            }
            None => outln!("place:     {}", safe(&place.name))?,
        }
    }
    if !body.lang.is_empty() {
        outln!("language:  {}", safe(&body.lang))?;
    }
    if !body.tags.is_empty() {
        outln!("tags:      {}", safe(&body.tags.join(", ")))?;
    }
    match &body.details {
        Details::None => {}
        Details::Testimony {
            witness_ref,
            relation,
        } => outln!("witness:   {} ({relation:?})", safe(witness_ref))?,
        Details::Incident {
            incident_type,
            source,
        } => outln!(
            "incident:  {incident_type:?}, source {}",
            safe(&format!("{source:?}"))
        )?,
        Details::Detention {
            person_ref,
            facility,
            authority,
        } => outln!(
            "detained:  {}; held at {} by {}",
            safe(person_ref),
            safe(&format!("{facility:?}")),
            safe(&format!("{authority:?}"))
        )?,
        Details::KeyEndorsement {
            key,
            name,
            since_ms,
        } => outln!(
            "vouches:   for key {} as {} since {}",
            key.fingerprint(),
            safe(name),
            format_ms(*since_ms)
        )?,
        Details::KeyRevocation { since_ms, reason } => outln!(
            "revokes:   this key as compromised since {}{}",
            since_ms.map_or("this revocation is first seen".into(), format_ms),
            if reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", safe(reason))
            }
        )?,
        Details::EncryptionKey { x25519 } => outln!("seal to:   X25519 key {x25519}")?,
    }
    for link in &body.links {
        outln!("link:      {:?} {}", link.kind, link.target)?;
    }
    for (a, state) in body.attachments.iter().zip(states) {
        outln!(
            "attached:  {} {} ({} bytes, {}) blake3 {} sha256 {}",
            safe(&a.file_name),
            safe(&a.media_type),
            a.size,
            state_text(state),
            a.blake3,
            a.sha256
        )?;
    }
    let consent = body.consent;
    outln!(
        "consent:   share {}, publish {}, court {}",
        yes_no(consent.share_with_organisations),
        yes_no(consent.publish),
        yes_no(consent.use_in_court)
    )?;
    if !body.text.is_empty() {
        // The account keeps its line breaks, indented so that no line of it can pass for
        // one of the lines around it.
        outln!()?;
        for line in safe_multiline(&body.text).lines() {
            outln!("    {line}")?;
        }
        outln!()?;
    }
    outln!(
        "Signature valid: key {} vouched for exactly these bytes.",
        body.author.fingerprint()
    )?;
    outln!("(A signature shows who vouched for a record, not that what it says is true.)")?;
    for p in &stored.provenance {
        let via = match (p.source.as_str(), &p.bundle) {
            ("local", _) => "written on this device".to_owned(),
            (source, Some(bundle)) => {
                format!("from {source} {} in bundle {}", p.origin, bundle.short())
            }
            (source, None) => format!("from {source} {}", p.origin),
        };
        outln!("received:  {} {}", format_ms(p.received_ms), safe(&via))?;
    }
    Ok(())
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}
