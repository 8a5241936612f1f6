//! `eddy bench stall`: does heavy work stall unrelated requests? Times a
//! small request (SQS ListQueues, one connection, one call at a time) with
//! no load, then while each of these runs: (a) a loop of 10 MB GetRecords,
//! (b) a PurgeQueue of a 200,000-message queue, (c) a DeleteStream of a
//! large stream. Target: p99 ≤ 5 ms in every phase.
//!
//! The probe runs on its own thread and runtime, so the bench's own load
//! (parsing 10 MB answers) cannot delay it; what it measures is the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use tokio::task::JoinSet;

use super::api;
use super::http::{Conn, Endpoint};
use super::kinesis::api as kapi;
use super::report::Report;
use super::server::Spawned;
use super::stats::{count, duration, Percentiles};

#[derive(Debug, Clone, Args)]
pub struct StallBenchArgs {
    /// Endpoint URL of a running server (SQS and Kinesis on one port).
    #[arg(long, required_unless_present = "spawn", conflicts_with = "spawn")]
    pub endpoint: Option<String>,
    /// Spawn this binary as `eddy serve` on a free port and a fresh data directory.
    #[arg(long)]
    pub spawn: bool,
    /// How long ListQueues is timed in each phase.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub phase_secs: u64,
    /// Messages in the queue that is purged.
    #[arg(long, default_value_t = 200_000)]
    pub messages: u64,
    /// MiB written to the stream that is deleted.
    #[arg(long, default_value_t = 512)]
    pub stream_mib: u64,
}

const TARGET: &str = "p99 ≤ 5 ms";
const TARGET_P99: Duration = Duration::from_millis(5);
const LIST_QUEUES: &str = "AmazonSQS.ListQueues";
const PURGE_QUEUE: &str = "AmazonSQS.PurgeQueue";
/// Pause between two probes: about 500 samples a second.
const PROBE_GAP: Duration = Duration::from_millis(1);
/// Records written to fill streams: 4 of 256 KiB per PutRecords call.
const RECORD_BYTES: usize = 256 * 1024;
const RECORDS_PER_PUT: usize = 4;
/// Enough for every GetRecords call to return its 10 MB maximum.
const READ_STREAM_MIB: u64 = 48;

pub async fn run(args: StallBenchArgs) -> Result<()> {
    let spawned = if args.spawn { Some(Spawned::start().await?.0) } else { None };
    let ep = match (&args.endpoint, &spawned) {
        (Some(url), _) => Endpoint::parse(url)?,
        (None, Some(s)) => s.endpoint.clone(),
        _ => bail!("no endpoint: give --spawn or --endpoint"),
    };
    println!("eddy bench stall: ListQueues latency against {ep}, {} s per phase", args.phase_secs);
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let mut report = Report::default();
    let phase = Duration::from_secs(args.phase_secs);
    record(&mut report, "baseline, no load", probe_during(&ep, phase, async { Ok(String::new()) }).await?);
    let stalls = [
        ("(a) during a 10 MB GetRecords loop", get_records_phase(&ep, &run_id, phase).await),
        ("(b) during PurgeQueue of a full queue", purge_phase(&ep, &run_id, phase, args.messages).await),
        ("(c) during DeleteStream of a large stream", delete_stream_phase(&ep, &run_id, phase, args.stream_mib).await),
    ];
    for (figure, result) in stalls {
        match result {
            Ok(timed) => record(&mut report, figure, timed),
            Err(e) => report.skipped(figure, format!("failed: {e:#}"), TARGET),
        }
    }
    report.print_table();
    Ok(())
}

/// ListQueues latencies over one phase.
struct Timed {
    samples: Vec<Duration>,
    /// What the load itself reported (its volume).
    load: String,
}

fn record(report: &mut Report, figure: &str, timed: Timed) {
    let max = timed.samples.iter().max().copied().unwrap_or_default();
    let Some(p) = Percentiles::of(timed.samples) else {
        report.skipped(figure, "no samples".into(), TARGET);
        return;
    };
    let value = format!("ListQueues {p} / max {} ({} calls){}", duration(max), count(p.samples as f64), timed.load);
    report.check(figure, value, TARGET, p.p99 <= TARGET_P99);
}

/// Times ListQueues for `phase` while `load` runs; a load that repeats
/// stops by itself at the phase's end. Returns the load's own summary too.
async fn probe_during<F>(ep: &Endpoint, phase: Duration, load: F) -> Result<Timed>
where
    F: std::future::Future<Output = Result<String>> + Send + 'static,
{
    let ep2 = ep.clone();
    let probe = std::thread::spawn(move || probe_thread(ep2, phase));
    let load = tokio::spawn(load);
    let joined = tokio::task::spawn_blocking(move || probe.join()).await?;
    let samples = joined.map_err(|_| anyhow::anyhow!("the probe thread panicked"))??;
    let summary = load.await??;
    let load = if summary.is_empty() { summary } else { format!("; load: {summary}") };
    Ok(Timed { samples, load })
}

/// The probe loop on its own single-threaded runtime.
fn probe_thread(ep: Endpoint, phase: Duration) -> Result<Vec<Duration>> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let conn = Conn::new(&ep);
        conn.call(LIST_QUEUES, b"{}".to_vec()).await?; // opens the connection
        let (t_end, mut samples) = (Instant::now() + phase, Vec::new());
        while Instant::now() < t_end {
            let t0 = Instant::now();
            conn.call(LIST_QUEUES, b"{}".to_vec()).await?;
            samples.push(t0.elapsed());
            tokio::time::sleep(PROBE_GAP).await;
        }
        Ok(samples)
    })
}

