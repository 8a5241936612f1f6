//! Group commit: one thread makes the engine's journal durable for every
//! batch committed since its last pass and wakes all of their waiters at
//! once. How the journal gets to the disk is the engine's
//! ([`Journal`]); the fjall engine's fsync does not hold up commits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use crate::engine::Journal;
use crate::guard::Guard;
use crate::{Durability, Result, StoreError};

/// Position of a committed batch in the commit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// Most scheduler yields spent gathering more commits before an fsync.
const GATHER_MAX_YIELDS: usize = 20;

/// Lets requests already being handled commit before the fsync starts, so
/// one fsync covers them too: yields while new batches keep arriving. On a
/// busy machine this more than doubled SendMessage throughput; when nothing
/// else is running it costs a few microseconds.
fn gather(written: &AtomicU64) {
    let mut seen = written.load(Ordering::Acquire);
    for _ in 0..GATHER_MAX_YIELDS {
        std::thread::yield_now();
        let now = written.load(Ordering::Acquire);
        if now == seen {
            return;
        }
        seen = now;
    }
}

pub(crate) struct GroupCommit {
    durability: Durability,
    /// Incremented after each batch is applied; a ticket is the value after.
    written: AtomicU64,
    wanted: Mutex<Wanted>,
    wake: Condvar,
    durable: watch::Sender<std::result::Result<u64, String>>,
}

struct Wanted {
    requested: u64,
}

impl GroupCommit {
    /// Starts the sync thread for `journal`. Without one a returned commit
    /// is all the durability there is (see [`crate::engine::Engine::journal`]),
    /// so tickets resolve at once, as they do under [`Durability::None`].
    pub(crate) fn start(
        journal: Option<Box<dyn Journal>>,
        durability: Durability,
        guard: Arc<Guard>,
    ) -> Arc<GroupCommit> {
        let durability = if journal.is_some() { durability } else { Durability::None };
        let (durable, _) = watch::channel(Ok(0));
        let gc = Arc::new(GroupCommit {
            durability,
            written: AtomicU64::new(0),
            wanted: Mutex::new(Wanted { requested: 0 }),
            wake: Condvar::new(),
            durable,
        });
        if let (Some(journal), false) = (journal, durability == Durability::None) {
            let worker = Arc::downgrade(&gc);
            std::thread::Builder::new()
                .name("eddy-group-commit".into())
                .spawn(move || sync_loop(worker, journal, guard))
                .expect("spawn group-commit thread");
        }
        gc
    }

    pub(crate) fn written(&self) -> Ticket {
        Ticket(self.written.fetch_add(1, Ordering::AcqRel) + 1)
    }

    pub(crate) fn current(&self) -> Ticket {
        Ticket(self.written.load(Ordering::Acquire))
    }

    /// What a ticket's durability means here (`None` without a journal).
    pub(crate) fn durability(&self) -> Durability {
        self.durability
    }

    /// Asks the sync thread to make `ticket` durable, without waiting.
    pub(crate) fn request(&self, ticket: Ticket) {
        if self.durability == Durability::None {
            return;
        }
        let mut wanted = self.wanted.lock();
        if wanted.requested < ticket.0 {
            wanted.requested = ticket.0;
            self.wake.notify_one();
        }
    }

    pub(crate) async fn wait(&self, ticket: Ticket) -> Result<()> {
        if self.durability == Durability::None {
            return Ok(());
        }
        let mut rx = self.durable.subscribe();
        if matches!(&*rx.borrow(), Ok(d) if *d >= ticket.0) {
            return Ok(());
        }
        self.request(ticket);
        let state = rx
            .wait_for(|s| s.as_ref().map_or(true, |d| *d >= ticket.0))
            .await
            .map_err(|_| StoreError::Sync("group-commit thread stopped".into()))?;
        match &*state {
            Ok(_) => Ok(()),
            Err(e) => Err(StoreError::Sync(e.clone())),
        }
    }
}

fn sync_loop(gc: std::sync::Weak<GroupCommit>, mut journal: Box<dyn Journal>, guard: Arc<Guard>) {
    let mut durable = 0u64;
    loop {
        let Some(gc) = gc.upgrade() else { return };
        {
            let mut wanted = gc.wanted.lock();
            while wanted.requested <= durable {
                // Wake up now and then to notice the store being dropped.
                if gc.wake.wait_for(&mut wanted, std::time::Duration::from_millis(200)).timed_out()
                    && std::sync::Arc::strong_count(&gc) <= 1
                {
                    return;
                }
            }
        }
        gather(&gc.written);
        // Everything applied before this load is in the journal buffer.
        let upto = gc.written.load(Ordering::Acquire);
        let persisted = journal.hand_to_os().and_then(|()| match gc.durability {
            Durability::Fsync => journal.sync_data(),
            _ => Ok(()),
        });
        match persisted {
            Ok(()) => {
                durable = upto;
                let _ = gc.durable.send_replace(Ok(upto));
            }
            Err(e) => {
                tracing::error!(error = %e, "journal fsync failed; refusing to acknowledge writes");
                guard.fail(format!("journal fsync failed: {e}"));
                let _ = gc.durable.send_replace(Err(e.to_string()));
                return;
            }
        }
    }
}
