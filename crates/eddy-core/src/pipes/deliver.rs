//! A batch's way from filtered records to the target: the enrichment (an
//! API destination; other services recorded in the outbox, the batch
//! passing through unchanged), the target's input template, and delivery
//! into SQS, SNS, Kinesis, an event bus or an API destination, one event
//! at a time as AWS does for targets without batch invocation; a batch
//! for any other service (Lambda, Step Functions, ECS, …) is recorded in
//! the outbox as the array that service would receive.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use super::records::{OutboxEntry, PipeRecord};
use super::source::{self, SourceKind};
use super::transform::{self, Filters, PipeContext};
use super::{Pipes, PipesError, PipesResult};
use crate::clock::iso8601_secs;
use crate::events::Failure;
use crate::identity::Caller;
use crate::sqs::SendRequest;

/// Counters, served at `/_eddy/pipes/stats`.
#[derive(Debug, Default)]
pub struct PipesStats {
    /// Records read from sources.
    pub processed: AtomicU64,
    /// Records no filter matched (SQS messages among them deleted).
    pub filtered: AtomicU64,
    /// Events delivered to targets (or recorded in the outbox).
    pub delivered: AtomicU64,
    /// Batches whose enrichment or target failed.
    pub failed: AtomicU64,
    /// Stream batches tried again after a failure.
    pub retried: AtomicU64,
    /// Stream batches sent to the dead-letter queue.
    pub dead_lettered: AtomicU64,
    /// Stream batches dropped for good (retries or age exhausted, no usable DLQ).
    pub dropped: AtomicU64,
    /// Events passed through an API destination enrichment.
    pub enriched: AtomicU64,
    /// Outbox entries written (targets and enrichments eddy does not run).
    pub recorded: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::Relaxed);
}

impl PipesStats {
    pub fn snapshot(&self) -> Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "processed": g(&self.processed), "filtered": g(&self.filtered), "delivered": g(&self.delivered),
            "failed": g(&self.failed), "retried": g(&self.retried), "deadLettered": g(&self.dead_lettered),
            "dropped": g(&self.dropped), "enriched": g(&self.enriched), "recorded": g(&self.recorded),
        })
    }
}

/// A running pipe: its record and its compiled filters.
pub(crate) struct Pipeline {
    pub record: std::sync::Arc<PipeRecord>,
    pub filters: Filters,
    pub arn: String,
}

impl Pipeline {
    pub fn new(record: std::sync::Arc<PipeRecord>) -> Pipeline {
        Pipeline { filters: Filters::from_parameters(&record.source_parameters), arn: record.arn(), record }
    }

    /// Who the pipe acts as in the services it reads and writes.
    pub fn caller(&self) -> Caller {
        Caller { account: self.record.account.clone(), region: self.record.region.clone(), access_key: "pipes".into() }
    }

    /// Whether each record passes the filters.
    pub fn passes(&self, records: &[Value]) -> Vec<bool> {
        records.iter().map(|r| self.filters.pass(&source::view(r))).collect()
    }
}

fn text<'a>(params: &'a Map<String, Value>, object: &str, member: &str) -> Option<&'a str> {
    params.get(object).and_then(|o| o.get(member)).and_then(Value::as_str)
}

impl Pipes {
    /// Enriches, reshapes and delivers `events` (records that passed the filters).
    pub(crate) async fn deliver_batch(&self, p: &Pipeline, events: Vec<Value>) -> Result<(), Failure> {
        if events.is_empty() {
            return Ok(());
        }
        let events = self.enrich(p, events).await?;
        let r = &p.record;
        let ingestion = iso8601_secs(self.now_ms());
        let ctx = PipeContext {
            pipe_arn: &p.arn,
            pipe_name: &r.name,
            source_arn: &r.source,
            enrichment_arn: r.enrichment.as_deref().unwrap_or_default(),
            target_arn: &r.target,
            ingestion_time: &ingestion,
        };
        let template = r.target_parameters.get("InputTemplate").and_then(Value::as_str).filter(|t| !t.is_empty());
        let bodies: Vec<(String, Value)> = events
            .iter()
            .map(|event| {
                let view = source::view(event);
                let body = template.map_or_else(|| event.to_string(), |t| transform::render(t, &view, &ctx));
                (body, view)
            })
            .collect();
        let service = r.target.split(':').nth(2).unwrap_or_default();
        let runs = matches!(service, "sqs" | "sns" | "kinesis")
            || (service == "events" && (r.target.contains(":event-bus/") || r.target.contains(":api-destination/")));
        if !runs {
            let batch: Vec<Value> =
                bodies.iter().map(|(b, _)| serde_json::from_str(b).unwrap_or_else(|_| json!(b))).collect();
            let parameters = Value::Object(r.target_parameters.clone());
            self.record_outbox(p, "target", &r.target, Value::Array(batch).to_string(), parameters).await?;
            bump(&self.stats.delivered, bodies.len());
            return Ok(());
        }
        for (body, view) in bodies {
            self.to_target(p, body, &view).await?;
            bump(&self.stats.delivered, 1);
        }
        Ok(())
    }

