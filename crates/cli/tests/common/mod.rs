//! `qoima node` processes for the command-line tests that need running nodes.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of this

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `qoima` on `home`, unlocked with the passphrase `pw`.
pub fn qoima(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(args)
        .env("QOIMA_HOME", home)
        .env("QOIMA_PASSPHRASE", "pw")
        .output()
        .unwrap()
}

/// Runs `qoima` on `home`, which must succeed, and reads its JSON output.
pub fn json(home: &Path, args: &[&str]) -> serde_json::Value {
    let out = qoima(home, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A new data directory `name` under `dir`, made with `qoima init` (passphrase `pw`).
pub fn home(dir: &Path, name: &str) -> PathBuf {
    let home = dir.join(name);
    assert!(qoima(&home, &["init"]).status.success());
    home
}

/// A `qoima node` process, killed if the test fails.
pub struct NodeProcess(pub Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `qoima node` on `home`, listening on loopback `port`, dialing `peers`,
/// unlocked with `passphrase`; its log goes to `home` with the extension `log`.
pub fn start_node(home: &Path, port: u16, peers: &[String], passphrase: &str) -> NodeProcess {
    start_node_with(home, port, peers, passphrase, &[])
}

/// [`start_node`] with more arguments for `qoima node`.
pub fn start_node_with(
    home: &Path,
    port: u16,
    peers: &[String],
    passphrase: &str,
    extra: &[&str],
) -> NodeProcess {
    let listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let mut args = vec![
        "node",
        "--no-mdns",
        "--sync-every",
        "2",
        "--listen",
        &listen,
    ];
    for peer in peers {
        args.extend(["--peer", peer]);
    }
    args.extend(extra);
    // Appended to, so a restarted node's log follows the one before it.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.with_extension("log"))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_qoima"))
        .args(&args)
        .env("QOIMA_HOME", home)
        .env("QOIMA_PASSPHRASE", passphrase)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    NodeProcess(child)
}

/// Waits until `condition` holds, checking every 100 ms.
pub fn eventually(what: &str, deadline: Duration, condition: impl FnMut() -> bool) {
    eventually_showing(what, deadline, condition, String::new);
}

/// [`eventually`], with what `context` says at the deadline in the failure's message.
pub fn eventually_showing(
    what: &str,
    deadline: Duration,
    mut condition: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < deadline,
            "timed out waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last `lines` lines of the log of the node running on `home`, for a failure's
/// message.
pub fn log_tail(home: &Path, lines: usize) -> String {
    let log = std::fs::read_to_string(home.with_extension("log")).unwrap_or_default();
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Two different TCP ports free on loopback right now (both held until both are known,
/// so they cannot be the same one).
pub fn two_free_ports() -> (u16, u16) {
    let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let second = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        first.local_addr().unwrap().port(),
        second.local_addr().unwrap().port(),
    )
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
