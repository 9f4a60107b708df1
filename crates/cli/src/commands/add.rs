//! `qoima add`: write, sign and store a record.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use fs_err as fs;
use qoima_core::draft::{PlaceDraft, RecordDraft};
use qoima_core::{Attachment, Details, IncidentType, RecordKind, SourceType, WitnessRelation};

use crate::cli::{AddArgs, AddKind, ConsentFlag, Incident, Relation};
use crate::context::Context;
use crate::exit::UsageError;
use crate::output::{errln, outln, safe};
use qoima_write::Cleaning;

pub fn run(ctx: &Context, args: AddArgs) -> anyhow::Result<ExitCode> {
    let draft = draft_from(&args)?;
    let mut store = ctx.store()?;
    let signer = store.persona_secret(args.persona.as_deref())?;
    let author = signer.public();

    let recipients = recipients(&mut store, &args.seal_to, &author)?;
    let originals_to = recipients_of_originals(&mut store, &args, &draft, &author)?;
    let content_key = (!recipients.is_empty()).then(qoima_write::content_key);
    let mut attachments = Vec::with_capacity(draft.attach.len());
    let mut sealed_attachments = Vec::new();
    for (index, path) in draft.attach.iter().enumerate() {
        let path = Path::new(path);
        match &content_key {
            None => attachments.push(attach(&mut store, path, index + 1, args.keep_metadata)?),
            Some(key) => {
                let (public, sealed) =
                    attach_sealed(&mut store, path, index, args.keep_metadata, key)?;
                attachments.push(public);
                sealed_attachments.push(sealed);
            }
        }
    }
    let mut draft = draft;
    if !originals_to.is_empty() {
        let signer = store.persona_secret(args.persona.as_deref())?;
        draft.links.extend(super::sealed_originals::seal_originals(
            &mut store,
            &signer,
            &draft.attach,
            &originals_to,
            draft.consent,
        )?);
    }
    // The head is read and the record stored under one write lock, so two `qoima add`
    // at once cannot both take the same place in the author's chain.
    let record = qoima_write::sign_and_append(&mut store, &signer, draft, attachments, |body| {
        match &content_key {
            Some(key) => qoima_write::seal_fields(
                body,
                &recipients,
                key,
                sealed_attachments,
                (args.public_title.as_deref(), args.public_text.as_deref()),
            ),
            None => Ok(()),
        }
    })
    .map_err(from_write)?;
    ctx.tell_node_written();
    outln!("{}", record.id())?;
    // What happens next, on stderr so scripts still read the id alone from stdout.
    if record.body().consent.share_with_organisations {
        errln!("Stored and signed. Consent to share was given: it will be offered to your peers.");
    } else {
        errln!(
            "Stored and signed. It stays in this archive: without `--consent share` it is never offered to peers, nor exported unless you pass `export --include-unshared`."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// For `--seal-original-to`: the recipients' keys (and the author's), after checking
/// there are attachments to keep originals of.
fn recipients_of_originals(
    store: &mut qoima_store::Store,
    args: &AddArgs,
    draft: &RecordDraft,
    author: &qoima_core::AuthorKey,
) -> anyhow::Result<Vec<qoima_core::SealingKey>> {
    if args.seal_original_to.is_empty() {
        return Ok(Vec::new());
    }
    if draft.attach.is_empty() {
        anyhow::bail!(UsageError(
            "--seal-original-to keeps the untouched originals of attachments: give --attach".into()
        ));
    }
    if args.keep_metadata {
        anyhow::bail!(UsageError(
            "--seal-original-to and --keep-metadata together would publish the original: \
             choose one"
                .into()
        ));
    }
    recipients(store, &args.seal_original_to, author)
}

/// The sealing keys of the recipients named on the command line, and the author's own
/// (so the author can read the record again); empty when nothing is to be sealed.
fn recipients(
    store: &mut qoima_store::Store,
    named: &[String],
    author: &qoima_core::AuthorKey,
) -> anyhow::Result<Vec<qoima_core::SealingKey>> {
    qoima_write::recipients(store, named, author).map_err(from_write)
}

/// The draft from `--from` (if any) with the flags laid over it.
fn draft_from(args: &AddArgs) -> anyhow::Result<RecordDraft> {
    let mut draft = match &args.from {
        Some(path) => {
            let text = fs::read_to_string(path)?;
            serde_json::from_str::<RecordDraft>(&text)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        }
        None => RecordDraft::default(),
    };
    if let Some(kind) = args.kind {
        draft.kind = Some(match kind {
            AddKind::Testimony => RecordKind::Testimony,
            AddKind::Incident => RecordKind::Incident,
            AddKind::Detention => RecordKind::Detention,
            AddKind::Evidence => RecordKind::Evidence,
        });
    }
    if draft.kind.is_none() {
        anyhow::bail!(UsageError(
            "say what kind of record this is: qoima add testimony|incident|detention|evidence"
                .into()
        ));
    }
    if let Some(title) = &args.title {
        draft.title = title.clone();
    }
    if let Some(text) = &args.text {
        draft.text = text.clone();
    }
    if let Some(path) = &args.text_file {
        draft.text = fs::read_to_string(path).context("the text file must be UTF-8 text")?;
    }
    if let Some(when) = &args.occurred_at {
        draft.occurred_at = Some(when.clone());
    }
    if let Some(name) = &args.place {
        let (lat, lon) = match &args.coords {
            Some(coords) => parse_coords(coords)?,
            None => (None, None),
        };
        draft.place = Some(PlaceDraft {
            name: name.clone(),
            lat,
            lon,
            radius_m: args.radius,
        });
    }
    if let Some(lang) = &args.lang {
        draft.lang = lang.clone();
    }
    draft.tags.extend(args.tags.iter().cloned());
    draft
        .attach
        .extend(args.attach.iter().map(|p| p.display().to_string()));
    apply_details(&mut draft, args);
    for flag in &args.consent {
        match flag {
            ConsentFlag::Share => draft.consent.share_with_organisations = true,
            ConsentFlag::Publish => draft.consent.publish = true,
            ConsentFlag::Court => draft.consent.use_in_court = true,
        }
    }
    Ok(draft)
}

fn apply_details(draft: &mut RecordDraft, args: &AddArgs) {
    let relation = args.relation.map(|r| match r {
        Relation::Victim => WitnessRelation::Victim,
        Relation::Eyewitness => WitnessRelation::Eyewitness,
        Relation::Relative => WitnessRelation::Relative,
        Relation::Hearsay => WitnessRelation::Hearsay,
        Relation::Other => WitnessRelation::Other,
    });
    if args.witness.is_some() || relation.is_some() {
        draft.details = Details::Testimony {
            witness_ref: args.witness.clone().unwrap_or_default(),
            relation: relation.unwrap_or(WitnessRelation::Other),
        };
    }
    if let Some(kind) = args.incident_type {
        draft.details = Details::Incident {
            incident_type: match kind {
                Incident::Detention => IncidentType::Detention,
                Incident::UseOfForce => IncidentType::UseOfForce,
                Incident::Shooting => IncidentType::Shooting,
                Incident::Torture => IncidentType::Torture,
                Incident::Disappearance => IncidentType::Disappearance,
                Incident::Dispersal => IncidentType::Dispersal,
                Incident::Censorship => IncidentType::Censorship,
                Incident::PropertyDamage => IncidentType::PropertyDamage,
                Incident::Other => IncidentType::Other,
            },
            source: SourceType::FirstHand,
        };
    }
    if args.person.is_some() || args.facility.is_some() || args.authority.is_some() {
        draft.details = Details::Detention {
            person_ref: args.person.clone().unwrap_or_default(),
            facility: args.facility.clone().unwrap_or_default(),
            authority: args.authority.clone().unwrap_or_default(),
        };
    }
}

fn parse_coords(text: &str) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let bad = || {
        UsageError(format!(
            "{text:?}: write coordinates as LAT,LON in decimal degrees, e.g. 43.2383,76.9453"
        ))
    };
    let (lat, lon) = text.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let lon: f64 = lon.trim().parse().map_err(|_| bad())?;
    Ok((Some(lat), Some(lon)))
}

/// The media type of the file at `path` (from its content, else its extension) and the
/// name it is attached under (see [`qoima_write::attachment_name`]).
fn describe(path: &Path, number: usize, keep_metadata: bool) -> (String, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let head = head_of(path).unwrap_or_default();
    (
        qoima_write::media_type(&head, &name),
        qoima_write::attachment_name(&name, number, keep_metadata),
    )
}

/// The first bytes of the file at `path`, enough to recognise its type.
fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(8192);
    fs::File::open(path)?.take(8192).read_to_end(&mut head)?;
    Ok(head)
}

/// A failure of [`qoima_write`] as the command reports it: a mistake in what was asked
/// is a usage error; the archive's own errors keep their type (and exit code).
fn from_write(e: qoima_write::WriteError) -> anyhow::Error {
    match e {
        qoima_write::WriteError::Store(e)
        | qoima_write::WriteError::NoPersona(e)
        | qoima_write::WriteError::Recipient(qoima_store::SealToError::Store(e)) => e.into(),
        e => UsageError(e.to_string()).into(),
    }
}

/// Largest attachment that can be sealed: it is read whole to be cleaned and encrypted.
const SEALED_ATTACHMENT_MAX: u64 = 256 * 1024 * 1024;

/// Encrypts the (cleaned) file under the record's content key, stores the ciphertext,
/// and returns the record's public entry for it and what the sealed part says it is.
pub(super) fn attach_sealed(
    store: &mut qoima_store::Store,
    path: &Path,
    index: usize,
    keep_metadata: bool,
    key: &qoima_core::ContentKey,
) -> anyhow::Result<(Attachment, qoima_core::SealedAttachment)> {
    let size = fs::metadata(path)?.len();
    if size > SEALED_ATTACHMENT_MAX {
        anyhow::bail!(UsageError(format!(
            "{}: attachments up to 256 MB can be sealed; send a larger one in a sealed \
             bundle (`qoima export --seal-to`) instead",
            safe(&path.display().to_string())
        )));
    }
    let plain = match keep_metadata {
        true => fs::read(path)?,
        false => match cleaned(path)? {
            Some(bytes) => bytes,
            None => fs::read(path)?,
        },
    };
    let (media_type, file_name) = describe(path, index + 1, keep_metadata);
    let plain_entry = Attachment {
        blake3: qoima_core::BlobHash::of(&plain),
        sha256: qoima_core::Sha256Digest(<sha2::Sha256 as sha2::Digest>::digest(&plain).into()),
        size: plain.len() as u64,
        media_type,
        file_name,
    };
    let index = u32::try_from(index).map_err(|_| UsageError("too many attachments".into()))?;
    let cipher = qoima_core::encrypt_attachment(key, index, &plain);
    let blob = store
        .add_blob_bytes(&cipher)
        .with_context(|| format!("attaching {}", path.display()))?;
    Ok((
        Attachment {
            blake3: blob.blake3,
            sha256: blob.sha256,
            size: blob.size,
            media_type: "application/octet-stream".into(),
            file_name: String::new(),
        },
        qoima_core::SealedAttachment {
            index,
            plain: plain_entry,
        },
    ))
}

fn attach(
    store: &mut qoima_store::Store,
    path: &Path,
    number: usize,
    keep_metadata: bool,
) -> anyhow::Result<Attachment> {
    let (media_type, file_name) = describe(path, number, keep_metadata);
    let blob = if keep_metadata {
        store.add_blob_file(path)
    } else {
        match cleaned(path)? {
            Some(bytes) => store.add_blob_bytes(&bytes),
            None => store.add_blob_file(path),
        }
    }
    .with_context(|| format!("attaching {}", path.display()))?;
    Ok(Attachment {
        blake3: blob.blake3,
        sha256: blob.sha256,
        size: blob.size,
        media_type,
        file_name,
    })
}

/// The attachment at `path` without its metadata, if it had any; `None` to store the
/// file as it is. Says on stderr what was removed, or why nothing could be.
fn cleaned(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let shown = safe(&path.display().to_string()).into_owned();
    let size = fs::metadata(path)?.len();
    if size > qoima_media::MAX_INPUT as u64 {
        errln!(
            "warning: {shown} is too large to be examined for location and device metadata; it is stored as it is."
        );
        return Ok(None);
    }
    let bytes = fs::read(path)?;
    match qoima_write::clean(&bytes, 1) {
        Ok((cleaned, Cleaning::Removed(removed))) => {
            errln!(
                "{shown}: removed {} before storing it (your file is unchanged; --keep-metadata keeps everything).",
                removed.join(", ")
            );
            Ok(cleaned)
        }
        Ok((_, Cleaning::Unsupported { format, reason })) => {
            errln!(
                "warning: {shown} is {format}, whose metadata qoima cannot remove ({reason}); it is stored as it is and may reveal where, when and with what it was made."
            );
            Ok(None)
        }
        Ok((_, Cleaning::TooLarge)) => {
            errln!(
                "warning: {shown} is too large to be examined for location and device metadata; it is stored as it is."
            );
            Ok(None)
        }
        Ok((_, Cleaning::NothingFound | Cleaning::NotMedia | Cleaning::Kept)) => Ok(None),
        Err(qoima_write::WriteError::Malformed { reason, .. }) => Err(UsageError(format!(
            "{shown}: {reason}. Its metadata cannot be removed safely; attach it with --keep-metadata to store it as it is."
        ))
        .into()),
        Err(e) => Err(from_write(e)),
    }
}
