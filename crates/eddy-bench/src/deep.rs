//! `--deep N`: does a queue holding N messages cost throughput, memory, or
//! restart time?
//!
//! Fill a queue with N messages, run the batched round trip against it (the
//! depth stays about N: every worker sends as much as it deletes), read the
//! server's memory, kill -9 and restart it and time until the deep queue
//! answers, then drain everything and check every fill and round-trip
//! message arrived exactly once, across the crash.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::task::JoinSet;

use super::http::{Conn, Endpoint};
use super::ledger::{Ledger, Tracker};
use super::phases::with_errors;
use super::rate::Rate;
use super::roundtrip::{self, Pump, BATCH};
use super::server::Spawned;
use super::stats::{count, duration, mib};
use super::{api, Bench};

const NEEDS_SPAWN: &str = "needs the spawned server as endpoint (--spawn, no --endpoint)";
const RATE_TOLERANCE: f64 = 0.20;
const RSS_TARGET: u64 = 512 * 1024 * 1024;
const RESTART_TARGET: Duration = Duration::from_secs(5);
/// Give up on a restarted server after this long.
const RESTART_LIMIT: Duration = Duration::from_secs(120);

impl Bench {
    pub(super) async fn deep(&mut self) {
        let n = self.args.deep;
        let figure = "Deep-queue round trip";
        if n == 0 {
            let why = "not run (--deep 0; try --deep 1000000)".to_string();
            return self.report.skipped(figure, why, "≤ 20% slower than empty queue");
        }
        self.heading(&format!("Deep queue ({} messages)", count(n as f64)));
        let name = format!("eddy-bench-deep-{}", self.run_id);
        let url = match api::create_queue(&Conn::new(&self.ep), &name).await {
            Ok(url) => url,
            Err(e) => return self.report.skipped(figure, format!("failed: {e:#}"), ""),
        };
        if let Err(e) = self.deep_on(&url, n).await {
            self.report.skipped("Depth test", format!("failed: {e:#}"), "");
        }
        if let Err(e) = api::delete_queue(&Conn::new(&self.ep), &url).await {
            eprintln!("  warning: could not delete queue {url}: {e:#}");
        }
    }

    async fn deep_on(&mut self, url: &str, n: u64) -> Result<()> {
        let fill = Tracker::new(format!("fill-{}", self.run_id));
        let own = Tracker::new(format!("deep-{}", self.run_id));
        // The round trip receives fill messages too: the ledger knows both.
        let pump = Pump {
            queue_url: url.into(),
            ledger: Arc::new(Ledger::new(vec![fill.clone(), own.clone()])),
            tracker: own,
        };
        println!("  filling…");
        let filled = fill_queue(&self.ep, self.conns(), url, &fill, n).await?;
        let value = format!("{} msg/s over {}", count(filled.per_sec()), duration(filled.elapsed));
        self.report.info("Deep fill (SendMessageBatch)", with_errors(value, &filled));
        self.report_memory("after fill", false);
        self.deep_round_trip(&pump, &fill).await?;
        self.report_memory("after round trip", true);
        self.restart(url).await;
        let drained = self.deep_drain(&pump, &fill, n).await;
        // A new process: its peak covers recovering the deep queue and
        // draining it.
        self.report_memory("restarted, after drain", true);
        drained
    }

    async fn deep_round_trip(&mut self, pump: &Pump, fill: &Tracker) -> Result<()> {
        let r = roundtrip::run(&self.ep, self.conns(), self.duration(), pump).await?;
        let fill_seen = fill.verdict().received;
        let value = format!("{} msg/s ({} of them fill messages)", count(r.per_sec()), count(fill_seen as f64));
        let mut value = with_errors(value, &r);
        let figure = "Deep-queue round trip";
        match self.empty_round_trip {
            Some(empty) => {
                let change = 100.0 * (r.per_sec() / empty - 1.0);
                value += &format!(", {change:+.0}% vs empty queue");
                let ok = r.per_sec() >= (1.0 - RATE_TOLERANCE) * empty;
                self.report.check(figure, value, "≤ 20% slower than empty queue", ok);
            }
            None => self.report.info(figure, value),
        }
        Ok(())
    }

