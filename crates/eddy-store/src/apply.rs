//! The apply thread: batches handed over with [`WriteBatch::submit`] that
//! the engine cannot apply at once without risk of blocking are applied
//! here, in the order they were submitted: one at a time, or, for an
//! engine whose commit is a network round trip (PostgreSQL), every batch
//! queued behind the first merged into one commit.
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
//!
//! Most commits cannot stall (fjall's gate, `fjall_engine/gate.rs`, can
//! tell), and handing each to this thread costs two thread wake-ups, a
//! third of the CPU of a SendMessage. So a batch is applied at once, on the
//! submitter's thread, when the engine says that cannot block and no batch
//! is waiting here: a batch submitted after one that is waiting here waits
//! here too, which keeps the submission order.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Jobs sent and not yet done: while any is, batches are not applied
    /// at once but queue behind it.
    waiting: Arc<AtomicUsize>,
}

impl Applier {
    /// Starts the apply thread; it ends once every handle to it is dropped.
    pub(crate) fn start(guard: Arc<Guard>) -> Arc<Applier> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let waiting = Arc::new(AtomicUsize::new(0));
        let pending = waiting.clone();
        std::thread::Builder::new()
            .name("eddy-apply".into())
            .spawn(move || {
                let mut next = queue.recv().ok();
                while let Some(job) = next.take() {
                    match job {
                        Job::Apply { batch, done } => {
                            let (group, after) = gather(batch, done, &queue);
                            next = after;
                            group.apply(&guard, &pending);
                        }
                        #[cfg(any(test, feature = "test-util"))]
                        Job::Pause(until) => {
                            let _ = until.recv();
                            pending.fetch_sub(1, Ordering::AcqRel);
                        }
                    }
                    if next.is_none() {
                        next = queue.recv().ok();
                    }
                }
            })
            .expect("spawn apply thread");
        Arc::new(Applier { jobs, waiting })
    }

    pub(crate) fn submit(&self, batch: WriteBatch) -> Applied {
        let batch = if self.waiting.load(Ordering::Acquire) == 0 {
            match batch.commit_quick() {
                Ok(applied) => return Applied(Outcome::Ready(Some(applied))),
                Err(batch) => batch,
            }
        } else {
            batch
        };
        let (done, outcome) = oneshot::channel();
        self.waiting.fetch_add(1, Ordering::AcqRel);
        // If the thread is gone the job is dropped with `done`, and the
        // caller learns it from `Applied`.
        let _ = self.jobs.send(Job::Apply { batch, done });
        Applied(Outcome::Queued(outcome))
    }

    /// Tests: holds every batch submitted from now on until the returned
    /// pause is dropped, as a long write stall would.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn pause(&self) -> ApplyPause {
        let (resume, until) = mpsc::channel();
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _ = self.jobs.send(Job::Pause(until));
        ApplyPause(resume)
    }
}

/// Most batches one commit of the apply thread covers.
const MAX_GROUP: usize = 512;

/// Batches queued one behind another, merged into one (engines that merge:
/// PostgreSQL, where each commit is a round trip), and who waits for it.
struct Group {
    batch: WriteBatch,
    waiters: Vec<oneshot::Sender<Result<Ticket>>>,
}

impl Group {
    /// Commits the merged batch; every waiter learns the outcome, after
    /// `pending` stops counting them (a waiter's next batch may then be
    /// applied at once).
    fn apply(self, guard: &Guard, pending: &AtomicUsize) {
        let applied = apply(self.batch, guard);
        pending.fetch_sub(self.waiters.len(), Ordering::AcqRel);
        let mut waiters = self.waiters.into_iter();
        match applied {
            Ok(ticket) => waiters.for_each(|w| drop(w.send(Ok(ticket)))),
            Err(e) => {
                let shared = e.to_string();
                if let Some(first) = waiters.next() {
                    let _ = first.send(Err(e));
                }
                waiters.for_each(|w| drop(w.send(Err(StoreError::Sync(shared.clone())))));
            }
        }
    }
}

/// `batch` and the batches already queued behind it that its engine merges
/// into it (none for fjall, whose commits are local), up to [`MAX_GROUP`];
/// also the first job that could not join, to run next.
fn gather(
    batch: WriteBatch,
    done: oneshot::Sender<Result<Ticket>>,
    queue: &mpsc::Receiver<Job>,
) -> (Group, Option<Job>) {
    let mut group = Group { batch, waiters: vec![done] };
    while group.waiters.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(Job::Apply { batch, done }) => match group.batch.absorb(batch) {
                Ok(()) => group.waiters.push(done),
                Err(batch) => return (group, Some(Job::Apply { batch, done })),
            },
            #[cfg(any(test, feature = "test-util"))]
            Ok(pause @ Job::Pause(_)) => return (group, Some(pause)),
            Err(_) => break,
        }
    }
    (group, None)
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
pub struct Applied(Outcome);

enum Outcome {
    /// Applied at once (taken when first polled).
    Ready(Option<Result<Ticket>>),
    /// Waiting on the apply thread.
    Queued(oneshot::Receiver<Result<Ticket>>),
}

impl Future for Applied {
    type Output = Result<Ticket>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Ticket>> {
        match &mut self.0 {
            Outcome::Ready(applied) => {
                Poll::Ready(applied.take().unwrap_or_else(|| Err(StoreError::Sync("polled after completion".into()))))
            }
            Outcome::Queued(outcome) => Pin::new(outcome)
                .poll(cx)
                .map(|outcome| outcome.unwrap_or_else(|_| Err(StoreError::Sync("the apply thread stopped".into())))),
        }
    }
}

/// Tests: the apply thread stands still while this lives.
#[cfg(any(test, feature = "test-util"))]
pub struct ApplyPause(#[allow(dead_code)] mpsc::Sender<()>);
