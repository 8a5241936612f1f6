//! One eddy node per schema: the node holds a session advisory lock, keyed
//! by the schema's name, on a connection of its own for as long as its
//! engine lives. Services keep state in memory beside what they store (an
//! SQS queue's in-flight messages), so a second node writing the same
//! tables would corrupt both; until nodes coordinate, the second is refused.
//!
//! The same connection creates the schema and applies the migrations, under
//! the lock, so two nodes starting at once cannot both migrate.

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;

use super::pool::{error, Settings};
use crate::guard::Guard;
use crate::{Result, StoreError};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How often the lock's connection is checked, and how long a check may take.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(5);
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The advisory lock key for `schema`: 64-bit FNV-1a of a tagged name, so
/// other applications' keys are unlikely to collide with it.
pub(super) fn lock_key(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"eddy-schema:".iter().chain(schema.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// The thread holding the lock; dropping this ends the thread, which closes
/// the connection and so releases the lock.
pub(super) struct SchemaLock {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SchemaLock {
    /// Takes the lock on `schema`, creates the schema if absent and brings
    /// its tables up to the newest migration. Fails when another node holds
    /// the lock. Losing the lock's connection later fails `guard`: another
    /// node could then take the schema, so this one must stop writing.
    pub(super) fn take(settings: Arc<Settings>, schema: &str, guard: Arc<Guard>) -> Result<SchemaLock> {
        let (ready, readiness) = mpsc::channel::<Result<()>>();
        let (stop, stopped) = mpsc::channel::<()>();
        let schema = schema.to_string();
        let thread = std::thread::Builder::new()
            .name("eddy-pg-lock".into())
            .spawn(move || {
                let mut client = match lock_and_migrate(&settings, &schema) {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                hold(&mut client, &schema, &stopped, &guard);
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

fn lock_and_migrate(settings: &Settings, schema: &str) -> Result<Client> {
    let mut client = settings.connect_for_lock().map_err(|e| connect_error(settings, e))?;
    let key = lock_key(schema);
    let taken: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]).map_err(error)?.get(0);
    if !taken {
        return Err(StoreError::Postgres(format!(
            "another eddy node is using PostgreSQL schema {schema} (it holds advisory lock {key}); \
             several nodes per schema are not supported yet"
        )));
    }
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
fn hold(client: &mut Client, schema: &str, stop: &mpsc::Receiver<()>, guard: &Guard) {
    loop {
        match stop.recv_timeout(CHECK_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = client.is_valid(CHECK_TIMEOUT) {
                    guard.fail(format!(
                        "lost the connection holding PostgreSQL schema {schema}'s lock ({}); \
                         another node could take the schema, so writes stop until eddy restarts",
                        error(e)
                    ));
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
