//! The apply thread: batches handed over with [`WriteBatch::submit`] are
//! applied here, one at a time, in the order they were submitted.
//!
//! An engine commit can block: fjall sleeps inside a commit while its write
//! buffers or level-0 tables are over their limits (a write stall), for
//! 10–500 ms at a time. Services commit while holding the lock that orders
//! their changes (an SQS queue's lock, a Kinesis shard's write lock), so a
//! stalled commit used to hold that lock too, and every request that wanted
//! it blocked its async worker. Submitting fixes a batch's place in the
//! order at the cost of a channel push, so it can be done under such a lock;
//! the caller waits for the apply after releasing the lock, without blocking
//! a thread. A stall then holds up only the writes queued behind it.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::guard::Guard;
use crate::sync::Ticket;
use crate::{Result, StoreError, WriteBatch};

/// What the apply thread is asked to do.
enum Job {
    /// Apply a submitted batch, and say how it went.
    Apply { batch: WriteBatch, done: oneshot::Sender<Result<Ticket>> },
    /// Tests: stand still, as in a write stall, until the sender is dropped.
    #[cfg(any(test, feature = "test-util"))]
    Pause(mpsc::Receiver<()>),
}

/// The sending end of the apply thread's queue.
pub(crate) struct Applier {
    jobs: mpsc::Sender<Job>,
}

impl Applier {
    /// Starts the apply thread; it ends once every handle to it is dropped.
    pub(crate) fn start(guard: Arc<Guard>) -> Arc<Applier> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("eddy-apply".into())
            .spawn(move || {
                for job in queue {
                    match job {
                        Job::Apply { batch, done } => {
                            let _ = done.send(apply(batch, &guard));
                        }
                        #[cfg(any(test, feature = "test-util"))]
                        Job::Pause(until) => {
                            let _ = until.recv();
                        }
                    }
                }
            })
            .expect("spawn apply thread");
        Arc::new(Applier { jobs })
    }

    pub(crate) fn submit(&self, batch: WriteBatch) -> Applied {
        let (done, outcome) = oneshot::channel();
        // If the thread is gone the job is dropped with `done`, and the
        // caller learns it from `Applied`.
        let _ = self.jobs.send(Job::Apply { batch, done });
        Applied(outcome)
    }

    /// Tests: holds every batch submitted from now on until the returned
    /// pause is dropped, as a long write stall would.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn pause(&self) -> ApplyPause {
        let (resume, until) = mpsc::channel();
        let _ = self.jobs.send(Job::Pause(until));
        ApplyPause(resume)
    }
}

/// Commits one batch. A panic in the engine must not end the thread (every
/// later submitter would wait on it), so it fails the store instead: the
/// engine's state is unknown, as after a failed journal write.
fn apply(batch: WriteBatch, guard: &Guard) -> Result<Ticket> {
    catch_unwind(AssertUnwindSafe(|| batch.commit())).unwrap_or_else(|_| {
        guard.fail("the storage engine panicked while applying a batch");
        Err(StoreError::Sync("the storage engine panicked while applying a batch".into()))
    })
}

/// Resolves to the batch's [`Ticket`] once it is applied (readers see it),
/// and after every batch submitted before it. Dropping it does not withdraw
/// the batch: once submitted, it is applied.
#[must_use = "a submitted batch is applied either way; wait for it before acknowledging"]
pub struct Applied(oneshot::Receiver<Result<Ticket>>);

impl Future for Applied {
    type Output = Result<Ticket>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Ticket>> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|outcome| outcome.unwrap_or_else(|_| Err(StoreError::Sync("the apply thread stopped".into()))))
    }
}

/// Tests: the apply thread stands still while this lives.
#[cfg(any(test, feature = "test-util"))]
pub struct ApplyPause(#[allow(dead_code)] mpsc::Sender<()>);
