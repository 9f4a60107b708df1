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

/// Writes `bytes` to `target`, which must not exist: atomically, and exclusively even
/// against another process doing the same at the same moment. The file is complete and
/// synced under a temporary name, then linked into place by an operation that fails
/// (with [`io::ErrorKind::AlreadyExists`]) if `target` exists by then; checking first
/// and renaming after would let the later writer silently replace the earlier one.
pub fn create_new_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(target);
    let mut file = tempfile::Builder::new()
        .prefix(".qoima-partial-")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist_noclobber(target).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Creates `dir` (and its parents) if needed and makes it reachable by its owner only
/// (0700), whatever the umask: the data directory's names and sizes are nobody else's
/// business.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        set_mode(dir, 0o700)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

/// Makes the file at `path` readable and writable by its owner only (0600).
pub fn private_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        set_mode(path, 0o600)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = fs::metadata(path)?.permissions().mode() & 0o7777;
    if current != mode {
        fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Creates an empty file at `path` with mode 0600 if there is none, so that SQLite
/// (which gives its journal and WAL files the database file's mode) never makes a
/// world-readable file.
pub fn touch_private(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    private_file(path)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_atomically_never_replaces_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("key");
        create_new_atomically(&target, b"first").unwrap();
        let second = create_new_atomically(&target, b"second").unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&target).unwrap(), b"first");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["key"]);
    }
}
