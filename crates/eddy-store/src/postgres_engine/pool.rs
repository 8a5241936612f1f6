//! Connections to PostgreSQL, each owned by an OS thread of the engine's.
//!
//! The sync `postgres` client runs a tokio runtime of its own inside each
//! call, and panics when called from a thread that is already in one (an
//! eddy request handler's async worker). So no engine caller touches a
//! client: it sends a job to the pool's threads over a channel and blocks
//! on the answer, which is safe on any thread. A connection that broke is
//! dropped and reconnected on its thread's next job; the job that met the
//! break gets an error (a read on a connection reused from before is tried
//! once more on a fresh one, as it changes nothing).

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Result, StoreError};

/// How a connection is made and set up.
pub(super) struct Settings {
    pub(super) config: postgres::Config,
    /// The connector when TLS may be used (`tls.rs`).
    tls: Option<MakeRustlsConnect>,
    /// The schema, quoted as an SQL identifier.
    pub(super) schema: String,
    /// Set once this node holds the schema's lock: what every connection
    /// checks before it may write ([`super::lock`]).
    pub(super) fence: OnceLock<super::lock::Fence>,
    /// Set once this node leads: the secret its standbys relay with
    /// (`cluster_leader.relay_token`).
    pub(super) relay_token: OnceLock<String>,
}

impl Settings {
    pub(super) fn new(url: &str, schema: &str) -> Result<Settings> {
        let tls = super::tls::Tls::from_url(url)?;
        let mut config: postgres::Config =
            tls.url.parse().map_err(|e| StoreError::Postgres(format!("bad PostgreSQL URL: {e}")))?;
        config.ssl_mode(tls.mode);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("eddy");
        }
        // A server that stops answering without closing (a network cut)
        // must not hang requests or the schema lock's holder: keepalives
        // find it silent in about 11 s, unacknowledged writes give up in 15.
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(15));
        }
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(Duration::from_secs(5));
            config.keepalives_interval(Duration::from_secs(2));
            config.keepalives_retries(3);
        }
        Ok(Settings {
            config,
            tls: tls.connector,
            schema: quote_identifier(schema),
            fence: OnceLock::new(),
            relay_token: OnceLock::new(),
        })
    }

    /// A new connection to the server, its session not set up, named for
    /// the schema's lock (so it can be told apart in `pg_stat_activity`).
    pub(super) fn connect_for_lock(&self) -> std::result::Result<Client, postgres::Error> {
        self.connect_as("schema lock")
    }

    /// A new connection, its session not set up, named for `role`.
    pub(super) fn connect_as(&self, role: &str) -> std::result::Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        config.application_name(&format!("{} ({role})", self.config.get_application_name().unwrap_or("eddy")));
        self.open(&config)
    }

    /// A connection as `config` says, over TLS when the URL allows it.
    fn open(&self, config: &postgres::Config) -> std::result::Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => config.connect(tls.clone()),
            None => config.connect(NoTls),
        }
    }

    /// A new connection whose unqualified names are the schema's, and whose
    /// commits return only once durable (whatever the server's default), as
    /// the engine has no journal to make them so later. Refused when this
    /// node no longer holds the schema ([`super::lock::Fence`]).
    pub(super) fn connect(&self) -> Result<Client> {
        let mut client = self.open(&self.config).map_err(error)?;
        // No statement of the pool waits on a lock for long; one that takes
        // this long fails (a commit's failure reloads the node, see mod.rs)
        // rather than hang its request past the client's timeout.
        client.batch_execute(&format!("{}; SET statement_timeout TO '15s'", self.session_setup())).map_err(error)?;
        match self.fence.get() {
            Some(fence) => fence.admit(&mut client)?,
            None => return Err(StoreError::Postgres("this node does not hold the schema's lock".into())),
        }
        Ok(client)
    }

    pub(super) fn session_setup(&self) -> String {
        // Notices ("schema already exists, skipping") would be logged as info.
        format!("SET client_min_messages TO warning; SET search_path TO {}; SET synchronous_commit TO on", self.schema)
    }
}

/// `name` as a quoted SQL identifier.
pub(super) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One thread's connection, made on first use and again after a break,
/// with the statements prepared on it.
pub(super) struct Conn {
    settings: Arc<Settings>,
    client: Option<Client>,
    prepared: Prepared,
}

/// The statements prepared on a connection, by their SQL.
pub(super) type Prepared = HashMap<&'static str, Statement>;

