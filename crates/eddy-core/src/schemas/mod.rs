//! Amazon EventBridge Schema Registry: registries, schemas and their
//! versions (OpenAPI 3 and JSON Schema draft 4), resource policies, search,
//! export to JSON Schema, and discoverers that infer schemas from the
//! events entering an EventBridge bus.
//!
//! Every change is durable before it is answered. An event a started
//! discoverer watches is stored by EventBridge's
//! [`BusObserver`](crate::events::BusObserver) hook, in the batch that
//! accepts the event, and discovered afterwards by
//! [`Schemas::run_discovery`], which writes the inferred schema and drops
//! the stored event in one batch: a restart discovers what was left.
//! Inference ([`infer`]) is deterministic and merging an event already
//! seen changes nothing, so discovering an event twice makes no version.

mod discoverer;
mod error;
pub mod infer;
mod records;
mod registry;
mod schema;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use eddy_store::{Partition, Store};
use parking_lot::{Mutex, RwLock};

pub use discoverer::Discoverer;
pub use error::{SchemasError, SchemasResult};
pub use records::{DiscovererRecord, SchemaRecord, VersionRecord};
pub use registry::{Registry, Scope};
pub use schema::{SchemaInput, SchemaUpdate};

use crate::clock::{Clock, Millis};
use crate::events::Events;

/// The registry AWS's own event schemas are in (scope AWS).
pub const AWS_EVENTS_REGISTRY: &str = "aws.events";
/// The registry discoverers write to, made by the first discovery.
pub const DISCOVERED_REGISTRY: &str = "discovered-schemas";
pub const OPENAPI3: &str = "OpenApi3";
pub const JSON_SCHEMA_DRAFT4: &str = "JSONSchemaDraft4";

pub struct Schemas {
    store: Store,
    registries_part: Partition,
    schemas_part: Partition,
    policies_part: Partition,
    discoverers_part: Partition,
    inferred_part: Partition,
    pending_part: Partition,
    clock: Arc<dyn Clock>,
    /// For the buses discoverers name (weak: EventBridge holds this service as its observer).
    events: Weak<Events>,
    tokens: crate::page::PageTokens,
    registries: RwLock<BTreeMap<Vec<u8>, records::RegistryRecord>>,
    schemas: RwLock<BTreeMap<Vec<u8>, SchemaRecord>>,
    policies: RwLock<BTreeMap<Vec<u8>, records::PolicyRecord>>,
    discoverers: RwLock<BTreeMap<Vec<u8>, DiscovererRecord>>,
    inferred: RwLock<BTreeMap<Vec<u8>, records::InferredRecord>>,
    /// Events waiting for discovery, by sequence.
    pending: Mutex<BTreeMap<u64, records::PendingRecord>>,
    wake: tokio::sync::Notify,
    /// Serialises read-modify-write changes.
    write: Mutex<()>,
    /// Pending-event keys: start at the clock (in 2^20ths of a ms), so
    /// they keep increasing across restarts.
    seq: AtomicU64,
}

impl Schemas {
    /// Opens the registry's state in `store` and registers its discovery
    /// hook with EventBridge; discovery runs in [`Schemas::run_discovery`].
    pub fn open(store: Store, clock: Arc<dyn Clock>, events: &Arc<Events>) -> SchemasResult<Arc<Schemas>> {
        let part = store.partition(records::PARTITION)?;
        let tokens = crate::page::PageTokens::open(&store)?;
        let now = clock.now_ms();
        let schemas = Arc::new(Schemas {
            registries_part: part.family(records::REGISTRIES),
            schemas_part: part.family(records::SCHEMAS),
            policies_part: part.family(records::POLICIES),
            discoverers_part: part.family(records::DISCOVERERS),
            inferred_part: part.family(records::INFERRED),
            pending_part: part.family(records::PENDING),
            store,
            clock,
            events: Arc::downgrade(events),
            tokens,
            registries: RwLock::new(BTreeMap::new()),
            schemas: RwLock::new(BTreeMap::new()),
            policies: RwLock::new(BTreeMap::new()),
            discoverers: RwLock::new(BTreeMap::new()),
            inferred: RwLock::new(BTreeMap::new()),
            pending: Mutex::new(BTreeMap::new()),
            wake: tokio::sync::Notify::new(),
            write: Mutex::new(()),
            seq: AtomicU64::new(now << 20),
        });
        schemas.recover()?;
        events.set_observer(Arc::new(discoverer::Hook(Arc::downgrade(&schemas))));
        Ok(schemas)
    }

    fn recover(&self) -> SchemasResult<()> {
        load(&self.registries_part, &self.registries, "registry")?;
        load(&self.schemas_part, &self.schemas, "schema")?;
        load(&self.policies_part, &self.policies, "resource policy")?;
        load(&self.discoverers_part, &self.discoverers, "discoverer")?;
        load(&self.inferred_part, &self.inferred, "inferred shape")?;
        let mut pending = self.pending.lock();
        for kv in self.pending_part.scan_prefix(b"") {
            let (k, v) = kv?;
            let Ok(seq) = <[u8; 8]>::try_from(k.as_slice()).map(u64::from_be_bytes) else { continue };
            pending.insert(seq, decode(&v, "pending event")?);
        }
        if !pending.is_empty() {
            tracing::info!(events = pending.len(), "Schemas: discovering events stored before the stop");
        }
        Ok(())
    }

    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Commits `batch` and waits until it is durable.
    async fn commit(&self, batch: eddy_store::WriteBatch) -> SchemasResult<()> {
        let ticket = batch.commit()?;
        self.store.durable(ticket).await?;
        Ok(())
    }
}

fn load<T: serde::de::DeserializeOwned>(
    part: &Partition,
    into: &RwLock<BTreeMap<Vec<u8>, T>>,
    what: &str,
) -> SchemasResult<()> {
    let mut map = into.write();
    for kv in part.scan_prefix(b"") {
        let (k, v) = kv?;
        map.insert(k, decode(&v, what)?);
    }
    Ok(())
}

pub fn registry_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:schemas:{region}:{account}:registry/{name}")
}

pub fn schema_arn(region: &str, account: &str, registry: &str, name: &str) -> String {
    format!("arn:aws:schemas:{region}:{account}:schema/{registry}/{name}")
}

pub fn discoverer_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:schemas:{region}:{account}:discoverer/{id}")
}

/// The items of `map` whose keys start with `prefix`.
fn scoped<'a, T>(map: &'a BTreeMap<Vec<u8>, T>, prefix: &'a [u8]) -> impl Iterator<Item = (&'a Vec<u8>, &'a T)> + 'a {
    map.range(prefix.to_vec()..).take_while(move |(k, _)| k.starts_with(prefix))
}

/// A listing's `Limit`: 1 to 100, 100 when absent.
pub fn check_limit(limit: Option<i64>) -> SchemasResult<usize> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=100) => Ok(n as usize),
        Some(n) => Err(error::bad_request(format!("Limit {n} is not valid: it must be between 1 and 100."))),
    }
}

fn tag_error(v: crate::tags::TagViolation) -> SchemasError {
    use crate::tags::TagViolation;
    match v {
        TagViolation::TooMany => error::bad_request("The number of tags exceeds the limit of 50 tags per resource."),
        TagViolation::Key(k) => error::bad_request(format!("Tag key {k} is not valid.")),
        TagViolation::Value(k) => error::bad_request(format!("The value of tag {k} is not valid.")),
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> SchemasResult<T> {
    serde_json::from_slice(bytes).map_err(|e| SchemasError::Internal(format!("undecodable {what} record: {e}")))
}
