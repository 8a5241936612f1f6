//! Command line: `eddy [serve]`, `eddy print-config`, `eddy bench sqs`.
//! Every server flag has an `EDDY_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(
    name = "eddy",
    args_conflicts_with_subcommands = true,
    version,
    about = "AWS messaging (SQS and SNS today) in one fast, durable binary.",
    long_about = "eddy speaks the real AWS wire protocols. Point any AWS SDK or the AWS CLI at \
                  http://127.0.0.1:4566 (with any credentials, e.g. AWS_ACCESS_KEY_ID=test \
                  AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1) and it just works.\n\n\
                  With no subcommand, eddy runs `serve`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Print the effective configuration (flags + EDDY_* variables + defaults) as JSON.
    PrintConfig(ServeArgs),
    /// Find the production traps of AWS messaging in your resources (exit 1 if any).
    Doctor(crate::doctor::DoctorArgs),
    /// Load generator that prints throughput and latency figures.
    Bench(eddy_bench::BenchArgs),
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct ServeArgs {
    /// Address and port to listen on (HTTP/1.1 and cleartext HTTP/2 on the same port).
    #[arg(long, env = "EDDY_LISTEN", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// Directory holding the durable store.
    #[arg(long, env = "EDDY_DATA_DIR", default_value = ".eddy")]
    pub data_dir: PathBuf,
    /// Keep everything in memory: nothing survives a restart.
    #[arg(long, env = "EDDY_IN_MEMORY")]
    pub in_memory: bool,
    /// Where the store lives: a PostgreSQL URL (`postgres://user@host:5432/db`
    /// or `postgresql://…`) keeps it in that database, in --store-schema;
    /// any number of nodes may share it (one leads, the others forward to
    /// it and take over when it goes); `?sslmode=…&sslrootcert=…` as with
    /// libpq (default `prefer`). Default: the embedded engine in --data-dir.
    #[arg(long, env = "EDDY_STORE", conflicts_with = "in_memory")]
    #[serde(serialize_with = "redacted_store")]
    pub store: Option<String>,
    /// Where other eddy nodes on the same PostgreSQL schema reach this one
    /// when it leads (with --store postgres://…): every node but the leader
    /// forwards requests there. Default: http:// plus the listen address
    /// (127.0.0.1 if it listens on all), which only nodes on this machine reach.
    #[arg(long, env = "EDDY_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    /// The PostgreSQL schema of the store (with --store postgres://…),
    /// created if absent.
    #[arg(long, env = "EDDY_STORE_SCHEMA", default_value = "eddy")]
    pub store_schema: String,
    /// Connections to PostgreSQL (with --store postgres://…): reads and
    /// direct commits run on them in parallel.
    #[arg(long, env = "EDDY_STORE_POOL_SIZE", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub store_pool_size: u16,
    /// Region used when a request carries no SigV4 credential scope.
    #[arg(long, env = "EDDY_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account used when the access key id is not a 12-digit number.
    #[arg(long, env = "EDDY_ACCOUNT", default_value = "000000000000")]
    pub account: String,
    /// When a write is acknowledged: `fsync` (durable on disk, group-committed),
    /// `flush` (handed to the OS: survives a process crash, not a power loss).
    #[arg(long, env = "EDDY_DURABILITY", value_enum, default_value_t = Durability::Fsync)]
    pub durability: Durability,
    /// What happens when a queue's policy does not allow a service's delivery
    /// (SNS → SQS, SNS → dead-letter queue): `enforce` drops it as AWS does,
    /// `warn` delivers but logs the drop AWS would make, `off` skips the check.
    #[arg(long, env = "EDDY_POLICY_ENFORCEMENT", value_enum, default_value_t = PolicyEnforcement::Enforce)]
    pub policy_enforcement: PolicyEnforcement,
    /// Base URL eddy puts in SNS messages (SigningCertURL, SubscribeURL,
    /// UnsubscribeURL). Default: http:// plus the listen address (127.0.0.1 if it listens on all).
    #[arg(long, env = "EDDY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Make provisioned Kinesis shards answer ProvisionedThroughputExceededException
    /// past AWS's limits (1 MiB/s or 1,000 records/s written, 2 MiB/s or 5 reads/s).
    #[arg(long, env = "EDDY_KINESIS_ENFORCE_LIMITS")]
    pub kinesis_enforce_limits: bool,
    /// Rules one EventBridge bus may hold. AWS's default quota is 300; an
    /// account can have it raised, and so can eddy.
    #[arg(long, env = "EDDY_EVENTS_RULES_PER_BUS", default_value_t = 300, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub events_rules_per_bus: usize,
    /// Most client connections open at once; past it new connections are
    /// closed at once. Default: what the open-file limit leaves after the
    /// store's share and a reserve, at most 10,000.
    #[arg(long, env = "EDDY_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Memory for request bodies being read or handled, all connections
    /// together (MiB). Past it a request gets the protocol's 503 throttling
    /// error instead of growing eddy's memory.
    #[arg(long, env = "EDDY_MAX_BODY_MEMORY_MB", default_value_t = 256)]
    pub max_body_memory_mb: u64,
    /// Writes are refused (and health says why) while the data directory's
    /// disk has less free space than this (MiB); they resume once it is freed.
    #[arg(long, env = "EDDY_MIN_FREE_DISK_MB", default_value_t = 64)]
    pub min_free_disk_mb: u64,
    /// Seconds a connection may sit idle (no request in flight) before it is
    /// closed; 1 s when connections run short. Longer than clients' own idle
    /// limits (Java SDK 60 s, Go 90 s), so a client normally closes first and
    /// never sends a request into a connection the server is closing.
    #[arg(long, env = "EDDY_IDLE_TIMEOUT_SECS", default_value_t = 120)]
    pub idle_timeout_secs: u64,
    /// Seconds a client may take to send a request's headers, or may leave
    /// a request body without sending a byte, before the connection is closed
    /// (slowloris, stalled bodies).
    #[arg(long, env = "EDDY_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,
    /// Authorize every API call with AWS's policy evaluation: identity
    /// policies, permission boundaries, session policies, resource policies
    /// and role trust policies. Off: every caller may do anything, as before.
    #[arg(long, env = "EDDY_ENFORCE_IAM")]
    pub enforce_iam: bool,
    /// Log format.
    #[arg(long, env = "EDDY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// SigV4 signatures: `accept` reads the access key and scope and trusts
    /// them (any credentials work); `verify` checks every signature, clock
    /// skew, presigned expiry and session token, as AWS does.
    #[arg(long, env = "EDDY_AUTH", value_enum, default_value_t = AuthMode::Accept)]
    pub auth: AuthMode,
    /// An AWS shared-credentials file whose keys act as their account's root
    /// (`account_id` in a profile, else the default account).
    #[arg(long, env = "EDDY_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
    /// `KEYID:SECRET[:ACCOUNT]`, repeatable: a key acting as its account's root.
    #[arg(long, env = "EDDY_BOOTSTRAP_KEYS", value_delimiter = ',')]
    #[serde(skip_serializing)]
    pub bootstrap_key: Vec<String>,
    /// Tests only: seconds added to the clock signatures and session expiries are checked against.
    #[arg(long, env = "EDDY_AUTH_CLOCK_OFFSET_SECS", default_value_t = 0, hide = true, allow_negative_numbers = true)]
    pub auth_clock_offset_secs: i64,
}

