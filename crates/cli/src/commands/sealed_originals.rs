//! `qoima add … --attach photo.jpg --seal-original-to NGO`: the record carries the copy
//! with its metadata removed, for everyone; the untouched original (location, device,
//! time: evidence in court) travels in a record of its own sealed to the recipients,
//! which the public record links as `DerivedFrom`.

use std::path::Path;

use qoima_core::{
    AuthorSecret, Consent, ContentKey, Link, LinkKind, RecordKind, SealedContent, SealingKey,
    VerifiedRecord,
};
use qoima_store::Store;

use crate::exit::UsageError;

/// Stores one sealed record per file in `paths`, each holding the untouched file as its
/// only (sealed) attachment; returns the links the public record makes to them.
pub fn seal_originals(
    store: &mut Store,
    signer: &AuthorSecret,
    paths: &[String],
    recipients: &[SealingKey],
    consent: Consent,
) -> anyhow::Result<Vec<Link>> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let mut links = Vec::with_capacity(paths.len());
    for (number, path) in paths.iter().enumerate() {
        let key = ContentKey::random(&mut rng);
        // Kept exactly as it is, name included: only the recipients will see it.
        let (public, sealed) = super::add::attach_sealed(store, Path::new(path), 0, true, &key)?;
        let content = SealedContent {
            title: format!("Original of attachment {}", number + 1),
            text: String::new(),
            place: None,
            details: qoima_core::Details::None,
            attachments: vec![sealed],
        };
        let author = signer.public();
        let record = store.append_local(&author, |previous| -> anyhow::Result<VerifiedRecord> {
            let mut body = super::statements::body(
                signer,
                previous,
                RecordKind::Evidence,
                qoima_core::Details::None,
                "Sealed original",
                "",
                Vec::new(),
            );
            body.attachments = vec![public.clone()];
            body.consent = consent;
            body.sealed = Some(
                qoima_core::seal(&content, &author, recipients, &key, &mut rng)
                    .map_err(|e| UsageError(e.to_string()))?,
            );
            body.version = body.needed_version();
            Ok(VerifiedRecord::sign(&body, signer).map_err(|e| UsageError(e.to_string()))?)
        })?;
        links.push(Link {
            kind: LinkKind::DerivedFrom,
            target: record.id(),
        });
    }
    Ok(links)
}
