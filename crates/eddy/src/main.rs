//! The eddy binary: CLI, HTTP front, dispatch to the services.
//!
//! Layout: [`cli`] (flags and `EDDY_*` variables), [`server`] (HTTP/1.1 and
//! h2c on one port), [`routes`] (the routing table: protocol, service and
//! handler of each request), [`request`] (SigV4 scope, account, region),
//! [`sqs`] (SQS handlers: wire shapes ↔ core calls), [`health`]; `eddy bench`
//! runs the load generators of the `eddy-bench` crate.

mod auth;
mod authz;
mod body;
mod cli;
mod cluster;
mod connections;
mod data_dir;
mod doctor;
mod events;
mod fd_limit;
mod front_error;
mod health;
mod iam;
mod kinesis;
mod own;
mod pipes;
mod request;
mod respond;
mod routes;
mod scheduler;
mod schemas;
mod server;
mod services;
mod sns;
mod sqs;
mod sts;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Command, LogFormat, ServeArgs};

// Request handling allocates many small, short-lived buffers; glibc's
// allocator spent a fifth of the CPU on them in profiles. (`no_thp` keeps
// mimalloc off transparent huge pages: idle RSS 7.5 MiB instead of 13.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command.unwrap_or(Command::Serve(cli.serve.clone())) {
        Command::Serve(args) => {
            init_logging(args.log_format);
            runtime.block_on(serve(args))
        }
        Command::PrintConfig(args) => {
            println!("{}", serde_json::to_string_pretty(&args)?);
            Ok(())
        }
        Command::Bench(args) => runtime.block_on(eddy_bench::run(args)),
        Command::Doctor(args) => {
            let found = runtime.block_on(doctor::run(args))?;
            std::process::exit(i32::from(found));
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDDY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,fjall=warn,lsm_tree=warn,refinery_core=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let fds = fd_limit::raise_and_split();
    let max_connections = args.max_connections.unwrap_or(fds.connections);
    let front = Arc::new(cluster::Front::new(
        connections::Connections::new(
            max_connections,
            Duration::from_secs(args.idle_timeout_secs.max(1)),
            Duration::from_secs(args.header_timeout_secs.max(1)),
        ),
        body::BodyBudget::new((args.max_body_memory_mb << 20) as usize),
        args.clone(),
    ));
    if let Some(url) = args.postgres_store() {
        // A cluster node: it answers at once (relaying, or 503 while no
        // node leads) and leads once the schema's lock is its.
        let listener = bind(&args).await?;
        log_limits(&args, &fds, max_connections);
        tracing::info!(listen = %args.listen, schema = %args.store_schema, store = %cli::redact_store(url),
            advertise = %args.advertise_url(), startup_ms = started.elapsed().as_millis() as u64,
            "eddy node ready on PostgreSQL: leads the schema when it can take its lock, relays to the leader until then");
        let node = tokio::spawn(cluster::run(front.clone(), url.to_string()));
        tokio::select! {
            served = server::run(listener, front.clone(), shutdown_signal()) => served?,
            ended = node => ended??,
        }
    } else {
        let mut _dir_lock = None;
        let store = if args.store.is_some() {
            anyhow::bail!(
                "--store {}: only PostgreSQL URLs (postgres://… or postgresql://…) are supported; \
                 leave --store out for the embedded engine in --data-dir",
                cli::redact_store(args.store.as_deref().unwrap_or_default())
            );
        } else if args.in_memory {
            eddy_store::Store::in_memory()
        } else {
            data_dir::create(&args.data_dir)?;
            _dir_lock = Some(data_dir::lock(&args.data_dir)?);
            let mut options = eddy_store::StoreOptions::new(match args.durability {
                cli::Durability::Fsync => eddy_store::Durability::Fsync,
                cli::Durability::Flush => eddy_store::Durability::Flush,
            });
            options.min_free_bytes = args.min_free_disk_mb << 20;
            options.max_open_files = fds.store_files;
            eddy_store::Store::open_with(&args.data_dir, options)
                .with_context(|| format!("opening the store in {}", args.data_dir.display()))?
        };
        let services = services::Services::open(store, &args, &front)?;
        front.set_role(cluster::Role::Active(services.state.clone()));
        let listener = bind(&args).await?;
        let state = &services.state;
        tracing::info!(
            listen = %args.listen,
            data_dir = %if args.in_memory { "(in memory)".to_string() } else { args.data_dir.display().to_string() },
            durability = ?args.durability,
            queues = state.sqs.queue_count(),
            topics = state.sns.topic_count(),
            streams = state.kinesis.stream_count(),
            startup_ms = started.elapsed().as_millis() as u64,
            "eddy ready: SQS, SNS, Kinesis and EventBridge at http://{}", args.listen
        );
        log_limits(&args, &fds, max_connections);
        server::run(listener, front.clone(), shutdown_signal()).await?;
    }
    match front.active() {
        Some(state) => state.sqs.flush().await.map_err(|e| anyhow::anyhow!("flushing the store on shutdown: {e}")),
        None => Ok(()),
    }
}

async fn bind(args: &ServeArgs) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {} (is another eddy or LocalStack running?)", args.listen))
}

fn log_limits(args: &ServeArgs, fds: &fd_limit::FdBudget, max_connections: usize) {
    tracing::info!(
        fd_limit = fds.limit,
        max_connections,
        store_open_files = fds.store_files,
        max_body_memory_mb = args.max_body_memory_mb,
        "limits"
    );
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
