//! The disk engine: fjall (an LSM tree: journal, memtables, SSTables), one
//! fjall partition per store partition, every batch one fjall batch.
//!
//! fjall's journal is persisted by eddy, not on each commit
//! (`manual_journal_persist`): group commit drives it through [`journal`].

mod gc;
mod journal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

use crate::engine::{self, Batch, Engine, Journal, PartitionKind, Table};
use crate::guard::Guard;
use crate::{KvIter, Result, StoreError};

/// Memtable size of log partitions: a shard's unflushed tail in memory.
const LOG_MEMTABLE_BYTES: u32 = 4 * 1024 * 1024;

pub(crate) struct FjallEngine {
    keyspace: Keyspace,
    /// The data directory.
    dir: PathBuf,
    /// Where a poisoned engine is reported (see [`engine_failed`]).
    guard: Arc<Guard>,
    /// Compacts deletes away in the records partitions.
    gc: Arc<gc::Collector>,
}

impl FjallEngine {
    /// Opens (or creates) the engine's files in `dir`.
    pub(crate) fn open(dir: &Path, max_open_files: usize, guard: Arc<Guard>) -> Result<FjallEngine> {
        let keyspace = config(dir).max_open_files(max_open_files).manual_journal_persist(true).open()?;
        Ok(FjallEngine { keyspace, dir: dir.to_path_buf(), guard, gc: gc::Collector::start() })
    }

    /// Opens a partition; a new one's folder is made durable before it is
    /// used. fjall creates `partitions/<name>/` and fsyncs the files in it
    /// but not the directory entries, so after a power cut the folder of a
    /// partition created since the last directory sync can vanish with every
    /// acknowledged write in it (found by tests/powerloss under strict
    /// POSIX rules).
    fn open_handle(&self, name: &str, options: PartitionCreateOptions) -> Result<PartitionHandle> {
        let created = !self.keyspace.partition_exists(name);
        let handle = self.keyspace.open_partition(name, options)?;
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
}

impl Engine for FjallEngine {
    fn open(&self, name: &str, kind: PartitionKind) -> Result<Arc<dyn Table>> {
        let handle = match kind {
            PartitionKind::Records => {
                let handle = self.open_handle(name, metadata_options())?;
                self.gc.watch(name, &handle);
                handle
            }
            // Keys only grow, so flushed tables never overlap and compaction
            // moves them instead of rewriting them; small memtables keep
            // retained data on disk.
            PartitionKind::Log => {
                self.open_handle(name, PartitionCreateOptions::default().max_memtable_size(LOG_MEMTABLE_BYTES))?
            }
        };
        Ok(Arc::new(FjallTable(handle)))
    }

    fn names(&self) -> Vec<String> {
        self.keyspace.list_partitions().iter().map(|n| n.to_string()).collect()
    }

    fn drop_partition(&self, name: &str) -> Result<()> {
        self.gc.forget(name);
        if self.keyspace.partition_exists(name) {
            let handle = self.keyspace.open_partition(name, PartitionCreateOptions::default())?;
            self.keyspace.delete_partition(handle)?;
        }
        Ok(())
    }

    fn batch(&self) -> Box<dyn Batch> {
        Box::new(FjallBatch { batch: self.keyspace.batch(), guard: self.guard.clone() })
    }

    fn hand_to_os(&self) -> Result<()> {
        self.keyspace.persist(PersistMode::Buffer).map_err(|e| engine_failed(&self.guard, e))
    }

    fn journal(&self) -> Option<Box<dyn Journal>> {
        Some(Box::new(journal::FjallJournal::new(self.keyspace.clone(), self.dir.join("journals"))))
    }
}

/// A failed journal write poisons fjall for good: record it for health.
fn engine_failed(guard: &Guard, e: fjall::Error) -> StoreError {
    guard.fail(format!("storage engine: {e}"));
    StoreError::Engine(e)
}

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

struct FjallTable(PartitionHandle);

/// fjall's owned key-value pair as the store's.
fn owned(kv: fjall::Result<fjall::KvPair>) -> Result<(Vec<u8>, Vec<u8>)> {
    let (k, v) = kv?;
    Ok((k.to_vec(), v.to_vec()))
}

impl Table for FjallTable {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: Vec<u8>) -> KvIter {
        Box::new(self.0.prefix(prefix).map(owned))
    }

    fn scan_range(&self, start: Vec<u8>, end: Vec<u8>) -> KvIter {
        Box::new(self.0.range(start..end).map(owned))
    }

    fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.0.range(low..=high).next_back().map(owned).transpose()
    }

    /// Seals the memtable and hands it to the flush worker.
    fn flush_memtable(&self) -> Result<bool> {
        Ok(self.0.rotate_memtable()?)
    }
}

struct FjallBatch {
    batch: fjall::Batch,
    guard: Arc<Guard>,
}

impl Batch for FjallBatch {
    fn put(&mut self, table: &dyn Table, key: Vec<u8>, value: Vec<u8>) {
        self.batch.insert(&engine::own::<FjallTable>(table).0, key, value);
    }

    fn delete(&mut self, table: &dyn Table, key: Vec<u8>) {
        self.batch.remove(&engine::own::<FjallTable>(table).0, key);
    }

    /// Writes the batch to the journal buffer and the memtables; the
    /// journal reaches the disk later, through group commit.
    fn commit(self: Box<Self>) -> Result<()> {
        let FjallBatch { batch, guard } = *self;
        batch.commit().map_err(|e| engine_failed(&guard, e))
    }
}
