//! `eddy bench sqs`, `eddy bench sns`, `eddy bench kinesis`, `eddy bench
//! events`, `eddy bench soak` and `eddy bench stall`: load
//! generators for any SQS (awsJson1_0), SNS (awsQuery), Kinesis or
//! EventBridge (awsJson1_1) endpoint, printing throughput, latency, start-up and memory
//! figures against eddy's targets.

mod api;
mod deep;
mod disk;
mod events;
mod http;
mod kinesis;
mod latency;
mod ledger;
mod phases;
mod rate;
mod report;
mod roundtrip;
mod server;
mod sign;
mod sns;
mod soak;
mod stall;
mod stats;

use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};

use self::http::{Conn, Endpoint};
use self::report::Report;
use self::server::Spawned;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// Benchmark an SQS endpoint (awsJson1_0 over plain HTTP).
    Sqs(SqsBenchArgs),
    /// Benchmark SNS fan-out to SQS (awsQuery over plain HTTP).
    Sns(sns::SnsBenchArgs),
    /// Benchmark a Kinesis endpoint: PutRecords, verified GetRecords
    /// read-back, SubscribeToShard push latency (awsJson1_1 over plain HTTP).
    Kinesis(kinesis::KinesisBenchArgs),
    /// Benchmark EventBridge: PutEvents with 1 to 1,000 rules on a bus,
    /// delivered to SQS, and put → receivable latency (awsJson1_1).
    Events(events::EventsBenchArgs),
    /// Soak: steady mixed load (SQS, SNS, Kinesis, idle and slow clients)
    /// for an hour or so, checking the server's memory stays flat.
    Soak(soak::SoakBenchArgs),
    /// Stalls: p99 of a small request (SQS ListQueues) while big reads,
    /// a big purge and a big stream deletion run.
    Stall(stall::StallBenchArgs),
    /// fdatasync on a disk: latency and CPU per call, appending and
    /// overwriting, and the fsync CPU floor per acknowledged write.
    Disk(disk::DiskBenchArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SqsBenchArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:4566. Optional with --spawn, which
    /// then benchmarks the spawned server.
    #[arg(long, required_unless_present = "spawn")]
    pub endpoint: Option<String>,
    /// Concurrent workers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    pub connections: u16,
    /// Length of each throughput phase.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub duration_secs: u64,
    /// Depth test: fill a queue with this many messages first (0 = skip).
    #[arg(long, default_value_t = 0)]
    pub deep: u64,
    /// Spawn this binary as `eddy serve` on a free port with a temporary data
    /// directory: measures start-up time, idle and deep-queue memory, and
    /// restart time. Server flags can be set through EDDY_* variables.
    #[arg(long)]
    pub spawn: bool,
    /// Samples per operation for the single-operation latency figures.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..))]
    pub latency_samples: u64,
    /// Park the wake-up phase's long polls on this endpoint (another node of
    /// a cluster on one PostgreSQL schema) while sends go to --endpoint.
    #[arg(long)]
    pub wake_endpoint: Option<String>,
    /// Rounds of the long-poll wake-up measurement.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub wake_samples: u64,
    /// Run only these phases (comma-separated); all by default. Figures that
    /// compare with a phase left out are reported without a verdict.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Phase>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Phase {
    Ceiling,
    Send,
    RoundTrip,
    Latency,
    Wake,
    Deep,
}

pub async fn run(args: BenchArgs) -> Result<()> {
    match args.target {
        BenchTarget::Sqs(args) => sqs(args).await,
        BenchTarget::Sns(args) => sns::run(args).await,
        BenchTarget::Kinesis(args) => kinesis::run(args).await,
        BenchTarget::Events(args) => events::run(args).await,
        BenchTarget::Soak(args) => soak::run(args).await,
        BenchTarget::Stall(args) => stall::run(args).await,
        BenchTarget::Disk(args) => disk::run(args).await,
    }
}

/// State shared by the phases of one run.
struct Bench {
    ep: Endpoint,
    args: SqsBenchArgs,
    /// The spawned server, when it is also the endpoint under test.
    server: Option<Spawned>,
    /// Suffix that keeps this run's queue names and body tags unique.
    run_id: String,
    report: Report,
    /// Results later phases compare against.
    ceiling: Option<f64>,
    /// Server CPU per no-op request in the ceiling phase, in µs.
    ceiling_cpu_us: Option<f64>,
    empty_round_trip: Option<f64>,
}

async fn sqs(args: SqsBenchArgs) -> Result<()> {
    println!("eddy bench sqs: {} connections, {} s per throughput phase", args.connections, args.duration_secs);
    let mut report = Report::default();
    let spawned = if args.spawn { phases::spawn(&mut report).await } else { None };
    // A spawned server that is not the endpoint has served its purpose
    // (start-up and idle memory) and is dropped here, i.e. killed.
    let (ep, server) = match (&args.endpoint, spawned) {
        (Some(url), _) => (Endpoint::parse(url)?, None),
        (None, Some(server)) => (server.endpoint.clone(), Some(server)),
        (None, None) => bail!("no endpoint: --spawn failed and --endpoint was not given"),
    };
    println!("\nendpoint under test: {ep}");
    // Fail once, clearly, rather than once per phase.
    if let Err(e) = tokio::net::TcpStream::connect(ep.authority()).await {
        bail!("cannot connect to {ep}: {e}");
    }
    let mut bench = Bench {
        ep,
        args,
        server,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        report,
        ceiling: None,
        ceiling_cpu_us: None,
        empty_round_trip: None,
    };
    bench.run_all().await;
    bench.report.print_table();
    Ok(())
}

impl Bench {
    async fn run_all(&mut self) {
        let only = self.args.only.clone();
        let phases = Phase::value_variants().iter().copied();
        for phase in phases.filter(|p| only.is_empty() || only.contains(p)) {
            match phase {
                Phase::Ceiling => self.http_ceiling().await,
                Phase::Send => self.send_rate().await,
                Phase::RoundTrip => self.round_trip().await,
                Phase::Latency => self.single_op_latency().await,
                Phase::Wake => self.wake_latency().await,
                Phase::Deep => self.deep().await,
            }
        }
    }

    fn conns(&self) -> usize {
        self.args.connections.into()
    }

    fn duration(&self) -> Duration {
        Duration::from_secs(self.args.duration_secs)
    }

    /// Runs `phase` on a fresh queue and deletes the queue afterwards, even
    /// when the phase failed, so runs don't leave queues behind.
    async fn with_queue<T, F, Fut>(&self, name: &str, phase: F) -> Result<T>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let conn = Conn::new(&self.ep);
        let name = format!("eddy-bench-{name}-{}", self.run_id);
        let url = api::create_queue(&conn, &name).await?;
        let result = phase(url.clone()).await;
        // A fresh connection: the first may have idled out meanwhile.
        if let Err(e) = api::delete_queue(&Conn::new(&self.ep), &url).await {
            eprintln!("  warning: could not delete queue {url}: {e:#}");
        }
        result
    }

    /// Prints a phase heading.
    fn heading(&self, title: &str) {
        println!("\n== {title}");
    }
}
