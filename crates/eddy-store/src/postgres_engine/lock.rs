//! Who writes a schema. One node at a time holds a session advisory lock
//! keyed by the schema's name (the *schema lock*), on a connection of its
//! own for as long as its engine lives. Services keep state in memory
//! beside what they store (an SQS queue's in-flight messages), so only the
//! holder may write: in a cluster the others wait for the lock and forward
//! requests to the holder, whose address it writes in `cluster_leader`.
//!
//! Holding the lock is not enough to keep a node that lost it from
//! writing: it learns of the loss only at its next check. So every pool
//! connection also holds a shared *writers lock* and, on connecting,
//! checks that its node's lock session still holds the schema lock
//! ([`Fence`]). A node that takes the schema lock takes the writers lock
//! exclusively once before it reads anything: that waits until every
//! connection of the node before it has closed, and a connection the old
//! node makes afterwards finds the schema lock held by another session.
//!
//! The same connection creates the schema and applies the migrations, under
//! the lock, so two nodes starting at once cannot both migrate.

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;

use super::pool::{error, Pool, Settings};
use crate::guard::Guard;
use crate::{Result, StoreError};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How often the lock's connection is checked, and how long a check may
/// take: a node that lost the lock stops writing within about this long.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(1);
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between tries to reach the server while waiting for the lock.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The schema lock's key for `schema`: 64-bit FNV-1a of a tagged name, so
/// other applications' keys are unlikely to collide with it.
pub(super) fn lock_key(schema: &str) -> i64 {
    fnv("eddy-schema:", schema)
}

/// The writers lock's key for `schema`.
fn writers_key(schema: &str) -> i64 {
    fnv("eddy-writers:", schema)
}

fn fnv(tag: &str, schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in tag.as_bytes().iter().chain(schema.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// `pg_locks` shows a bigint advisory key as two oids, high half first.
pub(super) fn oids(key: i64) -> (u32, u32) {
    ((key as u64 >> 32) as u32, key as u32)
}

/// The `pg_locks` row of a granted session-level advisory lock on a bigint
/// key held exclusively; with `classid` and `objid` ([`oids`]) and `pid`
/// it says who holds the schema lock (here and in `cluster.rs`).
macro_rules! held_exclusive_advisory_lock {
    () => {
        "locktype = 'advisory' AND granted AND mode = 'ExclusiveLock' AND objsubid = 1"
    };
}
pub(super) use held_exclusive_advisory_lock;

/// Whether the session `pid` holds the schema lock `key`: one `pg_locks` row.
const HOLDS_SCHEMA_LOCK: &str = concat!(
    "EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE ",
    held_exclusive_advisory_lock!(),
    " AND classid = $2 AND objid = $3 AND pid = $4)"
);

/// What a pool connection proves before it may write: its node's lock
/// session (`pid`) holds the schema lock, and the connection holds the
/// writers lock shared, so a node taking the schema over waits for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fence {
    /// The node's lock session.
    pub(super) pid: i32,
    schema_lock: i64,
    writers: i64,
}

impl Fence {
    /// Takes the writers lock shared, then checks the schema lock; refuses
    /// (the caller drops the connection) when another node holds the schema.
    pub(super) fn admit(&self, client: &mut Client) -> Result<()> {
        let (high, low) = oids(self.schema_lock);
        let sql = format!("SELECT pg_try_advisory_lock_shared($1) AND {HOLDS_SCHEMA_LOCK}");
        let admitted: bool = client.query_one(&sql, &[&self.writers, &high, &low, &self.pid]).map_err(error)?.get(0);
        if admitted {
            Ok(())
        } else {
            Err(StoreError::Postgres(
                "this node no longer holds the schema's lock (another node took the schema over)".into(),
            ))
        }
    }
}

/// How a node asks for the schema.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    /// Wait for the schema lock (a standby node) instead of failing when
    /// another node holds it.
    pub wait: bool,
    /// Written to `cluster_leader` once the lock is taken: where other nodes
    /// reach this one.
    pub advertise: Option<String>,
}

