//! Write batches: atomic puts and deletes across partitions, numbered by
//! group commit when they are applied.

use std::sync::Arc;

use crate::apply::{Applied, Applier};
use crate::engine::Batch;
use crate::guard::Guard;
use crate::sync::{GroupCommit, Ticket};
use crate::{Partition, Result};

/// An atomic set of puts and deletes across partitions.
pub struct WriteBatch {
    inner: Box<dyn Batch>,
    sync: Arc<GroupCommit>,
    guard: Arc<Guard>,
    applier: Arc<Applier>,
    empty: bool,
}

impl WriteBatch {
    pub(crate) fn new(
        inner: Box<dyn Batch>,
        sync: Arc<GroupCommit>,
        guard: Arc<Guard>,
        applier: Arc<Applier>,
    ) -> WriteBatch {
        WriteBatch { inner, sync, guard, applier, empty: true }
    }

    /// True when nothing was put or deleted.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    pub fn put(&mut self, partition: &Partition, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.empty = false;
        self.inner.put(partition.table(), partition.full_key_owned(key.into()), value.into());
    }

    pub fn delete(&mut self, partition: &Partition, key: impl Into<Vec<u8>>) {
        self.empty = false;
        self.inner.delete(partition.table(), partition.full_key_owned(key.into()));
    }

    /// Applies the batch atomically; readers see it at once. The returned
    /// ticket tells [`Store::durable`](crate::Store::durable) what to wait for.
    ///
    /// The engine may block here (a write stall), so under a lock that other
    /// requests need, use [`WriteBatch::submit`] instead.
    pub fn commit(self) -> Result<Ticket> {
        if self.empty {
            return Ok(self.sync.current());
        }
        self.guard.check_writable()?;
        self.inner.commit()?;
        Ok(self.sync.written())
    }

    /// Applies the batch without ever blocking on the engine: at once if
    /// that cannot block and nothing submitted earlier is still waiting,
    /// otherwise on the store's apply thread. Either way a batch submitted
    /// after another (under one lock, or later in one task) is applied after
    /// it, so submitting under a lock orders changes as the lock does
    /// without holding the lock through a stalled commit (see `apply.rs`).
    /// The returned future resolves to the ticket once the batch is applied.
    pub fn submit(self) -> Applied {
        self.applier.clone().submit(self)
    }

    /// Appends `later` to this batch (see [`Batch::absorb`]), or gives it
    /// back when the engine does not merge batches.
    pub(crate) fn absorb(&mut self, later: WriteBatch) -> std::result::Result<(), WriteBatch> {
        if later.empty {
            return Ok(());
        }
        let WriteBatch { inner, sync, guard, applier, empty } = later;
        match self.inner.absorb(inner) {
            Ok(()) => {
                self.empty = false;
                Ok(())
            }
            Err(inner) => Err(WriteBatch { inner, sync, guard, applier, empty }),
        }
    }

    /// Applies the batch if the engine can do so without blocking, or gives
    /// it back untouched.
    pub(crate) fn commit_quick(self) -> std::result::Result<Result<Ticket>, WriteBatch> {
        if self.empty {
            return Ok(Ok(self.sync.current()));
        }
        if let Err(e) = self.guard.check_writable() {
            return Ok(Err(e));
        }
        let WriteBatch { inner, sync, guard, applier, empty } = self;
        match inner.commit_quick() {
            Ok(applied) => Ok(applied.map(|()| sync.written())),
            Err(inner) => Err(WriteBatch { inner, sync, guard, applier, empty }),
        }
    }
}
