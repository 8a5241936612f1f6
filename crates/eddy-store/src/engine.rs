//! The storage engine boundary: what a backend provides so that [`Store`],
//! [`Partition`] and [`WriteBatch`] can sit on it. Two engines implement it
//! today: fjall on disk ([`crate::fjall_engine`]) and ordered maps in memory
//! ([`crate::memory`]). Everything above it (group commit, the health guard,
//! key families, tickets) is written once for every engine.
//!
//! [`Store`]: crate::Store
//! [`Partition`]: crate::Partition
//! [`WriteBatch`]: crate::WriteBatch

use std::any::Any;
use std::sync::Arc;

use crate::{KvIter, Result};

/// What a partition will hold, so the engine can tune it for that shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PartitionKind {
    /// Records written, rewritten and deleted (queues, messages, jobs):
    /// deletes must not pile up.
    Records,
    /// One append-only log (a Kinesis shard): keys only grow, old entries
    /// are deleted from the front, retained data should live on disk.
    Log,
}

/// A storage engine: named partitions of ordered keys, atomic batches of
/// puts and deletes across them, and a journal that group commit makes
/// durable.
///
/// # The contract
///
/// Services rely on these guarantees, so a second engine (PostgreSQL) must
/// meet every one of them:
///
/// - **Key order is byte order.** Keys and values are plain bytes. Scans
///   return keys in lexicographic order of their unsigned bytes, a key
///   before its extensions (`ab` < `ab\0` < `b`), as `memcmp` and
///   PostgreSQL's `bytea` order them. Record layouts are built on it
///   (big-endian sequence numbers, type-byte families).
/// - **Atomic batches.** The puts and deletes of one [`Batch`], across any
///   partitions of the engine, survive a crash all together or not at all.
///   A batch is applied in its own order (a later put of a key wins).
/// - **Read-your-writes.** Once [`Batch::commit`] returns, every read from
///   any thread sees the batch. Readers may see part of a batch while its
///   commit runs; callers that need more serialize with their own locks (an
///   SQS queue submits its batches under the queue's lock, and the store's
///   apply thread commits them in that order).
/// - **Durable only through the journal, and then surely.** A committed batch
///   may be lost in a crash until the [`Journal`] call that starts after its
///   commit returned has returned: [`Journal::hand_to_os`] protects it from a
///   crash of eddy (`Durability::Flush`), [`Journal::sync_data`] after that
///   from power loss (`Durability::Fsync`). Group commit resolves a
///   [`Ticket`](crate::Ticket) only then, and a caller answers its client
///   only once its ticket resolves, so "acknowledged" means "durable"
///   exactly. An engine whose commits are durable when they return
///   (PostgreSQL with `synchronous_commit = on`) has no journal.
/// - **Fatal failures are reported.** A failure after which the engine can
///   no longer be trusted to write (fjall poisons itself on a failed journal
///   write) is recorded with [`Guard::fail`](crate::guard::Guard::fail), so
///   health reports it and the store refuses writes until a restart. A
///   passing failure (a dropped connection) is just returned as an error.
pub(crate) trait Engine: Send + Sync {
    /// Opens the partition `name`, creating it (durably: its existence
    /// survives a power cut like any acknowledged write) if absent. Opening
    /// a name again gives a handle to the same contents.
    fn open(&self, name: &str, kind: PartitionKind) -> Result<Arc<dyn Table>>;

    /// The names of every partition, in any order.
    fn names(&self) -> Vec<String>;

    /// Deletes a partition and its contents, durably; a no-op when absent.
    /// The name may be opened again (empty) once the old partition's
    /// handles are gone: fjall refuses it while any remain.
    fn drop_partition(&self, name: &str) -> Result<()>;

    /// An empty batch, to fill with [`Batch::put`] and [`Batch::delete`].
    fn batch(&self) -> Box<dyn Batch>;

    /// [`Journal::hand_to_os`] from any thread, for a change that should
    /// survive a crash of eddy at once but need not wait for an fsync.
    fn hand_to_os(&self) -> Result<()>;

