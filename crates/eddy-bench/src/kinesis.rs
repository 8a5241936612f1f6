//! `eddy bench kinesis`: PutRecords throughput, GetRecords read-back with
//! exact verification (every acknowledged record once, per-key order kept),
//! and SubscribeToShard put-to-push latency, against any Kinesis endpoint
//! (awsJson1_1 over plain HTTP/1.1 keep-alive connections).
//!
//! Each run uses a fresh stream `eddy-bench-<id>` and deletes it at the end.

pub(super) mod api;
mod verify;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use clap::Args;
use eddy_wire::eventstream::{self, HeaderValue};
use http_body_util::BodyExt;
use tokio::sync::{watch, Barrier};
use tokio::task::JoinSet;

use self::api::B64;
use self::verify::{Header, ShardCheck, Verdict, Written};
use super::http::{Conn, Endpoint};
use super::report::Report;
use super::server::{self, Spawned};
use super::stats::{count, mib, Percentiles};

/// Records per PutRecords request (the API's maximum)...
const BATCH: usize = 500;
/// ...as long as the request's data and keys stay within its 5 MiB limit.
const BATCH_BYTES: usize = 5 * 1024 * 1024;
/// Records per GetRecords call (the API's maximum).
const READ_LIMIT: u32 = 10_000;
const WRITE_TARGET: f64 = 500_000.0;
const READ_TARGET: f64 = 1_000_000.0;
const PUSH_P99_TARGET: Duration = Duration::from_millis(5);
/// Gap between the push phase's PutRecord calls.
const PUSH_INTERVAL: Duration = Duration::from_millis(2);
/// How long pushed records may trail the last PutRecord.
const PUSH_GRACE: Duration = Duration::from_secs(1);
/// Longest wait for SubscribeToShard's initial-response.
const SUBSCRIBE_LIMIT: Duration = Duration::from_secs(10);
const CONSUMER_NAME: &str = "eddy-bench";
/// Upper bound on reading one shard back.
const READ_DEADLINE: Duration = Duration::from_secs(600);
/// Pause before retrying throttled calls (other endpoints enforce AWS's
/// per-shard limits).
const THROTTLE_PAUSE: Duration = Duration::from_millis(100);
const THROTTLED: &str = "ProvisionedThroughputExceededException";
/// Record size and target of the retention fill.
const RETAIN_RECORD: usize = 1024;
const RETAIN_RSS_TARGET: u64 = 64 * 1024 * 1024;
/// Pause between the retention fill and the memory figure that is checked:
/// what retained records cost is the steady state, once in-flight requests
/// are freed and idle shards' memtables are flushed (eddy: within seconds).
const RETAIN_SETTLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Args)]
pub struct KinesisBenchArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:4566; optional with --spawn.
    #[arg(long, required_unless_present = "spawn")]
    pub endpoint: Option<String>,
    /// Spawn this binary as `eddy serve` on a free port and a fresh data
    /// directory, and also report its memory.
    #[arg(long)]
    pub spawn: bool,
    /// Concurrent PutRecords writers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub connections: u16,
    /// Length of the write phase.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub duration_secs: u64,
    /// Shards of the bench stream.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: u32,
    /// Payload bytes per record (at least 16: key, counter and writer).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub record_size: u32,
    /// Distinct partition keys, split between the writers.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub keys: u32,
    /// Length of the SubscribeToShard push-latency phase (0 = skip).
    #[arg(long, default_value_t = 5)]
    pub push_secs: u64,
    /// Before the phases, store this many GB (10^9 bytes) of 1 KiB records in
    /// a second stream, kept until the end, and report the server's memory.
    #[arg(long, default_value_t = 0.0)]
    pub retain_gb: f64,
}

/// State shared by the phases of one run.
struct Bench {
    ep: Endpoint,
    args: KinesisBenchArgs,
    server: Option<Spawned>,
    stream: String,
    report: Report,
    /// Payload bytes stored so far in this run, for the memory figures.
    stored_bytes: u64,
}

