//! The PostgreSQL engine (`--store postgres://…`): partitions as rows of
//! one `partitions` table, their keys and values as rows of one `kv` table
//! (`migrations/`), in a schema of the caller's choosing.
//!
//! How it meets the contract on [`Engine`]:
//! - key order: keys are `bytea`, which PostgreSQL compares as `memcmp`,
//!   then by length;
//! - atomic batches: a batch is one SQL statement (its deletes and upserts,
//!   with later operations on a key replacing earlier ones), so one
//!   transaction;
//! - read-your-writes: a returned commit is committed, and every read is a
//!   new statement, which sees it, or a hit in the cache of the values this
//!   node wrote to record partitions ([`cache`]), written as commits start;
//! - durability: every connection sets `synchronous_commit = on`, so a
//!   returned commit is on the server's disk, and the engine has no journal;
//! - failures: a failed statement or a dropped connection is a passing
//!   error (the connection is made anew on next use); losing the connection
//!   that holds the schema's lock ([`lock`]) fails the store, as another
//!   node could then take the schema.
//!
//! The sync `postgres` client is only ever called on threads of the
//! engine's own ([`pool`]), so callers on async workers are safe.

mod cache;
mod cluster;
mod lock;
mod pool;
#[cfg(test)]
pub(crate) mod tests;
mod tls;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::{self, Batch, Engine, Journal, PartitionKind, Table};
use crate::guard::Guard;
use crate::{KvIter, RemoteInfo, Result, StoreError, StoreInfo};

use cache::RecordCache;
use pool::{Pool, Settings};

pub use cluster::{Leader, LeaderWatch};
pub use lock::Claim;

/// Connections per engine: reads and direct commits run in parallel on
/// them (submitted batches come from the one apply thread).
pub(crate) const DEFAULT_CONNECTIONS: usize = 4;

/// Rows read per statement by a range scan.
const PAGE: i64 = 1000;

pub(crate) struct PostgresEngine {
    pool: Arc<Pool>,
    settings: Arc<Settings>,
    guard: Arc<Guard>,
    schema: String,
    connections: usize,
    cache: Arc<RecordCache>,
    /// The last health probe and when it was made: health checks may come
    /// often (load balancers, `eddy bench`'s no-op), the database is asked
    /// at most once a second.
    probed: Mutex<Option<(Instant, RemoteInfo)>>,
    /// Held for the engine's life; released once the pool is shut down
    /// (`Drop`), so only when no connection of this node can write.
    _lock: lock::SchemaLock,
}

impl PostgresEngine {
    /// Tests: [`PostgresEngine::open_with`] the default pool.
    #[cfg(test)]
    pub(crate) fn open(url: &str, schema: &str, guard: Arc<Guard>) -> Result<PostgresEngine> {
        Self::open_with(url, schema, DEFAULT_CONNECTIONS, guard, Claim::default())
    }

    /// Connects to the database at `url` (a `postgres://` URL or key=value
    /// string) with `connections` pool connections, takes schema `schema`
    /// for this node alone, creating it and its tables if absent. Fails
    /// when another node holds the schema, or with `claim.wait` waits until
    /// it does not.
    pub(crate) fn open_with(
        url: &str,
        schema: &str,
        connections: usize,
        guard: Arc<Guard>,
        claim: Claim,
    ) -> Result<PostgresEngine> {
        let connections = connections.max(1);
        if schema.is_empty() {
            return Err(StoreError::Postgres("the PostgreSQL schema name is empty".into()));
        }
        let settings = Arc::new(Settings::new(url, schema)?);
        // Connections are made on first use, after the lock is taken.
        let pool = Arc::new(Pool::start(settings.clone(), connections)?);
        let lock = lock::SchemaLock::take(settings.clone(), schema, guard.clone(), pool.clone(), claim)?;
        Ok(PostgresEngine {
            pool,
            settings,
            guard,
            schema: schema.to_string(),
            connections,
            cache: Arc::new(RecordCache::new(cache::BUDGET)),
            probed: Mutex::new(None),
            _lock: lock,
        })
    }

    /// Asks the database for the schema's migration version, timed.
    fn probe(&self) -> RemoteInfo {
        let started = Instant::now();
        let version = self.pool.run(true, |client, _| {
            client.query_one("SELECT max(version)::int8 FROM refinery_schema_history", &[]).map(|row| row.get(0))
        });
        let latency_ms = started.elapsed().as_secs_f64() * 1e3;
        let (schema_version, latency_ms, error) = match version {
            Ok(v) => (v, Some(latency_ms), None),
            Err(e) => (None, None, Some(e.to_string())),
        };
        RemoteInfo { schema: self.schema.clone(), schema_version, latency_ms, error, connections: self.connections }
    }
}

