//! `delay-proxy` (hidden): a TCP proxy that holds every byte for a fixed time in each
//! direction, for `thin-link`. The kernel here has no `netem`, so added latency is made
//! in user space: each chunk read is stamped and written out once its time has come.
//! Each direction is a bounded queue, so a slow side pushes back on the other (the
//! reader stops reading, TCP's window closes), as a real long link would.
//!
//! It prints its listening address, then serves until standard input closes, writing
//! the bytes it has carried each way to `--stats` every 100 ms and as it stops.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// Chunks waiting per direction of one connection: with 16 KiB reads, at most 4 MiB
/// held per direction.
const QUEUE_CHUNKS: usize = 256;
const CHUNK_BYTES: usize = 16 * 1024;

/// `delay-proxy` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long)]
    listen: String,
    /// Address to forward each connection to.
    #[arg(long)]
    to: String,
    /// Time each byte is held, in each direction, in milliseconds.
    #[arg(long)]
    delay_ms: u64,
    /// File to write "<bytes towards --to> <bytes back>" to.
    #[arg(long)]
    stats: PathBuf,
}

/// Bytes carried towards the target and back, over all connections.
#[derive(Default)]
struct Carried {
    towards: AtomicU64,
    back: AtomicU64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&args.listen)?;
    println!("{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let carried = Arc::new(Carried::default());
    let delay = Duration::from_millis(args.delay_ms);
    {
        let carried = Arc::clone(&carried);
        let to = args.to.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&to) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                pipe(&client, &server, delay, Arc::clone(&carried), true);
                pipe(&server, &client, delay, Arc::clone(&carried), false);
            }
        });
    }
    let (done_tx, done_rx) = sync_channel::<()>(1);
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        let _ = done_tx.send(());
    });
    loop {
        let stats = format!(
            "{} {}\n",
            carried.towards.load(Ordering::Relaxed),
            carried.back.load(Ordering::Relaxed)
        );
        std::fs::write(&args.stats, stats)?;
        // The stats are refreshed at this pace, and once more when standard input
        // closes (the last write above, before returning).
        match done_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(()) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let stats = format!(
        "{} {}\n",
        carried.towards.load(Ordering::Relaxed),
        carried.back.load(Ordering::Relaxed)
    );
    std::fs::write(&args.stats, stats)?;
    Ok(())
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
fn pipe(from: &TcpStream, to: &TcpStream, delay: Duration, carried: Arc<Carried>, towards: bool) {
    let (Ok(mut from), Ok(to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    let (tx, rx): (SyncSender<(Instant, Vec<u8>)>, Receiver<_>) = sync_channel(QUEUE_CHUNKS);
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; CHUNK_BYTES];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let counter = if towards {
                        &carried.towards
                    } else {
                        &carried.back
                    };
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                    if tx
                        .send((Instant::now() + delay, buffer[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        let mut to = to;
        for (due, chunk) in rx {
            // The delay itself: the chunk is due `delay` after it was read.
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
