//! Amazon EventBridge: event buses, rules, targets, PutEvents and the
//! delivery of matched events to SQS, SNS, Kinesis, other buses, API
//! destinations (HTTP) and the outbox (targets eddy does not run);
//! archives and replays.
//!
//! PutEvents writes one durable job per matched target and answers; the
//! delivery loop ([`deliver`]) carries each job to its target, retrying
//! with the target's RetryPolicy and sending what cannot be delivered to
//! its dead-letter queue. Deliveries into SQS and SNS are made as the
//! service principal `events.amazonaws.com` and must be allowed by the
//! queue's or topic's policy with `aws:SourceArn` = the rule's ARN
//! (gotchas #3): a refused delivery is dropped, logged with the statement
//! that would allow it, and counted in [`EventsStats`].

mod archive;
mod bus;
mod connection;
mod deliver;
mod error;
mod index;
mod input;
mod keyed;
mod observe;
mod put;
mod records;
mod rule;
pub(crate) mod schedule;
mod target;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use eddy_store::{Partition, Store};
use parking_lot::{Mutex, RwLock};

pub use archive::{archive_arn, Archive, ArchiveInput, ReplayInput, ReplayRecord};
pub use bus::{Bus, BusUpdate, Permission};
pub use connection::{
    ConnectionInput, ConnectionRecord, DestinationInput, DestinationRecord, HttpCall, HttpInvoker, HttpReply,
};
pub use deliver::{EventsStats, OutboxEntry};
pub use error::{EventsError, EventsResult};
pub(crate) use input::{fill as fill_template, select as select_path, valid_path as valid_json_path};
pub use observe::BusObserver;
pub use put::{EntryResult, EventEntry};
pub use records::{BusRecord, RuleRecord};
pub use rule::{Rule, RuleInput, TargetFailure};
pub(crate) use target::Failure;

use crate::clock::{Clock, Millis};
use crate::identity::Caller;
use crate::kinesis::Kinesis;
use crate::policy::PolicyCache;
use crate::sns::{Enforcement, Sns};
use crate::sqs::Sqs;

/// The service principal EventBridge delivers as.
pub const EVENTS_PRINCIPAL: &str = "events.amazonaws.com";
/// The bus every account has in every region.
pub const DEFAULT_BUS: &str = "default";

pub struct EventsConfig {
    /// What to do when a queue's or topic's policy refuses a delivery.
    pub enforcement: Enforcement,
    /// Rules one bus may hold: AWS's default quota is 300, which an account
    /// can have raised.
    pub rules_per_bus: usize,
}

impl EventsConfig {
    pub fn new(enforcement: Enforcement) -> EventsConfig {
        EventsConfig { enforcement, rules_per_bus: rule::DEFAULT_RULES_PER_BUS }
    }
}

/// The services targets live in.
pub struct Targets {
    pub sqs: Arc<Sqs>,
    pub sns: Arc<Sns>,
    pub kinesis: Arc<Kinesis>,
}

pub(crate) struct Shared {
    pub store: Store,
    pub buses: Partition,
    pub rules: Partition,
    pub jobs: Partition,
    pub outbox: crate::outbox::Outbox,
    pub archives: Partition,
    pub archived: Partition,
    pub replays: Partition,
    pub clock: Arc<dyn Clock>,
    pub targets: Targets,
    pub config: EventsConfig,
    pub tokens: crate::page::PageTokens,
    /// Job and outbox keys: start at the clock (in 2^20ths of a
    /// millisecond), so they keep increasing across restarts.
    seq: AtomicU64,
}

impl Shared {
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }
}

pub struct Events {
    sh: Shared,
    /// Custom buses, and the default bus of an account and region once it
    /// has a record (a policy, tags), by [`records::bus_key`].
    buses: RwLock<BTreeMap<Vec<u8>, Arc<BusRecord>>>,
    /// Every rule by [`records::rule_key`], so a bus's rules are one range.
    rules: index::RuleMap,
    archives: RwLock<BTreeMap<Vec<u8>, Arc<Archive>>>,
    replays: RwLock<BTreeMap<Vec<u8>, ReplayRecord>>,
    connections: keyed::Keyed<ConnectionRecord>,
    destinations: keyed::Keyed<DestinationRecord>,
    http: connection::Http,
    /// Serialises read-modify-write changes of buses and rules.
    write: Mutex<()>,
    jobs: deliver::Jobs,
    policies: PolicyCache,
    /// Sees each event entering a bus (schema discovery).
    observer: observe::Observer,
    pub stats: Arc<EventsStats>,
}

