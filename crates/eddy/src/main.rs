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
mod connections;
mod data_dir;
mod doctor;
mod fd_limit;
mod front_error;
mod health;
mod iam;
mod kinesis;
mod request;
mod respond;
mod routes;
mod server;
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
    let mut _dir_lock = None;
    let durability = match args.durability {
        cli::Durability::Fsync => eddy_store::Durability::Fsync,
        cli::Durability::Flush => eddy_store::Durability::Flush,
    };
    let store = if let Some(url) = args.postgres_store() {
        // A returned commit is durable in PostgreSQL: --durability does not apply.
        let options = eddy_store::StoreOptions {
            pool_size: args.store_pool_size.into(),
            ..eddy_store::StoreOptions::new(durability)
        };
        eddy_store::Store::open_postgres(url, &args.store_schema, options).with_context(|| {
            format!("opening the store in PostgreSQL schema {} at {}", args.store_schema, cli::redact_store(url))
        })?
    } else if let Some(other) = &args.store {
        anyhow::bail!(
            "--store {}: only PostgreSQL URLs (postgres://… or postgresql://…) are supported; \
             leave --store out for the embedded engine in --data-dir",
            cli::redact_store(other)
        );
    } else if args.in_memory {
        eddy_store::Store::in_memory()
    } else {
        data_dir::create(&args.data_dir)?;
        _dir_lock = Some(data_dir::lock(&args.data_dir)?);
        let mut options = eddy_store::StoreOptions::new(durability);
        options.min_free_bytes = args.min_free_disk_mb << 20;
        options.max_open_files = fds.store_files;
        eddy_store::Store::open_with(&args.data_dir, options)
            .with_context(|| format!("opening the store in {}", args.data_dir.display()))?
    };
    let sqs = eddy_core::sqs::Sqs::open(store.clone(), Arc::new(eddy_core::clock::SystemClock))
        .map_err(|e| anyhow::anyhow!("recovering SQS state: {e}"))?;
    tokio::spawn(sqs.clone().run_sweeper());
    let sns_config = eddy_core::sns::SnsConfig {
        enforcement: match args.policy_enforcement {
            cli::PolicyEnforcement::Enforce => eddy_core::sns::Enforcement::Enforce,
            cli::PolicyEnforcement::Warn => eddy_core::sns::Enforcement::Warn,
            cli::PolicyEnforcement::Off => eddy_core::sns::Enforcement::Off,
        },
        urls: eddy_core::sns::Urls { base: args.public_url() },
    };
    let http = Arc::new(sns::http_client::HyperSender::new());
    let (sns, deliveries) = eddy_core::sns::Sns::open(
        store.clone(),
        Arc::new(eddy_core::clock::SystemClock),
        sqs.clone(),
        http,
        sns_config,
    )
    .map_err(|e| anyhow::anyhow!("recovering SNS state: {e}"))?;
    tokio::spawn(sns.clone().run_deliveries(deliveries));
    let kinesis = eddy_core::kinesis::Kinesis::open(
        store.clone(),
        Arc::new(eddy_core::clock::SystemClock),
        eddy_core::kinesis::KinesisConfig { enforce_limits: args.kinesis_enforce_limits },
    )
    .map_err(|e| anyhow::anyhow!("recovering Kinesis state: {e}"))?;
    tokio::spawn(kinesis.clone().run_maintenance());
    let iam = eddy_core::iam::Iam::open(store.clone(), Arc::new(eddy_core::clock::SystemClock))
        .map_err(|e| anyhow::anyhow!("recovering IAM state: {e}"))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {} (is another eddy or LocalStack running?)", args.listen))?;
    tracing::info!(
        listen = %args.listen,
        data_dir = %match args.postgres_store() {
            Some(url) => format!("(PostgreSQL schema {} at {})", args.store_schema, cli::redact_store(url)),
            None if args.in_memory => "(in memory)".to_string(),
            None => args.data_dir.display().to_string(),
        },
        durability = ?args.durability,
        queues = sqs.queue_count(),
        topics = sns.topic_count(),
        streams = kinesis.stream_count(),
        startup_ms = started.elapsed().as_millis() as u64,
        "eddy ready: SQS, SNS and Kinesis at http://{}", args.listen
    );
    let max_connections = args.max_connections.unwrap_or(fds.connections);
    tracing::info!(
        fd_limit = fds.limit,
        max_connections,
        store_open_files = fds.store_files,
        max_body_memory_mb = args.max_body_memory_mb,
        "limits"
    );
    let state = Arc::new(server::AppState {
        sqs: sqs.clone(),
        sns,
        kinesis,
        iam,
        store,
        connections: connections::Connections::new(
            max_connections,
            Duration::from_secs(args.idle_timeout_secs.max(1)),
            Duration::from_secs(args.header_timeout_secs.max(1)),
        ),
        bodies: body::BodyBudget::new((args.max_body_memory_mb << 20) as usize),
        auth: auth::Auth::from_args(&args)?,
        config: args,
    });
    server::run(listener, state, shutdown_signal()).await?;
    sqs.flush().await.map_err(|e| anyhow::anyhow!("flushing the store on shutdown: {e}"))
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