    /// The enrichment's answer for each event (an array answer gives
    /// several events); an enrichment eddy does not run is recorded and
    /// passes the batch through.
    async fn enrich(&self, p: &Pipeline, events: Vec<Value>) -> Result<Vec<Value>, Failure> {
        let r = &p.record;
        let Some(arn) = r.enrichment.as_deref() else { return Ok(events) };
        let params = Value::Object(r.enrichment_parameters.clone());
        let template = r.enrichment_parameters.get("InputTemplate").and_then(Value::as_str).filter(|t| !t.is_empty());
        let ingestion = iso8601_secs(self.now_ms());
        let ctx = PipeContext {
            pipe_arn: &p.arn,
            pipe_name: &r.name,
            source_arn: &r.source,
            enrichment_arn: arn,
            target_arn: &r.target,
            ingestion_time: &ingestion,
        };
        let render = |event: &Value| {
            template.map_or_else(|| event.to_string(), |t| transform::render(t, &source::view(event), &ctx))
        };
        if !(arn.split(':').nth(2) == Some("events") && arn.contains(":api-destination/")) {
            let batch = Value::Array(
                events.iter().map(|e| serde_json::from_str(&render(e)).unwrap_or_else(|_| e.clone())).collect(),
            );
            self.record_outbox(p, "enrichment", arn, batch.to_string(), params).await?;
            tracing::info!(pipe = %p.arn, enrichment = %arn,
                "Pipes enrichment recorded in the outbox (eddy does not run this service); the batch passes through unchanged");
            return Ok(events);
        }
        let mut out = Vec::with_capacity(events.len());
        for event in &events {
            let reply = self.targets.events.invoke_destination(arn, &params, render(event)).await?;
            match serde_json::from_str::<Value>(&reply.body) {
                Ok(Value::Array(items)) => out.extend(items),
                Ok(value) => out.push(value),
                Err(_) => out.push(Value::String(reply.body)),
            }
        }
        bump(&self.stats.enriched, events.len());
        Ok(out)
    }

    async fn to_target(&self, p: &Pipeline, body: String, view: &Value) -> Result<(), Failure> {
        let target = &p.record.target;
        match target.split(':').nth(2).unwrap_or_default() {
            "sqs" => self.to_queue(p, body, view).await,
            "sns" => self.to_topic(p, body, view).await,
            "kinesis" => self.to_stream(p, body, view).await,
            _ if target.contains(":event-bus/") => self.to_bus(p, body, view).await,
            _ => {
                let params = Value::Object(p.record.target_parameters.clone());
                self.targets.events.invoke_destination(target, &params, body).await.map(|_| ())
            }
        }
    }

