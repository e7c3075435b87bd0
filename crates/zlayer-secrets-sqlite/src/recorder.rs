//! The entries of reads: queued by each read of a value as it returns, and committed by the
//! store's flusher thread, in batches, as soon as the writer is free.
//!
//! A read does not wait for its entry to reach the database (that would cost a commit per
//! read, and put every read behind the write under way); instead:
//!
//! - the flusher commits what is queued 2 ms after the first entry arrives, so entries
//!   lag their reads by a few milliseconds and a stream of reads costs one commit per 2 ms;
//! - every write, prune and [`AuditLog`](zlayer_secrets_core::audit::AuditLog) call of the
//!   handle first commits what is queued, so the log keeps the order of the handle's calls;
//! - dropping the last clone of the store commits what is left before it returns;
//! - if committing fails, the entries stay queued, and the next read of a value commits them
//!   first and fails with the reason if it cannot: no value is handed out while the reads
//!   before it cannot be recorded.
//!
//! Only a process killed between a read and the next commit (a few milliseconds) loses the
//! entries of those reads; a write's entry is always in the write's own transaction.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use zlayer_secrets_core::{Result, SecretsError};

use crate::audit::Pending;
use crate::writer::Writer;

/// How long the flusher waits after a failed commit before it tries again.
const RETRY: Duration = Duration::from_millis(100);

/// How long the flusher lets entries gather after the first one arrives, so that a stream of
/// reads costs one commit per this interval instead of one per read.
const GATHER: Duration = Duration::from_millis(2);

/// What is waiting, and whether the flusher is to stop.
#[derive(Default)]
struct Queue {
    items: Vec<Pending>,
    /// The last commit failed; cleared by the next one that succeeds.
    failure: bool,
    closed: bool,
    /// The flusher is asleep, waiting for an entry (only then does a push wake it).
    idle: bool,
}

/// The queue of one store's read entries.
#[derive(Default)]
pub(crate) struct ReadQueue {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl ReadQueue {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is changed by single assignments and pushes: poison can be ignored.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the last commit of queued entries failed (reads of values are then refused
    /// until one succeeds).
    pub(crate) fn failed(&self) -> bool {
        self.lock().failure
    }

    /// Queues `items` for the flusher.
    pub(crate) fn push(&self, items: impl IntoIterator<Item = Pending>) {
        let mut queue = self.lock();
        queue.items.extend(items);
        let wake = std::mem::take(&mut queue.idle) && !queue.items.is_empty();
        drop(queue);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Everything queued, in order (the caller holds the writer).
    pub(crate) fn take(&self) -> Vec<Pending> {
        std::mem::take(&mut self.lock().items)
    }

    /// Puts back `items` that could not be committed, before anything queued since, and
    /// refuses reads until a commit succeeds.
    pub(crate) fn put_back(&self, mut items: Vec<Pending>) {
        let mut queue = self.lock();
        items.append(&mut queue.items);
        queue.items = items;
        queue.failure = true;
    }

    /// A commit succeeded.
    pub(crate) fn committed(&self) {
        self.lock().failure = false;
    }

    /// Waits until something is queued (then [`GATHER`] more, unless the queue is closed
    /// meanwhile) or the queue is closed; `false` once it is closed and empty.
    fn wait(&self) -> bool {
        let mut queue = self.lock();
        while queue.items.is_empty() && !queue.closed {
            queue.idle = true;
            queue = self
                .wake
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        queue.idle = false;
        if !queue.closed {
            let (gathered, _) = self
                .wake
                .wait_timeout_while(queue, GATHER, |q| !q.closed)
                .unwrap_or_else(PoisonError::into_inner);
            queue = gathered;
        }
        !queue.items.is_empty()
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    fn close(&self) {
        let mut queue = self.lock();
        queue.closed = true;
        queue.idle = false;
        drop(queue);
        self.wake.notify_all();
    }
}

/// The flusher thread of one store; dropping it commits what is queued and ends the thread.
pub(crate) struct Flusher {
    queue: Arc<ReadQueue>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts the thread that commits `queue` with `writer`.
    pub(crate) fn start(writer: Arc<Mutex<Writer>>, queue: Arc<ReadQueue>) -> Result<Self> {
        let shared = Arc::clone(&queue);
        let thread = std::thread::Builder::new()
            .name("zlayer-audit".to_owned())
            .spawn(move || run(&writer, &shared))
            .map_err(|e| SecretsError::Storage(format!("cannot start the audit thread: {e}")))?;
        Ok(Self {
            queue,
            thread: Some(thread),
        })
    }
}

fn run(writer: &Mutex<Writer>, queue: &ReadQueue) {
    while queue.wait() {
        let result = crate::store::lock(writer).flush_reads();
        if let Err(e) = result {
            if queue.is_closed() {
                tracing::warn!(error = %e, "the audit entries of the last reads were not recorded");
                return;
            }
            tracing::warn!(error = %e, "cannot record reads in the audit log; retrying");
            std::thread::sleep(RETRY);
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.queue.close();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the audit thread panicked");
        }
    }
}
