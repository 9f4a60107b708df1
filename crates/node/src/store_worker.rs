//! The archive on its own thread. SQLite calls block (and an import of a large fetch
//! verifies hundreds of signatures), so they never run on the event loop.

use qoima_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// Jobs queued for the archive; beyond this, callers wait (back-pressure).
const QUEUE_LEN: usize = 64;

/// A cheap handle to the thread that owns the archive.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Moves `store` to a new thread.
    pub fn spawn(mut store: Store) -> StoreHandle {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE_LEN);
        std::thread::Builder::new()
            .name("qoima-store".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    job(&mut store);
                }
            })
            .expect("spawning the store thread");
        StoreHandle { jobs }
    }

    /// Runs `job` on the archive and returns its result.
    pub async fn call<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(job(store));
        });
        if self.jobs.send(job).await.is_err() {
            return Err(StoreError::Invalid("the archive thread has stopped".into()));
        }
        result
            .await
            .unwrap_or_else(|_| Err(StoreError::Invalid("the archive thread has stopped".into())))
    }
}
