//! Discoverers: one per event bus, STARTED or STOPPED. A started one sees
//! each event entering its bus (EventBridge's [`BusObserver`] hook stores
//! the event in the batch that accepts it) and [`Schemas::run_discovery`]
//! infers a schema per (source, detail type) into `discovered-schemas`,
//! named `{source}@{DetailType}`; a changed shape makes a new version.

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::Value;

use super::error::{bad_request, SchemasResult};
use super::infer::{self, Shape};
use super::records::{self, DiscovererRecord, InferredRecord, PendingRecord, SchemaRecord, VersionRecord};
use super::registry::check_description;
use super::{scoped, tag_error, Schemas, SchemasError, DISCOVERED_REGISTRY, JSON_SCHEMA_DRAFT4, OPENAPI3};
use crate::events::BusObserver;
use crate::identity::Caller;
use crate::page::{Page, PageRequest};
use crate::tags::{TagRules, Tags};

pub const STARTED: &str = "STARTED";
pub const STOPPED: &str = "STOPPED";
/// Events one discovery batch takes.
const BATCH: usize = 100;
/// GetDiscoveredSchema's bound on `Events`.
pub const MAX_EVENTS: usize = 10;

/// A discoverer as the API shows it.
pub type Discoverer = DiscovererRecord;

fn discoverer_not_found(id: &str) -> SchemasError {
    SchemasError::NotFound(format!("Discoverer {id} does not exist."))
}

/// EventBridge's hook. It holds the service weakly: EventBridge keeps its
/// observer, and the service keeps EventBridge (weakly too), so neither
/// keeps the other alive once a node stops leading.
pub(crate) struct Hook(pub Weak<Schemas>);

impl BusObserver for Hook {
    fn observe(&self, batch: &mut eddy_store::WriteBatch, bus_arn: &str, event: &Value) {
        if let Some(schemas) = self.0.upgrade() {
            schemas.observe(batch, bus_arn, event);
        }
    }
}

impl Schemas {
    /// Stores an event for discovery if a started discoverer watches its bus.
    fn observe(&self, batch: &mut eddy_store::WriteBatch, bus_arn: &str, event: &Value) {
        if !self.discoverers.read().values().any(|d| d.state == STARTED && d.source_arn == bus_arn) {
            return;
        }
        let seq = self.next_seq();
        let record = PendingRecord { bus_arn: bus_arn.to_string(), event: event.to_string() };
        batch.put(&self.pending_part, seq.to_be_bytes().to_vec(), records::to_json(&record));
        self.pending.lock().insert(seq, record);
        self.wake.notify_one();
    }

