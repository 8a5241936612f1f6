//! The disk engine: fjall (an LSM tree: journal, memtables, SSTables), one
//! fjall partition per store partition, every batch one fjall batch.
//!
//! fjall's journal is persisted by eddy, not on each commit
//! (`manual_journal_persist`): group commit drives it through [`journal`].

mod gate;
mod gc;
mod journal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::{AbstractTree, Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

use crate::engine::{self, Batch, Engine, Journal, PartitionKind, Table};
use crate::guard::Guard;
use crate::{KvIter, Result, StoreError};

/// Memtable size of log partitions: a shard's unflushed tail in memory.
const LOG_MEMTABLE_BYTES: u32 = 4 * 1024 * 1024;

/// Memtable size of records partitions: fjall's default.
const RECORDS_MEMTABLE_BYTES: u32 = 16 * 1024 * 1024;

/// Write buffer (all memtables together) past which fjall stalls writers.
const WRITE_BUFFER_BYTES: u64 = 64 * 1024 * 1024;

/// Level-0 runs at which fjall starts to stall writers.
const L0_STALL_RUNS: usize = 20;

/// Room a quick commit leaves below each limit, for the bytes fjall counts
/// beyond keys and values.
const QUICK_HEADROOM: u64 = 256 * 1024;

/// What fjall counts per item beyond its key and value, rounded up.
const ITEM_OVERHEAD: u64 = 64;

pub(crate) struct FjallEngine {
    keyspace: Keyspace,
    /// The data directory.
    dir: PathBuf,
    /// Where a poisoned engine is reported (see [`engine_failed`]).
    guard: Arc<Guard>,
    /// Compacts deletes away in the records partitions.
    gc: Arc<gc::Collector>,
    /// Keeps quick commits apart from those that may block (`gate.rs`).
    gate: Arc<gate::Gate>,
}

impl FjallEngine {
    /// Opens (or creates) the engine's files in `dir`.
    pub(crate) fn open(dir: &Path, max_open_files: usize, guard: Arc<Guard>) -> Result<FjallEngine> {
        let keyspace = config(dir).max_open_files(max_open_files).manual_journal_persist(true).open()?;
        let gate = Arc::default();
        Ok(FjallEngine { keyspace, dir: dir.to_path_buf(), guard, gc: gc::Collector::start(), gate })
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
    fn info(&self) -> crate::StoreInfo {
        crate::StoreInfo { engine: "fjall", remote: None }
    }

    fn open(&self, name: &str, kind: PartitionKind) -> Result<Arc<dyn Table>> {
        let (handle, memtable) = match kind {
            PartitionKind::Records => {
                let handle = self.open_handle(name, metadata_options())?;
                self.gc.watch(name, &handle);
                (handle, RECORDS_MEMTABLE_BYTES)
            }
            // Keys only grow, so flushed tables never overlap and compaction
            // moves them instead of rewriting them; small memtables keep
            // retained data on disk.
            PartitionKind::Log => {
                let options = PartitionCreateOptions::default().max_memtable_size(LOG_MEMTABLE_BYTES);
                (self.open_handle(name, options)?, LOG_MEMTABLE_BYTES)
            }
        };
        Ok(Arc::new(FjallTable { handle, memtable, gate: self.gate.clone() }))
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
        Box::new(FjallBatch {
            batch: self.keyspace.batch(),
            keyspace: self.keyspace.clone(),
            touched: Vec::new(),
            bytes: 0,
            gate: self.gate.clone(),
            guard: self.guard.clone(),
        })
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
    PartitionCreateOptions::default()
        .max_memtable_size(RECORDS_MEMTABLE_BYTES)
        .compaction_strategy(fjall::compaction::Strategy::Leveled(leveled))
}

fn config(dir: &Path) -> Config {
    // Small caches and few workers keep the idle footprint low; the hot
    // indexes live in eddy-core's memory anyway.
    Config::new(dir)
        .cache_size(8 * 1024 * 1024)
        .max_write_buffer_size(WRITE_BUFFER_BYTES)
        .flush_workers(1)
        .compaction_workers(1)
}

struct FjallTable {
    handle: PartitionHandle,
    /// The memtable size this partition rotates at.
    memtable: u32,
    gate: Arc<gate::Gate>,
}

/// fjall's owned key-value pair as the store's.
fn owned(kv: fjall::Result<fjall::KvPair>) -> Result<(Vec<u8>, Vec<u8>)> {
    let (k, v) = kv?;
    Ok((k.to_vec(), v.to_vec()))
}

impl Table for FjallTable {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.handle.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: Vec<u8>) -> KvIter {
        Box::new(self.handle.prefix(prefix).map(owned))
    }

    fn scan_range(&self, start: Vec<u8>, end: Vec<u8>) -> KvIter {
        Box::new(self.handle.range(start..end).map(owned))
    }

    fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.handle.range(low..=high).next_back().map(owned).transpose()
    }

