//! Reading a Kinesis source: each shard from its checkpoint (else from the
//! StartingPosition), batches of up to BatchSize records held back until
//! MaximumBatchingWindowInSeconds has passed when not full, as Pipes'
//! Kinesis records. A failed batch is retried (MaximumRetryAttempts, -1
//! for ever; MaximumRecordAgeInSeconds), halved first under
//! OnPartialBatchItemFailure AUTOMATIC_BISECT; one that fails for good
//! goes to the DeadLetterConfig as AWS's batch description (shard,
//! sequence range, arrival times), not its records. The shard's
//! checkpoint is written durably after every batch.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::deliver::{bump, Pipeline};
use super::records::{self, Checkpoint, PipeRecord};
use super::source::{kinesis_record, KinesisRecord};
use super::Pipes;
use crate::clock::iso8601_ms;
use crate::due::backoff_ms;
use crate::events::Failure;
use crate::kinesis::{shard_id, IteratorType, StreamRef};
use crate::sqs::SendRequest;

/// How long a reader waits when no shard had anything.
const IDLE_MS: u64 = 250;

/// The Kinesis source parameters a reader follows.
struct StreamSettings {
    batch_size: usize,
    window_ms: u64,
    start: String,
    start_ms: Option<u64>,
    max_retries: i64,
    max_age_secs: i64,
    bisect: bool,
    dead_letter: Option<String>,
}

impl StreamSettings {
    fn of(r: &PipeRecord) -> StreamSettings {
        let k = |m: &str| r.source_param("KinesisStreamParameters", m);
        StreamSettings {
            batch_size: k("BatchSize").and_then(Value::as_u64).unwrap_or(100) as usize,
            window_ms: k("MaximumBatchingWindowInSeconds").and_then(Value::as_u64).unwrap_or(0) * 1000,
            start: k("StartingPosition").and_then(Value::as_str).unwrap_or("LATEST").to_string(),
            start_ms: k("StartingPositionTimestamp").and_then(Value::as_f64).map(|s| (s * 1000.0).max(0.0) as u64),
            max_retries: k("MaximumRetryAttempts").and_then(Value::as_i64).unwrap_or(-1),
            max_age_secs: k("MaximumRecordAgeInSeconds").and_then(Value::as_i64).unwrap_or(-1),
            bisect: k("OnPartialBatchItemFailure").and_then(Value::as_str) == Some("AUTOMATIC_BISECT"),
            dead_letter: k("DeadLetterConfig").and_then(|d| d.get("Arn")).and_then(Value::as_str).map(String::from),
        }
    }
}

impl Pipes {
    fn stream_ref(record: &PipeRecord) -> StreamRef {
        StreamRef { name: None, arn: Some(record.source.clone()) }
    }

    fn shard_ids(&self, p: &Pipeline) -> Result<Vec<String>, String> {
        let (shards, _) = self
            .targets
            .kinesis
            .list_shards(&p.caller(), &Self::stream_ref(&p.record), None, None, Some(10_000), None)
            .map_err(|e| e.to_string())?;
        Ok(shards.iter().map(|s| shard_id(s.index)).collect())
    }

    /// Before a LATEST pipe shows RUNNING: each shard without a checkpoint
    /// gets one at its last record, so what is put from now on is read,
    /// after a restart too.
    pub(crate) async fn position_shards(&self, key: &[u8], record: &Arc<PipeRecord>) -> Result<(), String> {
        let p = Pipeline::new(record.clone());
        let shards = self.shard_ids(&p).map_err(|_| format!("The source stream {} does not exist.", record.source))?;
        if StreamSettings::of(record).start != "LATEST" {
            return Ok(());
        }
        let mut batch = self.store.batch();
        for shard in shards {
            let ck = records::checkpoint_key(key, &shard);
            if self.checkpoints_part.get(&ck).map_err(|e| e.to_string())?.is_some() {
                continue;
            }
            let after = self
                .targets
                .kinesis
                .last_sequence_number(&p.caller(), &Self::stream_ref(record), &shard)
                .map_err(|e| e.to_string())?;
            batch.put(&self.checkpoints_part, ck, records::to_json(&Checkpoint { after }));
        }
        self.commit(batch).await.map_err(|e| e.to_string())
    }

