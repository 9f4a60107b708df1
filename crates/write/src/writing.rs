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
}

/// A record written and stored.
#[derive(Debug)]
pub struct Written {
    /// The signed record.
    pub record: VerifiedRecord,
    /// What was made of each attachment's metadata, in order.
    pub cleaning: Vec<Cleaning>,
}

/// Cleans, signs and stores `new`. Everything that can be wrong with the record (its
/// fields, a damaged photo, a missing persona) is found before anything is stored; if
/// storing then fails (a full disk), the attachments stored for it are taken back, so
/// a failed write leaves nothing behind.
///
/// The uploads are cleaned in memory and go to disk only through the blob store, which
/// encrypts them when the archive is encrypted at rest.
pub fn write(store: &mut Store, new: NewRecord) -> Result<Written, WriteError> {
    let signer = store
        .persona_secret(new.persona.as_deref())
        .map_err(|e| match e {
            StoreError::NotFound(_) => WriteError::NoPersona(e),
            e => WriteError::Store(e),
        })?;
    let mut draft = new.draft;
    draft.attach.clear();
    let mut files = Vec::with_capacity(new.uploads.len());
    let mut cleaning = Vec::with_capacity(new.uploads.len());
    for (index, upload) in new.uploads.into_iter().enumerate() {
        let number = index + 1;
        let (cleaned, outcome) = clean(&upload.bytes, number)?;
        let bytes = cleaned.unwrap_or(upload.bytes);
        let entry = Attachment {
            blake3: BlobHash::of(&bytes),
            sha256: Sha256Digest(<sha2::Sha256 as sha2::Digest>::digest(&bytes).into()),
            size: bytes.len() as u64,
            media_type: media_type(&bytes, &upload.file_name),
            file_name: attachment_name(&upload.file_name, number, false),
        };
        files.push((entry, bytes));
        cleaning.push(outcome);
    }
    let attachments: Vec<Attachment> = files.iter().map(|(entry, _)| entry.clone()).collect();
    // A trial signing checks every field and bound before a file is stored.
    let head = store.head_of(&signer.public())?;
    let trial = draft
        .clone()
        .into_body(authorship(&signer, head), attachments.clone())?;
    sign(&trial, &signer)?;
    let mut stored_here = Vec::new();
    let result = store_and_sign(store, &signer, draft, attachments, &files, &mut stored_here);
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

/// Stores the attachments' files, noting in `stored_here` those that were not held
/// before, then the record.
fn store_and_sign(
    store: &mut Store,
    signer: &AuthorSecret,
    draft: RecordDraft,
    attachments: Vec<Attachment>,
    files: &[(Attachment, Vec<u8>)],
    stored_here: &mut Vec<BlobHash>,
) -> Result<VerifiedRecord, WriteError> {
    for (entry, bytes) in files {
        let held = store.blob_path(&entry.blake3).is_some();
        let blob = store.add_blob_bytes(bytes)?;
        if !held && !stored_here.contains(&blob.blake3) {
            stored_here.push(blob.blake3);
        }
    }
    sign_and_append(store, signer, draft, attachments, |_| Ok(()))
}