impl Drop for PostgresEngine {
    /// Partitions share the pool, and may outlive the engine: they must not
    /// write once the schema's lock (dropped next) is released.
    fn drop(&mut self) {
        self.pool.shut_down();
    }
}

fn kind_code(kind: PartitionKind) -> i16 {
    match kind {
        PartitionKind::Records => 0,
        PartitionKind::Log => 1,
    }
}

impl Engine for PostgresEngine {
    fn info(&self) -> StoreInfo {
        let mut probed = self.probed.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = probed.as_ref().filter(|(at, _)| at.elapsed() < Duration::from_secs(1));
        let remote = match fresh {
            Some((_, info)) => info.clone(),
            None => {
                let info = self.probe();
                *probed = Some((Instant::now(), info.clone()));
                info
            }
        };
        StoreInfo { engine: "postgres", remote: Some(remote) }
    }

    fn open(&self, name: &str, kind: PartitionKind) -> Result<Arc<dyn Table>> {
        let owned = name.to_string();
        let kind = kind_code(kind);
        // Safe to run twice: the insert does nothing when the name exists.
        let id = self.pool.run(true, move |client, _| {
            let inserted = client.query_opt(
                "INSERT INTO partitions (name, kind) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&owned, &kind],
            )?;
            match inserted {
                Some(row) => Ok(row.get::<_, i64>(0)),
                None => Ok(client.query_one("SELECT id FROM partitions WHERE name = $1", &[&owned])?.get(0)),
            }
        })?;
        // Logs are read in ranges, never by key: only records are cached.
        let cache = (kind == kind_code(PartitionKind::Records)).then(|| self.cache.clone());
        Ok(Arc::new(PostgresTable { pool: self.pool.clone(), id, cache }))
    }

    /// The trait gives no way to report a failure here, and an empty list
    /// could make a service forget what it stored; so after a few tries a
    /// failure fails the store (health reports it, writes are refused).
    fn names(&self) -> Vec<String> {
        let mut last_error = None;
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
            }
            let listed = self.pool.run(true, |client, _| {
                Ok(client.query("SELECT name FROM partitions", &[])?.iter().map(|row| row.get(0)).collect())
            });
            match listed {
                Ok(names) => return names,
                Err(e) => last_error = Some(e),
            }
        }
        let e = last_error.expect("set on every failed try");
        self.guard.fail(format!("listing partitions in PostgreSQL failed: {e}"));
        Vec::new()
    }

    fn drop_partition(&self, name: &str) -> Result<()> {
        let owned = name.to_string();
        // One transaction: a failure before its commit changes nothing.
        let dropped = self.pool.run(true, move |client, _| {
            let mut tx = client.transaction()?;
            let mut dropped = None;
            if let Some(row) = tx.query_opt("SELECT id FROM partitions WHERE name = $1 FOR UPDATE", &[&owned])? {
                let id: i64 = row.get(0);
                tx.execute("DELETE FROM kv WHERE partition = $1", &[&id])?;
                tx.execute("DELETE FROM partitions WHERE id = $1", &[&id])?;
                dropped = Some(id);
            }
            tx.commit()?;
            Ok(dropped)
        })?;
        if let Some(id) = dropped {
            self.cache.forget_partition(id);
        }
        Ok(())
    }

    fn batch(&self) -> Box<dyn Batch> {
        Box::new(PostgresBatch {
            pool: self.pool.clone(),
            guard: self.guard.clone(),
            cache: self.cache.clone(),
            ops: Vec::new(),
        })
    }

    /// A returned commit is durable already.
    fn hand_to_os(&self) -> Result<()> {
        Ok(())
    }

    /// None: with `synchronous_commit = on` a returned commit is durable.
    fn journal(&self) -> Option<Box<dyn Journal>> {
        None
    }

    fn relay_token(&self) -> Option<&str> {
        self.settings.relay_token.get().map(String::as_str)
    }
}

struct PostgresTable {
    pool: Arc<Pool>,
    /// The partition's row in `partitions`.
    id: i64,
    /// For a record partition: what this node wrote to it recently.
    cache: Option<Arc<RecordCache>>,
}

