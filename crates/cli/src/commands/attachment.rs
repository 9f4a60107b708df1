//! `qoima attachment ID N FILE`: writes a record's attachment out of the encrypted
//! archive, decrypted (and, for a sealed record, opened with this archive's key) and
//! checked against the hash its author signed.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use qoima_core::BlobHash;

use crate::context::Context;
use crate::exit::UsageError;
use crate::output::{errln, outln, safe};

pub fn run(ctx: &Context, id: &str, number: usize, out: &Path) -> anyhow::Result<ExitCode> {
    let store = ctx.store()?;
    let id = store.resolve(id)?;
    let record = store.get(&id)?.record;
    let body = record.body();
    let Some(public) = number.checked_sub(1).and_then(|i| body.attachments.get(i)) else {
        anyhow::bail!(UsageError(format!(
            "record {} has {} attachment(s); number them from 1",
            id.short(),
            body.attachments.len()
        )));
    };
    let index = number - 1;
    let Some(reader) = store.read_blob(&public.blake3)? else {
        anyhow::bail!(qoima_store::StoreError::NotFound(format!(
            "attachment {number} of {} is not here yet: `qoima fetch {}` asks peers for it",
            id.short(),
            id.short()
        )));
    };
    // Sealed: the public entry is ciphertext; the sealed part says what it really is.
    let opened = match body.sealed {
        Some(_) => store.open_sealed(&record)?,
        None => None,
    };
    let sealed = match &opened {
        Some(Ok((content, key))) => content
            .attachments
            .iter()
            .find(|a| a.index as usize == index)
            .map(|a| (a.plain.clone(), key.clone())),
        Some(Err(e)) => anyhow::bail!("record {}: {e}", id.short()),
        None => None,
    };
    // Not sealed to this archive: an entry of the opaque kind `add --seal-to` writes is
    // ciphertext, and writing it out as if it were the photo would mislead.
    let opaque = public.media_type == "application/octet-stream" && public.file_name.is_empty();
    if body.sealed.is_some() && opened.is_none() && opaque {
        anyhow::bail!(UsageError(format!(
            "attachment {number} of {} is sealed, and not to you: only its recipients can open it",
            id.short()
        )));
    }
    let file = super::create_new_file(out)?;
    let mut hashing = Hashing {
        inner: std::io::BufWriter::new(file),
        hasher: blake3::Hasher::new(),
    };
    let expected = match &sealed {
        Some((plain, key)) => {
            let written = qoima_core::decrypt_attachment(key, index as u32, reader, &mut hashing);
            if let Err(e) = written {
                drop(hashing);
                let _ = std::fs::remove_file(out);
                return Err(e.into());
            }
            plain.blake3
        }
        None => {
            let mut reader = reader;
            std::io::copy(&mut reader, &mut hashing)?;
            public.blake3
        }
    };
    hashing.inner.flush()?;
    if BlobHash(*hashing.hasher.finalize().as_bytes()) != expected {
        let _ = std::fs::remove_file(out);
        anyhow::bail!(qoima_store::StoreError::Tampered(format!(
            "attachment {number} of {} does not match the hash its author signed",
            id.short()
        )));
    }
    outln!("{}", out.display())?;
    if let Some((plain, _)) = &sealed {
        errln!(
            "Opened the sealed attachment {} ({}, {} bytes).",
            safe(&plain.file_name),
            safe(&plain.media_type),
            plain.size
        );
    }
    Ok(ExitCode::SUCCESS)
}

struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