pub async fn run(args: KinesisBenchArgs) -> Result<()> {
    println!(
        "eddy bench kinesis: {} writers, {} s writes of {} × {} B, {} shards, {} keys",
        args.connections,
        args.duration_secs,
        batch_len(args.record_size),
        args.record_size,
        args.shards,
        args.keys
    );
    let (ep, server) = server::under_test(args.spawn, args.endpoint.as_deref()).await?;
    if let Err(e) = tokio::net::TcpStream::connect(ep.authority()).await {
        bail!("cannot connect to {ep}: {e}");
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let stream = format!("eddy-bench-{run_id}");
    let mut bench = Bench { ep, args, server, stream, report: Report::default(), stored_bytes: 0 };
    let retain_stream = format!("{}-retain", bench.stream);
    if bench.args.retain_gb > 0.0 {
        println!("\n== Retention: {} GB of {RETAIN_RECORD} B records into {retain_stream}", bench.args.retain_gb);
        if let Err(e) = bench.retain(&retain_stream).await {
            bench.report.skipped("Retention fill", format!("failed: {e:#}"), "");
        }
    }
    let verdict = bench.run_all().await;
    // Fresh connections: the earlier ones may have idled out.
    for name in [&bench.stream, &retain_stream] {
        let _ = api::delete_stream(&Conn::new(&bench.ep), name).await;
    }
    bench.report.print_table();
    match verdict {
        Err(e) => Err(e),
        Ok(v) if !v.ok() => bail!("verification failed: {v}"),
        Ok(_) => Ok(()),
    }
}

/// CPU used so far by the server (when spawned) and the bench, and when.
struct CpuMark {
    server: Option<Duration>,
    bench: Option<Duration>,
    at: Instant,
}

impl Bench {
    fn cpu_mark(&self) -> CpuMark {
        let server = self.server.as_ref().and_then(|s| s.cpu_time().ok());
        CpuMark { server, bench: server::own_cpu_time().ok(), at: Instant::now() }
    }

    /// Cores busy since `since`: the bench and the server share the machine,
    /// so this shows which side a rate is bound by.
    fn cpu_since(&mut self, since: &CpuMark, phase: &str) {
        let now = self.cpu_mark();
        let wall = now.at.duration_since(since.at).as_secs_f64().max(1e-9);
        let cores = |a: Option<Duration>, b: Option<Duration>| Some((a?.saturating_sub(b?)).as_secs_f64() / wall);
        let mut parts = Vec::new();
        if let Some(c) = cores(now.server, since.server) {
            parts.push(format!("server {c:.2}"));
        }
        if let Some(c) = cores(now.bench, since.bench) {
            parts.push(format!("bench {c:.2}"));
        }
        if !parts.is_empty() {
            let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
            self.report.info(&format!("  CPU cores busy, {phase}"), format!("{} (of {cpus})", parts.join(", ")));
        }
    }

    /// The phases in order; the read-back verdict (an error when the stream
    /// could not even be set up or written).
    async fn run_all(&mut self) -> Result<Verdict> {
        let conn = Conn::new(&self.ep);
        println!("\n== Stream {}: {} shards", self.stream, self.args.shards);
        api::create_stream(&conn, &self.stream, self.args.shards).await?;
        let (summary, took) = api::wait_stream_active(&conn, &self.stream).await?;
        self.report.info("CreateStream → ACTIVE", super::stats::duration(took));
        let shards = api::list_shards(&conn, &self.stream).await?;
        if shards.is_empty() {
            bail!("ListShards: no shards");
        }

        println!(
            "\n== Write: PutRecords of {} × {} B, {} writers, {} s",
            batch_len(self.args.record_size),
            self.args.record_size,
            self.args.connections,
            self.args.duration_secs
        );
        let mark = self.cpu_mark();
        let written = match self.write().await {
            Ok(w) => w,
            Err(e) => {
                self.report.skipped("PutRecords rate", format!("failed: {e:#}"), "≥ 500,000 records/s");
                return Err(e);
            }
        };
        self.cpu_since(&mark, "write phase");
        self.memory("Server RSS after the write phase");

        println!("\n== Read: GetRecords (Limit {READ_LIMIT}) from TRIM_HORIZON, one reader per shard");
        let mark = self.cpu_mark();
        let verdict = match self.read(&shards, &written).await {
            Ok(v) => {
                self.cpu_since(&mark, "read phase");
                v
            }
            Err(e) => {
                self.report.skipped("GetRecords rate", format!("failed: {e:#}"), "≥ 1,000,000 records/s");
                Verdict::default()
            }
        };

        if self.args.push_secs > 0 {
            println!(
                "\n== Push: SubscribeToShard (LATEST) on shard 0, PutRecord every {} ms for {} s",
                PUSH_INTERVAL.as_millis(),
                self.args.push_secs
            );
            if let Err(e) = self.push(&summary.stream_arn, &shards).await {
                self.report.skipped("Put → push latency (SubscribeToShard)", format!("failed: {e:#}"), "p99 ≤ 5 ms");
            }
        }
        Ok(verdict)
    }

    /// The spawned server's resident memory next to the payload it holds.
    fn memory(&mut self, figure: &str) -> Option<u64> {
        let server = self.server.as_ref()?;
        match server.memory() {
            Ok(m) => {
                let value =
                    format!("{} (peak {}) holding {} of payload", mib(m.rss), mib(m.peak), mib(self.stored_bytes));
                self.report.info(figure, value);
                Some(m.rss)
            }
            Err(e) => {
                self.report.skipped(figure, format!("{e:#}"), "");
                None
            }
        }
    }

    async fn write(&mut self) -> Result<Vec<Written>> {
        let conns = usize::from(self.args.connections);
        let keys = self.args.keys.max(u32::from(self.args.connections));
        let start_line = Arc::new(Barrier::new(conns + 1));
        let duration = Duration::from_secs(self.args.duration_secs);
        let mut workers = JoinSet::new();
        for id in 0..conns as u32 {
            let own: Vec<u32> = (id..keys).step_by(conns).collect();
            let mut w = Writer::new(id, own, keys as usize, self.args.record_size as usize, &self.stream);
            let (conn, start_line) = (Conn::new(&self.ep), start_line.clone());
            workers.spawn(async move {
                // Untimed warm-up: connection set-up is not measured.
                let warm = w.put_batch(&conn, false).await;
                start_line.wait().await;
                warm.context("warm-up PutRecords")?;
                let deadline = Instant::now() + duration;
                while Instant::now() < deadline {
                    w.put_batch(&conn, true).await?;
                }
                anyhow::Ok(w)
            });
        }
        start_line.wait().await;
        let start = Instant::now();
        let mut total = WriteTotals { written: vec![Written::default(); keys as usize], ..WriteTotals::default() };
        while let Some(done) = workers.join_next().await {
            total.add(done??);
        }
        let elapsed = start.elapsed();
        let rate = total.timed_records as f64 / elapsed.as_secs_f64();
        let mb = rate * f64::from(self.args.record_size) / 1e6;
        let mut value = format!("{} records/s, {mb:.1} MB/s", count(rate));
        if total.request_errors > 0 {
            value += &format!(" ({} failed requests, first: {})", total.request_errors, total.first_error);
        }
        let size = self.args.record_size;
        let figure = format!("PutRecords rate ({} × {size} B, {conns} conns)", batch_len(size));
        self.report.check(&figure, value, "≥ 500,000 records/s", rate >= WRITE_TARGET);
        if let Some(p) = Percentiles::of(std::mem::take(&mut total.latencies)) {
            self.report.info("PutRecords latency", format!("{p} ({} requests)", p.samples));
        }
        let acked: u64 = total.written.iter().map(|w| w.acked).sum();
        let mut value = format!("{} acknowledged, {} failed", count(acked as f64), total.failed);
        if total.failed > 0 {
            value += &format!(" ({} throttled and retried; first other: {})", total.throttled, total.first_failure);
        }
        self.report.check("PutRecords failed entries", value, "0 failed", total.failed == 0);
        self.stored_bytes += acked * u64::from(self.args.record_size);
        Ok(total.written)
    }

    async fn read(&mut self, shards: &[api::Shard], written: &[Written]) -> Result<Verdict> {
        let mut readers = JoinSet::new();
        let (keys, size) = (written.len(), self.args.record_size as usize);
        let t0 = Instant::now();
        for shard in shards {
            let (conn, stream, shard_id) = (Conn::new(&self.ep), self.stream.clone(), shard.shard_id.clone());
            readers.spawn(async move { read_shard(&conn, &stream, &shard_id, ShardCheck::new(keys, size)).await });
        }
        let mut checks = Vec::with_capacity(shards.len());
        let mut calls = 0;
        while let Some(done) = readers.join_next().await {
            let (check, n) = done??;
            checks.push(check);
            calls += n;
        }
        let elapsed = t0.elapsed();
        let verdict = verify::verify(written, &checks);
        let rate = verdict.read as f64 / elapsed.as_secs_f64();
        let mb = rate * size as f64 / 1e6;
        let value = format!(
            "{} records/s, {mb:.1} MB/s ({} records, {calls} calls, {})",
            count(rate),
            count(verdict.read as f64),
            super::stats::duration(elapsed)
        );
        let figure = format!("GetRecords rate ({} readers, one per shard)", shards.len());
        self.report.check(&figure, value, "≥ 1,000,000 records/s", rate >= READ_TARGET);
        self.report.check("Read-back verification", verdict.to_string(), "exactly once, per-key order", verdict.ok());
        Ok(verdict)
    }

    async fn push(&mut self, stream_arn: &str, shards: &[api::Shard]) -> Result<()> {
        let conn = Conn::new(&self.ep);
        let consumer = api::register_consumer(&conn, stream_arn, CONSUMER_NAME).await?;
        let result = self.push_with(&consumer, shards).await;
        if let Err(e) = api::deregister_consumer(&Conn::new(&self.ep), &consumer).await {
            eprintln!("  warning: could not deregister consumer {consumer}: {e:#}");
        }
        result
    }

    async fn push_with(&mut self, consumer: &str, shards: &[api::Shard]) -> Result<()> {
        // ExplicitHashKey 0 lands in the shard whose range starts at 0.
        let shard = shards.iter().find(|s| s.hash_key_range.starting_hash_key == "0").unwrap_or(&shards[0]);
        let resp = Conn::new(&self.ep)
            .call_streaming(api::SUBSCRIBE_TO_SHARD, api::subscribe_body(consumer, &shard.shard_id)?)
            .await?;
        let mut sub = Subscription { body: resp.into_body(), buf: Vec::new(), start: 0, decoded: Vec::new() };
        let clock = Instant::now();
        match tokio::time::timeout(SUBSCRIBE_LIMIT, sub.next(&mut |_| {})).await {
            Ok(Ok(Some(Event::Initial))) => {}
            Ok(Ok(Some(Event::Records))) => bail!("SubscribeToShard: records before the initial-response"),
            Ok(Ok(None)) => bail!("SubscribeToShard: the event stream ended before the initial-response"),
            Ok(Err(e)) => return Err(e),
            Err(_) => bail!("SubscribeToShard: no initial-response within {SUBSCRIBE_LIMIT:?}"),
        }
        let received = Arc::new(AtomicU64::new(0));
        let (stop_tx, mut stop) = watch::channel(false);
        let counter = received.clone();
        let subscriber = tokio::spawn(async move {
            let (mut latencies, mut foreign, mut ended) = (Vec::new(), 0u64, false);
            loop {
                let mut on_record = |data: &[u8]| match verify::decode_push(data) {
                    Some(sent) => {
                        latencies.push(clock.elapsed().saturating_sub(Duration::from_nanos(sent)));
                        counter.fetch_add(1, Relaxed);
                    }
                    None => foreign += 1,
                };
                tokio::select! {
                    biased;
                    _ = stop.changed() => break,
                    event = sub.next(&mut on_record) => match event {
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            ended = true;
                            break;
                        }
                        Err(e) => return Err(e),
                    },
                }
            }
            anyhow::Ok((latencies, foreign, ended))
        });

        let producer = Conn::new(&self.ep);
        let mut tick = tokio::time::interval(PUSH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let deadline = Instant::now() + Duration::from_secs(self.args.push_secs);
        let mut sent = 0u64;
        while Instant::now() < deadline && !subscriber.is_finished() {
            tick.tick().await;
            let data = verify::encode_push(clock.elapsed().as_nanos() as u64);
            api::put_record(&producer, &self.stream, &data, "push", "0").await?;
            sent += 1;
        }
        let grace = Instant::now() + PUSH_GRACE;
        while received.load(Relaxed) < sent && Instant::now() < grace && !subscriber.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = stop_tx.send(true);
        let (latencies, foreign, ended) = subscriber.await??;
        let got = latencies.len() as u64;
        let p = Percentiles::of(latencies).ok_or_else(|| anyhow!("none of {sent} records was pushed"))?;
        let mut value = format!("{p} ({got} of {sent} records pushed");
        if foreign > 0 {
            value += &format!(", {foreign} unrecognised");
        }
        if ended {
            value += ", stream ended early";
        }
        value.push(')');
        let ok = p.p99 <= PUSH_P99_TARGET && got == sent;
        self.report.check("Put → push latency (SubscribeToShard)", value, "p99 ≤ 5 ms, all pushed", ok);
        Ok(())
    }

    /// Stores `--retain-gb` of 1 KiB records in `stream` and reports the
    /// server's memory with all that retained.
    async fn retain(&mut self, stream: &str) -> Result<()> {
        let conn = Conn::new(&self.ep);
        api::create_stream(&conn, stream, self.args.shards).await?;
        api::wait_stream_active(&conn, stream).await?;
        let total_records = (self.args.retain_gb * 1e9 / RETAIN_RECORD as f64).ceil() as u64;
        let budget = Arc::new(AtomicU64::new(total_records));
        let t0 = Instant::now();
        let mut workers = JoinSet::new();
        for id in 0..u64::from(self.args.connections) {
            let (conn, budget, stream) = (Conn::new(&self.ep), budget.clone(), stream.to_string());
            workers.spawn(async move { fill(&conn, &stream, id, &budget).await });
        }
        let mut stored = 0;
        while let Some(done) = workers.join_next().await {
            stored += done??;
        }
        let took = t0.elapsed();
        let bytes = stored * RETAIN_RECORD as u64;
        self.stored_bytes += bytes;
        let value = format!(
            "{} records, {} in {} ({:.0} MB/s)",
            count(stored as f64),
            mib(bytes),
            super::stats::duration(took),
            bytes as f64 / 1e6 / took.as_secs_f64()
        );
        self.report.info("Retention fill (PutRecords of 500 × 1 KiB)", value);
        if self.memory("Server RSS right after the retention fill").is_some() {
            // Background flushes of what was just written finish meanwhile.
            tokio::time::sleep(RETAIN_SETTLE).await;
            if let Some(rss) = self.memory(&format!("Server RSS {} s later", RETAIN_SETTLE.as_secs())) {
                let figure = format!("RSS with {} GB retained", self.args.retain_gb);
                self.report.check(&figure, mib(rss), "≤ 64 MiB (at 10 GB)", rss <= RETAIN_RSS_TARGET);
            }
        }
        Ok(())
    }
}

/// One write-phase worker: a disjoint set of keys, each written in order
/// by this worker alone, one request in flight.
struct Writer {
    id: u32,
    stream: String,
    /// The keys this writer owns, their names and next counters.
    keys: Vec<u32>,
    names: Vec<String>,
    next: Vec<u64>,
    cursor: usize,
    /// Slots (indices into `keys`) whose record was throttled: they go
    /// first in the next request, with a fresh counter so per-key order
    /// stays checkable.
    retry: VecDeque<usize>,
    record: Vec<u8>,
    batch_len: usize,
    batch: Vec<(usize, u64)>,
    body_capacity: usize,
    totals: WriteTotals,
}

#[derive(Default)]
struct WriteTotals {
    /// Indexed by key (all keys; a writer fills only its own).
    written: Vec<Written>,
    timed_records: u64,
    latencies: Vec<Duration>,
    failed: u64,
    throttled: u64,
    first_failure: String,
    request_errors: u64,
    first_error: String,
}

impl WriteTotals {
    fn add(&mut self, w: Writer) {
        let t = w.totals;
        for (sum, w) in self.written.iter_mut().zip(&t.written) {
            sum.acked += w.acked;
            sum.sum = sum.sum.wrapping_add(w.sum);
            sum.unsure += w.unsure;
        }
        self.timed_records += t.timed_records;
        self.latencies.extend(t.latencies);
        self.failed += t.failed;
        self.throttled += t.throttled;
        self.request_errors += t.request_errors;
        if self.first_failure.is_empty() {
            self.first_failure = t.first_failure;
        }
        if self.first_error.is_empty() {
            self.first_error = t.first_error;
        }
    }
}

impl Writer {
    fn new(id: u32, keys: Vec<u32>, all_keys: usize, record_size: usize, stream: &str) -> Self {
        let batch = batch_len(record_size as u32);
        let body_capacity = 64 + stream.len() + batch * (record_size.div_ceil(3) * 4 + 40);
        Self {
            id,
            stream: stream.to_string(),
            names: keys.iter().map(|&k| verify::key_name(k)).collect(),
            next: vec![0; keys.len()],
            keys,
            cursor: 0,
            retry: VecDeque::new(),
            record: vec![0; record_size],
            batch_len: batch,
            batch: Vec::with_capacity(batch),
            body_capacity,
            totals: WriteTotals { written: vec![Written::default(); all_keys], ..WriteTotals::default() },
        }
    }

    /// One PutRecords of [`batch_len`] records. A request that fails outright
    /// is counted (its records may or may not be stored) and the run goes
    /// on; only a malformed answer is an error.
    async fn put_batch(&mut self, conn: &Conn, timed: bool) -> Result<()> {
        let mut body = api::PutRecordsBody::new(&self.stream, self.body_capacity);
        self.batch.clear();
        for _ in 0..self.batch_len {
            let slot = self.retry.pop_front().unwrap_or_else(|| {
                let slot = self.cursor;
                self.cursor = (self.cursor + 1) % self.keys.len();
                slot
            });
            let counter = self.next[slot];
            self.next[slot] += 1;
            verify::encode(&Header { key: self.keys[slot], counter, worker: self.id }, &mut self.record);
            body.push(&self.record, &self.names[slot]);
            self.batch.push((slot, counter));
        }
        let t0 = Instant::now();
        let answer = match conn.call(api::PUT_RECORDS, body.finish()).await {
            Ok(answer) => answer,
            Err(e) => {
                let t = &mut self.totals;
                t.request_errors += 1;
                if t.first_error.is_empty() {
                    t.first_error = format!("{e:#}");
                }
                for &(slot, _) in &self.batch {
                    t.written[self.keys[slot] as usize].unsure += 1;
                }
                return Ok(());
            }
        };
        let took = t0.elapsed();
        let resp = api::parse_put_records(&answer)?;
        if resp.records.len() != self.batch.len() {
            bail!("PutRecords: {} result entries for {} records", resp.records.len(), self.batch.len());
        }
        let t = &mut self.totals;
        let mut throttled = false;
        for (result, &(slot, counter)) in resp.records.iter().zip(&self.batch) {
            if result.stored() {
                t.written[self.keys[slot] as usize].ack(counter);
                t.timed_records += u64::from(timed);
                continue;
            }
            t.failed += 1;
            if result.error_code.as_deref() == Some(THROTTLED) {
                t.throttled += 1;
                throttled = true;
                self.retry.push_back(slot);
            } else if t.first_failure.is_empty() {
                t.first_failure = format!(
                    "{}: {}",
                    result.error_code.as_deref().unwrap_or("no ErrorCode"),
                    result.error_message.as_deref().unwrap_or("")
                );
            }
        }
        let unstored = resp.records.iter().filter(|r| !r.stored()).count() as u64;
        if resp.failed_record_count != unstored {
            bail!("PutRecords: FailedRecordCount {} but {unstored} entries unstored", resp.failed_record_count);
        }
        if timed {
            t.latencies.push(took);
        }
        if throttled {
            tokio::time::sleep(THROTTLE_PAUSE).await;
        }
        Ok(())
    }
}

/// Records per write-phase PutRecords: [`BATCH`], or fewer when that many
/// would pass [`BATCH_BYTES`] (keys are `k` and at most 6 digits).
fn batch_len(record_size: u32) -> usize {
    (BATCH_BYTES / (record_size as usize + 7)).clamp(1, BATCH)
}

/// Reads one shard from TRIM_HORIZON to its end, checking every record;
/// the findings and the number of GetRecords calls.
async fn read_shard(conn: &Conn, stream: &str, shard_id: &str, mut check: ShardCheck) -> Result<(ShardCheck, u64)> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut iterator = api::shard_iterator(conn, stream, shard_id, "TRIM_HORIZON").await?;
    let mut data = Vec::new();
    let mut calls = 0;
    loop {
        if Instant::now() > deadline {
            bail!("{shard_id}: not read to the end within {READ_DEADLINE:?}");
        }
        let answer = match api::get_records(conn, &iterator, READ_LIMIT).await {
            Ok(answer) => answer,
            Err(e) if format!("{e:#}").contains(THROTTLED) => {
                tokio::time::sleep(THROTTLE_PAUSE).await;
                continue;
            }
            Err(e) => return Err(e.context(format!("reading {shard_id}"))),
        };
        calls += 1;
        let resp = api::parse_get_records(&answer)?;
        for r in &resp.records {
            data.clear();
            if B64.decode_vec(r.data.as_bytes(), &mut data).is_err() {
                data.clear();
            }
            check.record(&r.partition_key, &data);
        }
        let (empty, behind) = (resp.records.is_empty(), resp.millis_behind_latest);
        match resp.next_shard_iterator {
            Some(next) if !(empty && behind == 0) => iterator = next,
            _ => return Ok((check, calls)),
        }
        if empty {
            // Behind but nothing returned: let the server catch up.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Fills a retention stream until `budget` records have been taken; the
/// number this worker stored.
async fn fill(conn: &Conn, stream: &str, id: u64, budget: &AtomicU64) -> Result<u64> {
    let mut record = vec![0u8; RETAIN_RECORD];
    // xorshift: incompressible enough that storing it costs what it says.
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (id + 1).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let mut stored = 0;
    loop {
        let want = budget
            .fetch_update(Relaxed, Relaxed, |left| left.checked_sub(1).map(|l| l.saturating_sub(BATCH as u64 - 1)));
        let n = match want {
            Ok(left) => left.min(BATCH as u64) as usize,
            Err(_) => return Ok(stored),
        };
        let mut body = api::PutRecordsBody::new(stream, n * (RETAIN_RECORD * 4 / 3 + 48) + 64);
        for i in 0..n {
            for chunk in record.chunks_exact_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes());
            }
            body.push(&record, &format!("r{}", (id as usize * BATCH + i) % 1000));
        }
        let answer = conn.call(api::PUT_RECORDS, body.finish()).await?;
        let resp = api::parse_put_records(&answer)?;
        stored += resp.records.iter().filter(|r| r.stored()).count() as u64;
        if resp.failed_record_count > 0 {
            // Throttled or refused: give the records back to the budget.
            budget.fetch_add(resp.failed_record_count, Relaxed);
            tokio::time::sleep(THROTTLE_PAUSE).await;
        }
    }
}

/// SubscribeToShard's event stream, read message by message as it arrives
/// (framing and CRCs: `eddy_wire::eventstream`).
struct Subscription<B> {
    body: B,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    start: usize,
    decoded: Vec<u8>,
}

enum Event {
    Initial,
    Records,
}

impl<B> Subscription<B>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Unpin,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    /// The next event; a `SubscribeToShardEvent`'s records are handed to
    /// `on_record` (base64-decoded). `None` when the stream has ended.
    async fn next(&mut self, on_record: &mut impl FnMut(&[u8])) -> Result<Option<Event>> {
        loop {
            while let Some((message, used)) = eventstream::decode(&self.buf[self.start..])? {
                self.start += used;
                let header = |name: &str| {
                    message.headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
                        HeaderValue::String(s) => Some(s.as_str()),
                        _ => None,
                    })
                };
                if header(":message-type").is_some_and(|t| t != "event") {
                    let kind = header(":exception-type").or(header(":error-code")).unwrap_or("unknown error");
                    bail!("SubscribeToShard {kind}: {}", String::from_utf8_lossy(&message.payload));
                }
                match header(":event-type") {
                    Some("initial-response") => return Ok(Some(Event::Initial)),
                    Some("SubscribeToShardEvent") => {
                        let event: api::ShardEvent =
                            serde_json::from_slice(&message.payload).context("SubscribeToShardEvent payload")?;
                        for r in &event.records {
                            self.decoded.clear();
                            B64.decode_vec(r.data.as_bytes(), &mut self.decoded).context("record Data")?;
                            on_record(&self.decoded);
                        }
                        return Ok(Some(Event::Records));
                    }
                    _ => {}
                }
            }
            self.buf.drain(..self.start);
            self.start = 0;
            match self.body.frame().await {
                None => return Ok(None),
                Some(frame) => {
                    if let Ok(data) = frame.context("reading the event stream")?.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use eddy_wire::eventstream::{encode, Message};
    use hyper::body::{Body, Frame};

    use super::*;

    /// A body handing out fixed chunks.
    struct Chunks(VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|c| Ok(Frame::data(c))))
        }
    }

    fn message(headers: &[(&str, &str)], payload: &str) -> Vec<u8> {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), HeaderValue::String(v.to_string()))).collect();
        encode(&Message { headers, payload: payload.as_bytes().to_vec() })
    }

    fn subscription(stream: &[u8], chunk: usize) -> Subscription<Chunks> {
        let chunks = stream.chunks(chunk).map(Bytes::copy_from_slice).collect();
        Subscription { body: Chunks(chunks), buf: Vec::new(), start: 0, decoded: Vec::new() }
    }

    #[tokio::test]
    async fn reads_events_split_across_chunks() {
        let event = |t| [(":message-type", "event"), (":event-type", t), (":content-type", "application/json")];
        let data = [B64.encode(verify::encode_push(7)), B64.encode(verify::encode_push(9))];
        let records = format!(
            r#"{{"Records":[{{"SequenceNumber":"1","ApproximateArrivalTimestamp":1.7E9,"Data":"{}","PartitionKey":"push"}},
            {{"SequenceNumber":"2","ApproximateArrivalTimestamp":1.7E9,"Data":"{}","PartitionKey":"push"}}],
            "ContinuationSequenceNumber":"2","MillisBehindLatest":0}}"#,
            data[0], data[1]
        );
        let stream = [
            message(&event("initial-response"), "{}"),
            message(&event("SubscribeToShardEvent"), &records),
            message(&event("SubscribeToShardEvent"), r#"{"Records":[],"ContinuationSequenceNumber":"2"}"#),
        ]
        .concat();
        for chunk in [1, 7, 100, stream.len()] {
            let mut sub = subscription(&stream, chunk);
            let mut sent = Vec::new();
            let mut on_record = |d: &[u8]| sent.push(verify::decode_push(d).unwrap());
            assert!(matches!(sub.next(&mut on_record).await.unwrap(), Some(Event::Initial)));
            assert!(matches!(sub.next(&mut on_record).await.unwrap(), Some(Event::Records)));
            assert!(matches!(sub.next(&mut on_record).await.unwrap(), Some(Event::Records)));
            assert!(sub.next(&mut on_record).await.unwrap().is_none());
            assert_eq!(sent, [7, 9]);
        }
    }

    #[tokio::test]
    async fn exceptions_are_errors() {
        let headers = [(":message-type", "exception"), (":exception-type", "ResourceInUseException")];
        let mut sub = subscription(&message(&headers, r#"{"message":"busy"}"#), 5);
        let e = sub.next(&mut |_| {}).await.err().unwrap();
        assert_eq!(e.to_string(), r#"SubscribeToShard ResourceInUseException: {"message":"busy"}"#);
    }
}
