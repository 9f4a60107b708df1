//! The local web interface: pages in Kazakh, Russian and English and a JSON API under
//! `/api/v1`, served on 127.0.0.1 only, for as long as the node runs.
//!
//! Everything it shows or sends is in the binary: templates compiled by askama, the
//! translations (`locales/`), the stylesheet (`assets/`). No script, no font, nothing
//! from the internet. [`security`] explains who may talk to it.
//!
//! The crate reads the archive through [`qoima_store::Store`] and knows nothing of the
//! node: what it needs from a running node comes through [`NodeControl`].

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use qoima_store::Store;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub mod api;
mod assets;
pub mod i18n;
pub mod json;
mod pages;
pub mod reading;
pub mod security;
pub mod status;

pub use assets::STYLE_CSS;
pub use pages::drops::DropLimits;
pub use security::{UiToken, UnlockCodes};

/// Ports tried by [`bind_local`]: the one asked for and the next ones.
pub const PORTS_TRIED: u16 = 20;

/// What can go wrong in the interface itself.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The archive could not be read.
    #[error(transparent)]
    Store(#[from] qoima_store::StoreError),
    /// No random bytes for the token.
    #[error("no random bytes for the interface's token: {0}")]
    Random(String),
    /// None of the ports could be bound.
    #[error("no free port on 127.0.0.1 from {first} to {last}: {source}")]
    NoPort {
        /// First port tried.
        first: u16,
        /// Last port tried.
        last: u16,
        /// Why the last one failed.
        source: std::io::Error,
    },
    /// The listener failed.
    #[error("the web interface's listener: {0}")]
    Io(#[from] std::io::Error),
    /// A page could not be rendered.
    #[error("rendering a page: {0}")]
    Render(#[from] askama::Error),
    /// The archive's lock was poisoned, or a blocking task failed.
    #[error("reading the archive was interrupted: {0}")]
    Interrupted(String),
}

/// What the interface asks of the running node. The node implements it; the interface
/// never depends on the node crate.
pub trait NodeControl: Send + Sync + 'static {
    /// Forget the archive key and stop, as `qoima lock` does; true once the node has
    /// taken the request. The server stops with the node; the page saying so is the last
    /// one served.
    fn lock(&self) -> bool;

    /// Destroy the archive, as `qoima wipe` does: its key first, then, once the node has
    /// stopped, its files; true once the node has taken the request. A node that cannot
    /// says false (the default), and the page says it was not wiped.
    fn wipe(&self) -> bool {
        false
    }

    /// The node's state, as `qoima status --json` gives it; `None` once the node has
    /// stopped. The interface waits for it at most [`status::STATUS_WAIT`].
    fn status(&self) -> status::Pending<qoima_core::status::Status> {
        Box::pin(std::future::ready(None))
    }

    /// Records were just written to the archive (an import from the USB drops page, a
    /// record from `/write`): look now and offer them to peers, as after `qoima add`.
    /// True once the node has taken the request; if not, its next poll finds them.
    /// (Provided so that a control without a node, in tests, need not implement it.)
    fn written(&self) -> bool {
        false
    }
}

/// Everything a request handler needs. Cheap to clone.
///
/// Two connections to the archive: `reader` serves [`AppState::read`], the pages' short
/// reads; `store` is for whatever writes or takes long (an import or export from the
/// USB drops page, writing a record, saving settings or trust), so a page opened while
/// a drop is imported is served at once rather than after the import.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    reader: Arc<Mutex<Store>>,
    token: Arc<UiToken>,
    codes: UnlockCodes,
    port: u16,
    node: Option<Arc<dyn NodeControl>>,
    drops: pages::drops::DropLimits,
    /// Turns for image previews (see `pages::attachment`).
    previews: Arc<Semaphore>,
}

impl AppState {
    /// Runs `read` on the archive on a blocking thread: SQLite calls block, and the
    /// server's threads must stay free for other requests.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, WebError> + Send + 'static,
    {
        let store = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .map_err(|_| WebError::Interrupted("an earlier reader panicked".into()))?;
            read(&store)
        })
        .await
        .map_err(|e| WebError::Interrupted(e.to_string()))?
    }
}

/// The interface over an open archive.
pub struct Ui {
    store: Store,
    token: UiToken,
    codes: UnlockCodes,
    node: Option<Arc<dyn NodeControl>>,
    drops: pages::drops::DropLimits,
}

impl Ui {
    /// Over `store`, letting in browsers that present `token` in their cookie, which
    /// they get for an unused code of [`Ui::unlock_codes`].
    pub fn new(store: Store, token: UiToken) -> Ui {
        Ui {
            store,
            token,
            codes: UnlockCodes::default(),
            node: None,
            drops: pages::drops::DropLimits::default(),
        }
    }

    /// With these codes, minted by someone else (the node, for `qoima ui`).
    pub fn with_unlock_codes(mut self, codes: UnlockCodes) -> Ui {
        self.codes = codes;
        self
    }

    /// The codes that let a browser in.
    pub fn unlock_codes(&self) -> UnlockCodes {
        self.codes.clone()
    }

    /// With other bounds on the bundle files the USB drops page takes in.
    pub fn with_drop_limits(mut self, limits: DropLimits) -> Ui {
        self.drops = limits;
        self
    }

    /// With the running node behind it (for the lock button).
    pub fn with_node(mut self, node: Arc<dyn NodeControl>) -> Ui {
        self.node = Some(node);
        self
    }

    /// The token the cookie carries.
    pub fn token(&self) -> &UiToken {
        &self.token
    }
}

