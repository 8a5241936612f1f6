//! Where a standby node forwards requests: the leader of the schema, as the
//! node holding the schema lock wrote it in `cluster_leader` ([`super::lock`]),
//! read again every [`LeaderWatch::EVERY`] on a connection of the watch's own.

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use postgres::Client;

use super::lock::{held_exclusive_advisory_lock, lock_key, oids};
use super::pool::{error, Settings};
use crate::Result;

/// The leader row, only while its session still holds the schema lock: a
/// row left by a node that died names no one.
const LEADER: &str = concat!(
    "SELECT l.url, l.relay_token FROM cluster_leader l WHERE l.id = 1 AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks k WHERE ",
    held_exclusive_advisory_lock!(),
    " AND k.classid = $1 AND k.objid = $2 AND k.pid = l.pid)"
);

/// The current leader, kept fresh by a thread until dropped.
pub struct LeaderWatch {
    current: Arc<Mutex<Option<Leader>>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LeaderWatch {
    /// How often the leader is read.
    pub const EVERY: Duration = Duration::from_millis(200);

    /// Watches schema `schema` of the database at `url`. Unreachable
    /// servers and schemas not yet created read as no leader.
    pub fn start(url: &str, schema: &str) -> Result<LeaderWatch> {
        let settings = Settings::new(url, schema)?;
        let current = Arc::new(Mutex::new(None));
        let (stop, stopped) = mpsc::channel::<()>();
        let (shared, schema) = (current.clone(), schema.to_string());
        let thread = std::thread::Builder::new()
            .name("eddy-pg-leader".into())
            .spawn(move || watch(&settings, &schema, &shared, &stopped))
            .map_err(|e| crate::StoreError::Postgres(format!("starting the leader watch: {e}")))?;
        Ok(LeaderWatch { current, stop: Some(stop), thread: Some(thread) })
    }

    /// The leader, as last read.
    pub fn leader(&self) -> Option<Leader> {
        self.current.lock().clone()
    }
}

/// The node leading a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// Its advertised URL.
    pub url: String,
    /// The secret it trusts relayed requests by (`cluster_leader.relay_token`).
    pub relay_token: String,
}

impl Drop for LeaderWatch {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watch(settings: &Settings, schema: &str, current: &Mutex<Option<Leader>>, stop: &mpsc::Receiver<()>) {
    let mut client: Option<Client> = None;
    loop {
        let read = read_leader(settings, schema, &mut client);
        if read.is_err() {
            client = None;
        }
        let leader = read.unwrap_or(None);
        {
            let mut current = current.lock();
            if *current != leader {
                let url = leader.as_ref().map_or("(none)", |l| l.url.as_str());
                tracing::info!(schema, leader = url, "cluster leader");
                *current = leader;
            }
        }
        if !matches!(stop.recv_timeout(LeaderWatch::EVERY), Err(mpsc::RecvTimeoutError::Timeout)) {
            return;
        }
    }
}

fn read_leader(settings: &Settings, schema: &str, client: &mut Option<Client>) -> Result<Option<Leader>> {
    if client.as_ref().is_none_or(|c| c.is_closed()) {
        let mut fresh = settings.connect_as("leader watch").map_err(error)?;
        fresh.batch_execute(&settings.session_setup()).map_err(error)?;
        *client = Some(fresh);
    }
    let client = client.as_mut().expect("connected above");
    let (high, low) = oids(lock_key(schema));
    // The table is absent until the first node has migrated the schema.
    match client.query_opt(LEADER, &[&high, &low]) {
        Ok(row) => Ok(row.map(|row| Leader { url: row.get(0), relay_token: row.get(1) })),
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
        Err(e) => Err(error(e)),
    }
}
