//! Durable bytes for eddy: named partitions of ordered keys, atomic write
//! batches, and group commit. This crate knows nothing of AWS.
//!
//! Writes are *applied* at once (readers see them immediately, in the order
//! callers committed them) and become *durable* later, when the sync thread
//! fsyncs the journal. A caller acknowledges a change to its client only after
//! [`Store::durable`] resolves for the batch's [`Ticket`]; one fsync covers
//! every batch committed before it, which is where throughput comes from.

mod gc;
mod guard;
mod sync;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle};
use parking_lot::{Mutex, RwLock};

pub use guard::StoreHealth;
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
    /// Refused before reaching the engine: see [`Store::health`].
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// How the on-disk store is opened.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    pub durability: Durability,
    /// Writes are refused while the data directory's file system has less
    /// free space than this (the engine poisons itself on a failed write).
    pub min_free_bytes: u64,
    /// Most table files the engine keeps open at once (it closes and
    /// reopens the rest), so many partitions cannot exhaust the fd limit.
    pub max_open_files: usize,
}

impl StoreOptions {
    pub fn new(durability: Durability) -> StoreOptions {
        StoreOptions { durability, min_free_bytes: 64 << 20, max_open_files: 512 }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
    /// The data directory (empty for an in-memory store).
    dir: Arc<Path>,
    sync: Arc<sync::GroupCommit>,
    guard: Arc<guard::Guard>,
    /// Compacts deletes away in the disk engine's metadata partitions.
    gc: Option<Arc<gc::Collector>>,
}

#[derive(Clone)]
enum Engine {
    /// fjall on disk: journal, memtables, SSTables.
    Disk(Keyspace),
    /// `--in-memory`: ordered maps, nothing touches the disk.
    Memory(Arc<Mutex<HashMap<String, MemTable>>>),
}

type MemTable = Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>;

/// Key-value pairs in key order.
pub type KvIter = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>>;

/// A named, ordered key space inside the store, or a *family* of keys in
/// one: a family's keys carry a type byte that the family adds and strips,
/// so several families share one partition (each partition costs the engine
/// files and fsyncs to create).
#[derive(Clone)]
pub struct Partition {
    inner: PartitionInner,
    prefix: Vec<u8>,
}

#[derive(Clone)]
enum PartitionInner {
    Disk(PartitionHandle),
    Memory(MemTable),
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Store> {
        Store::open_with(dir, StoreOptions::new(durability))
    }

    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store> {
        let keyspace = config(dir).max_open_files(options.max_open_files).manual_journal_persist(true).open()?;
        let guard = guard::Guard::new(options.min_free_bytes);
        guard.watch_space(dir);
        let journals = dir.join("journals");
        let sync = sync::GroupCommit::start(Some((keyspace.clone(), journals)), options.durability, guard.clone());
        let gc = Some(gc::Collector::start());
        Ok(Store { engine: Engine::Disk(keyspace), dir: dir.into(), sync, guard, gc })
    }

    /// A store that lives in memory only and is gone when dropped.
    pub fn in_memory() -> Store {
        let guard = guard::Guard::new(0);
        let sync = sync::GroupCommit::start(None, Durability::None, guard.clone());
        Store { engine: Engine::Memory(Arc::default()), dir: Path::new("").into(), sync, guard, gc: None }
    }

    /// Whether writes are accepted, and why not.
    pub fn health(&self) -> StoreHealth {
        self.guard.health()
    }

    /// Refuses a write before it reaches the engine when the store cannot take it.
    fn check_writable(&self) -> Result<()> {
        if self.guard.writable() {
            return Ok(());
        }
        match self.guard.health() {
            StoreHealth::Ok => Ok(()),
            StoreHealth::Refusing(reason) | StoreHealth::Failed(reason) => Err(StoreError::Unavailable(reason)),
        }
    }

    /// A partition for records that are written, rewritten and deleted
    /// (queues, messages, jobs): its deletes are compacted away ([`gc`]).
    pub fn partition(&self, name: &str) -> Result<Partition> {
        let inner = match &self.engine {
            Engine::Disk(ks) => {
                let handle = self.open_disk_partition(ks, name, metadata_options())?;
                if let Some(gc) = &self.gc {
                    gc.watch(name, &handle);
                }
                PartitionInner::Disk(handle)
            }
            Engine::Memory(tables) => {
                PartitionInner::Memory(tables.lock().entry(name.to_string()).or_default().clone())
            }
        };
        Ok(Partition { inner, prefix: Vec::new() })
    }

    /// A partition for one append-only log (a Kinesis shard): keys only
    /// grow, so flushed tables never overlap and compaction moves them
    /// instead of rewriting them; small memtables keep retained data on disk.
    pub fn log_partition(&self, name: &str) -> Result<Partition> {
        let inner = match &self.engine {
            Engine::Disk(ks) => {
                let options = PartitionCreateOptions::default().max_memtable_size(LOG_MEMTABLE_BYTES);
                PartitionInner::Disk(self.open_disk_partition(ks, name, options)?)
            }
            Engine::Memory(tables) => {
                PartitionInner::Memory(tables.lock().entry(name.to_string()).or_default().clone())
            }
        };
        Ok(Partition { inner, prefix: Vec::new() })
    }

