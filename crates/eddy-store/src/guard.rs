//! Whether the store can take writes, and why not.
//!
//! Two ways a store stops writing. A nearly full disk is *recoverable*:
//! writes are refused before they reach the engine (fjall poisons itself
//! for good on a failed journal write, so letting it hit ENOSPC would turn
//! a full disk into a restart), and resume once space is freed. An engine
//! failure (a failed journal write or fsync, a poisoned background worker)
//! is *fatal*: fjall cannot be un-poisoned, and after a failed fsync the
//! kernel may have dropped the dirty pages, so only a restart (which replays
//! the journal) is safe. Health reports it so an orchestrator restarts eddy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use crate::{Result, StoreError};

/// The store's state as health reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreHealth {
    Ok,
    /// Writes are refused until the cause goes away (disk nearly full).
    Refusing(String),
    /// Writes fail until eddy is restarted.
    Failed(String),
}

impl StoreHealth {
    pub fn is_ok(&self) -> bool {
        matches!(self, StoreHealth::Ok)
    }
}

/// How often the free space of the data directory is read.
const SPACE_CHECK_EVERY: Duration = Duration::from_millis(250);

pub(crate) struct Guard {
    /// Set with `failed`: lets every commit check both causes with two
    /// atomic loads instead of a lock.
    has_failed: AtomicBool,
    failed: Mutex<Option<String>>,
    low_space: AtomicBool,
    free_bytes: AtomicU64,
    min_free_bytes: u64,
}

impl Guard {
    pub(crate) fn new(min_free_bytes: u64) -> Arc<Guard> {
        Arc::new(Guard {
            has_failed: AtomicBool::new(false),
            failed: Mutex::new(None),
            low_space: AtomicBool::new(false),
            free_bytes: AtomicU64::new(u64::MAX),
            min_free_bytes,
        })
    }

    /// Watches the free space of `dir` on a thread of its own until the guard is dropped.
    pub(crate) fn watch_space(self: &Arc<Guard>, dir: &Path) {
        let guard = Arc::downgrade(self);
        let dir = dir.to_path_buf();
        self.check_space(&dir);
        std::thread::Builder::new()
            .name("eddy-disk-space".into())
            .spawn(move || space_loop(guard, dir))
            .expect("spawn disk-space thread");
    }

    fn check_space(&self, dir: &PathBuf) {
        let Ok(stat) = rustix::fs::statvfs(dir) else { return };
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        self.free_bytes.store(free, Ordering::Relaxed);
        let low = free < self.min_free_bytes;
        if self.low_space.swap(low, Ordering::AcqRel) != low {
            if low {
                tracing::error!(free_mib = free >> 20, reserve_mib = self.min_free_bytes >> 20,
                    dir = %dir.display(), "disk nearly full: refusing writes until space is freed");
            } else {
                tracing::warn!(free_mib = free >> 20, "disk space freed: accepting writes again");
            }
        }
    }

    /// Records a fatal engine failure (the first one is kept: it is the cause).
    pub(crate) fn fail(&self, reason: impl Into<String>) {
        let mut failed = self.failed.lock();
        if failed.is_none() {
            let reason = reason.into();
            tracing::error!(%reason, "store failed: writes are refused until eddy is restarted");
            *failed = Some(reason);
            self.has_failed.store(true, Ordering::Release);
        }
    }

    /// Tests: stands in for a nearly full disk (a store in memory has no
    /// disk to watch, so nothing resets it).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn refuse_for_test(&self, refuse: bool) {
        self.low_space.store(refuse, Ordering::Release);
    }

    /// True when writes may go to the engine: two atomic loads.
    fn writable(&self) -> bool {
        !self.has_failed.load(Ordering::Acquire) && !self.low_space.load(Ordering::Acquire)
    }

    /// Refuses a write before it reaches the engine when the store cannot take it.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.writable() {
            return Ok(());
        }
        match self.health() {
            StoreHealth::Ok => Ok(()),
            StoreHealth::Refusing(reason) | StoreHealth::Failed(reason) => Err(StoreError::Unavailable(reason)),
        }
    }

    pub(crate) fn health(&self) -> StoreHealth {
        if let Some(reason) = self.failed.lock().clone() {
            return StoreHealth::Failed(reason);
        }
        if self.low_space.load(Ordering::Acquire) {
            return StoreHealth::Refusing(format!(
                "disk nearly full: {} MiB free, {} MiB kept in reserve",
                self.free_bytes.load(Ordering::Relaxed) >> 20,
                self.min_free_bytes >> 20
            ));
        }
        StoreHealth::Ok
    }
}

fn space_loop(guard: Weak<Guard>, dir: PathBuf) {
    loop {
        std::thread::sleep(SPACE_CHECK_EVERY);
        let Some(guard) = guard.upgrade() else { return };
        guard.check_space(&dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_little_free_space_refuses_and_recovers() {
        let dir = std::env::temp_dir();
        let guard = Guard::new(u64::MAX);
        guard.check_space(&dir);
        assert!(matches!(guard.health(), StoreHealth::Refusing(r) if r.contains("disk nearly full")));
        let guard = Guard::new(0);
        guard.check_space(&dir);
        assert_eq!(guard.health(), StoreHealth::Ok);
    }

    #[test]
    fn an_engine_failure_is_fatal_and_keeps_its_first_cause() {
        let guard = Guard::new(0);
        guard.fail("journal fsync failed: EIO");
        guard.fail("storage engine: Poisoned");
        assert_eq!(guard.health(), StoreHealth::Failed("journal fsync failed: EIO".into()));
    }
}
