//! Bytes between the server's tasks and the blocking thread that holds the archive:
//! an export writes into a [`ChunkWriter`] and the response body reads its chunks; an
//! upload's file is fed, chunk by chunk, to an import reading a [`ChunkReader`].
//!
//! Both sides go through a channel of [`CHUNKS_IN_FLIGHT`] chunks of at most
//! [`CHUNK_BYTES`]: whatever the size of the bundle, a transfer holds a few hundred KiB,
//! and nothing is written to disk on the way (a bundle's plaintext must not be left in a
//! temporary file a seized disk would give up). A peer that stops reading or sending for
//! [`STALL`] ends the transfer, so it cannot hold the archive (and every other page)
//! for ever.

use std::io::{self, Read, Write};
use std::time::Duration;

use axum::body::Bytes;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// Bytes of one chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting in the channel, at most.
pub const CHUNKS_IN_FLIGHT: usize = 4;
/// How long the other side may keep a transfer waiting.
pub const STALL: Duration = Duration::from_secs(60);

/// A chunk, or why the transfer stopped.
pub type Chunk = Result<Bytes, io::Error>;

/// A bounded channel of chunks.
pub fn channel() -> (mpsc::Sender<Chunk>, mpsc::Receiver<Chunk>) {
    mpsc::channel(CHUNKS_IN_FLIGHT)
}

/// Writes into the channel, in chunks of [`CHUNK_BYTES`]. For a blocking thread.
pub struct ChunkWriter {
    to: mpsc::Sender<Chunk>,
    runtime: Handle,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    /// Into `to`, waiting on `runtime`'s timer.
    pub fn new(to: mpsc::Sender<Chunk>, runtime: Handle) -> ChunkWriter {
        ChunkWriter {
            to,
            runtime,
            buffer: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    fn send(&self, chunk: Chunk) -> io::Result<()> {
        send(&self.runtime, &self.to, chunk)
    }

    /// What can end the transfer with an error once the writer is gone (into a sealing
    /// layer that does not give it back).
    pub fn failer(&self) -> Failer {
        Failer {
            to: self.to.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

/// Ends a [`ChunkWriter`]'s transfer with an error.
pub struct Failer {
    to: mpsc::Sender<Chunk>,
    runtime: Handle,
}

impl Failer {
    /// Ends the transfer with `error`, after the chunks already sent: the browser sees
    /// the download fail rather than a file that looks whole.
    pub fn fail(self, error: io::Error) {
        let _ = send(&self.runtime, &self.to, Err(error));
    }
}

fn send(runtime: &Handle, to: &mpsc::Sender<Chunk>, chunk: Chunk) -> io::Result<()> {
    match runtime.block_on(tokio::time::timeout(STALL, to.send(chunk))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "the browser stopped the download",
        )),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the browser stopped reading the download",
        )),
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK_BYTES - self.buffer.len();
        let n = buf.len().min(room);
        self.buffer.extend_from_slice(&buf[..n]);
        if self.buffer.len() == CHUNK_BYTES {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.send(Ok(Bytes::from(chunk)))
    }
}

/// Reads what the channel brings. For a blocking thread. The sender closing the channel
/// is the end of the file.
pub struct ChunkReader {
    from: mpsc::Receiver<Chunk>,
    runtime: Handle,
    current: Bytes,
}

impl ChunkReader {
    /// From `from`, waiting on `runtime`'s timer.
    pub fn new(from: mpsc::Receiver<Chunk>, runtime: Handle) -> ChunkReader {
        ChunkReader {
            from,
            runtime,
            current: Bytes::new(),
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self
                .runtime
                .block_on(tokio::time::timeout(STALL, self.from.recv()))
            {
                Ok(Some(Ok(chunk))) => self.current = chunk,
                Ok(Some(Err(e))) => return Err(e),
                Ok(None) => return Ok(0),
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the browser stopped sending the file",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
