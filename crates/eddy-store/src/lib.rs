//! Durable bytes for eddy: named partitions of ordered keys, atomic write
//! batches, and group commit. This crate knows nothing of AWS.
//!
//! Writes are *applied* at once (readers see them immediately, in the order
//! callers committed them) and become *durable* later, when the sync thread
//! fsyncs the journal. A caller acknowledges a change to its client only after
//! [`Store::durable`] resolves for the batch's [`Ticket`]; one fsync covers
//! every batch committed before it, which is where throughput comes from.
//! A batch is applied either by [`WriteBatch::commit`], on the caller's
//! thread, or by [`WriteBatch::submit`], on the store's apply thread in
//! submission order: for callers under a lock that orders their changes,
//! which must not be held while the engine stalls (`apply.rs`).
//!
//! The storage engine sits behind a narrow boundary (`engine.rs`: open and
//! drop partitions, point and range reads, atomic batches, a journal to make
//! durable), implemented by fjall on disk and by ordered maps in memory. Key
//! families, group commit, tickets and the health guard are written once,
//! above it. The contract a further engine (PostgreSQL) must meet is on the
//! `Engine` trait, and `engine_contract.rs` checks it.

mod apply;
mod batch;
mod engine;
mod fjall_engine;
mod guard;
mod memory;
mod partition;
mod postgres_engine;
mod sync;

use std::path::Path;
use std::sync::Arc;

use engine::{Engine, PartitionKind};
use fjall_engine::FjallEngine;
use memory::MemoryEngine;

pub use apply::Applied;
#[cfg(any(test, feature = "test-util"))]
pub use apply::ApplyPause;
pub use batch::WriteBatch;
pub use guard::StoreHealth;
pub use partition::Partition;
pub use postgres_engine::{Claim, Leader, LeaderWatch};
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
    /// From the PostgreSQL engine: a failed statement or connection, or a
    /// schema another node holds.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("durability failed: {0}")]
    Sync(String),
    #[error("corrupt record in {partition}: {detail}")]
    Corrupt { partition: String, detail: String },
    /// Refused before reaching the engine: see [`Store::health`].
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// The engine behind a store, for health reports.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreInfo {
    /// `fjall`, `postgres` or `memory`.
    pub engine: &'static str,
    /// PostgreSQL only: where the store lives and how it answers.
    pub remote: Option<RemoteInfo>,
}

/// A store held by a database server (PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteInfo {
    pub schema: String,
    /// The newest migration applied to the schema; None when unreachable.
    pub schema_version: Option<i64>,
    /// Round trip of the version query; None when unreachable.
    pub latency_ms: Option<f64>,
    /// Why the server could not be asked, if it could not.
    pub error: Option<String>,
    pub connections: usize,
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
    /// PostgreSQL only: connections the engine keeps (reads and direct
    /// commits run on them in parallel).
    pub pool_size: usize,
}