    /// Opens a partition; a new one's folder is made durable before it is
    /// used. fjall creates `partitions/<name>/` and fsyncs the files in it
    /// but not the directory entries, so after a power cut the folder of a
    /// partition created since the last directory sync can vanish with every
    /// acknowledged write in it (found by tests/powerloss under strict
    /// POSIX rules).
    fn open_disk_partition(
        &self,
        ks: &Keyspace,
        name: &str,
        options: PartitionCreateOptions,
    ) -> Result<PartitionHandle> {
        let created = !ks.partition_exists(name);
        let handle = ks.open_partition(name, options)?;
        if created {
            let partitions = self.dir.join("partitions");
            for dir in [partitions.join(name), partitions] {
                std::fs::File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| StoreError::Sync(format!("fsync of {}: {e}", dir.display())))?;
            }
        }
        Ok(handle)
    }

    /// Names of the partitions starting with `prefix`.
    pub fn partition_names(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = match &self.engine {
            Engine::Disk(ks) => ks.list_partitions().iter().map(|n| n.to_string()).collect(),
            Engine::Memory(tables) => tables.lock().keys().cloned().collect(),
        };
        names.retain(|n| n.starts_with(prefix));
        names.sort();
        names
    }

    /// Deletes a partition and everything in it, durably; a no-op when absent.
    pub fn drop_partition(&self, name: &str) -> Result<()> {
        match &self.engine {
            Engine::Disk(ks) => {
                if let Some(gc) = &self.gc {
                    gc.forget(name);
                }
                if ks.partition_exists(name) {
                    let handle = ks.open_partition(name, PartitionCreateOptions::default())?;
                    ks.delete_partition(handle)?;
                }
            }
            Engine::Memory(tables) => {
                tables.lock().remove(name);
            }
        }
        Ok(())
    }

    pub fn batch(&self) -> WriteBatch {
        let inner = match &self.engine {
            Engine::Disk(ks) => BatchInner::Disk(ks.batch()),
            Engine::Memory(_) => BatchInner::Memory(Vec::new()),
        };
        WriteBatch { store: self.clone(), inner, empty: true }
    }

    /// Starts making `ticket` durable without waiting for the fsync: for
    /// changes that need not hold up a response. The journal is handed to the
    /// OS at once, so the change survives a crash of this process; only a
    /// machine crash before the fsync (milliseconds later) can lose it.
    pub fn make_durable_soon(&self, ticket: Ticket) -> Result<()> {
        if let Engine::Disk(ks) = &self.engine {
            ks.persist(fjall::PersistMode::Buffer).map_err(|e| self.engine_failed(e))?;
        }
        self.sync.request(ticket);
        Ok(())
    }

    /// A failed journal write poisons fjall for good: record it for health.
    fn engine_failed(&self, e: fjall::Error) -> StoreError {
        self.guard.fail(format!("storage engine: {e}"));
        StoreError::Engine(e)
    }

    /// Resolves once everything committed so far is durable (for shutdown).
    pub async fn sync_all(&self) -> Result<()> {
        self.sync.wait(self.sync.current()).await
    }

    /// Resolves once everything committed up to `ticket` is durable.
    pub async fn durable(&self, ticket: Ticket) -> Result<()> {
        self.sync.wait(ticket).await
    }
}

/// Memtable size of log partitions: a shard's unflushed tail in memory.
const LOG_MEMTABLE_BYTES: u32 = 4 * 1024 * 1024;

/// Metadata partitions compact into 16 MiB tables rather than fjall's
/// 64 MiB: compaction holds a table's bloom-filter hashes in memory while it
/// writes it (134 MiB at peak in a soak with 64 MiB tables). Applies to
/// partitions created from now on; fjall keeps an existing one's settings.
fn metadata_options() -> PartitionCreateOptions {
    let leveled = fjall::compaction::Leveled { target_size: 16 << 20, ..Default::default() };
    PartitionCreateOptions::default().compaction_strategy(fjall::compaction::Strategy::Leveled(leveled))
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
    /// The family of keys starting with `type_byte` in this partition.
    pub fn family(&self, type_byte: u8) -> Partition {
        let mut prefix = self.prefix.clone();
        prefix.push(type_byte);
        Partition { inner: self.inner.clone(), prefix }
    }

    fn full_key(&self, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(key);
        k
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let key = self.full_key(key);
        Ok(match &self.inner {
            PartitionInner::Disk(h) => h.get(key)?.map(|v| v.to_vec()),
            PartitionInner::Memory(t) => t.read().get(&key).cloned(),
        })
    }

    /// Every key-value pair whose key starts with `prefix`, in key order
    /// (keys without the family's type byte).
    pub fn scan_prefix(&self, prefix: &[u8]) -> KvIter {
        let prefix = self.full_key(prefix);
        let strip = self.prefix.len();
        match &self.inner {
            PartitionInner::Disk(h) => Box::new(
                h.prefix(prefix)
                    .map(move |kv| kv.map(|(k, v)| (k[strip..].to_vec(), v.to_vec())).map_err(StoreError::from)),
            ),
            PartitionInner::Memory(t) => {
                let snapshot: Vec<_> = t
                    .read()
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| Ok((k[strip..].to_vec(), v.clone())))
                    .collect();
                Box::new(snapshot.into_iter())
            }
        }
    }
}

