//! Where the data lives and how the passphrase is obtained.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use qoima_core::AuthorSecret;
use qoima_node::control::{self, ControlError};
use qoima_store::keyfile::{self, Secrets};
use qoima_store::{ArchiveKey, Store};
use zeroize::Zeroizing;

/// The data directory and what is opened from it, lazily.
pub struct Context {
    home: PathBuf,
}

impl Context {
    /// `--home`/`QOIMA_HOME` (clap has merged those), else the platform's data directory.
    pub fn new(home: Option<PathBuf>) -> anyhow::Result<Context> {
        let home = match home {
            Some(home) => home,
            None => platform_data_dir()
                .context("cannot tell where to keep data: set QOIMA_HOME or pass --home DIR")?,
        };
        Ok(Context { home })
    }

    /// The data directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Tells a node running on this data directory that records were just written, so
    /// it offers them to its peers now rather than at its next look at the archive.
    /// With no node running there is nobody to tell; if telling fails, that next look
    /// (within a second) finds them anyway.
    pub fn tell_node_written(&self) {
        let _ = control::tell_written(&self.home);
    }

    /// The sealed key file.
    pub fn key_path(&self) -> PathBuf {
        self.home.join("key")
    }

    /// Opens the archive, which must have been created by `qoima init`. The archive
    /// key comes from the node running on it, if one does (no second passphrase
    /// prompt); otherwise from the key file, with the passphrase.
    pub fn store(&self) -> anyhow::Result<Store> {
        if !self.key_path().exists() {
            anyhow::bail!(keyfile::KeyFileError::Missing(
                self.home.display().to_string()
            ));
        }
        let (key, author) = match control::query_archive_key(&self.home) {
            Ok(key) => (key, None),
            Err(ControlError::NotRunning(_)) => {
                let secrets = self.secrets()?;
                (secrets.archive_key, Some(secrets.author))
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context("asking the running node for the key"));
            }
        };
        self.open_store(&key, author.as_ref())
    }

    /// Opens the archive with its key; `author`, the key file's author key when it was
    /// just unsealed, is recorded as the persona "main" if it is not yet.
    pub fn open_store(
        &self,
        key: &ArchiveKey,
        author: Option<&AuthorSecret>,
    ) -> anyhow::Result<Store> {
        if qoima_store::at_rest::needs_upgrade(&self.home)? {
            crate::output::errln!(
                "Encrypting this archive in place (once, after upgrading qoima from a version without encryption at rest). On a large archive this takes a few minutes; if interrupted, it resumes next time. If you did not upgrade from such a version, someone may have replaced files in {}: stop (Ctrl-C) and check.",
                crate::output::safe(&self.home.display().to_string())
            );
        }
        let mut store = Store::open(&self.home, key)
            .with_context(|| format!("opening the archive in {}", self.home.display()))?;
        if let Some(author) = author {
            store.adopt_key_file_author(author)?;
        }
        Ok(store)
    }

    /// Opens the sealed key with the passphrase.
    pub fn secrets(&self) -> anyhow::Result<Secrets> {
        let path = self.key_path();
        if !path.exists() {
            anyhow::bail!(keyfile::KeyFileError::Missing(
                self.home.display().to_string()
            ));
        }
        let passphrase = passphrase("Passphrase: ", false)?;
        Ok(keyfile::open(&path, passphrase.as_bytes())?)
    }
}

/// `QOIMA_PASSPHRASE`, else a prompt on the terminal that does not echo (twice when
/// choosing a new one).
pub fn passphrase(prompt: &str, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var("QOIMA_PASSPHRASE") {
        return Ok(Zeroizing::new(value));
    }
    let first =
        Zeroizing::new(rpassword::prompt_password(prompt).context(
            "reading the passphrase (set QOIMA_PASSPHRASE when no terminal is available)",
        )?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Repeat the passphrase: ")?);
        if first != second {
            anyhow::bail!(crate::exit::UsageError("the two passphrases differ".into()));
        }
    }
    Ok(first)
}

/// The passphrase of a sealed bundle: `QOIMA_BUNDLE_PASSPHRASE`, else a prompt that
/// does not echo (twice when choosing one). Never the archive's passphrase: a bundle's
/// travels to its recipient.
pub fn bundle_passphrase(prompt: &str, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var("QOIMA_BUNDLE_PASSPHRASE") {
        if value.is_empty() {
            anyhow::bail!(crate::exit::UsageError(
                "QOIMA_BUNDLE_PASSPHRASE is empty".into()
            ));
        }
        return Ok(Zeroizing::new(value));
    }
    let first = Zeroizing::new(rpassword::prompt_password(prompt).context(
        "reading the bundle's passphrase (set QOIMA_BUNDLE_PASSPHRASE when no terminal is available)",
    )?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Repeat it: ")?);
        if first != second {
            anyhow::bail!(crate::exit::UsageError("the two passphrases differ".into()));
        }
    }
    if first.is_empty() {
        anyhow::bail!(crate::exit::UsageError(
            "the passphrase must not be empty".into()
        ));
    }
    Ok(first)
}

fn platform_data_dir() -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return env("APPDATA").map(|p| p.join("qoima"));
    }
    if cfg!(target_os = "macos") {
        return env("HOME").map(|p| p.join("Library/Application Support/qoima"));
    }
    env("XDG_DATA_HOME")
        .or_else(|| env("HOME").map(|p| p.join(".local/share")))
        .map(|p| p.join("qoima"))
}
