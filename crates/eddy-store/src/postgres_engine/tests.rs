//! The PostgreSQL engine against a real server: `EDDY_TEST_POSTGRES`, or
//! PostgreSQL on 127.0.0.1:5432 (database `test`, user `postgres`, trust
//! authentication), as CI has it. An unreachable server fails the tests
//! with a message saying so: they are never skipped. Each test works in a
//! schema of its own, dropped at its end, failed or not.
//! The contract checks themselves run from `engine_contract.rs`.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::{unique, Store, StoreHealth, StoreOptions};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A unique schema for one test, dropped (with everything in it) when this
/// is dropped: declare it before the engine, so the engine goes first.
pub(crate) struct TestSchema {
    /// The server's URL naming this test's connections.
    pub(crate) url: String,
    /// The server's URL as given, for the test's own connections.
    base: String,
    pub(crate) name: String,
    /// Connections of this test's engines carry this name.
    pub(crate) app: String,
}

impl TestSchema {
    pub(crate) fn new() -> TestSchema {
        let base = std::env::var("EDDY_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_string());
        let id = unique();
        let app = format!("eddy-test-{id:x}");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}application_name={app}");
        let schema = TestSchema { url, base, name: format!("eddy_test_{id:x}"), app };
        // Fail here, clearly, when there is no server to test against.
        schema.admin();
        schema
    }

    /// A plain connection (on the calling thread: not for async workers).
    pub(crate) fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.base, postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "the PostgreSQL engine's tests need PostgreSQL at {} (set EDDY_TEST_POSTGRES to another \
                 postgres:// URL): cannot connect: {e}",
                self.base
            )
        })
    }

    pub(crate) fn engine(&self, guard: Arc<Guard>) -> PostgresEngine {
        PostgresEngine::open(&self.url, &self.name, guard)
            .unwrap_or_else(|e| panic!("opening the PostgreSQL engine in schema {}: {e}", self.name))
    }

    /// Ends this test's connections of the pool (not the schema's lock).
    fn kill_pool_connections(&self) -> i64 {
        self.admin()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&self.app],
            )
            .unwrap()
            .get(0)
    }

    fn kill_lock_connection(&self) -> i64 {
        self.admin()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&format!("{} (schema lock)", self.app)],
            )
            .unwrap()
            .get(0)
    }
}