impl AppState {
    fn new(ui: Ui, port: u16) -> AppState {
        let store = Arc::new(Mutex::new(ui.store));
        // Should a second connection not open, reads share the one connection and wait
        // behind long writes: a slower interface rather than none.
        let reader = match store.lock().map(|s| s.open_another()) {
            Ok(Ok(reader)) => Arc::new(Mutex::new(reader)),
            Ok(Err(e)) => {
                tracing::warn!("the interface reads through its one connection: {e}");
                Arc::clone(&store)
            }
            Err(_) => Arc::clone(&store),
        };
        AppState {
            store,
            reader,
            token: Arc::new(ui.token),
            codes: ui.codes,
            port,
            node: ui.node,
            drops: ui.drops,
            previews: Arc::new(Semaphore::new(pages::attachment::PREVIEWS_AT_ONCE)),
        }
    }
}

/// The routes, behind the security layer, for a server on `port` of loopback.
pub fn router(ui: Ui, port: u16) -> Router {
    let state = AppState::new(ui, port);
    Router::new()
        .route("/", get(pages::archive::page))
        .route("/records/{id}", get(pages::record::page))
        .route(
            "/records/{id}/attachments/{n}",
            get(pages::attachment::preview),
        )
        .route("/peers", get(pages::peers::page))
        .route(
            "/settings",
            get(pages::settings::page).post(pages::settings::save),
        )
        .route("/lock", post(pages::lock::lock))
        .route("/wipe", get(pages::wipe::page).post(pages::wipe::wipe))
        .route("/drops", get(pages::drops::page))
        .route("/drops/export", post(pages::drops_export::export))
        .route("/drops/import", pages::drops_import::route(state.drops))
        .route("/keys", get(pages::keys::page))
        .route("/keys/trust", post(pages::keys_trust::trust))
        .route("/keys/untrust", post(pages::keys_trust::untrust))
        .merge(pages::write::routes())
        .route("/unlock", get(security::unlock))
        .route("/assets/style.css", get(assets::style))
        .route("/api/v1/records", get(api::records))
        .route("/api/v1/records/{id}", get(api::record))
        .route("/api/v1/status", get(status::api))
        .fallback(pages::not_found)
        .layer(middleware::from_fn(i18n::remember_language))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}

/// Binds 127.0.0.1 on `port`, or on the next free one of [`PORTS_TRIED`]. Port 0 takes
/// any free port the system gives.
pub async fn bind_local(port: u16) -> Result<TcpListener, WebError> {
    let last = port.saturating_add(PORTS_TRIED - 1);
    let mut failure = None;
    for candidate in port..=last {
        match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, candidate))).await {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => failure = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(WebError::NoPort {
        first: port,
        last,
        source: failure.unwrap_or_else(|| std::io::Error::other("no port in range")),
    })
}

/// Connections served at once; more wait in the listener's backlog.
pub const CONNECTIONS_MAX: usize = 64;
/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests under way may take to finish once the server is told to stop.
pub const STOP_WAIT: Duration = Duration::from_secs(2);

/// Bounds on what clients can hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Connections served at once.
    pub connections: usize,
    /// Time to send a request's headers.
    pub header_read_timeout: Duration,
    /// Time to finish after the stop.
    pub stop_wait: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            connections: CONNECTIONS_MAX,
            header_read_timeout: HEADER_READ_TIMEOUT,
            stop_wait: STOP_WAIT,
        }
    }
}

/// Serves the interface on `listener` (bound to loopback by [`bind_local`]) until
/// `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    ui: Ui,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    serve_with(listener, ui, shutdown, ServerLimits::default()).await
}

/// [`serve`] within `limits`. Its own accept loop rather than `axum::serve`, which has
/// neither: a local program could otherwise hold connections open without end, using up
/// the node's file descriptors (and with them the control socket `qoima lock` needs),
/// or keep a half-sent request that holds a graceful stop, and the open archive, for ever.
pub async fn serve_with(
    listener: TcpListener,
    ui: Ui,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
) -> Result<(), WebError> {
    let port = listener.local_addr()?.port();
    let app = router(ui, port);
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut failures: u32 = 0;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    failures = 0;
                    stream
                }
                Err(e) => {
                    // Out of file descriptors, typically: back off instead of spinning.
                    failures = failures.saturating_add(1);
                    let pause = Duration::from_millis(10u64 << failures.min(8));
                    tracing::warn!("web interface: accept failed ({e}); retrying in {pause:?}");
                    tokio::time::sleep(pause).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // Requests under way may finish; a connection that does not is dropped with the
    // runtime, and the caller goes on.
    let _ = tokio::time::timeout(limits.stop_wait, graceful.shutdown()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed assertion

    use super::*;

    #[tokio::test]
    async fn a_page_reads_while_a_long_write_holds_the_writing_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &qoima_store::ArchiveKey::from_bytes([7; 32])).unwrap();
        let state = AppState::new(Ui::new(store, UiToken::generate().unwrap()), 4271);

        // As an import from the USB drops page does, for minutes.
        let (holding, held) = std::sync::mpsc::sync_channel(1);
        let (release, released) = std::sync::mpsc::sync_channel::<()>(1);
        let writer = Arc::clone(&state.store);
        let import = std::thread::spawn(move || {
            let _guard = writer.lock().unwrap();
            holding.send(()).unwrap();
            released.recv().unwrap();
        });
        held.recv().unwrap();

        let read = state.read(|store| Ok(store.record_count()?));
        let count = tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the page waited for the write to end")
            .unwrap();
        assert_eq!(count, 0);
        release.send(()).unwrap();
        import.join().unwrap();
    }
}
