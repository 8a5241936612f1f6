//! Which commits may run on the caller's thread, and which must not.
//!
//! A fjall commit normally takes a few microseconds, but now and then one
//! blocks: the commit that fills a memtable rotates it (a new journal file
//! and an fsync of the old one, under the journal lock every commit needs)
//! and may then sleep while journals or level-0 tables pile up (a write
//! stall, 10–500 ms). A service that commits under the lock ordering its
//! changes must never do that on an async worker, so those commits go
//! through the store's apply thread (`apply.rs`). Sending every commit
//! there costs two thread wake-ups per request, about a third of the
//! server's CPU per SendMessage.
//!
//! The gate lets a commit that provably cannot block (its bytes, and those
//! of every quick commit beside it, fit in the memtables it touches with
//! room to spare, and no stall is near) run at once on the caller's thread,
//! under a shared lock. Anything that might block (any other commit, a
//! memtable rotation) holds the lock exclusively, so no quick commit is
//! running when a memtable fills or rotates, and none is ever the commit
//! that rotates it.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[derive(Default)]
pub(super) struct Gate {
    lock: RwLock<()>,
    /// Bytes of the quick commits running now, each counted from before
    /// its check until after its commit.
    running: AtomicU64,
}

/// A quick commit's place, held while it commits.
pub(super) struct Quick<'g> {
    gate: &'g Gate,
    bytes: u64,
    _shared: RwLockReadGuard<'g, ()>,
}

impl Drop for Quick<'_> {
    fn drop(&mut self) {
        self.gate.running.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl Gate {
    /// A place for a commit of `bytes` if `cannot_block` says that, with the
    /// given bytes running in all, it cannot block, and nothing that might
    /// block is running or waiting. Never waits.
    pub(super) fn try_quick(&self, bytes: u64, cannot_block: impl FnOnce(u64) -> bool) -> Option<Quick<'_>> {
        let shared = self.lock.try_read()?;
        let running = self.running.fetch_add(bytes, Ordering::AcqRel) + bytes;
        let quick = Quick { gate: self, bytes, _shared: shared };
        cannot_block(running).then_some(quick)
    }

    /// The lock for work that might block: waits until no quick commit is
    /// running, and keeps new ones out until dropped.
    pub(super) fn alone(&self) -> RwLockWriteGuard<'_, ()> {
        self.lock.write()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_commits_share_the_gate_and_count_their_bytes() {
        let gate = Gate::default();
        let a = gate.try_quick(100, |running| running == 100).expect("fits alone");
        let b = gate.try_quick(50, |running| running == 150).expect("counted beside the first");
        assert!(gate.try_quick(10, |_| false).is_none(), "refused when the engine says it might block");
        drop((a, b));
        assert!(gate.try_quick(1, |running| running == 1).is_some(), "bytes released");
    }

    #[test]
    fn nothing_quick_runs_while_blocking_work_holds_the_gate() {
        let gate = Gate::default();
        let alone = gate.alone();
        assert!(gate.try_quick(1, |_| true).is_none());
        drop(alone);
        assert!(gate.try_quick(1, |_| true).is_some());
    }
}
