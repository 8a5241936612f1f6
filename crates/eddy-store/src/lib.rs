//! Durable bytes for eddy: named partitions of ordered keys, atomic write
//! batches, and group commit. This crate knows nothing of AWS.
//!
//! Writes are *applied* at once (readers see them immediately, in the order
//! callers committed them) and become *durable* later, when the sync thread
//! fsyncs the journal. A caller acknowledges a change to its client only after
//! [`Store::durable`] resolves for the batch's [`Ticket`]; one fsync covers
//! every batch committed before it, which is where throughput comes from.

mod sync;

use std::path::Path;
use std::sync::Arc;

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle};

pub use sync::Ticket;

/// When a committed batch counts as durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fdatasync the journal before acknowledging (group-committed).
    Fsync,
    /// Hand the journal to the OS: survives a crash of eddy, not of the machine.
    Flush,
    /// Nothing is persisted (`--in-memory`).
    None,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(#[from] fjall::Error),
    #[error("storage engine: {0}")]
    Tree(#[from] fjall::LsmError),
    #[error("durability failed: {0}")]
    Sync(String),
    #[error("corrupt record in {partition}: {detail}")]
    Corrupt { partition: String, detail: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    keyspace: Keyspace,
    sync: Arc<sync::GroupCommit>,
    // Keeps the temporary directory of an in-memory store alive.
    _temp: Option<Arc<TempDir>>,
}

/// A named, ordered key space inside the store.
#[derive(Clone)]
pub struct Partition {
    handle: PartitionHandle,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Store> {
        let keyspace = config(dir).manual_journal_persist(true).open()?;
        let sync = sync::GroupCommit::start(keyspace.clone(), durability);
        Ok(Store { keyspace, sync, _temp: None })
    }

    /// A store whose files live in a temporary directory removed on drop.
    pub fn temporary() -> Result<Store> {
        let temp = TempDir::new().map_err(|e| StoreError::Sync(e.to_string()))?;
        let keyspace = config(&temp.0).manual_journal_persist(true).open()?;
        let sync = sync::GroupCommit::start(keyspace.clone(), Durability::None);
        Ok(Store { keyspace, sync, _temp: Some(Arc::new(temp)) })
    }

    pub fn partition(&self, name: &str) -> Result<Partition> {
        let handle = self.keyspace.open_partition(name, PartitionCreateOptions::default())?;
        Ok(Partition { handle })
    }

    pub fn batch(&self) -> WriteBatch {
        WriteBatch { store: self.clone(), inner: self.keyspace.batch(), empty: true }
    }

    /// Resolves once everything committed up to `ticket` is durable.
    pub async fn durable(&self, ticket: Ticket) -> Result<()> {
        self.sync.wait(ticket).await
    }
}

fn config(dir: &Path) -> Config {
    // Small caches and few workers keep the idle footprint low; the hot
    // indexes live in eddy-core's memory anyway.
    Config::new(dir)
        .cache_size(8 * 1024 * 1024)
        .max_write_buffer_size(64 * 1024 * 1024)
        .flush_workers(1)
        .compaction_workers(1)
}

impl Partition {
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.handle.get(key)?.map(|v| v.to_vec()))
    }

    /// Every key-value pair whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> {
        self.handle
            .prefix(prefix.to_vec())
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from))
    }

    pub fn name(&self) -> &str {
        &self.handle.name
    }
}

/// An atomic set of puts and deletes across partitions.
pub struct WriteBatch {
    store: Store,
    inner: fjall::Batch,
    empty: bool,
}

impl WriteBatch {
    pub fn put(&mut self, partition: &Partition, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.empty = false;
        self.inner.insert(&partition.handle, key.into(), value.into());
    }

    pub fn delete(&mut self, partition: &Partition, key: impl Into<Vec<u8>>) {
        self.empty = false;
        self.inner.remove(&partition.handle, key.into());
    }

    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Applies the batch atomically; readers see it at once. The returned
    /// ticket tells [`Store::durable`] what to wait for.
    pub fn commit(self) -> Result<Ticket> {
        if self.empty {
            return Ok(self.store.sync.current());
        }
        self.inner.commit()?;
        Ok(self.store.sync.written())
    }
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("eddy-mem-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    nanos ^ NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests;
