//! Write batches: atomic puts and deletes across partitions, numbered by
//! group commit when they are applied.

use std::sync::Arc;

use crate::engine::Batch;
use crate::guard::Guard;
use crate::sync::{GroupCommit, Ticket};
use crate::{Partition, Result};

/// An atomic set of puts and deletes across partitions.
pub struct WriteBatch {
    inner: Box<dyn Batch>,
    sync: Arc<GroupCommit>,
    guard: Arc<Guard>,
    empty: bool,
}

impl WriteBatch {
    pub(crate) fn new(inner: Box<dyn Batch>, sync: Arc<GroupCommit>, guard: Arc<Guard>) -> WriteBatch {
        WriteBatch { inner, sync, guard, empty: true }
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
    pub fn commit(self) -> Result<Ticket> {
        if self.empty {
            return Ok(self.sync.current());
        }
        self.guard.check_writable()?;
        self.inner.commit()?;
        Ok(self.sync.written())
    }
}