    pub(crate) async fn read_stream(self: Arc<Self>, key: Vec<u8>, record: Arc<PipeRecord>) {
        let p = Pipeline::new(record);
        let settings = StreamSettings::of(&p.record);
        let mut checkpoints = self.load_checkpoints(&key);
        let mut missing_logged = false;
        loop {
            let shards = match self.shard_ids(&p) {
                Ok(s) => s,
                Err(e) => {
                    if !missing_logged {
                        tracing::warn!(pipe = %p.arn, error = %e, "Pipes: cannot list the source stream's shards; waiting for it");
                        missing_logged = true;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            missing_logged = false;
            let mut read_any = false;
            for shard in shards {
                let Some(records) = self.read_shard(&p, &settings, &shard, checkpoints.get(&shard)) else { continue };
                read_any = true;
                let last = records.last().and_then(|r| r["sequenceNumber"].as_str()).map(String::from);
                self.handle_records(&p, &settings, &shard, records).await;
                let checkpoint = Checkpoint { after: last };
                if let Err(e) = self.save_checkpoint(&key, &shard, &checkpoint).await {
                    tracing::error!(pipe = %p.arn, shard, error = %e, "Pipes: could not store the shard's checkpoint; the batch may be read again");
                }
                checkpoints.insert(shard, checkpoint);
            }
            if !read_any {
                tokio::time::sleep(Duration::from_millis(IDLE_MS)).await;
            }
        }
    }

    fn load_checkpoints(&self, key: &[u8]) -> HashMap<String, Checkpoint> {
        let prefix = records::checkpoint_key(key, "");
        let mut out = HashMap::new();
        for (k, v) in self.checkpoints_part.scan_prefix(&prefix).flatten() {
            let shard = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            if let Ok(c) = serde_json::from_slice(&v) {
                out.insert(shard, c);
            }
        }
        out
    }

    async fn save_checkpoint(&self, key: &[u8], shard: &str, checkpoint: &Checkpoint) -> super::PipesResult<()> {
        let mut batch = self.store.batch();
        batch.put(&self.checkpoints_part, records::checkpoint_key(key, shard), records::to_json(checkpoint));
        self.commit(batch).await
    }

    /// The shard's next batch as Pipes records, or None when it has none
    /// ready (nothing new, or a batch not full whose window is still open).
    fn read_shard(&self, p: &Pipeline, s: &StreamSettings, shard: &str, at: Option<&Checkpoint>) -> Option<Vec<Value>> {
        let kinesis = &self.targets.kinesis;
        let stream = Self::stream_ref(&p.record);
        let caller = p.caller();
        let (kind, seq, ts) = match at {
            Some(Checkpoint { after: Some(seq) }) => (IteratorType::AfterSequenceNumber, Some(seq.as_str()), None),
            // A shard without records at a LATEST start, or one split off since: all of it is new.
            Some(Checkpoint { after: None }) => (IteratorType::TrimHorizon, None, None),
            None if s.start == "AT_TIMESTAMP" => {
                (IteratorType::AtTimestamp, None, s.start_ms.map(|t| t.min(self.now_ms())))
            }
            None => (IteratorType::TrimHorizon, None, None),
        };
        let iterator = kinesis.get_shard_iterator(&caller, &stream, shard, kind, seq, ts).ok()?;
        let out = kinesis.get_records(&stream, &caller, &iterator, Some(s.batch_size)).ok()?;
        let first = out.records.first()?;
        if out.records.len() < s.batch_size && self.now_ms().saturating_sub(first.arrival_ms()) < s.window_ms {
            return None;
        }
        let records = out
            .records
            .iter()
            .map(|r| {
                let seq = r.seq.to_string();
                let rec = KinesisRecord {
                    shard_id: shard,
                    sequence_number: &seq,
                    partition_key: &r.partition_key,
                    data: &r.data,
                    arrival_ms: r.arrival_ms(),
                };
                kinesis_record(&rec, &p.record.source, &p.record.region, &p.record.role_arn)
            })
            .collect();
        Some(records)
    }

    /// Filters a shard's batch and delivers what passes, retrying as configured.
    async fn handle_records(&self, p: &Pipeline, s: &StreamSettings, shard: &str, records: Vec<Value>) {
        bump(&self.stats.processed, records.len());
        let passes = p.passes(&records);
        let before = records.len();
        let passed: Vec<Value> = records.into_iter().zip(passes).filter(|(_, pass)| *pass).map(|(r, _)| r).collect();
        if passed.len() < before {
            bump(&self.stats.filtered, before - passed.len());
            tracing::info!(pipe = %p.arn, shard, count = before - passed.len(), "Pipes: records no filter matched skipped");
        }
        if !passed.is_empty() {
            self.attempt_records(p, s, shard, passed).await;
        }
    }

    /// Delivers `events`, retrying, bisecting and dead-lettering as the pipe says.
    fn attempt_records<'a>(
        &'a self,
        p: &'a Pipeline,
        s: &'a StreamSettings,
        shard: &'a str,
        events: Vec<Value>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let mut attempts: u32 = 0;
            loop {
                let failure = match self.deliver_batch(p, events.clone()).await {
                    Ok(()) => return,
                    Err(f) => f,
                };
                attempts += 1;
                bump(&self.stats.failed, 1);
                if s.bisect && events.len() > 1 {
                    tracing::info!(pipe = %p.arn, shard, size = events.len(), reason = %failure.message,
                        "Pipes: batch failed; halving it (AUTOMATIC_BISECT)");
                    let mut first = events;
                    let second = first.split_off(first.len() / 2);
                    self.attempt_records(p, s, shard, first).await;
                    self.attempt_records(p, s, shard, second).await;
                    return;
                }
                let oldest_ms =
                    events.iter().filter_map(|e| e["approximateArrivalTimestamp"].as_f64()).fold(f64::MAX, f64::min);
                let age_secs = (self.now_ms() as f64 / 1000.0 - oldest_ms).max(0.0);
                let condition = if s.max_retries >= 0 && i64::from(attempts) > s.max_retries {
                    Some("RetryAttemptsExhausted")
                } else if s.max_age_secs >= 0 && age_secs > s.max_age_secs as f64 {
                    Some("RecordAgeExceeded")
                } else {
                    None
                };
                if let Some(condition) = condition {
                    return self.stream_dead_letter(p, s, shard, &events, &failure, condition, attempts).await;
                }
                bump(&self.stats.retried, 1);
                tracing::info!(pipe = %p.arn, shard, attempt = attempts, code = failure.code, reason = %failure.message,
                    "Pipes: batch failed; retrying");
                tokio::time::sleep(Duration::from_millis(backoff_ms(attempts))).await;
            }
        })
    }