/// The smallest key greater than every key starting with `prefix`, or None
/// when there is none (an empty prefix, or only 0xff bytes).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl Table for PostgresTable {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (id, key) = (self.id, key.to_vec());
        if let Some(value) = self.cache.as_ref().and_then(|cache| cache.get(&(id, key.clone()))) {
            return Ok(Some(value));
        }
        self.pool.run(true, move |client, prepared| {
            let statement =
                pool::Conn::statement(client, prepared, "SELECT value FROM kv WHERE partition = $1 AND key = $2")?;
            Ok(client.query_opt(&statement, &[&id, &key])?.map(|row| row.get(0)))
        })
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.len() < 2 {
            return keys.iter().map(|key| self.get(key)).collect();
        }
        let id = self.id;
        let mut found: std::collections::HashMap<Vec<u8>, Vec<u8>> = std::collections::HashMap::new();
        if let Some(cache) = &self.cache {
            found.extend(keys.iter().filter_map(|key| Some((key.clone(), cache.get(&(id, key.clone()))?))));
        }
        let wanted: Vec<Vec<u8>> = keys.iter().filter(|key| !found.contains_key(*key)).cloned().collect();
        if wanted.is_empty() {
            return Ok(keys.iter().map(|key| found.get(key).cloned()).collect());
        }
        let read: Vec<(Vec<u8>, Vec<u8>)> = self.pool.run(true, move |client, prepared| {
            let statement = pool::Conn::statement(
                client,
                prepared,
                "SELECT key, value FROM kv WHERE partition = $1 AND key = ANY($2::bytea[])",
            )?;
            Ok(client.query(&statement, &[&id, &wanted])?.iter().map(|row| (row.get(0), row.get(1))).collect())
        })?;
        found.extend(read);
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    fn scan_prefix(&self, prefix: Vec<u8>) -> KvIter {
        let end = prefix_end(&prefix);
        Box::new(Cursor { pool: self.pool.clone(), id: self.id, next: prefix, end, page: Vec::new(), done: false })
    }

    fn scan_range(&self, start: Vec<u8>, end: Vec<u8>) -> KvIter {
        Box::new(Cursor {
            pool: self.pool.clone(),
            id: self.id,
            next: start,
            end: Some(end),
            page: Vec::new(),
            done: false,
        })
    }

    fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let (id, low, high) = (self.id, low.to_vec(), high.to_vec());
        self.pool.run(true, move |client, prepared| {
            let statement = pool::Conn::statement(
                client,
                prepared,
                "SELECT key, value FROM kv WHERE partition = $1 AND key >= $2 AND key <= $3 ORDER BY key DESC LIMIT 1",
            )?;
            Ok(client.query_opt(&statement, &[&id, &low, &high])?.map(|row| (row.get(0), row.get(1))))
        })
    }

    /// PostgreSQL has no memtable of ours to flush.
    fn flush_memtable(&self) -> Result<bool> {
        Ok(false)
    }
}

/// A forward scan read a page at a time, each page a statement of its own
/// continuing after the last key read: a range can be a shard's whole
/// retention, and no statement or transaction stays open between pages.
struct Cursor {
    pool: Arc<Pool>,
    id: i64,
    /// The least key the next page may start at.
    next: Vec<u8>,
    /// Keys are below this; None: no bound.
    end: Option<Vec<u8>>,
    /// The current page, reversed: the next pair is last.
    page: Vec<(Vec<u8>, Vec<u8>)>,
    /// The last page was short (or failed): nothing more to read.
    done: bool,
}

impl Cursor {
    fn read_page(&mut self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (id, start, end) = (self.id, self.next.clone(), self.end.clone());
        self.pool.run(true, move |client, prepared| {
            let rows = match &end {
                Some(end) => {
                    let statement = pool::Conn::statement(
                        client,
                        prepared,
                        "SELECT key, value FROM kv WHERE partition = $1 AND key >= $2 AND key < $3 \
                         ORDER BY key LIMIT $4",
                    )?;
                    client.query(&statement, &[&id, &start, end, &PAGE])?
                }
                None => {
                    let statement = pool::Conn::statement(
                        client,
                        prepared,
                        "SELECT key, value FROM kv WHERE partition = $1 AND key >= $2 ORDER BY key LIMIT $3",
                    )?;
                    client.query(&statement, &[&id, &start, &PAGE])?
                }
            };
            Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
        })
    }
}

impl Iterator for Cursor {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() {
            if self.done || self.end.as_ref().is_some_and(|end| self.next >= *end) {
                return None;
            }
            match self.read_page() {
                Ok(page) => self.page = page,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            if (self.page.len() as i64) < PAGE {
                self.done = true;
            }
            let (last, _) = self.page.last()?;
            // The next page starts just after the last key read.
            self.next = last.clone();
            self.next.push(0);
            self.page.reverse();
        }
        self.page.pop().map(Ok)
    }
}

/// The batch's operations in order, sent at commit as one statement.
struct PostgresBatch {
    pool: Arc<Pool>,
    guard: Arc<Guard>,
    cache: Arc<RecordCache>,
    ops: Vec<Op>,
}

/// A put (with its value) or a delete of a key of partition `partition`;
/// `cached`: the partition's values are kept in the [`RecordCache`].
struct Op {
    partition: i64,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    cached: bool,
}

