//! `eddy bench soak`: steady, moderate, mixed load (SQS, SNS fan-out to SQS
//! and HTTP, Kinesis, idle and slowloris connections) for a long time, to
//! show the server's memory staying flat. Throughput is not the point: the
//! load is paced to leave the server about half a core.
//!
//! Every `--sample-secs` a line gives the server's RSS and what the load
//! has done; the final table compares the mean RSS of minutes 10–20 with
//! that of the last 10 minutes.

mod hook;
mod kinesis;
mod sns;
mod sockets;
mod sqs;
mod tally;
mod verdict;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use tokio::task::JoinSet;

use self::tally::{Snapshot, Tally, KINDS};
use self::verdict::Sample;
use super::http::{Conn, Endpoint};
use super::server::{self, Spawned};
use super::stats::{count, mib};

#[derive(Debug, Clone, Args)]
pub struct SoakBenchArgs {
    /// Endpoint URL of a running server; needs --pid to read its memory.
    #[arg(long, required_unless_present = "spawn", conflicts_with = "spawn", requires = "pid")]
    pub endpoint: Option<String>,
    /// Process id of the server at --endpoint (its RSS is read from /proc).
    #[arg(long)]
    pub pid: Option<u32>,
    /// Spawn this binary as `eddy serve` on a free port and a fresh data directory.
    #[arg(long)]
    pub spawn: bool,
    /// Length of the run.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub minutes: u64,
    /// Gap between memory samples (and progress lines).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub sample_secs: u64,
}

/// What every load task needs.
#[derive(Clone)]
pub struct Ctx {
    pub ep: Endpoint,
    pub tally: Arc<Tally>,
    /// Keeps this run's resource names unique.
    pub run_id: String,
}

/// Resources to delete when the run ends (a server at --endpoint outlives it).
#[derive(Default)]
pub struct Leftovers {
    pub queues: Vec<String>,
    pub topics: Vec<String>,
    pub stream: Option<String>,
}

pub async fn run(args: SoakBenchArgs) -> Result<()> {
    let mut spawned = if args.spawn { Some(Spawned::start().await?.0) } else { None };
    let (ep, pid) = match (&args.endpoint, &spawned, args.pid) {
        (Some(url), _, Some(pid)) => (Endpoint::parse(url)?, pid),
        (None, Some(s), _) => (s.endpoint.clone(), s.pid()),
        _ => bail!("no endpoint: give --spawn, or --endpoint with --pid"),
    };
    println!(
        "eddy bench soak: {} min against {ep} (pid {pid}), a sample every {} s; \
         {} idle and {} slowloris connections",
        args.minutes,
        args.sample_secs,
        sockets::IDLE,
        sockets::SLOW
    );
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let ctx = Ctx { ep, tally: Arc::new(Tally::default()), run_id };
    let mut load = JoinSet::new();
    let mut left = Leftovers::default();
    let started = start_load(&ctx, &mut load, &mut left).await;
    let outcome = match started {
        Ok(()) => Ok(sample(&args, &ctx, pid, spawned.as_mut()).await),
        Err(e) => Err(e.context("setting up the load")),
    };
    load.shutdown().await;
    if let Ok(run) = &outcome {
        let peak = server::memory_of(pid).map(|m| m.peak).ok();
        verdict::report(&args, run, &ctx.tally.snapshot(), peak);
    }
    teardown(&ctx, &left).await;
    outcome.map(drop)
}

async fn start_load(ctx: &Ctx, set: &mut JoinSet<()>, left: &mut Leftovers) -> Result<()> {
    sqs::start(ctx, set, left).await?;
    sns::start(ctx, set, left).await?;
    kinesis::start(ctx, set, left).await?;
    sockets::start(ctx, set);
    Ok(())
}

/// What the sampling saw.
pub struct Run {
    pub samples: Vec<Sample>,
    /// Why the run ended before `--minutes`, if it did.
    pub cut_short: Option<String>,
    /// The bench's own RSS at the first and the last sample.
    pub bench_rss: Option<(u64, u64)>,
    /// Server CPU over the whole run, in cores.
    pub server_cores: f64,
}