    /// Server memory, when the server is ours to look at. `check` applies
    /// the target to the process's peak (VmHWM), which covers everything
    /// since it started.
    fn report_memory(&mut self, when: &str, check: bool) {
        let figure = format!("Server RSS with deep queue ({when})");
        let target = "peak ≤ 512 MiB";
        let Some(server) = &self.server else {
            if check {
                self.report.skipped(&figure, NEEDS_SPAWN.into(), target);
            }
            return;
        };
        match server.memory() {
            Ok(m) => {
                let value = format!("{} (peak {})", mib(m.rss), mib(m.peak));
                if check {
                    self.report.check(&figure, value, target, m.peak <= RSS_TARGET);
                } else {
                    self.report.info(&figure, value);
                }
            }
            Err(e) => self.report.skipped(&figure, format!("{e:#}"), target),
        }
    }

    /// kill -9, restart, and time until ReceiveMessage on the deep queue
    /// returns a message again.
    async fn restart(&mut self, url: &str) {
        let figure = "Restart (kill -9 → deep queue serves a message)";
        let Some(server) = &mut self.server else {
            return self.report.skipped(figure, NEEDS_SPAWN.into(), "≤ 5 s");
        };
        let started = Instant::now();
        let result = match server.kill_and_respawn() {
            Ok(()) => first_message(server, url, started).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(took) => self.report.check(figure, duration(took), "≤ 5 s", took <= RESTART_TARGET),
            Err(e) => self.report.skipped(figure, format!("failed: {e:#}"), "≤ 5 s"),
        }
    }

    /// Receives everything left, so both the fill and the round-trip bodies
    /// can be checked for exactly-once delivery.
    async fn deep_drain(&mut self, pump: &Pump, fill: &Tracker, n: u64) -> Result<()> {
        println!("  draining…");
        // Generous: the drain moves every message once more.
        let limit = Duration::from_secs(60) + Duration::from_millis(n / 5);
        let drained = roundtrip::drain(&self.ep, self.conns(), pump, limit).await?;
        let value = format!("{} msg/s over {}", count(drained.per_sec()), duration(drained.elapsed));
        self.report.info("Deep drain", value);
        self.exactly_once("Deep round-trip delivery", &pump.tracker, &pump.ledger);
        self.exactly_once("Deep fill delivery", fill, &pump.ledger);
        Ok(())
    }
}

/// Sends `n` messages of `tracker`'s in batches of 10 over `conns`
/// connections. Units are messages sent.
async fn fill_queue(ep: &Endpoint, conns: usize, url: &str, tracker: &Arc<Tracker>, n: u64) -> Result<Rate> {
    let left = Arc::new(AtomicU64::new(n));
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..conns {
        let (conn, left, tracker, url) = (Conn::new(ep), left.clone(), tracker.clone(), url.to_string());
        workers.spawn(async move { Ok(fill_worker(&conn, &url, &tracker, &left).await) });
    }
    let mut total = Rate::join(workers).await?;
    total.units = tracker.verdict().sent;
    total.elapsed = start.elapsed();
    Ok(total)
}

async fn fill_worker(conn: &Conn, url: &str, tracker: &Tracker, left: &AtomicU64) -> Rate {
    let mut rate = Rate::default();
    let batch = BATCH as u64;
    // Claim up to a batch at a time until nothing is left to send.
    while let Ok(left_before) = left.fetch_update(Relaxed, Relaxed, |l| (l > 0).then(|| l - l.min(batch))) {
        let take = left_before.min(batch) as usize;
        if let Err(e) = roundtrip::send_batch(conn, url, tracker, take).await {
            rate.error(e);
        }
    }
    rate
}

/// Polls ReceiveMessage until it returns a message. VisibilityTimeout 0
/// leaves the message visible for the drain that follows.
async fn first_message(server: &mut Spawned, url: &str, started: Instant) -> Result<Duration> {
    let conn = Conn::new(&server.endpoint);
    let mut last = String::from("no answer");
    while started.elapsed() < RESTART_LIMIT {
        if let Some(status) = server.exited() {
            bail!("restarted server exited with {status}");
        }
        let attempt = api::receive(&conn, url, 1, 0, Some(0));
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Ok(messages)) if !messages.is_empty() => return Ok(started.elapsed()),
            Ok(Ok(_)) => last = "ReceiveMessage returned no message".into(),
            Ok(Err(e)) => last = format!("{e:#}"),
            Err(_) => last = "ReceiveMessage timed out".into(),
        }
        // Connection refused comes back at once; don't spin on it.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    bail!("not serving after {RESTART_LIMIT:?}: {last}")
}