impl Conn {
    /// Connects unless connected; true when the connection was made just
    /// now (a failure on one made before may only mean that the server
    /// dropped it while it was idle).
    fn connect(&mut self) -> Result<bool> {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
        }
        if self.client.is_some() {
            return Ok(false);
        }
        self.prepared.clear();
        self.client = Some(self.settings.connect()?);
        Ok(true)
    }

    /// `sql` prepared on this connection (once per connection).
    pub(super) fn statement(
        client: &mut Client,
        prepared: &mut Prepared,
        sql: &'static str,
    ) -> std::result::Result<Statement, postgres::Error> {
        if let Some(statement) = prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        prepared.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs `work` on the connection. `retry`: `work` may run twice (it
    /// only reads), so a failure on a connection made before is tried once
    /// more on a new one.
    fn run<R>(
        &mut self,
        retry: bool,
        work: &mut dyn FnMut(&mut Client, &mut Prepared) -> std::result::Result<R, postgres::Error>,
    ) -> Result<R> {
        let fresh = self.connect()?;
        let client = self.client.as_mut().expect("connected above");
        match work(client, &mut self.prepared) {
            Err(e) if broken(&e, self.client.as_ref()) => {
                self.client = None;
                if retry && !fresh {
                    self.connect()?;
                    return work(self.client.as_mut().expect("connected above"), &mut self.prepared).map_err(error);
                }
                Err(error(e))
            }
            outcome => outcome.map_err(error),
        }
    }
}

/// Whether the connection that returned `e` is unusable: closed, or the
/// server ended the session (a FATAL error arrives before the close is
/// seen), or the client failed (a network error). Only an error the server
/// reported for one statement leaves the connection usable.
fn broken(e: &postgres::Error, client: Option<&Client>) -> bool {
    client.is_none_or(|c| c.is_closed()) || e.as_db_error().is_none_or(|db| matches!(db.severity(), "FATAL" | "PANIC"))
}

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

/// The engine's connection threads and the queue of jobs they share.
pub(super) struct Pool {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// `size` threads, each connecting on its first job.
    pub(super) fn start(settings: Arc<Settings>, size: usize) -> Result<Pool> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::with_capacity(size);
        for i in 0..size {
            let queue = queue.clone();
            let settings = settings.clone();
            let thread = std::thread::Builder::new()
                .name(format!("eddy-pg-{i}"))
                .spawn(move || {
                    let mut conn = Conn { settings, client: None, prepared: HashMap::new() };
                    loop {
                        let job = queue.lock().recv();
                        let Ok(job) = job else { return };
                        // A panic drops the job's reply (its caller gets an
                        // error) and the connection, not the thread.
                        if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
                            conn.client = None;
                        }
                    }
                })
                .map_err(|e| StoreError::Postgres(format!("starting a connection thread: {e}")))?;
            threads.push(thread);
        }
        Ok(Pool { jobs: Mutex::new(Some(jobs)), threads: Mutex::new(threads) })
    }

    /// Runs `work` on a connection thread, blocking until it is done. Safe
    /// on any thread, async workers included. `retry` as on [`Conn::run`].
    pub(super) fn run<R, F>(&self, retry: bool, mut work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnMut(&mut Client, &mut Prepared) -> std::result::Result<R, postgres::Error> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn: &mut Conn| {
            let _ = reply.send(conn.run(retry, &mut work));
        });
        let sent = match &*self.jobs.lock() {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::Postgres("the PostgreSQL engine is shut down".into()));
        }
        match answer.recv() {
            Ok(outcome) => outcome,
            Err(_) => Err(StoreError::Postgres("a PostgreSQL connection thread stopped".into())),
        }
    }
}

impl Pool {
    /// Ends the threads once their jobs are done and waits for them, so the
    /// connections are closed; later jobs fail.
    pub(super) fn shut_down(&self) {
        self.jobs.lock().take();
        let threads: Vec<_> = self.threads.lock().drain(..).collect();
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A client error as the store reports it: the server's message when the
/// server sent one, as its Display alone says only "db error"; else the
/// error and its causes.
pub(super) fn error(e: postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{}: {} ({})", db.severity(), db.message(), db.code().code())),
        None => {
            // The client's Display leaves out the cause ("error performing
            // TLS handshake"): the causes say what went wrong.
            let mut message = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message = format!("{message}: {c}");
                cause = c.source();
            }
            StoreError::Postgres(message)
        }
    }
}