/// Samples memory until `--minutes` have passed or the server is gone.
async fn sample(args: &SoakBenchArgs, ctx: &Ctx, pid: u32, mut spawned: Option<&mut Spawned>) -> Run {
    let gap = Duration::from_secs(args.sample_secs);
    let end = Duration::from_secs(args.minutes * 60);
    let t0 = Instant::now();
    let cpu0 = server_cpu(pid);
    let mut ticker = tokio::time::interval_at((t0 + gap).into(), gap);
    let mut prev = Progress { at: t0, cpu: cpu0, tally: Snapshot::default() };
    let mut run = Run { samples: Vec::new(), cut_short: None, bench_rss: None, server_cores: 0.0 };
    loop {
        ticker.tick().await;
        if let Some(status) = spawned.as_mut().and_then(|s| s.exited()) {
            run.cut_short = Some(format!("the server exited with {status}"));
            break;
        }
        let rss = match server::memory_of(pid) {
            Ok(m) => m.rss,
            Err(e) => {
                run.cut_short = Some(format!("{e:#}"));
                break;
            }
        };
        let minute = t0.elapsed().as_secs_f64() / 60.0;
        run.samples.push(Sample { minute, rss });
        let own = server::memory_of(std::process::id()).map(|m| m.rss).unwrap_or(0);
        run.bench_rss = Some((run.bench_rss.map_or(own, |(first, _)| first), own));
        prev = progress_line(ctx, pid, minute, rss, own, prev);
        // Allow for timer slack: the last tick lands on `end`, not past it.
        if t0.elapsed() + gap / 2 >= end {
            break;
        }
    }
    let cpu = server_cpu(pid).saturating_sub(cpu0);
    run.server_cores = cpu.as_secs_f64() / t0.elapsed().as_secs_f64().max(1e-9);
    run
}

/// The previous progress line's figures, for the per-interval ones.
struct Progress {
    at: Instant,
    cpu: Duration,
    tally: Snapshot,
}

/// Prints one sample line, and the latest error of each kind that had new ones.
fn progress_line(ctx: &Ctx, pid: u32, minute: f64, rss: u64, own: u64, prev: Progress) -> Progress {
    let now = Progress { at: Instant::now(), cpu: server_cpu(pid), tally: ctx.tally.snapshot() };
    let busy = now.cpu.saturating_sub(prev.cpu).as_secs_f64() / now.at.duration_since(prev.at).as_secs_f64();
    let ops: Vec<String> =
        KINDS.iter().map(|&k| format!("{} {}", k.name(), count(now.tally.ops[k as usize] as f64))).collect();
    let errors: Vec<String> = KINDS.iter().map(|&k| now.tally.errors[k as usize].to_string()).collect();
    println!(
        "[{minute:6.2} min] RSS {}  server CPU {:3.0}%  bench RSS {} | ops: {} | errors: {}",
        mib(rss),
        busy * 100.0,
        mib(own),
        ops.join(", "),
        errors.join("/")
    );
    for k in KINDS.iter().filter(|&&k| now.tally.errors[k as usize] > prev.tally.errors[k as usize]) {
        let new = now.tally.errors[*k as usize] - prev.tally.errors[*k as usize];
        println!("    {} +{new} errors, latest: {}", k.name(), ctx.tally.last_error(*k).unwrap_or_default());
    }
    now
}

fn server_cpu(pid: u32) -> Duration {
    server::cpu_time(&format!("/proc/{pid}/stat")).unwrap_or_default()
}

/// Best effort: a spawned server is deleted with its data directory anyway.
async fn teardown(ctx: &Ctx, left: &Leftovers) {
    let conn = Conn::new(&ctx.ep);
    let mut failed = 0;
    if let Some(stream) = &left.stream {
        failed += super::kinesis::api::delete_stream(&conn, stream).await.is_err() as usize;
    }
    for topic in &left.topics {
        failed += conn.query(&[("Action", "DeleteTopic"), ("TopicArn", topic)]).await.is_err() as usize;
    }
    for url in &left.queues {
        failed += super::api::delete_queue(&conn, url).await.is_err() as usize;
    }
    if failed > 0 {
        eprintln!("warning: {failed} of the soak's queues, topics or streams could not be deleted");
    }
}