impl Partition {
    /// Pairs with `start <= key < end`, in key order, read lazily (keys
    /// without the family's type byte). Memory tables are read a page at a
    /// time, so a long scan never copies the whole range.
    pub fn scan_range(&self, start: &[u8], end: &[u8]) -> KvIter {
        let (start, end) = (self.full_key(start), self.full_key(end));
        let strip = self.prefix.len();
        match &self.inner {
            PartitionInner::Disk(h) => Box::new(
                h.range(start..end)
                    .map(move |kv| kv.map(|(k, v)| (k[strip..].to_vec(), v.to_vec())).map_err(StoreError::from)),
            ),
            PartitionInner::Memory(t) => {
                Box::new(MemoryCursor { table: t.clone(), next: start, end, strip, page: Vec::new() })
            }
        }
    }

    /// Seals the partition's memtable and hands it to the flush worker, so
    /// an idle log's tail moves from memory to disk. True when there was
    /// something to seal.
    pub fn flush_memtable(&self) -> Result<bool> {
        Ok(match &self.inner {
            PartitionInner::Disk(h) => h.rotate_memtable()?,
            PartitionInner::Memory(_) => false,
        })
    }

    /// The last pair with `low <= key <= high`: where a log's newest entry
    /// or the entry covering a position is found.
    pub fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let (low, high) = (self.full_key(low), self.full_key(high));
        let strip = self.prefix.len();
        Ok(match &self.inner {
            PartitionInner::Disk(h) => match h.range(low..=high).next_back() {
                Some(kv) => {
                    let (k, v) = kv?;
                    Some((k[strip..].to_vec(), v.to_vec()))
                }
                None => None,
            },
            PartitionInner::Memory(t) => {
                t.read().range(low..=high).next_back().map(|(k, v)| (k[strip..].to_vec(), v.clone()))
            }
        })
    }
}

/// A forward scan over a memory table that takes the lock one page at a time.
struct MemoryCursor {
    table: MemTable,
    next: Vec<u8>,
    end: Vec<u8>,
    strip: usize,
    page: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Iterator for MemoryCursor {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        const PAGE: usize = 256;
        if self.page.is_empty() {
            if self.next >= self.end {
                return None;
            }
            let table = self.table.read();
            self.page = table
                .range(self.next.clone()..self.end.clone())
                .take(PAGE)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            drop(table);
            let (last, _) = self.page.last()?;
            // The next page starts just after the last key read.
            self.next = last.clone();
            self.next.push(0);
            self.page.reverse();
        }
        let (k, v) = self.page.pop()?;
        Some(Ok((k[self.strip..].to_vec(), v)))
    }
}

/// An atomic set of puts and deletes across partitions.
pub struct WriteBatch {
    store: Store,
    inner: BatchInner,
    empty: bool,
}

enum BatchInner {
    Disk(fjall::Batch),
    Memory(Vec<(MemTable, Vec<u8>, Option<Vec<u8>>)>),
}

impl WriteBatch {
    pub fn put(&mut self, partition: &Partition, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.op(partition, key.into(), Some(value.into()));
    }

    pub fn delete(&mut self, partition: &Partition, key: impl Into<Vec<u8>>) {
        self.op(partition, key.into(), None);
    }

    fn op(&mut self, partition: &Partition, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.empty = false;
        let key = if partition.prefix.is_empty() { key } else { partition.full_key(&key) };
        match (&mut self.inner, &partition.inner, value) {
            (BatchInner::Disk(b), PartitionInner::Disk(h), Some(v)) => b.insert(h, key, v),
            (BatchInner::Disk(b), PartitionInner::Disk(h), None) => b.remove(h, key),
            (BatchInner::Memory(ops), PartitionInner::Memory(t), v) => ops.push((t.clone(), key, v)),
            _ => unreachable!("a partition is only used with batches of its own store"),
        }
    }

    /// Applies the batch atomically; readers see it at once. The returned
    /// ticket tells [`Store::durable`] what to wait for.
    pub fn commit(self) -> Result<Ticket> {
        if self.empty {
            return Ok(self.store.sync.current());
        }
        self.store.check_writable()?;
        match self.inner {
            BatchInner::Disk(b) => b.commit().map_err(|e| self.store.engine_failed(e))?,
            BatchInner::Memory(ops) => {
                for (table, key, value) in ops {
                    let mut t = table.write();
                    match value {
                        Some(v) => t.insert(key, v),
                        None => t.remove(&key),
                    };
                }
            }
        }
        Ok(self.store.sync.written())
    }
}

/// A process-unique number for naming test directories.
#[cfg(test)]
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    nanos ^ NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests;