/// Deletes and upserts of one batch in one statement, so one transaction
/// and one round trip. Data-modifying CTEs see one snapshot, so the two
/// must touch different keys: the batch is reduced to its last operation
/// on each key first, which leaves what applying it in order would.
const COMMIT: &str = "WITH deleted AS ( \
         DELETE FROM kv USING unnest($1::int8[], $2::bytea[]) AS gone (partition, key) \
         WHERE kv.partition = gone.partition AND kv.key = gone.key) \
     INSERT INTO kv (partition, key, value) SELECT * FROM unnest($3::int8[], $4::bytea[], $5::bytea[]) \
     ON CONFLICT (partition, key) DO UPDATE SET value = excluded.value";

/// A batch reduced to its last operation on each key, in key order (so
/// concurrent batches lock shared rows in one order and cannot deadlock),
/// as the arrays [`COMMIT`] takes.
#[derive(Default)]
struct Changes {
    gone_partitions: Vec<i64>,
    gone_keys: Vec<Vec<u8>>,
    put_partitions: Vec<i64>,
    put_keys: Vec<Vec<u8>>,
    put_values: Vec<Vec<u8>>,
    /// Per put: whether its partition is cached.
    put_cached: Vec<bool>,
}

impl Changes {
    fn of(ops: Vec<Op>) -> Changes {
        let mut last: BTreeMap<cache::RowKey, (Option<Vec<u8>>, bool)> = BTreeMap::new();
        for op in ops {
            last.insert((op.partition, op.key), (op.value, op.cached));
        }
        let mut changes = Changes::default();
        for ((partition, key), (value, cached)) in last {
            match value {
                Some(value) => {
                    changes.put_partitions.push(partition);
                    changes.put_keys.push(key);
                    changes.put_values.push(value);
                    changes.put_cached.push(cached);
                }
                None => {
                    changes.gone_partitions.push(partition);
                    changes.gone_keys.push(key);
                }
            }
        }
        changes
    }

    /// Writes the changes to `cache`, as the commit starts.
    fn cache(&self, cache: &RecordCache) {
        let puts = (0..self.put_keys.len())
            .filter(|i| self.put_cached[*i])
            .map(|i| ((self.put_partitions[i], self.put_keys[i].clone()), &self.put_values[i]));
        let deletes = self.gone_partitions.iter().copied().zip(self.gone_keys.iter().cloned());
        cache.write(puts, deletes);
    }

    fn execute(
        &self,
        client: &mut postgres::Client,
        prepared: &mut pool::Prepared,
    ) -> std::result::Result<u64, postgres::Error> {
        let statement = pool::Conn::statement(client, prepared, COMMIT)?;
        client.execute(
            &statement,
            &[&self.gone_partitions, &self.gone_keys, &self.put_partitions, &self.put_keys, &self.put_values],
        )
    }
}

impl Batch for PostgresBatch {
    fn put(&mut self, table: &dyn Table, key: Vec<u8>, value: Vec<u8>) {
        let table = engine::own::<PostgresTable>(table);
        self.ops.push(Op { partition: table.id, key, value: Some(value), cached: table.cache.is_some() });
    }

    fn delete(&mut self, table: &dyn Table, key: Vec<u8>) {
        self.ops.push(Op { partition: engine::own::<PostgresTable>(table).id, key, value: None, cached: false });
    }

    /// Not retried after a broken connection: the commit may have happened.
    /// A failed commit fails the store: the services changed their memory
    /// before committing, so memory and database may now differ (the commit
    /// may even have happened, its answer lost); a cluster node then drops
    /// its memory and loads the database's view again (`eddy::cluster`).
    fn commit(self: Box<Self>) -> Result<()> {
        if self.ops.is_empty() {
            return Ok(());
        }
        let changes = Changes::of(self.ops);
        changes.cache(&self.cache);
        let committed = self.pool.run(false, move |client, prepared| changes.execute(client, prepared).map(drop));
        if let Err(e) = &committed {
            self.cache.clear();
            self.guard.fail(format!("a commit to PostgreSQL failed or its outcome is unknown ({e}); what this node holds in memory may differ from the database"));
        }
        committed
    }

    /// A commit waits on the network and the server's disk, so it always
    /// goes to a thread that may block (the store's apply thread).
    fn commit_quick(self: Box<Self>) -> std::result::Result<Result<()>, Box<dyn Batch>> {
        Err(self)
    }

    fn absorb(&mut self, later: Box<dyn Batch>) -> std::result::Result<(), Box<dyn Batch>> {
        let later: Box<dyn std::any::Any> = later;
        let later = later.downcast::<PostgresBatch>().expect("a batch is only merged with one of its own engine");
        debug_assert!(Arc::ptr_eq(&self.guard, &later.guard));
        self.ops.extend(later.ops);
        Ok(())
    }
}