impl Drop for TestSchema {
    /// On a thread of its own: the sync client must not run on an async
    /// worker, and a test may end on one.
    fn drop(&mut self) {
        let (url, name) = (self.base.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", pool::quote_identifier(&name)))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

fn put(engine: &dyn Engine, table: &dyn Table, key: &[u8], value: &[u8]) -> Result<()> {
    let mut batch = engine.batch();
    batch.put(table, key.to_vec(), value.to_vec());
    batch.commit()
}

#[test]
fn a_second_engine_on_a_schema_is_refused_until_the_first_is_gone() {
    let schema = TestSchema::new();
    let first = schema.engine(Guard::new(0));
    let second = PostgresEngine::open(&schema.url, &schema.name, Guard::new(0));
    let error = second.err().expect("a second engine on one schema is refused").to_string();
    assert!(
        error.contains(&format!("another eddy node is using PostgreSQL schema {}", schema.name))
            && error.contains("open it as a cluster node"),
        "{error}"
    );
    let kept = first.open("t", PartitionKind::Records).unwrap();
    let mut late = first.batch();
    late.put(&*kept, b"k".to_vec(), b"v".to_vec());
    drop(first);
    // The schema is free at once, and the first node's handles no longer reach it.
    let third = schema.engine(Guard::new(0));
    assert!(late.commit().is_err() && kept.get(b"k").is_err(), "a partition outliving its engine is shut");
    assert_eq!(third.open("t", PartitionKind::Records).unwrap().get(b"k").unwrap(), None);
}

#[test]
fn what_is_committed_is_there_for_the_next_engine() {
    let schema = TestSchema::new();
    let engine = schema.engine(Guard::new(0));
    let t = engine.open("kept", PartitionKind::Records).unwrap();
    put(&engine, &*t, b"k", b"v").unwrap();
    drop((t, engine));
    // Opening again migrates nothing more and finds the partition and row.
    let engine = schema.engine(Guard::new(0));
    assert!(engine.names().contains(&"kept".to_string()));
    let t = engine.open("kept", PartitionKind::Records).unwrap();
    assert_eq!(t.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_batch_that_fails_leaves_nothing() {
    let schema = TestSchema::new();
    let engine = schema.engine(Guard::new(0));
    let (kept, gone) =
        (engine.open("kept", PartitionKind::Records).unwrap(), engine.open("gone", PartitionKind::Records).unwrap());
    put(&engine, &*kept, b"old", b"1").unwrap();
    engine.drop_partition("gone").unwrap();
    // Its last operation writes to a dropped partition, which fails the
    // whole batch: the earlier ones must not be applied either.
    let mut batch = engine.batch();
    batch.put(&*kept, b"new".to_vec(), b"2".to_vec());
    batch.delete(&*kept, b"old".to_vec());
    batch.put(&*kept, b"zzz".to_vec(), b"3".to_vec());
    batch.put(&*gone, b"x".to_vec(), b"y".to_vec());
    let failed = batch.commit();
    assert!(matches!(&failed, Err(StoreError::Postgres(e)) if e.contains("foreign key")), "{failed:?}");
    assert_eq!(kept.get(b"new").unwrap(), None);
    assert_eq!(kept.get(b"zzz").unwrap(), None);
    assert_eq!(kept.get(b"old").unwrap().as_deref(), Some(&b"1"[..]));
    assert!(engine.journal().is_none(), "a returned commit is durable: no journal");
}

#[test]
fn long_ranges_and_prefixes_are_read_a_page_at_a_time() {
    let schema = TestSchema::new();
    let engine = schema.engine(Guard::new(0));
    let log = engine.open("log", PartitionKind::Log).unwrap();
    let mut batch = engine.batch();
    (0u32..2500).for_each(|i| batch.put(&*log, i.to_be_bytes().to_vec(), vec![i as u8; 3]));
    batch.commit().unwrap();
    let keys: Vec<u32> = log
        .scan_range(1u32.to_be_bytes().to_vec(), 2400u32.to_be_bytes().to_vec())
        .map(|kv| u32::from_be_bytes(kv.unwrap().0.try_into().unwrap()))
        .collect();
    assert_eq!(keys, (1..2400).collect::<Vec<_>>());
    assert_eq!(log.scan_prefix(Vec::new()).count(), 2500);
    // Keys 0x00000900..=0x000009ff: 0x900 = 2304 up to 2499.
    assert_eq!(log.scan_prefix(vec![0, 0, 9]).count(), 2500 - 2304);
    let ff = engine.open("ff", PartitionKind::Records).unwrap();
    put(&engine, &*ff, &[0xff, 0xff], b"a").unwrap();
    put(&engine, &*ff, &[0xff, 0xff, 0], b"b").unwrap();
    put(&engine, &*ff, &[0xfe], b"c").unwrap();
    assert_eq!(ff.scan_prefix(vec![0xff]).count(), 2, "a prefix of 0xff bytes has no upper bound");
}

#[test]
fn a_broken_connection_fails_reads_never_and_a_commit_with_the_store() {
    let schema = TestSchema::new();
    let guard = Guard::new(0);
    let engine = schema.engine(guard.clone());
    let t = engine.open("t", PartitionKind::Records).unwrap();
    for i in 0..DEFAULT_CONNECTIONS * 2 {
        put(&engine, &*t, &[i as u8], b"v").unwrap();
    }
    assert!(schema.kill_pool_connections() > 0);
    // Reads are tried again on a new connection; a commit that met a dead
    // connection fails (it may have been applied) and fails the store, as
    // the services' memory may now differ; the next commit reconnects.
    for _ in 0..DEFAULT_CONNECTIONS * 2 {
        assert_eq!(t.get(&[0]).unwrap().as_deref(), Some(&b"v"[..]));
    }
    assert_eq!(guard.health(), StoreHealth::Ok, "a read tried again is not a failure");
    schema.kill_pool_connections();
    let failures = (0..DEFAULT_CONNECTIONS * 3).filter(|i| put(&engine, &*t, &[*i as u8], b"w").is_err()).count();
    assert!((1..=DEFAULT_CONNECTIONS).contains(&failures), "{failures} commits failed");
    put(&engine, &*t, b"last", b"w").unwrap();
    assert!(
        matches!(guard.health(), StoreHealth::Failed(reason) if reason.contains("outcome is unknown")),
        "{:?}",
        guard.health()
    );
}

#[test]
fn losing_the_schema_lock_fails_the_store() {
    let schema = TestSchema::new();
    let guard = Guard::new(0);
    let _engine = schema.engine(guard.clone());
    assert_eq!(schema.kill_lock_connection(), 1);
    let deadline = std::time::Instant::now() + lock::CHECK_EVERY * 3;
    while guard.health().is_ok() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        matches!(guard.health(), StoreHealth::Failed(reason) if reason.contains("schema lock")
            || reason.contains(&format!("schema {}'s lock", schema.name))),
        "{:?}",
        guard.health()
    );
}

/// A standby engine (`Claim::wait`) opens once the holder is gone, then
/// advertises itself; the watch names each leader while it lives, with the
/// relay token that leader trusts (a new one per leadership).
#[test]
fn a_standby_takes_the_schema_over_when_the_leader_goes() {
    let schema = TestSchema::new();
    let claim = |url: &str| Claim { wait: true, advertise: Some(url.to_string()) };
    let first = PostgresEngine::open_with(&schema.url, &schema.name, 2, Guard::new(0), claim("http://first")).unwrap();
    let watch = LeaderWatch::start(&schema.url, &schema.name).unwrap();
    let leader_url = || watch.leader().map(|l| l.url);
    wait_for(|| leader_url().as_deref() == Some("http://first"));
    let first_token = first.relay_token().expect("a leader has a relay token").to_string();
    assert_eq!(watch.leader().unwrap().relay_token, first_token);
    let t = first.open("t", PartitionKind::Records).unwrap();
    put(&first, &*t, b"k", b"1").unwrap();
    let (url, name) = (schema.url.clone(), schema.name.clone());
    let standby = std::thread::spawn(move || {
        PostgresEngine::open_with(&url, &name, 2, Guard::new(0), claim("http://second")).unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!standby.is_finished(), "the standby waits while the leader holds the schema");
    assert_eq!(leader_url().as_deref(), Some("http://first"));
    drop((t, first));
    let second = standby.join().unwrap();
    wait_for(|| leader_url().as_deref() == Some("http://second"));
    let second_token = second.relay_token().unwrap().to_string();
    assert_ne!(second_token, first_token, "a node that stood down cannot vouch for relayed requests");
    assert_eq!(watch.leader().unwrap().relay_token, second_token);
    let t = second.open("t", PartitionKind::Records).unwrap();
    assert_eq!(t.get(b"k").unwrap().as_deref(), Some(&b"1"[..]), "the standby reads what the leader committed");
}

/// A leader whose lock session ends (its connection killed) cannot write
/// any more, even before it notices: the node taking over waits for its
/// connections to close, and a connection it makes afterwards is refused.
#[test]
fn a_leader_that_lost_the_lock_is_fenced_off() {
    let schema = TestSchema::new();
    let guard = Guard::new(0);
    let first = PostgresEngine::open_with(&schema.url, &schema.name, 2, guard.clone(), Claim::default()).unwrap();
    let t = first.open("t", PartitionKind::Records).unwrap();
    put(&first, &*t, b"k", b"old").unwrap();
    let (url, name) = (schema.url.clone(), schema.name.clone());
    let standby = std::thread::spawn(move || {
        PostgresEngine::open_with(&url, &name, 2, Guard::new(0), Claim { wait: true, advertise: None }).unwrap()
    });
    std::thread::sleep(Duration::from_millis(200));
    // The lock session of the first node, not the standby's (waiting).
    let pid = first_fence(&first).pid;
    schema.admin().execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
    let second = standby.join().unwrap();
    // By now the first node has shut its pool (the standby waited for it).
    assert!(matches!(guard.health(), StoreHealth::Failed(_)), "{:?}", guard.health());
    assert!(put(&first, &*t, b"k", b"stale").is_err(), "the old leader's writes are refused");
    let t2 = second.open("t", PartitionKind::Records).unwrap();
    assert_eq!(t2.get(b"k").unwrap().as_deref(), Some(&b"old"[..]));
    // A connection made by hand with the old node's fence is refused too.
    let fence = *first_fence(&first);
    let mut client = schema.admin();
    assert!(fence.admit(&mut client).is_err());
}

fn first_fence(engine: &PostgresEngine) -> &lock::Fence {
    engine.settings.fence.get().expect("set once the lock is taken")
}

fn wait_for(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `test` on a store in a schema of its own, on a two-worker runtime
/// as eddy's; the runtime (and the store in it) goes before the schema.
fn on_async_workers<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let schema = TestSchema::new();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let options = StoreOptions::new(crate::Durability::Fsync);
        test(Store::open_postgres(&schema.url, &schema.name, options).unwrap()).await
    });
    drop(runtime);
}

/// The store on the engine, used from async workers as services use it:
/// the sync client must never run on them, and submitted batches go to
/// the apply thread.
#[test]
fn the_store_on_postgres_works_from_async_workers() {
    on_async_workers(|store| async move {
        let part = store.partition("sqs").unwrap();
        let family = part.family(7);
        let mut batch = store.batch();
        batch.put(&family, b"m1".to_vec(), b"hello".to_vec());
        let ticket = batch.submit().await.unwrap();
        store.durable(ticket).await.unwrap();
        let mut batch = store.batch();
        batch.put(&part, b"direct".to_vec(), b"x".to_vec());
        let ticket = batch.commit().unwrap();
        store.durable(ticket).await.unwrap();
        store.sync_all().await.unwrap();
        let task = tokio::spawn(async move {
            let got = family.get(b"m1").unwrap();
            assert_eq!(got.as_deref(), Some(&b"hello"[..]));
            assert_eq!(part.get(b"direct").unwrap().as_deref(), Some(&b"x"[..]));
            assert_eq!(store.partition_names(""), vec!["sqs".to_string()]);
            store.drop_partition("sqs").unwrap();
            assert!(store.partition_names("").is_empty());
            assert!(store.health().is_ok());
        });
        task.await.unwrap();
    });
}

/// Batches queued behind each other on the apply thread are committed
/// together (one transaction, one ticket), and still as if one by one in
/// submission order: a later put wins, a later delete wins.
#[test]
fn queued_batches_are_committed_together_in_order() {
    on_async_workers(|store| async move {
        let part = store.partition("q").unwrap();
        let pause = store.pause_applies();
        let mut applied = Vec::new();
        for i in 0..100u32 {
            let mut batch = store.batch();
            batch.put(&part, b"last".to_vec(), i.to_be_bytes().to_vec());
            batch.put(&part, format!("k{i:03}").into_bytes(), b"v".to_vec());
            if i % 2 == 1 {
                batch.delete(&part, format!("k{:03}", i - 1).into_bytes());
            }
            applied.push(batch.submit());
        }
        drop(pause);
        let mut tickets = Vec::new();
        for a in applied {
            tickets.push(a.await.unwrap());
        }
        tickets.dedup();
        assert_eq!(tickets.len(), 1, "one commit covered every queued batch");
        assert_eq!(part.get(b"last").unwrap(), Some(99u32.to_be_bytes().to_vec()));
        let keys: Vec<Vec<u8>> = part.scan_prefix(b"k").map(|kv| kv.unwrap().0).collect();
        let odd: Vec<Vec<u8>> = (0..100).filter(|i| i % 2 == 1).map(|i| format!("k{i:03}").into_bytes()).collect();
        assert_eq!(keys, odd);
    });
}

/// Batches submitted one after another, none waited for, mostly committed
/// one by one: a later put of a key wins, a delete removes the key the
/// batch before inserted, and reads (from the cache of this node's writes
/// or from the database) agree; waiters are told in submission order.
#[test]
fn batches_committed_one_after_another_apply_in_order() {
    on_async_workers(|store| async move {
        let part = store.partition("q").unwrap();
        let mut applied = Vec::new();
        for i in 0..300u32 {
            let mut batch = store.batch();
            batch.put(&part, b"last".to_vec(), i.to_be_bytes().to_vec());
            batch.put(&part, format!("k{i:03}").into_bytes(), b"v".to_vec());
            if i > 0 {
                batch.delete(&part, format!("k{:03}", i - 1).into_bytes());
            }
            applied.push(batch.submit());
            // Paced, so that the batches go in many commits rather than
            // all merged into one.
            tokio::time::sleep(Duration::from_micros(300)).await;
        }
        let mut tickets = Vec::new();
        for a in applied {
            tickets.push(a.await.unwrap());
        }
        assert!(tickets.windows(2).all(|w| w[0] <= w[1]), "told in submission order");
        tickets.dedup();
        assert!(tickets.len() > 10, "the batches went in several commits ({})", tickets.len());
        assert_eq!(part.get(b"last").unwrap(), Some(299u32.to_be_bytes().to_vec()));
        let keys: Vec<String> = part.scan_prefix(b"k").map(|kv| String::from_utf8(kv.unwrap().0).unwrap()).collect();
        assert_eq!(keys, ["k299"], "each delete removed the key the commit before it inserted");
        assert!(store.health().is_ok());
    });
}

/// Connections are encrypted as the URL's `sslmode` asks, and the server's
/// certificate checked as libpq checks it (`tls.rs`).
#[test]
fn connections_use_tls_as_sslmode_asks() {
    let schema = TestSchema::new();
    let mut admin = schema.admin();
    if admin.query_one("SHOW ssl", &[]).unwrap().get::<_, String>(0) != "on" {
        eprintln!("skipped: the PostgreSQL server at {} does not offer TLS", schema.base);
        return;
    }
    // Debian's default: a self-signed certificate, so it is its own root.
    let cert: String = admin.query_one("SHOW ssl_cert_file", &[]).unwrap().get(0);
    let encrypted = |params: &str| -> Result<bool> {
        let engine = PostgresEngine::open(&format!("{}&{params}", schema.url), &schema.name, Guard::new(0))?;
        engine.pool.run(true, |client, _| {
            Ok(client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])?.get::<_, bool>(0))
        })
    };
    assert!(!encrypted("sslmode=disable").unwrap());
    assert!(encrypted("sslmode=prefer").unwrap(), "prefer (the default) encrypts when the server offers TLS");
    assert!(encrypted("sslmode=require").unwrap());
    assert!(encrypted(&format!("sslmode=verify-ca&sslrootcert={cert}")).unwrap());
    let unknown = encrypted("sslmode=verify-full").unwrap_err().to_string();
    assert!(unknown.contains("certificate"), "the system's roots do not know a self-signed certificate: {unknown}");
}

/// Health's view of the engine: the schema, its migration version, a
/// round trip and the pool size; the database asked at most once a second.
#[test]
fn info_names_the_schema_version_and_latency() {
    let schema = TestSchema::new();
    let engine = PostgresEngine::open_with(&schema.url, &schema.name, 2, Guard::new(0), Claim::default()).unwrap();
    let info = engine.info();
    assert_eq!(info.engine, "postgres");
    let remote = info.remote.unwrap();
    assert_eq!(remote.schema, schema.name);
    assert_eq!(remote.schema_version, Some(3), "the V1, V2 and V3 migrations are applied");
    assert!(remote.latency_ms.is_some_and(|ms| ms >= 0.0));
    assert_eq!((remote.error, remote.connections), (None, 2));
    assert_eq!(engine.info().remote.unwrap().latency_ms, remote.latency_ms, "cached within the second");
}

#[test]
fn a_bad_url_or_an_absent_server_is_a_clear_error() {
    let error = PostgresEngine::open("postgres://postgres@127.0.0.1:1/test", "eddy", Guard::new(0)).err().unwrap();
    assert!(error.to_string().contains("connecting to PostgreSQL at 127.0.0.1"), "{error}");
    let error = PostgresEngine::open("not a url at all ://", "eddy", Guard::new(0)).err().unwrap();
    assert!(matches!(error, StoreError::Postgres(_)), "{error}");
}
