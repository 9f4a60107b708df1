//! `qoima show`: one record in full, with its chain of custody.

use std::process::ExitCode;

use qoima_core::{Details, RecordBody, format_ms};
use qoima_store::StoredRecord;
use serde_json::json;

use crate::context::Context;
use crate::output::print_json;

pub fn run(ctx: &Context, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let id = store.resolve(id)?;
    let stored = store.get(&id)?;
    if json {
        print_json(&record_json(&stored))?;
    } else {
        print_record(&stored);
    }
    Ok(ExitCode::SUCCESS)
}

fn record_json(stored: &StoredRecord) -> serde_json::Value {
    let record = &stored.record;
    let body = record.body();
    json!({
        "id": record.id(),
        "kind": body.kind,
        "author": body.author,
        "author_fingerprint": body.author.fingerprint().to_string(),
        "seq": body.seq,
        "prev": body.prev,
        "created_at": format_ms(body.created.unix_ms),
        "title": body.title,
        "signature": "valid",
        "record": body,
        "stored_at": format_ms(stored.stored_ms),
        "provenance": stored.provenance.iter().map(|p| json!({
            "source": p.source,
            "bundle": p.bundle,
            "origin": p.origin,
            "received_at": format_ms(p.received_ms),
        })).collect::<Vec<_>>(),
    })
}

fn print_record(stored: &StoredRecord) {
    let record = &stored.record;
    let body: &RecordBody = record.body();
    println!("{}  {}", body.kind.name(), body.title);
    println!("id:        {}", record.id());
    println!(
        "author:    {} (no. {}{})",
        body.author.fingerprint(),
        body.seq,
        body.prev
            .map(|p| format!(", after {}", p.short()))
            .unwrap_or_default()
    );
    println!(
        "created:   {} (claimed, {:?} clock{})",
        format_ms(body.created.unix_ms),
        body.created.source,
        match body.created.uncertainty_s {
            0 => String::new(),
            s => format!(", ± {s} s"),
        }
    );
    if let Some(span) = body.occurred {
        println!(
            "happened:  {} – {} ({:?})",
            format_ms(span.start_ms),
            format_ms(span.end_ms),
            span.precision
        );
    }
    if let Some(place) = &body.place {
        match place.point {
            Some(point) => {
                let (lat, lon) = point.degrees();
                println!(
                    "place:     {} ({lat:.5}, {lon:.5} ± {} m)",
                    place.name, point.radius_m
                );
            }
            None => println!("place:     {}", place.name),
        }
    }
    if !body.lang.is_empty() {
        println!("language:  {}", body.lang);
    }
    if !body.tags.is_empty() {
        println!("tags:      {}", body.tags.join(", "));
    }
    match &body.details {
        Details::None => {}
        Details::Testimony {
            witness_ref,
            relation,
        } => println!("witness:   {witness_ref} ({relation:?})"),
        Details::Incident {
            incident_type,
            source,
        } => println!("incident:  {incident_type:?}, source {source:?}"),
        Details::Detention {
            person_ref,
            facility,
            authority,
        } => {
            println!("detained:  {person_ref}; held at {facility:?} by {authority:?}")
        }
    }
    for link in &body.links {
        println!("link:      {:?} {}", link.kind, link.target);
    }
    for a in &body.attachments {
        println!(
            "attached:  {} {} ({} bytes) blake3 {} sha256 {}",
            a.file_name, a.media_type, a.size, a.blake3, a.sha256
        );
    }
    let consent = body.consent;
    println!(
        "consent:   share {}, publish {}, court {}",
        yes_no(consent.share_with_organisations),
        yes_no(consent.publish),
        yes_no(consent.use_in_court)
    );
    if !body.text.is_empty() {
        println!();
        println!("{}", body.text);
        println!();
    }
    println!(
        "Signature valid: key {} vouched for exactly these bytes.",
        body.author.fingerprint()
    );
    println!("(A signature shows who vouched for a record, not that what it says is true.)");
    for p in &stored.provenance {
        let via = match (p.source.as_str(), &p.bundle) {
            ("local", _) => "written on this device".to_owned(),
            (source, Some(bundle)) => {
                format!("from {source} {} in bundle {}", p.origin, bundle.short())
            }
            (source, None) => format!("from {source} {}", p.origin),
        };
        println!("received:  {} {via}", format_ms(p.received_ms));
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}