impl Events {
    /// Opens EventBridge state in `store`; deliveries start when
    /// [`Events::run_deliveries`] runs.
    pub fn open(
        store: Store,
        clock: Arc<dyn Clock>,
        targets: Targets,
        http: Arc<dyn HttpInvoker>,
        config: EventsConfig,
    ) -> EventsResult<Arc<Events>> {
        let part = store.partition(records::PARTITION)?;
        let tokens = crate::page::PageTokens::open(&store)?;
        let seq = clock.now_ms() << 20;
        let sh = Shared {
            buses: part.family(records::BUSES),
            rules: part.family(records::RULES),
            jobs: part.family(records::JOBS),
            outbox: crate::outbox::Outbox::open(part.family(deliver::OUTBOX)),
            archives: part.family(archive::ARCHIVES),
            archived: part.family(archive::ARCHIVED),
            replays: part.family(archive::REPLAYS),
            store,
            clock,
            targets,
            config,
            tokens,
            seq: AtomicU64::new(seq),
        };
        let events = Arc::new(Events {
            sh,
            buses: RwLock::new(BTreeMap::new()),
            rules: index::RuleMap::default(),
            archives: RwLock::new(BTreeMap::new()),
            replays: RwLock::new(BTreeMap::new()),
            connections: keyed::Keyed::new(part.family(connection::CONNECTIONS)),
            destinations: keyed::Keyed::new(part.family(connection::DESTINATIONS)),
            http: connection::Http::new(http),
            write: Mutex::new(()),
            jobs: deliver::Jobs::default(),
            policies: PolicyCache::default(),
            observer: observe::Observer::default(),
            stats: Arc::new(EventsStats::default()),
        });
        events.recover()?;
        Ok(events)
    }

    /// Loads buses, rules and the jobs a stop left undelivered.
    fn recover(&self) -> EventsResult<()> {
        for kv in self.sh.buses.scan_prefix(b"") {
            let (k, v) = kv?;
            let record: BusRecord = decode(&v, "bus")?;
            self.buses.write().insert(k, Arc::new(record));
        }
        for kv in self.sh.rules.scan_prefix(b"") {
            let (k, v) = kv?;
            let record: RuleRecord = decode(&v, "rule")?;
            self.rules.write().insert(k, Arc::new(Rule::from_record(record)?));
        }
        let mut jobs = 0usize;
        for kv in self.sh.jobs.scan_prefix(b"") {
            let (k, v) = kv?;
            let Ok(seq) = <[u8; 8]>::try_from(k.as_slice()).map(u64::from_be_bytes) else { continue };
            self.jobs.insert(seq, decode(&v, "job")?);
            jobs += 1;
        }
        self.recover_archives()?;
        self.recover_http()?;
        if jobs > 0 {
            tracing::info!(jobs, "EventBridge: resuming deliveries accepted before the stop");
        }
        Ok(())
    }

    pub fn now_ms(&self) -> Millis {
        self.sh.now_ms()
    }

    /// Every rule, for `eddy doctor`.
    pub fn all_rules(&self) -> Vec<Arc<Rule>> {
        self.rules.read().values().cloned().collect()
    }

    /// Commits `batch` and waits until it is durable.
    async fn commit(&self, batch: eddy_store::WriteBatch) -> EventsResult<()> {
        let ticket = batch.commit()?;
        self.sh.store.durable(ticket).await?;
        Ok(())
    }
}

/// The ARN of a bus.
pub fn bus_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{name}")
}

/// The ARN of a rule: `rule/<name>` on the default bus, `rule/<bus>/<name>` elsewhere.
pub fn rule_arn(region: &str, account: &str, bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{region}:{account}:rule/{name}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
    }
}

/// Where a bus named by name or ARN lives: (account, region, name).
pub(crate) fn resolve_bus(caller: &Caller, name_or_arn: Option<&str>) -> EventsResult<(String, String, String)> {
    let text = name_or_arn.filter(|s| !s.is_empty()).unwrap_or(DEFAULT_BUS);
    if !text.starts_with("arn:") {
        return Ok((caller.account.clone(), caller.region.clone(), text.to_string()));
    }
    let arn = crate::arn::Arn::parse(text).map_err(|_| error::validation(format!("Parameter {text} is not valid.")))?;
    match arn.resource.strip_prefix("event-bus/") {
        Some(name) if arn.service == "events" && !name.is_empty() => {
            Ok((arn.account.to_string(), arn.region.to_string(), name.to_string()))
        }
        _ => Err(error::validation(format!(
            "Parameter {text} is not valid. Reason: Provided Arn is not in correct format."
        ))),
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> EventsResult<T> {
    serde_json::from_slice(bytes).map_err(|e| EventsError::Internal(format!("undecodable {what} record: {e}")))
}
