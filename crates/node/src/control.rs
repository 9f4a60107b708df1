//! The local control socket (`node.sock` in the data directory): `qoima status` and
//! `qoima peers` ask a running node for its state, other commands ask it for the archive
//! key (so the passphrase is typed once, when the node starts), `qoima add` and `import`
//! tell it they wrote records (so it announces them at once), and `qoima lock` makes it
//! forget the key and stop. One JSON request line, one JSON answer line.
//!
//! Only the local user can reach it: the data directory is 0700, and the archive key is
//! given only to a process whose user (as the kernel reports it for the connection) owns
//! the data directory. Nothing on it is exposed to the network.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::warn;

use qoima_store::ArchiveKey;
use serde::Deserialize;

use crate::Status;

/// Where the control socket of the node on `home` lives.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join("node.sock")
}

/// A request from the control socket to the event loop.
pub(crate) enum ControlRequest {
    Status(oneshot::Sender<Status>),
    Dial(qoima_net::libp2p::Multiaddr),
    /// Forget the archive key and stop.
    Lock,
    /// Fetch these attachments first, whatever their size (`qoima fetch`).
    Fetch(Vec<qoima_core::BlobHash>),
    /// Another process wrote records to the archive: look now rather than at the next
    /// poll.
    Written,
}

/// Why a running node could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No node answers on this data directory.
    #[error("no node is running on {0} (start one with `qoima node`)")]
    NotRunning(String),
    /// The node answered something unexpected.
    #[error("the node's answer could not be read: {0}")]
    Protocol(String),
}

/// Asks the node running on `home` for its status (blocking; for the CLI).
pub fn query_status(home: &Path) -> Result<Status, ControlError> {
    let line = ask(home, "status")?;
    serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))
}

/// Asks the node running on `home` for the archive key (blocking; for the CLI).
pub fn query_archive_key(home: &Path) -> Result<ArchiveKey, ControlError> {
    #[derive(Deserialize)]
    struct Answer {
        archive_key: Option<String>,
        error: Option<String>,
    }
    let line = zeroize::Zeroizing::new(ask(home, "unlock")?);
    let answer: Answer =
        serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))?;
    let hex = zeroize::Zeroizing::new(answer.archive_key.ok_or_else(|| {
        ControlError::Protocol(
            answer
                .error
                .unwrap_or_else(|| "no key in the answer".into()),
        )
    })?);
    let bytes = zeroize::Zeroizing::new(
        data_encoding::HEXLOWER
            .decode(hex.as_bytes())
            .map_err(|e| ControlError::Protocol(e.to_string()))?,
    );
    let key: [u8; 32] = bytes[..]
        .try_into()
        .map_err(|_| ControlError::Protocol("the key has the wrong length".into()))?;
    Ok(ArchiveKey::from_bytes(key))
}

/// Asks the node running on `home` for the address that unlocks its web interface
/// (blocking; for `qoima ui`). Only the owner of the data directory is given it.
pub fn query_ui(home: &Path) -> Result<String, ControlError> {
    #[derive(Deserialize)]
    struct Answer {
        ui: Option<String>,
        error: Option<String>,
    }
    let line = zeroize::Zeroizing::new(ask(home, "ui")?);
    let answer: Answer =
        serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))?;
    answer.ui.ok_or_else(|| {
        ControlError::Protocol(
            answer
                .error
                .unwrap_or_else(|| "no address in the answer".into()),
        )
    })
}

/// Asks the node running on `home` to fetch these attachments first, whatever their
/// size (blocking; for the CLI). Returns once the node has taken the request.
pub fn fetch(home: &Path, blobs: &[qoima_core::BlobHash]) -> Result<(), ControlError> {
    let hashes: Vec<String> = blobs.iter().map(|b| b.to_hex()).collect();
    let request = serde_json::json!({ "request": "fetch", "blobs": hashes }).to_string();
    taken(ask_line(home, &request)?, "fetching")
}

/// Tells the node running on `home` that records were just written to the archive, so
/// it announces them now instead of at its next look (blocking; for the CLI). Returns
/// once the node has taken the news.
pub fn tell_written(home: &Path) -> Result<(), ControlError> {
    taken(ask(home, "written")?, "looking")
}

/// Whether `answer` is the one saying the node took the request: it holds the field
/// `field`. Anything else (an error the node gives) is reported as it came.
fn taken(answer: String, field: &str) -> Result<(), ControlError> {
    if answer.contains(&format!("\"{field}\"")) {
        Ok(())
    } else {
        Err(ControlError::Protocol(answer.trim().to_owned()))
    }
}

/// The attachments of a `fetch` request line, if it is one.
fn parse_fetch(line: &str) -> Option<Vec<qoima_core::BlobHash>> {
    #[derive(Deserialize)]
    struct Fetch {
        request: String,
        blobs: Vec<String>,
    }
    let fetch: Fetch = serde_json::from_str(line).ok()?;
    if fetch.request != "fetch" || fetch.blobs.len() > FETCH_BLOBS_MAX {
        return None;
    }
    fetch.blobs.iter().map(|h| h.parse().ok()).collect()
}

