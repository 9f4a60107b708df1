//! The local control socket (`node.sock` in the data directory): `qoima status` and
//! `qoima peers` ask a running node for its state. One JSON request line, one JSON
//! answer line. Only the local user can reach it (file permissions of the data
//! directory); nothing on it is exposed to the network.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::warn;

use crate::Status;

/// Where the control socket of the node on `home` lives.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join("node.sock")
}

/// A request from the control socket to the event loop.
pub(crate) enum ControlRequest {
    Status(oneshot::Sender<Status>),
    Dial(qoima_net::libp2p::Multiaddr),
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
    let path = socket_path(home);
    let not_running = || ControlError::NotRunning(home.display().to_string());
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(|_| not_running())?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .map_err(|e| ControlError::Protocol(e.to_string()))?;
    stream
        .write_all(b"{\"request\":\"status\"}\n")
        .map_err(|_| not_running())?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| ControlError::Protocol(e.to_string()))?;
    serde_json::from_str(&line).map_err(|e| ControlError::Protocol(e.to_string()))
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
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(ANSWER_TIMEOUT, answer(stream, requests)).await;
        });
    }
}

async fn answer(stream: tokio::net::UnixStream, requests: mpsc::Sender<ControlRequest>) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // A request is one short line; anything longer is not ours.
    let mut reader = tokio::io::BufReader::new(read).take(4096);
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
        _ => "{\"error\":\"unknown request\"}".to_owned(),
    };
    let _ = write.write_all(answer.as_bytes()).await;
    let _ = write.write_all(b"\n").await;
}