    /// A batch that failed for good: its description to the DLQ (SQS or SNS), else dropped and logged.
    #[allow(clippy::too_many_arguments)]
    async fn stream_dead_letter(
        &self,
        p: &Pipeline,
        s: &StreamSettings,
        shard: &str,
        events: &[Value],
        failure: &Failure,
        condition: &str,
        attempts: u32,
    ) {
        let Some(dlq) = s.dead_letter.as_deref() else {
            bump(&self.stats.dropped, 1);
            tracing::warn!(pipe = %p.arn, shard, condition, reason = %failure.message,
                "Pipes: batch dropped: it failed for good and the pipe has no DeadLetterConfig");
            return;
        };
        let body = dead_letter_body(p, shard, events, failure, condition, attempts, self.now_ms()).to_string();
        let sent = match dlq.split(':').nth(2) {
            Some("sqs") => match self.targets.sqs.lookup_arn(dlq) {
                Some(q) => self
                    .targets
                    .sqs
                    .send(&q, &p.caller(), SendRequest { body, ..SendRequest::default() })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => Err(format!("queue {dlq} does not exist")),
            },
            Some("sns") => {
                let req = crate::sns::PublishRequest {
                    topic_arn: Some(dlq.to_string()),
                    message: Some(body),
                    ..crate::sns::PublishRequest::default()
                };
                self.targets.sns.publish(req).await.map(|_| ()).map_err(|e| e.to_string())
            }
            _ => Err(format!("{dlq} is neither an SQS queue nor an SNS topic")),
        };
        match sent {
            Ok(()) => {
                bump(&self.stats.dead_lettered, 1);
                tracing::info!(pipe = %p.arn, shard, dlq, condition, reason = %failure.message,
                    "Pipes: batch failed for good; its description sent to the dead-letter queue");
            }
            Err(e) => {
                bump(&self.stats.dropped, 1);
                tracing::warn!(pipe = %p.arn, shard, dlq, error = %e, "Pipes: batch dropped: writing to the dead-letter queue failed");
            }
        }
    }
}

/// What AWS sends a stream source's dead-letter queue: the invocation's
/// context and the batch's place in the shard (`KinesisBatchInfo`).
pub(crate) fn dead_letter_body(
    p: &Pipeline,
    shard: &str,
    events: &[Value],
    failure: &Failure,
    condition: &str,
    attempts: u32,
    now_ms: u64,
) -> Value {
    let seq = |e: Option<&Value>| e.and_then(|e| e["sequenceNumber"].as_str()).unwrap_or_default().to_string();
    let arrival = |e: Option<&Value>| {
        e.and_then(|e| e["approximateArrivalTimestamp"].as_f64())
            .map(|s| iso8601_ms((s * 1000.0) as u64))
            .unwrap_or_default()
    };
    let now = iso8601_ms(now_ms);
    json!({
        "context": {
            "partnerResourceArn": p.arn,
            "condition": condition,
            "requestId": uuid::Uuid::new_v4().to_string(),
            "timestamp": now,
            "approximateInvokeCount": attempts,
            "errorCode": failure.code,
            "errorMessage": failure.message,
        },
        "version": "1.0",
        "timestamp": now,
        "KinesisBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": seq(events.first()),
            "endSequenceNumber": seq(events.last()),
            "approximateArrivalOfFirstRecord": arrival(events.first()),
            "approximateArrivalOfLastRecord": arrival(events.last()),
            "batchSize": events.len(),
            "streamArn": p.record.source,
        },
    })
}
