//! The archive on its own thread. SQLite calls block (and an import of a large fetch
//! verifies hundreds of signatures), so they never run on the event loop.

use qoima_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

enum Message {
    Job(Job),
    /// Close the archive, then say so.
    Close(oneshot::Sender<()>),
}

/// Jobs queued for the archive; beyond this, callers wait (back-pressure).
const QUEUE_LEN: usize = 64;

/// A cheap handle to the thread that owns the archive.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Message>,
}

impl StoreHandle {
    /// Moves `store` to a new thread.
    pub fn spawn(mut store: Store) -> StoreHandle {
        let (jobs, mut queue) = mpsc::channel::<Message>(QUEUE_LEN);
        std::thread::Builder::new()
            .name("qoima-store".into())
            .spawn(move || {
                let mut closed = None;
                while let Some(message) = queue.blocking_recv() {
                    match message {
                        Message::Job(job) => job(&mut store),
                        Message::Close(done) => {
                            closed = Some(done);
                            break;
                        }
                    }
                }
                drop(store);
                if let Some(done) = closed {
                    let _ = done.send(());
                }
            })
            .expect("spawning the store thread");
        StoreHandle { jobs }
    }

    /// Finishes the jobs queued so far, closes the archive and ends the thread; later
    /// jobs fail. The process may exit right after a node stops, and SQLCipher tears
    /// itself down at exit: a database still being closed on another thread then
    /// crashes the process.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
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
        if self.jobs.send(Message::Job(job)).await.is_err() {
            return Err(StoreError::Invalid("the archive thread has stopped".into()));
        }
        result
            .await
            .unwrap_or_else(|_| Err(StoreError::Invalid("the archive thread has stopped".into())))
    }
}
