//! Crash-safe file writing: write to a temporary name in the same directory, sync, rename,
//! sync the directory. A reader sees the old file or the complete new one, never a part.

use std::io::{self, Write};
use std::path::Path;

use fs_err as fs;

/// A file being written that appears at `target` only when [`AtomicFile::commit`]
/// succeeds; dropped uncommitted, it is removed.
pub struct AtomicFile {
    file: Option<tempfile::NamedTempFile>,
    target: std::path::PathBuf,
}

impl AtomicFile {
    /// Starts writing a file that will replace (or create) `target`.
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let dir = parent_dir(target);
        let file = tempfile::Builder::new()
            .prefix(".qoima-partial-")
            .tempfile_in(dir)?;
        Ok(AtomicFile {
            file: Some(file),
            target: target.to_owned(),
        })
    }

    /// Syncs the data, renames it into place and syncs the directory entry.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("committed once");
        file.as_file().sync_all()?;
        file.persist(&self.target).map_err(|e| e.error)?;
        sync_dir(parent_dir(&self.target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("not committed").write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.as_mut().expect("not committed").write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("not committed").flush()
    }
}

/// Writes `bytes` to `target` atomically.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(target)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Makes a directory entry change (create, rename) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