/// (a) One reader reads a 48 MiB shard from the start over and over, each
/// GetRecords answering its 10 MB maximum.
async fn get_records_phase(ep: &Endpoint, run_id: &str, phase: Duration) -> Result<Timed> {
    let stream = format!("eddy-stall-read-{run_id}");
    let conn = Conn::new(ep);
    kapi::create_stream(&conn, &stream, 1).await?;
    kapi::wait_stream_active(&conn, &stream).await?;
    fill_stream(ep, &stream, READ_STREAM_MIB).await?;
    let until = Instant::now() + phase;
    let (ep2, name) = (ep.clone(), stream.clone());
    let timed = probe_during(ep, phase, async move { read_loop(&Conn::new(&ep2), &name, until).await }).await;
    kapi::delete_stream(&conn, &stream).await?;
    timed
}

/// GetRecords (Limit 10,000) until `until`, restarting at TRIM_HORIZON at
/// the tip; the answers' sizes.
async fn read_loop(conn: &Conn, stream: &str, until: Instant) -> Result<String> {
    let shard = kapi::list_shards(conn, stream).await?.remove(0).shard_id;
    let (mut calls, mut bytes) = (0u64, 0u64);
    let mut iterator = None;
    while Instant::now() < until {
        let it = match iterator.take() {
            Some(it) => it,
            None => kapi::shard_iterator(conn, stream, &shard, "TRIM_HORIZON").await?,
        };
        let body = kapi::get_records(conn, &it, 10_000).await?;
        (calls, bytes) = (calls + 1, bytes + body.len() as u64);
        // Parsing 13 MB of JSON is the bench's work, not the server's: off the probe's way.
        iterator = tokio::task::spawn_blocking(move || next_iterator(&body)).await??;
    }
    Ok(format!("{calls} GetRecords, {:.1} MB per answer", bytes as f64 / calls.max(1) as f64 / 1e6))
}

/// The next iterator, or None at the tip (start over).
fn next_iterator(body: &[u8]) -> Result<Option<String>> {
    let resp = kapi::parse_get_records(body)?;
    Ok(resp.next_shard_iterator.filter(|_| !resp.records.is_empty() && resp.millis_behind_latest > 0))
}

/// Writes `mib` MiB of 256 KiB records into `stream` from 4 connections.
async fn fill_stream(ep: &Endpoint, stream: &str, mib: u64) -> Result<()> {
    let puts = (mib * 1024 * 1024).div_ceil((RECORD_BYTES * RECORDS_PER_PUT) as u64);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..4 {
        let (conn, stream, next) = (Conn::new(ep), stream.to_string(), next.clone());
        workers.spawn(async move {
            let data = vec![b'x'; RECORD_BYTES];
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < puts {
                let mut body = kapi::PutRecordsBody::new(&stream, RECORD_BYTES * RECORDS_PER_PUT * 4 / 3 + 1024);
                for i in 0..RECORDS_PER_PUT {
                    body.push(&data, &format!("k{i}"));
                }
                conn.call(kapi::PUT_RECORDS, body.finish()).await.context("filling the stream")?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    Ok(())
}

/// (b) PurgeQueue of a queue holding `messages`, then the background deletion.
async fn purge_phase(ep: &Endpoint, run_id: &str, phase: Duration, messages: u64) -> Result<Timed> {
    let conn = Conn::new(ep);
    let url = api::create_queue(&conn, &format!("eddy-stall-purge-{run_id}")).await?;
    println!("  filling a queue with {} messages…", count(messages as f64));
    fill_queue(ep, &url, messages).await?;
    let (url2, ep2) = (url.clone(), ep.clone());
    let purge = async move {
        let t0 = Instant::now();
        let req = serde_json::to_vec(&serde_json::json!({ "QueueUrl": url2 }))?;
        Conn::new(&ep2).call(PURGE_QUEUE, req).await?;
        Ok(format!("PurgeQueue answered in {}", duration(t0.elapsed())))
    };
    let timed = probe_during(ep, phase, purge).await;
    api::delete_queue(&conn, &url).await?;
    timed
}

/// Sends `messages` small messages in batches of 10 from 16 connections.
async fn fill_queue(ep: &Endpoint, url: &str, messages: u64) -> Result<()> {
    let batches = messages.div_ceil(10);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..16 {
        let (conn, url, next) = (Conn::new(ep), url.to_string(), next.clone());
        workers.spawn(async move {
            let bodies: Vec<String> = (0..10).map(|i| format!("stall bench message {i:>80}")).collect();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < batches {
                let failed = api::send_batch(&conn, &url, &bodies).await?;
                if !failed.is_empty() {
                    bail!("{} sends failed while filling the queue", failed.len());
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    Ok(())
}

/// (c) DeleteStream of a stream holding `mib` MiB over 4 shards; eddy
/// drops its shard logs in the background within a few seconds.
async fn delete_stream_phase(ep: &Endpoint, run_id: &str, phase: Duration, mib: u64) -> Result<Timed> {
    let stream = format!("eddy-stall-big-{run_id}");
    let conn = Conn::new(ep);
    kapi::create_stream(&conn, &stream, 4).await?;
    kapi::wait_stream_active(&conn, &stream).await?;
    println!("  writing {mib} MiB to a 4-shard stream…");
    fill_stream(ep, &stream, mib).await?;
    // Let idle shards' memtables reach disk, as a long-lived stream's would.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let delete = async move {
        let t0 = Instant::now();
        kapi::delete_stream(&conn, &stream).await?;
        Ok(format!("DeleteStream answered in {}", duration(t0.elapsed())))
    };
    probe_during(ep, phase, delete).await
}
