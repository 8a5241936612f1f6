//! Group commit: one thread fsyncs the journal for every batch committed
//! since its last pass and wakes all of their waiters at once.
//!
//! The fsync runs outside fjall's journal lock, which every commit takes:
//! fjall's own `persist(SyncData)` holds that lock through the fsync, so any
//! write (and the queue lock its caller holds while committing) waited
//! 0.4–6 ms behind each one. Here the lock is held only to hand the journal
//! buffer to the OS; the active journal file is then fdatasynced through a
//! descriptor of our own (an fsync on any descriptor of a file covers the
//! file). A journal sealed in between was fully fsynced by fjall when it
//! rotated, before the next one was created.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fjall::{Keyspace, PersistMode};
use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

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
    /// `keyspace` is the disk engine and the folder of its journals.
    pub(crate) fn start(
        keyspace: Option<(Keyspace, PathBuf)>,
        durability: Durability,
        guard: Arc<Guard>,
    ) -> Arc<GroupCommit> {
        let (durable, _) = watch::channel(Ok(0));
        let gc = Arc::new(GroupCommit {
            durability,
            written: AtomicU64::new(0),
            wanted: Mutex::new(Wanted { requested: 0 }),
            wake: Condvar::new(),
            durable,
        });
        if let (Some((keyspace, journals)), false) = (keyspace, durability == Durability::None) {
            let worker = Arc::downgrade(&gc);
            let journal = Journal { keyspace, dir: journals, open: None };
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

fn sync_loop(gc: std::sync::Weak<GroupCommit>, mut journal: Journal, guard: Arc<Guard>) {
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

/// The engine's journal, fsynced without its lock (see the module comment).
struct Journal {
    keyspace: Keyspace,
    /// fjall's `journals/` folder: files named by increasing id.
    dir: PathBuf,
    /// The newest journal file, opened by us: (id, file).
    open: Option<(u64, File)>,
}

impl Journal {
    /// Under the journal lock, briefly: the buffered batches go to the OS
    /// (all that `--durability flush` asks for).
    fn hand_to_os(&self) -> std::result::Result<(), String> {
        self.keyspace.persist(PersistMode::Buffer).map_err(|e| e.to_string())
    }

    /// Makes what [`Journal::hand_to_os`] handed over durable, without the
    /// lock: it is in the newest file, or in one that rotation fsynced.
    fn sync_data(&mut self) -> std::result::Result<(), String> {
        let newest = self.newest().map_err(|e| format!("listing {}: {e}", self.dir.display()))?;
        if self.open.as_ref().is_none_or(|(id, _)| *id != newest) {
            let path = self.dir.join(newest.to_string());
            let file = File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
            self.open = Some((newest, file));
        }
        let (id, file) = self.open.as_ref().expect("opened above");
        file.sync_data().map_err(|e| format!("fdatasync of journal {id}: {e}"))
    }

    /// The id of the active journal: the highest-numbered file.
    fn newest(&self) -> std::io::Result<u64> {
        let mut newest = None;
        for entry in std::fs::read_dir(&self.dir)? {
            if let Some(id) = entry?.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
                newest = newest.max(Some(id));
            }
        }
        newest.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no journal file"))
    }
}