    /// A FIFO queue's deduplication id: the parameter, else the event's own id.
    fn dedup_id(p: &Pipeline, view: &Value) -> String {
        text(&p.record.target_parameters, "SqsQueueParameters", "MessageDeduplicationId")
            .and_then(|d| transform::dynamic(d, view))
            .or_else(|| view.get("messageId").or_else(|| view.get("eventID")).and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }

    fn group_id(p: &Pipeline, view: &Value) -> Option<String> {
        text(&p.record.target_parameters, "SqsQueueParameters", "MessageGroupId")
            .and_then(|g| transform::dynamic(g, view))
    }

    async fn to_queue(&self, p: &Pipeline, body: String, view: &Value) -> Result<(), Failure> {
        let sqs = &self.targets.sqs;
        let Some(queue) = sqs.lookup_arn(&p.record.target) else {
            return Err(Failure::permanent("NO_RESOURCE", format!("queue {} does not exist", p.record.target)));
        };
        let fifo = queue.is_fifo();
        let req = SendRequest {
            body,
            group_id: Self::group_id(p, view).filter(|_| fifo),
            dedup_id: fifo.then(|| Self::dedup_id(p, view)),
            ..SendRequest::default()
        };
        sqs.send(&queue, &p.caller(), req)
            .await
            .map(|_| ())
            .map_err(|e| Failure::permanent("SDK_CLIENT_ERROR", e.to_string()))
    }

    async fn to_topic(&self, p: &Pipeline, body: String, view: &Value) -> Result<(), Failure> {
        let sns = &self.targets.sns;
        let Ok(topic) = sns.lookup_topic(&p.record.target) else {
            return Err(Failure::permanent("NO_RESOURCE", format!("topic {} does not exist", p.record.target)));
        };
        let req = crate::sns::PublishRequest {
            topic_arn: Some(topic.arn.clone()),
            message: Some(body),
            group_id: topic.fifo.then(|| Self::group_id(p, view).unwrap_or_else(|| p.arn.clone())),
            dedup_id: topic.fifo.then(|| Self::dedup_id(p, view)),
            ..crate::sns::PublishRequest::default()
        };
        sns.publish(req).await.map(|_| ()).map_err(|e| Failure::permanent("SDK_CLIENT_ERROR", e.to_string()))
    }

    async fn to_stream(&self, p: &Pipeline, body: String, view: &Value) -> Result<(), Failure> {
        use crate::kinesis::{KinesisError, PutEntry, StreamRef};
        let key = text(&p.record.target_parameters, "KinesisStreamParameters", "PartitionKey")
            .and_then(|k| transform::dynamic(k, view))
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Failure::permanent("INVALID_PARAMETER", "the PartitionKey is empty for this event"))?;
        let entry = PutEntry {
            partition_key: key.chars().take(256).collect(),
            explicit_hash_key: None,
            data: body.into_bytes(),
        };
        let stream = StreamRef { name: None, arn: Some(p.record.target.clone()) };
        match self.targets.kinesis.put_record(&p.caller(), &stream, entry, None).await {
            Ok(_) => Ok(()),
            Err(KinesisError::ResourceNotFound(m)) => Err(Failure::permanent("NO_RESOURCE", m)),
            Err(KinesisError::ProvisionedThroughputExceeded(m)) => Err(Failure::retryable("THROTTLING", m)),
            Err(KinesisError::Internal(m)) => Err(Failure::retryable("INTERNAL_ERROR", m)),
            Err(e) => Err(Failure::permanent("INVALID_PARAMETER", e.to_string())),
        }
    }

    /// PutEvents on the target bus. Without parameters AWS's defaults:
    /// Source `Pipe <name>`, DetailType `Event from <eventSource>`.
    async fn to_bus(&self, p: &Pipeline, body: String, view: &Value) -> Result<(), Failure> {
        use crate::events::{EntryResult, EventEntry};
        let params = &p.record.target_parameters;
        let bus = |m: &str| text(params, "EventBridgeEventBusParameters", m);
        let kind = SourceKind::of(&p.record.source);
        let resources = params
            .get("EventBridgeEventBusParameters")
            .and_then(|b| b.get("Resources"))
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).filter_map(|r| transform::dynamic(r, view)).collect())
            .unwrap_or_default();
        let time_ms = bus("Time")
            .and_then(|path| crate::events::select_path(view, path))
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond().max(0) as u64);
        let entry = EventEntry {
            source: Some(
                bus("Source")
                    .and_then(|s| transform::dynamic(s, view))
                    .unwrap_or_else(|| format!("Pipe {}", p.record.name)),
            ),
            detail_type: Some(
                bus("DetailType")
                    .and_then(|d| transform::dynamic(d, view))
                    .unwrap_or_else(|| format!("Event from {}", kind.event_source())),
            ),
            detail: Some(body),
            resources,
            time_ms,
            bus: Some(p.record.target.clone()),
            trace_header: None,
        };
        match self.targets.events.put_events(&p.caller(), vec![entry]).await {
            Ok(results) => match results.into_iter().next() {
                Some(EntryResult::Failed { code, message }) => {
                    Err(Failure::permanent("INVALID_PARAMETER", format!("{code}: {message}")))
                }
                _ => Ok(()),
            },
            Err(e) => Err(Failure::retryable("INTERNAL_ERROR", e.to_string())),
        }
    }

    async fn record_outbox(
        &self,
        p: &Pipeline,
        role: &str,
        arn: &str,
        input: String,
        parameters: Value,
    ) -> Result<(), Failure> {
        let entry = OutboxEntry {
            pipe_arn: p.arn.clone(),
            role: role.into(),
            arn: arn.into(),
            input,
            parameters,
            time_ms: self.now_ms(),
        };
        let mut batch = self.store.batch();
        self.outbox.stage(&mut batch, self.next_seq(), &entry);
        self.commit(batch).await.map_err(|e| Failure::retryable("INTERNAL_ERROR", e.to_string()))?;
        bump(&self.stats.recorded, 1);
        tracing::info!(pipe = %p.arn, arn, role, "Pipes: invocation recorded in the outbox (eddy does not run this service); see /_eddy/pipes/outbox");
        Ok(())
    }

    /// The outbox, oldest first, from `after` (a key from an earlier page).
    pub fn outbox(&self, after: Option<u64>, limit: usize) -> PipesResult<(Vec<OutboxEntry>, Option<u64>)> {
        self.outbox.page(after, limit).map_err(PipesError::Internal)
    }
}