    /// Which engine this is and how it is doing, for health reports. May
    /// ask the engine's server (PostgreSQL), so not for hot paths.
    fn info(&self) -> crate::StoreInfo;

    /// The journal the group-commit thread drives. `None` when a returned
    /// commit is all the durability there is: tickets then resolve at once.
    /// Right for an engine that persists nothing (memory) or whose commits
    /// are durable when they return; wrong for any other, as it would
    /// acknowledge writes a crash can lose.
    fn journal(&self) -> Option<Box<dyn Journal>>;

    /// For a node leading a cluster on this engine's database (PostgreSQL):
    /// the secret with which its standbys relay requests to it.
    fn relay_token(&self) -> Option<&str> {
        None
    }
}

/// One partition as the engine holds it. Keys are whole keys: key families
/// are the store's business, above the engine.
pub(crate) trait Table: Any + Send + Sync {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The values of `keys`, in their order. An engine whose reads are
    /// network round trips (PostgreSQL) answers in one.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|key| self.get(key)).collect()
    }

    /// Pairs whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: Vec<u8>) -> KvIter;

    /// Pairs with `start <= key < end`, in key order, read lazily: a range
    /// can be a shard's whole retention, so it must not be copied up front.
    fn scan_range(&self, start: Vec<u8>, end: Vec<u8>) -> KvIter;

    /// The last pair with `low <= key <= high`.
    fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>>;

    /// Moves the partition's unflushed writes from memory toward disk, where
    /// the engine buffers them (an idle log's tail should not cost memory).
    /// True when there was something to move; engines without such a buffer
    /// return false. Not a durability call: the journal already has them.
    fn flush_memtable(&self) -> Result<bool>;
}

/// An atomic set of puts and deletes across partitions of one engine.
pub(crate) trait Batch: Any + Send + Sync {
    /// `table` was opened by this batch's engine.
    fn put(&mut self, table: &dyn Table, key: Vec<u8>, value: Vec<u8>);

    fn delete(&mut self, table: &dyn Table, key: Vec<u8>);

    /// Applies the batch atomically (see the contract on [`Engine`]). May
    /// block (a write stall).
    fn commit(self: Box<Self>) -> Result<()>;

    /// Applies the batch as [`Batch::commit`] does if that cannot block
    /// (fjall: `fjall_engine/gate.rs`), or gives it back untouched. For a
    /// caller on an async worker: the batch given back goes to a thread
    /// that may block.
    fn commit_quick(self: Box<Self>) -> std::result::Result<Result<()>, Box<dyn Batch>>;

    /// Appends `later`'s puts and deletes after this batch's, so that one
    /// commit applies both, in order, atomically; or gives `later` back
    /// when the engine does not merge. Where a commit is a network round
    /// trip (PostgreSQL), the apply thread commits the batches queued
    /// behind each other together: one commit for many.
    fn absorb(&mut self, later: Box<dyn Batch>) -> std::result::Result<(), Box<dyn Batch>> {
        Err(later)
    }
}

/// The engine's write-ahead journal, driven by the group-commit thread
/// alone. Errors are fatal for the store: after a failed fsync the kernel
/// may have dropped the pages, so nothing more may be acknowledged.
pub(crate) trait Journal: Send {
    /// Hands every batch committed before the call to the OS: a crash of
    /// eddy (not of the machine) no longer loses them. Commits may wait on
    /// this, so it must not wait on the disk.
    fn hand_to_os(&mut self) -> std::result::Result<(), String>;

    /// Makes what the last [`Journal::hand_to_os`] handed over survive power
    /// loss. Should not hold up commits meanwhile: that is what lets one
    /// fsync cover the batches committed while it runs.
    fn sync_data(&mut self) -> std::result::Result<(), String>;
}

/// The engine's own table type behind `table`. A partition is only ever
/// written with batches of the store that opened it, so a mismatch is a bug.
pub(crate) fn own<T: Table>(table: &dyn Table) -> &T {
    let any: &dyn Any = table;
    any.downcast_ref().expect("a partition is only used with batches of its own store")
}