    /// Seals the memtable and hands it to the flush worker. The journal is
    /// rotated (and fsynced) under the journal lock: never beside a quick commit.
    fn flush_memtable(&self) -> Result<bool> {
        let _alone = self.gate.alone();
        Ok(self.handle.rotate_memtable()?)
    }
}

struct FjallBatch {
    batch: fjall::Batch,
    keyspace: Keyspace,
    /// The partitions written, each once, and the size each rotates at.
    touched: Vec<(PartitionHandle, u32)>,
    /// What the batch adds to the memtables, as fjall counts it (about).
    bytes: u64,
    gate: Arc<gate::Gate>,
    guard: Arc<Guard>,
}

impl FjallBatch {
    fn touch(&mut self, table: &FjallTable, bytes: usize) -> PartitionHandle {
        self.bytes += bytes as u64 + ITEM_OVERHEAD;
        if !self.touched.iter().any(|(h, _)| h.name == table.handle.name) {
            self.touched.push((table.handle.clone(), table.memtable));
        }
        table.handle.clone()
    }

    fn apply(self) -> Result<()> {
        let FjallBatch { batch, guard, .. } = self;
        batch.commit().map_err(|e| engine_failed(&guard, e))
    }

    /// fjall blocks in a commit only after it has applied it: the commit
    /// that takes a memtable past its size rotates it (and may then wait
    /// for journals to be flushed), and any commit sleeps while level 0 or
    /// the write buffer is near its limit. None of that can happen while
    /// every touched memtable, and the write buffer, stay under their
    /// limits with `running` bytes more. fjall's monitor thread also
    /// rotates memtables (holding the journal lock through an fsync) once
    /// the write buffer passes half its limit: quick commits stop there.
    fn cannot_block(&self, running: u64) -> bool {
        let room = running + QUICK_HEADROOM;
        self.keyspace.write_buffer_size() + room < WRITE_BUFFER_BYTES / 2
            && self.touched.iter().all(|(handle, memtable)| {
                u64::from(handle.tree.active_memtable_size()) + room < u64::from(*memtable)
                    && handle.tree.l0_run_count() + 2 < L0_STALL_RUNS
            })
    }
}

impl Batch for FjallBatch {
    fn put(&mut self, table: &dyn Table, key: Vec<u8>, value: Vec<u8>) {
        let handle = self.touch(engine::own::<FjallTable>(table), key.len() + value.len());
        self.batch.insert(&handle, key, value);
    }

    fn delete(&mut self, table: &dyn Table, key: Vec<u8>) {
        let handle = self.touch(engine::own::<FjallTable>(table), key.len());
        self.batch.remove(&handle, key);
    }

    /// Writes the batch to the journal buffer and the memtables; the
    /// journal reaches the disk later, through group commit.
    fn commit(self: Box<Self>) -> Result<()> {
        let gate = self.gate.clone();
        let quick = gate.try_quick(self.bytes, |running| self.cannot_block(running));
        let _alone = quick.is_none().then(|| gate.alone());
        let applied = self.apply();
        drop(quick);
        applied
    }

    fn commit_quick(self: Box<Self>) -> std::result::Result<Result<()>, Box<dyn Batch>> {
        let gate = self.gate.clone();
        let Some(quick) = gate.try_quick(self.bytes, |running| self.cannot_block(running)) else {
            return Err(self);
        };
        let applied = self.apply();
        drop(quick);
        Ok(applied)
    }
}
