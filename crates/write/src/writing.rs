//! Signing a record and storing it with its attachments.

use qoima_core::draft::{Authorship, RecordDraft};
use qoima_core::{
    Attachment, AuthorSecret, BlobHash, ClaimedTime, ClockSource, RecordBody, Sha256Digest,
    VerifiedRecord,
};
use qoima_store::{Store, StoreError};

use crate::{Cleaning, WriteError, attachment_name, clean, media_type};

/// `draft` signed by `signer` as the next record of its chain, with `attachments`
/// (stored already) and `finish` applied to the body last (sealing, for `qoima add
/// --seal-to`). The head of the chain is read and the record stored under one write
/// lock, so two writers at once never take the same place in the chain.
pub fn sign_and_append(
    store: &mut Store,
    signer: &AuthorSecret,
    draft: RecordDraft,
    attachments: Vec<Attachment>,
    finish: impl FnOnce(&mut RecordBody) -> Result<(), WriteError>,
) -> Result<VerifiedRecord, WriteError> {
    let author = signer.public();
    store.append_local(&author, |previous| {
        let mut body = draft.into_body(authorship(signer, previous), attachments)?;
        finish(&mut body)?;
        sign(&body, signer)
    })
}

impl From<String> for WriteError {
    fn from(reason: String) -> Self {
        WriteError::Draft(reason)
    }
}

fn authorship(signer: &AuthorSecret, previous: Option<(u64, qoima_core::RecordId)>) -> Authorship {
    Authorship {
        author: signer.public(),
        previous,
        created: ClaimedTime {
            unix_ms: jiff::Timestamp::now().as_millisecond(),
            source: ClockSource::Device,
            uncertainty_s: 0,
        },
    }
}

fn sign(body: &RecordBody, signer: &AuthorSecret) -> Result<VerifiedRecord, WriteError> {
    VerifiedRecord::sign(body, signer).map_err(|e| WriteError::Draft(e.to_string()))
}

/// An attachment held in memory: the web interface's upload.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name it was sent under; only its extension is kept (see [`attachment_name`]).
    pub file_name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A record to write: what the person described, who signs, and the attachments.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The record's fields; its `attach` paths are ignored (see `uploads`).
    pub draft: RecordDraft,
    /// The persona that signs, or `None` for the default one.
    pub persona: Option<String>,
    /// The attachments, in order.
    pub uploads: Vec<Upload>,
    /// The recipients to seal the record to (keys, fingerprints or trusted names), as
    /// `qoima add --seal-to` takes them; empty for a record everyone who holds it reads.
    pub seal_to: Vec<String>,
}

/// A record written and stored.
#[derive(Debug)]
pub struct Written {
    /// The signed record.
    pub record: VerifiedRecord,
    /// What was made of each attachment's metadata, in order.
    pub cleaning: Vec<Cleaning>,
}

/// An attachment ready to store: the record's entry for it and the bytes stored.
type File = (Attachment, Vec<u8>);

/// Cleans, signs and stores `new`. Everything that can be wrong with the record (its
/// fields, a damaged photo, a missing persona, a recipient who cannot be sealed to) is
/// found before anything is stored; if storing then fails (a full disk), the
/// attachments stored for it are taken back, so a failed write leaves nothing behind.
///
/// The uploads are cleaned in memory and go to disk only through the blob store, which
/// encrypts them when the archive is encrypted at rest. A sealed record's attachments
/// are stored as their ciphertext under the record's own key.
pub fn write(store: &mut Store, new: NewRecord) -> Result<Written, WriteError> {
    let signer = store
        .persona_secret(new.persona.as_deref())
        .map_err(|e| match e {
            StoreError::NotFound(_) => WriteError::NoPersona(e),
            e => WriteError::Store(e),
        })?;
    let recipients = crate::recipients(store, &new.seal_to, &signer.public())?;
    let key = (!recipients.is_empty()).then(crate::content_key);
    let mut draft = new.draft;
    draft.attach.clear();
    let mut files = Vec::with_capacity(new.uploads.len());
    let mut sealed_attachments = Vec::new();
    let mut cleaning = Vec::with_capacity(new.uploads.len());
    for (index, upload) in new.uploads.into_iter().enumerate() {
        let (plain, bytes, outcome) = cleaned(upload, index + 1)?;
        cleaning.push(outcome);
        match &key {
            None => files.push((plain, bytes)),
            Some(key) => {
                let index = u32::try_from(index)
                    .map_err(|_| WriteError::Draft("too many attachments".into()))?;
                let (public, cipher, sealed) = crate::seal_attachment(key, index, plain, &bytes);
                files.push((public, cipher));
                sealed_attachments.push(sealed);
            }
        }
    }
    let finish = |body: &mut RecordBody| match &key {
        Some(key) => crate::seal_fields(
            body,
            &recipients,
            key,
            sealed_attachments.clone(),
            (None, None),
        ),
        None => Ok(()),
    };
    let attachments: Vec<Attachment> = files.iter().map(|(entry, _)| entry.clone()).collect();
    // A trial signing checks every field and bound (sealed, if it is to be) before a
    // file is stored.
    let head = store.head_of(&signer.public())?;
    let mut trial = draft
        .clone()
        .into_body(authorship(&signer, head), attachments.clone())?;
    finish(&mut trial)?;
    sign(&trial, &signer)?;
    let mut stored_here = Vec::new();
    let result = store_files(store, &files, &mut stored_here)
        .and_then(|()| sign_and_append(store, &signer, draft, attachments, finish));
    if result.is_err() {
        for hash in &stored_here {
            // Best effort: the write failed already, and that is the error to report.
            let _ = store.discard_unattached_blob(hash);
        }
    }
    Ok(Written {
        record: result?,
        cleaning,
    })
}

/// Upload number `number` (from 1) cleaned of its metadata: the record's entry for it,
/// the bytes to store, and what cleaning made of it.
fn cleaned(upload: Upload, number: usize) -> Result<(Attachment, Vec<u8>, Cleaning), WriteError> {
    let (cleaned, outcome) = clean(&upload.bytes, number)?;
    let bytes = cleaned.unwrap_or(upload.bytes);
    let entry = Attachment {
        blake3: BlobHash::of(&bytes),
        sha256: Sha256Digest(<sha2::Sha256 as sha2::Digest>::digest(&bytes).into()),
        size: bytes.len() as u64,
        media_type: media_type(&bytes, &upload.file_name),
        file_name: attachment_name(&upload.file_name, number, false),
    };
    Ok((entry, bytes, outcome))
}

/// Stores the attachments' files, noting in `stored_here` those that were not held
/// before (to take them back if the record is not stored).
fn store_files(
    store: &mut Store,
    files: &[File],
    stored_here: &mut Vec<BlobHash>,
) -> Result<(), WriteError> {
    for (entry, bytes) in files {
        let held = store.blob_path(&entry.blake3).is_some();
        let blob = store.add_blob_bytes(bytes)?;
        if !held && !stored_here.contains(&blob.blake3) {
            stored_here.push(blob.blake3);
        }
    }
    Ok(())
}