/// Makes the node running on `home` forget the archive key and stop; returns once it
/// has stopped (its socket is gone), or after 30 seconds.
pub fn lock(home: &Path) -> Result<(), ControlError> {
    ask(home, "lock")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while socket_path(home).exists() {
        if std::time::Instant::now() > deadline {
            return Err(ControlError::Protocol(
                "the node said it would stop, but it still runs after 30 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Sends one request line and reads the answer line.
fn ask(home: &Path, request: &str) -> Result<String, ControlError> {
    ask_line(home, &format!("{{\"request\":\"{request}\"}}"))
}

/// Sends `line` (a JSON object) and reads the answer line.
fn ask_line(home: &Path, line: &str) -> Result<String, ControlError> {
    let path = socket_path(home);
    let not_running = || ControlError::NotRunning(home.display().to_string());
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(|_| not_running())?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .map_err(|e| ControlError::Protocol(e.to_string()))?;
    stream
        .write_all(format!("{line}\n").as_bytes())
        .map_err(|_| not_running())?;
    let mut line = String::new();
    BufReader::new(std::io::Read::take(stream, 64 * 1024 * 1024))
        .read_line(&mut line)
        .map_err(|e| ControlError::Protocol(e.to_string()))?;
    Ok(line)
}

/// The user owning the data directory: the only one given the archive key.
pub(crate) fn owner_of(home: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(home).ok().map(|m| m.uid())
}

/// Binds the control socket, refusing if another node already answers on it.
pub(crate) fn bind(home: &Path) -> Result<tokio::net::UnixListener, String> {
    let path = socket_path(home);
    if std::os::unix::net::UnixStream::connect(&path).is_ok() {
        return Err(format!("a node is already running on {}", home.display()));
    }
    // A socket file left by a node that was killed: nobody listens on it.
    let _ = std::fs::remove_file(&path);
    tokio::net::UnixListener::bind(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Longest request line: a fetch of [`FETCH_BLOBS_MAX`] attachments.
const REQUEST_BYTES_MAX: u64 = 32 * 1024;
/// Most attachments in one fetch request (a record has at most 256).
const FETCH_BLOBS_MAX: usize = 256;

/// Control connections served at once; more wait in the socket's backlog.
const CONNECTIONS_MAX: usize = 8;
/// How long a client may take to send its request line.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the answer may take (the node asks the archive for remembered peers).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers control connections until the event loop goes away.
pub(crate) async fn serve(
    listener: tokio::net::UnixListener,
    requests: mpsc::Sender<ControlRequest>,
    key: ArchiveKey,
    owner: Option<u32>,
    ui: Option<crate::UiUnlock>,
) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    let mut failures: u32 = 0;
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                failures = 0;
                stream
            }
            Err(e) => {
                // Out of file descriptors, typically: back off instead of spinning.
                failures = failures.saturating_add(1);
                let pause = Duration::from_millis(10u64 << failures.min(8));
                warn!("control socket: accept failed ({e}); retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let requests = requests.clone();
        let key = key.clone();
        let ui = ui.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let answering = answer(stream, requests, key, owner, ui);
            let _ = tokio::time::timeout(ANSWER_TIMEOUT, answering).await;
        });
    }
}

async fn answer(
    stream: tokio::net::UnixStream,
    requests: mpsc::Sender<ControlRequest>,
    key: ArchiveKey,
    owner: Option<u32>,
    ui: Option<crate::UiUnlock>,
) {
    let caller = stream.peer_cred().ok().map(|c| c.uid());
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // A request is one short line; anything longer is not ours.
    let mut reader = tokio::io::BufReader::new(read).take(REQUEST_BYTES_MAX);
    match tokio::time::timeout(READ_TIMEOUT, reader.read_line(&mut line)).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) | Err(_) => return,
    }
    let answer = match line.trim() {
        "{\"request\":\"status\"}" => {
            let (reply, status) = oneshot::channel();
            if requests.send(ControlRequest::Status(reply)).await.is_err() {
                return;
            }
            match status.await {
                Ok(status) => serde_json::to_string(&status).unwrap_or_default(),
                Err(_) => return,
            }
        }
        "{\"request\":\"unlock\"}" => {
            if owner.is_some() && caller == owner {
                let hex = zeroize::Zeroizing::new(data_encoding::HEXLOWER.encode(key.as_bytes()));
                format!("{{\"archive_key\":\"{}\"}}", hex.as_str())
            } else {
                "{\"error\":\"only the owner of the data directory may unlock it\"}".to_owned()
            }
        }
        "{\"request\":\"ui\"}" => match ui {
            // The address opens the interface: the owner's, like the key.
            Some(ui) if owner.is_some() && caller == owner => match ui.mint() {
                Some(url) => serde_json::json!({ "ui": url }).to_string(),
                None => "{\"error\":\"the web interface could not make an opening address\"}"
                    .to_owned(),
            },
            Some(_) => {
                "{\"error\":\"only the owner of the data directory may open the interface\"}"
                    .to_owned()
            }
            None => "{\"error\":\"this node serves no web interface (it was started with --no-ui, or no port was free)\"}".to_owned(),
        },
        "{\"request\":\"written\"}" => {
            if requests.send(ControlRequest::Written).await.is_err() {
                return;
            }
            "{\"looking\":true}".to_owned()
        }
        "{\"request\":\"lock\"}" => {
            if requests.send(ControlRequest::Lock).await.is_err() {
                return;
            }
            "{\"locked\":true}".to_owned()
        }
        other => match parse_fetch(other) {
            Some(hashes) => {
                let count = hashes.len();
                if requests.send(ControlRequest::Fetch(hashes)).await.is_err() {
                    return;
                }
                format!("{{\"fetching\":{count}}}")
            }
            None => "{\"error\":\"unknown request\"}".to_owned(),
        },
    };
    let answer = zeroize::Zeroizing::new(answer);
    let _ = write.write_all(answer.as_bytes()).await;
    let _ = write.write_all(b"\n").await;
}