    /// Discovers stored events until the node stops.
    pub async fn run_discovery(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
            // A moment for the batch that stored the events to commit.
            tokio::time::sleep(Duration::from_millis(20)).await;
            while self.pending_count() > 0 {
                if let Err(e) = self.discover_pending().await {
                    tracing::warn!(error = %e, "Schemas: discovery failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }

    pub fn pending_count(&self) -> usize {
        self.pending.lock().len()
    }

    /// Discovers up to [`BATCH`] stored events, oldest first, writing their
    /// schemas and dropping them in one batch.
    pub async fn discover_pending(&self) -> SchemasResult<()> {
        let taken: Vec<(u64, PendingRecord)> =
            self.pending.lock().iter().take(BATCH).map(|(k, v)| (*k, v.clone())).collect();
        if taken.is_empty() {
            return Ok(());
        }
        let mut batch = self.store.batch();
        {
            let _w = self.write.lock();
            for (seq, pending) in &taken {
                self.discover_event(&mut batch, pending);
                batch.delete(&self.pending_part, seq.to_be_bytes().to_vec());
            }
        }
        self.commit(batch).await?;
        let mut pending = self.pending.lock();
        for (seq, _) in &taken {
            pending.remove(seq);
        }
        Ok(())
    }

    fn discover_event(&self, batch: &mut eddy_store::WriteBatch, pending: &PendingRecord) {
        let Ok(event) = serde_json::from_str::<Value>(&pending.event) else { return };
        let text = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let (source, detail_type, account) = (text("source"), text("detail-type"), text("account"));
        let Some(detail) = event.get("detail") else { return };
        let watching: Vec<DiscovererRecord> = self
            .discoverers
            .read()
            .values()
            .filter(|d| d.state == STARTED && d.source_arn == pending.bus_arn)
            .filter(|d| d.cross_account || d.account == account)
            .cloned()
            .collect();
        for d in watching {
            self.infer_into(batch, &d.account, &d.region, &source, &detail_type, infer::infer(detail));
        }
    }

    /// Merges a detail's shape into the discovered schema of its source and
    /// detail type; a new version only if the document changes.
    fn infer_into(
        &self,
        batch: &mut eddy_store::WriteBatch,
        account: &str,
        region: &str,
        source: &str,
        detail_type: &str,
        shape: Shape,
    ) {
        if let Some(registry) = self.ensure_discovered_registry(account, region) {
            self.registry_batch_put(batch, &registry);
            tracing::info!(account, region, "Schemas: discovered-schemas registry created");
        }
        let name = infer::discovered_name(source, detail_type);
        let schema_key = records::key(&[account, region, DISCOVERED_REGISTRY, &name]);
        let inferred_key = records::key(&[account, region, &name]);
        let existing = self.schemas.read().get(&schema_key).cloned();
        // A deleted schema is discovered afresh.
        let previous =
            existing.as_ref().and_then(|_| self.inferred.read().get(&inferred_key).map(|r| r.detail.clone()));
        let merged = match previous {
            Some(previous) => infer::merge(previous, shape),
            None => shape,
        };
        let content =
            serde_json::to_string_pretty(&infer::openapi(source, detail_type, &merged)).expect("JSON values serialise");
        let now = self.now_ms();
        let record = match existing {
            Some(r) if r.latest().content == content && r.latest().schema_type == OPENAPI3 => None,
            Some(mut r) => {
                r.last_version += 1;
                r.versions.push(VersionRecord {
                    version: r.last_version,
                    schema_type: OPENAPI3.into(),
                    content,
                    created_ms: now,
                });
                r.modified_ms = now;
                Some(r)
            }
            None => Some(SchemaRecord {
                account: account.into(),
                region: region.into(),
                registry: DISCOVERED_REGISTRY.into(),
                name: name.clone(),
                description: None,
                tags: Tags::new(),
                modified_ms: now,
                versions: vec![VersionRecord { version: 1, schema_type: OPENAPI3.into(), content, created_ms: now }],
                last_version: 1,
            }),
        };
        let Some(record) = record else { return };
        tracing::info!(schema = %name, version = record.last_version, account, "Schemas: schema discovered");
        batch.put(&self.schemas_part, schema_key.clone(), records::to_json(&record));
        self.schemas.write().insert(schema_key, record);
        let inferred = InferredRecord { source: source.into(), detail_type: detail_type.into(), detail: merged };
        batch.put(&self.inferred_part, inferred_key.clone(), records::to_json(&inferred));
        self.inferred.write().insert(inferred_key, inferred);
    }

    /// GetDiscoveredSchema: the schema of `events` (EventBridge events of one
    /// type), by the inference discoverers use.
    pub fn get_discovered_schema(&self, events: &[String], schema_type: &str) -> SchemasResult<String> {
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(bad_request(format!("Events must hold 1 to {MAX_EVENTS} events.")));
        }
        if schema_type != OPENAPI3 && schema_type != JSON_SCHEMA_DRAFT4 {
            return Err(bad_request(format!(
                "Type {schema_type} is not valid: use {OPENAPI3} or {JSON_SCHEMA_DRAFT4}."
            )));
        }
        let parsed = events
            .iter()
            .map(|e| serde_json::from_str::<Value>(e))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(|e| bad_request(format!("An event is not valid JSON: {e}")))?;
        let (source, detail_type, shape) = infer::infer_events(&parsed).map_err(bad_request)?;
        let mut doc = infer::openapi(&source, &detail_type, &shape);
        if schema_type == JSON_SCHEMA_DRAFT4 {
            doc = infer::to_draft4(&doc).map_err(bad_request)?;
        }
        Ok(serde_json::to_string_pretty(&doc).expect("JSON values serialise"))
    }

    // --- discoverer CRUD --------------------------------------------------------------------

    fn discoverer_key(caller: &Caller, id: &str) -> Vec<u8> {
        records::key(&[&caller.account, &caller.region, id])
    }

    /// The bus a SourceArn names, which must exist: (account, region, name).
    fn source_bus(&self, source_arn: &str) -> SchemasResult<(String, String, String)> {
        let invalid = || bad_request(format!("SourceArn {source_arn} is not an event bus ARN."));
        if !(20..=1600).contains(&source_arn.len()) {
            return Err(invalid());
        }
        let arn = crate::arn::Arn::parse(source_arn).map_err(|_| invalid())?;
        let name = arn.resource.strip_prefix("event-bus/").filter(|n| !n.is_empty()).ok_or_else(invalid)?;
        if arn.service != "events" {
            return Err(invalid());
        }
        let events = self.events.upgrade().ok_or_else(|| SchemasError::Internal("EventBridge is stopped".into()))?;
        if events.bus_record(arn.account, arn.region, name).is_none() {
            return Err(SchemasError::NotFound(format!("Event bus {name} does not exist.")));
        }
        Ok((arn.account.to_string(), arn.region.to_string(), name.to_string()))
    }

    pub async fn create_discoverer(
        &self,
        caller: &Caller,
        source_arn: &str,
        description: Option<String>,
        cross_account: Option<bool>,
        tags: Tags,
    ) -> SchemasResult<Discoverer> {
        check_description(description.as_deref())?;
        TagRules::AWS.check(&tags).map_err(tag_error)?;
        let (_, _, bus) = self.source_bus(source_arn)?;
        // AWS names a bus's discoverer after it: one discoverer per bus.
        let id = format!("events-event-bus-{bus}");
        let key = Self::discoverer_key(caller, &id);
        let record = {
            let _w = self.write.lock();
            if self.discoverers.read().contains_key(&key) {
                return Err(SchemasError::Conflict(format!("Discoverer {id} already exists for {source_arn}.")));
            }
            let record = DiscovererRecord {
                account: caller.account.clone(),
                region: caller.region.clone(),
                id,
                source_arn: source_arn.to_string(),
                description,
                state: STARTED.into(),
                cross_account: cross_account.unwrap_or(true),
                tags,
            };
            self.discoverers.write().insert(key.clone(), record.clone());
            record
        };
        self.put_discoverer(key, &record).await?;
        tracing::info!(discoverer = %record.id, bus = %source_arn, "Schemas: discoverer created (STARTED)");
        Ok(record)
    }

    async fn put_discoverer(&self, key: Vec<u8>, record: &DiscovererRecord) -> SchemasResult<()> {
        let mut batch = self.store.batch();
        batch.put(&self.discoverers_part, key, records::to_json(record));
        self.commit(batch).await
    }

    pub fn describe_discoverer(&self, caller: &Caller, id: &str) -> SchemasResult<Discoverer> {
        self.discoverers.read().get(&Self::discoverer_key(caller, id)).cloned().ok_or_else(|| discoverer_not_found(id))
    }

    /// Changes a discoverer with `change` and stores it.
    async fn change_discoverer(
        &self,
        caller: &Caller,
        id: &str,
        change: impl FnOnce(&mut DiscovererRecord),
    ) -> SchemasResult<Discoverer> {
        let key = Self::discoverer_key(caller, id);
        let record = {
            let _w = self.write.lock();
            let mut discoverers = self.discoverers.write();
            let record = discoverers.get_mut(&key).ok_or_else(|| discoverer_not_found(id))?;
            change(record);
            record.clone()
        };
        self.put_discoverer(key, &record).await?;
        Ok(record)
    }

    pub async fn update_discoverer(
        &self,
        caller: &Caller,
        id: &str,
        description: Option<String>,
        cross_account: Option<bool>,
    ) -> SchemasResult<Discoverer> {
        check_description(description.as_deref())?;
        self.change_discoverer(caller, id, |d| {
            if description.is_some() {
                d.description = description;
            }
            if let Some(c) = cross_account {
                d.cross_account = c;
            }
        })
        .await
    }

    pub async fn set_discoverer_state(&self, caller: &Caller, id: &str, started: bool) -> SchemasResult<Discoverer> {
        let state = if started { STARTED } else { STOPPED };
        let record = self.change_discoverer(caller, id, |d| d.state = state.into()).await?;
        tracing::info!(discoverer = %id, state, "Schemas: discoverer state changed");
        Ok(record)
    }

    pub async fn delete_discoverer(&self, caller: &Caller, id: &str) -> SchemasResult<()> {
        let key = Self::discoverer_key(caller, id);
        {
            let _w = self.write.lock();
            if self.discoverers.write().remove(&key).is_none() {
                return Err(discoverer_not_found(id));
            }
        }
        let mut batch = self.store.batch();
        batch.delete(&self.discoverers_part, key);
        self.commit(batch).await
    }

    pub fn list_discoverers(
        &self,
        caller: &Caller,
        id_prefix: Option<&str>,
        source_prefix: Option<&str>,
        token: Option<&str>,
        limit: usize,
    ) -> SchemasResult<Page<Discoverer>> {
        let scope = records::key(&[&caller.account, &caller.region, ""]);
        let all: Vec<Discoverer> = scoped(&self.discoverers.read(), &scope)
            .map(|(_, d)| d)
            .filter(|d| id_prefix.is_none_or(|p| d.id.starts_with(p)))
            .filter(|d| source_prefix.is_none_or(|p| d.source_arn.starts_with(p)))
            .cloned()
            .collect();
        let listing = format!("schemas-discoverers/{}/{}", caller.account, caller.region);
        let req = PageRequest::new(&listing, token, limit, self.now_ms());
        self.tokens.page(all, |d| d.id.as_str(), &req).map_err(|_| bad_request("The NextToken is not valid."))
    }
}
