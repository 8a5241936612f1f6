//! `eddy doctor`: prints each production trap (gotchas.md #3, #4, #6, and
//! the identity traps: unscoped role trust policies, wildcard principals)
//! found in a running eddy (`--endpoint`) or in a data directory
//! (`--data-dir`, with eddy stopped), with its fix. Exits 1 when it finds
//! something, so CI pipelines can gate on it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use eddy_core::doctor::{self, Finding};

#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// A running eddy to inspect.
    #[arg(long, env = "EDDY_ENDPOINT", default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// Inspect this data directory instead of a running eddy (stop eddy first).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the checks; Ok(true) when something was found.
pub async fn run(args: DoctorArgs) -> anyhow::Result<bool> {
    let findings = match &args.data_dir {
        Some(dir) => from_data_dir(dir)?,
        None => from_endpoint(&args.endpoint).await?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else {
        print!("{}", doctor::render(&findings));
    }
    Ok(!findings.is_empty())
}

async fn from_endpoint(endpoint: &str) -> anyhow::Result<Vec<Finding>> {
    let url = format!("{}/_eddy/doctor", endpoint.trim_end_matches('/'));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let resp = client.get(url.parse()?).await.with_context(|| format!("reaching eddy at {endpoint}"))?;
    anyhow::ensure!(resp.status().is_success(), "{url} answered {}", resp.status());
    let body = resp.into_body().collect().await?.to_bytes();
    serde_json::from_slice(&body).context("reading the findings")
}

fn from_data_dir(dir: &std::path::Path) -> anyhow::Result<Vec<Finding>> {
    let store = eddy_store::Store::open(dir, eddy_store::Durability::Flush)
        .with_context(|| format!("opening {} (is eddy still running on it?)", dir.display()))?;
    let clock = Arc::new(eddy_core::clock::SystemClock);
    let sqs = eddy_core::sqs::Sqs::open(store.clone(), clock.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = eddy_core::sns::SnsConfig {
        enforcement: eddy_core::sns::Enforcement::Enforce,
        urls: eddy_core::sns::Urls { base: String::new() },
    };
    let http = Arc::new(crate::sns::http_client::HyperSender::new());
    // Pending deliveries are not run: the doctor only reads.
    let (sns, _pending) = eddy_core::sns::Sns::open(store.clone(), clock.clone(), sqs.clone(), http, config)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Maintenance is not run either: streams and roles are only read.
    let limits = eddy_core::kinesis::KinesisConfig { enforce_limits: false };
    let kinesis =
        eddy_core::kinesis::Kinesis::open(store.clone(), clock.clone(), limits).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Deliveries are not run: rules and targets are only read.
    let targets = eddy_core::events::Targets { sqs: sqs.clone(), sns: sns.clone(), kinesis: kinesis.clone() };
    let enforcement = eddy_core::events::EventsConfig::new(eddy_core::sns::Enforcement::Enforce);
    let http = Arc::new(crate::events::invoker::HyperInvoker::default());
    let events = eddy_core::events::Events::open(store.clone(), clock.clone(), targets, http, enforcement)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let iam = eddy_core::iam::Iam::open(store, clock).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut findings = doctor::inspect(&sqs, &sns);
    findings.extend(doctor::inspect_identity(&sqs, &sns, &kinesis, &iam));
    findings.extend(doctor::inspect_events(&sqs, &sns, &events));
    Ok(findings)
}