#[derive(Debug, Clone, Copy, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Accept,
    Verify,
}

#[derive(Debug, Clone, Copy, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Fsync,
    Flush,
}

#[derive(Debug, Clone, Copy, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PolicyEnforcement {
    Enforce,
    Warn,
    Off,
}

impl ServeArgs {
    /// The PostgreSQL URL of --store, when it is one.
    pub fn postgres_store(&self) -> Option<&str> {
        self.store.as_deref().filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    }

    pub fn public_url(&self) -> String {
        self.given_or_listen_url(self.public_url.as_deref())
    }

    /// Where other nodes of a cluster reach this one (--advertise-url).
    pub fn advertise_url(&self) -> String {
        self.given_or_listen_url(self.advertise_url.as_deref())
    }

    /// `given` without a trailing slash; else http:// plus the listen
    /// address, 127.0.0.1 when it listens on all.
    fn given_or_listen_url(&self, given: Option<&str>) -> String {
        if let Some(url) = given {
            return url.trim_end_matches('/').to_string();
        }
        let mut addr = self.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A store URL with its password (if any) replaced, for printing and logs.
pub fn redact_store(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end].rfind('@').map(|i| scheme_end + i) else { return url.to_string() };
    match url[scheme_end..at].find(':').map(|i| scheme_end + i) {
        Some(colon) => format!("{}:***{}", &url[..colon], &url[at..]),
        None => url.to_string(),
    }
}

fn redacted_store<S: serde::Serializer>(store: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match store {
        Some(url) => serializer.serialize_some(&redact_store(url)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod store_url_tests {
    use super::redact_store;

    #[test]
    fn a_store_url_is_shown_without_its_password() {
        assert_eq!(
            redact_store("postgres://eddy:s3cr@t@db:5432/x?sslmode=off"),
            "postgres://eddy:***@db:5432/x?sslmode=off"
        );
        assert_eq!(redact_store("postgres://postgres@127.0.0.1:5432/test"), "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(redact_store("postgresql://db/x"), "postgresql://db/x");
    }
}