impl StoreOptions {
    pub fn new(durability: Durability) -> StoreOptions {
        StoreOptions {
            durability,
            min_free_bytes: 64 << 20,
            max_open_files: 512,
            pool_size: postgres_engine::DEFAULT_CONNECTIONS,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Key-value pairs in key order.
pub type KvIter = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>>>;

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    engine: Arc<dyn Engine>,
    sync: Arc<sync::GroupCommit>,
    guard: Arc<guard::Guard>,
    applier: Arc<apply::Applier>,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, durability: Durability) -> Result<Store> {
        Store::open_with(dir, StoreOptions::new(durability))
    }

    /// Opens (or creates) the store in `dir` on the disk engine.
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store> {
        let guard = guard::Guard::new(options.min_free_bytes);
        let engine = FjallEngine::open(dir, options.max_open_files, guard.clone())?;
        guard.watch_space(dir);
        Ok(Store::start(Arc::new(engine), options.durability, guard))
    }

    /// Opens the store in PostgreSQL schema `schema` of the database at
    /// `url` (`postgres://user@host:port/db`), creating the schema and its
    /// tables if absent. One node per schema: fails when another holds it.
    /// A returned commit is durable there, so `options.durability` and the
    /// disk options do not apply.
    pub fn open_postgres(url: &str, schema: &str, options: StoreOptions) -> Result<Store> {
        Store::open_postgres_node(url, schema, options, Claim::default())
    }

    /// [`Store::open_postgres`] for a node of a cluster: with `claim.wait`,
    /// blocks until the node holding the schema is gone, and advertises
    /// `claim.advertise` as the leader's address once the schema is ours.
    pub fn open_postgres_node(url: &str, schema: &str, options: StoreOptions, claim: Claim) -> Result<Store> {
        let guard = guard::Guard::new(0);
        let engine = postgres_engine::PostgresEngine::open_with(url, schema, options.pool_size, guard.clone(), claim)?;
        Ok(Store::start(Arc::new(engine), Durability::None, guard))
    }

    /// A store that lives in memory only and is gone when dropped.
    pub fn in_memory() -> Store {
        Store::start(Arc::new(MemoryEngine::default()), Durability::None, guard::Guard::new(0))
    }

    /// The store over `engine`, with group commit driving its journal.
    fn start(engine: Arc<dyn Engine>, durability: Durability, guard: Arc<guard::Guard>) -> Store {
        let sync = sync::GroupCommit::start(engine.journal(), durability, guard.clone());
        let applier = apply::Applier::start(guard.clone());
        Store { engine, sync, guard, applier }
    }

    /// When this node leads a cluster: the secret its standbys relay
    /// requests with (they then carry the client's address).
    pub fn relay_token(&self) -> Option<&str> {
        self.engine.relay_token()
    }

    /// Whether writes are accepted, and why not.
    pub fn health(&self) -> StoreHealth {
        self.guard.health()
    }

    /// The engine, and for PostgreSQL its schema, version and latency
    /// (asked at most once a second).
    pub fn info(&self) -> StoreInfo {
        self.engine.info()
    }

    /// Tests: refuses writes from now on, as a nearly full disk does, or
    /// accepts them again, so a test can show what a failed save leaves.
    #[cfg(any(test, feature = "test-util"))]
    pub fn refuse_writes(&self, refuse: bool) {
        self.guard.refuse_for_test(refuse);
    }

    /// Tests: holds every batch submitted from now on (not those committed
    /// directly) until the returned pause is dropped, as a write stall would.
    #[cfg(any(test, feature = "test-util"))]
    pub fn pause_applies(&self) -> ApplyPause {
        self.applier.pause()
    }

    /// A partition for records that are written, rewritten and deleted
    /// (queues, messages, jobs): the engine keeps their deletes from piling up.
    pub fn partition(&self, name: &str) -> Result<Partition> {
        Ok(Partition::new(self.engine.open(name, PartitionKind::Records)?))
    }

    /// A partition for one append-only log (a Kinesis shard): the engine
    /// keeps its retained data on disk rather than in memory.
    pub fn log_partition(&self, name: &str) -> Result<Partition> {
        Ok(Partition::new(self.engine.open(name, PartitionKind::Log)?))
    }

    /// Names of the partitions starting with `prefix`, sorted.
    pub fn partition_names(&self, prefix: &str) -> Vec<String> {
        let mut names = self.engine.names();
        names.retain(|n| n.starts_with(prefix));
        names.sort();
        names
    }

    /// Deletes a partition and everything in it, durably; a no-op when absent.
    pub fn drop_partition(&self, name: &str) -> Result<()> {
        self.engine.drop_partition(name)
    }

    pub fn batch(&self) -> WriteBatch {
        WriteBatch::new(self.engine.batch(), self.sync.clone(), self.guard.clone(), self.applier.clone())
    }

    /// Starts making `ticket` durable without waiting for the fsync: for
    /// changes that need not hold up a response. The journal is handed to the
    /// OS at once, so the change survives a crash of this process; only a
    /// machine crash before the fsync (milliseconds later) can lose it.
    pub fn make_durable_soon(&self, ticket: Ticket) -> Result<()> {
        self.engine.hand_to_os()?;
        self.sync.request(ticket);
        Ok(())
    }

    /// Resolves once everything committed so far is durable (for shutdown).
    pub async fn sync_all(&self) -> Result<()> {
        self.sync.wait(self.sync.current()).await
    }

    /// Resolves once everything committed up to `ticket` is durable.
    ///
    /// Under [`Durability::Flush`] durable means handed to the OS, and the
    /// caller's thread does that itself: a write of the journal's buffer
    /// into the page cache, everything committed so far included. Waking
    /// the sync thread and being woken by it cost ten microseconds of CPU
    /// per request, as much as the rest of a SendMessage.
    pub async fn durable(&self, ticket: Ticket) -> Result<()> {
        if self.sync.durability() == Durability::Flush {
            return self.engine.hand_to_os();
        }
        self.sync.wait(ticket).await
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
mod engine_contract;
#[cfg(test)]
mod tests;