/// The thread holding the lock; dropping this ends the thread, which closes
/// the connection and so releases the lock.
pub(super) struct SchemaLock {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SchemaLock {
    /// Takes the lock on `schema` (waiting for it with `claim.wait`), creates
    /// the schema if absent and brings its tables up to the newest
    /// migration. Losing the lock's connection later fails `guard` and shuts
    /// `pool` down: another node may take the schema, so this one must stop
    /// writing at once.
    pub(super) fn take(
        settings: Arc<Settings>,
        schema: &str,
        guard: Arc<Guard>,
        pool: Arc<Pool>,
        claim: Claim,
    ) -> Result<SchemaLock> {
        let (ready, readiness) = mpsc::channel::<Result<()>>();
        let (stop, stopped) = mpsc::channel::<()>();
        let schema = schema.to_string();
        let thread = std::thread::Builder::new()
            .name("eddy-pg-lock".into())
            .spawn(move || {
                let mut client = match lock_and_migrate(&settings, &schema, &claim) {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                hold(&mut client, &schema, &stopped, &guard, &pool);
            })
            .map_err(|e| StoreError::Postgres(format!("starting the schema lock thread: {e}")))?;
        let lock = SchemaLock { stop: Some(stop), thread: Some(thread) };
        match readiness.recv() {
            Ok(Ok(())) => Ok(lock),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StoreError::Postgres("the schema lock thread stopped".into())),
        }
    }
}

impl Drop for SchemaLock {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connects and takes the schema lock; with `claim.wait`, waits for it and
/// rides out an unreachable server, trying again every second.
fn lock_and_migrate(settings: &Settings, schema: &str, claim: &Claim) -> Result<Client> {
    let mut logged = None;
    loop {
        match try_lock_and_migrate(settings, schema, claim) {
            Ok(client) => return Ok(client),
            Err(e) if claim.wait => {
                let text = e.to_string();
                if logged.as_ref() != Some(&text) {
                    tracing::warn!(schema, error = %text, "waiting for PostgreSQL to take the schema's lock; retrying every second");
                    logged = Some(text);
                }
                std::thread::sleep(RETRY_EVERY);
            }
            Err(e) => return Err(e),
        }
    }
}

fn try_lock_and_migrate(settings: &Settings, schema: &str, claim: &Claim) -> Result<Client> {
    let mut client = settings.connect_for_lock().map_err(|e| connect_error(settings, e))?;
    let key = lock_key(schema);
    if claim.wait {
        // Blocks while another node holds the lock; returns the moment its
        // session ends (a killed node's connection is closed by its kernel).
        client.execute("SELECT pg_advisory_lock($1)", &[&key]).map_err(error)?;
    } else {
        let taken: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]).map_err(error)?.get(0);
        if !taken {
            return Err(StoreError::Postgres(format!(
                "another eddy node is using PostgreSQL schema {schema} (it holds advisory lock {key}); \
                 open it as a cluster node (every `eddy serve --store postgres://…` is one) to stand by for it"
            )));
        }
    }
    // Wait for the previous holder's connections to close (see the module
    // comment); at once when there are none.
    let writers = writers_key(schema);
    client
        .execute("SELECT pg_advisory_lock($1)", &[&writers])
        .and_then(|_| client.execute("SELECT pg_advisory_unlock($1)", &[&writers]))
        .map_err(error)?;
    client
        .batch_execute(&format!(
            "SET client_min_messages TO warning; CREATE SCHEMA IF NOT EXISTS {}; {}",
            settings.schema,
            settings.session_setup()
        ))
        .map_err(error)?;
    let report = embedded::migrations::runner()
        .run(&mut client)
        .map_err(|e| StoreError::Postgres(format!("migrating PostgreSQL schema {schema}: {e}")))?;
    let applied: Vec<String> = report.applied_migrations().iter().map(|m| m.to_string()).collect();
    if !applied.is_empty() {
        tracing::info!(schema, migrations = ?applied, "PostgreSQL schema migrated");
    }
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).map_err(error)?.get(0);
    if let Some(url) = &claim.advertise {
        // A fresh secret per leadership: a node that stood down cannot
        // vouch for relayed requests any more.
        let token: String = client
            .query_one(
                "INSERT INTO cluster_leader (id, url, pid, relay_token) VALUES (1, $1, $2, gen_random_uuid()::text) \
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, pid = excluded.pid, since = now(), \
                 relay_token = excluded.relay_token RETURNING relay_token",
                &[url, &pid],
            )
            .map_err(error)?
            .get(0);
        let _ = settings.relay_token.set(token);
    }
    let _ = settings.fence.set(Fence { pid, schema_lock: key, writers });
    Ok(client)
}

/// The error of a failed connection, naming the server (without password).
pub(super) fn connect_error(settings: &Settings, e: postgres::Error) -> StoreError {
    let hosts: Vec<String> = settings
        .config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let db = settings.config.get_dbname().unwrap_or("(default)");
    match error(e) {
        StoreError::Postgres(detail) => {
            StoreError::Postgres(format!("connecting to PostgreSQL at {} (database {db}): {detail}", hosts.join(",")))
        }
        other => other,
    }
}

/// Holds the lock until told to stop, checking that its connection lives.
fn hold(client: &mut Client, schema: &str, stop: &mpsc::Receiver<()>, guard: &Guard, pool: &Pool) {
    loop {
        match stop.recv_timeout(CHECK_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = client.is_valid(CHECK_TIMEOUT) {
                    guard.fail(format!(
                        "lost the connection holding PostgreSQL schema {schema}'s lock ({}); \
                         another node may take the schema, so this one stops writing",
                        error(e)
                    ));
                    // Closes the pool's connections, which frees the
                    // writers lock for the node taking over.
                    pool.shut_down();
                    // Still answer the stop when the engine is dropped.
                    let _ = stop.recv();
                    return;
                }
            }
            // Stopped (the sender is dropped) or told to. The lock goes with
            // the session, but the server may end that a little after the
            // connection closes: unlocking first frees the schema at once
            // for whoever opens it next.
            _ => {
                let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&lock_key(schema)]);
                return;
            }
        }
    }
}
