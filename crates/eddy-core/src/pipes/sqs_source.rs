//! Reading an SQS source: batches of up to BatchSize messages, gathered
//! for up to MaximumBatchingWindowInSeconds, as Pipes' SQS records. A
//! batch's messages are deleted once delivered, and those no filter
//! matched are deleted too (AWS drops them); a failed batch is left to
//! reappear after the visibility timeout, so the queue's redrive policy
//! applies to it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::deliver::{bump, Pipeline};
use super::records::PipeRecord;
use super::source::{sqs_record, SqsMessage};
use super::Pipes;
use crate::sqs::{Queue, ReceiveRequest, Received};

/// The longest one receive waits (SQS's long-poll limit).
const MAX_WAIT_SECS: u64 = 20;

impl Pipes {
    pub(crate) async fn read_queue(self: Arc<Self>, record: Arc<PipeRecord>) {
        let p = Pipeline::new(record);
        let batch_size =
            p.record.source_param("SqsQueueParameters", "BatchSize").and_then(Value::as_u64).unwrap_or(10) as usize;
        let window_secs = p
            .record
            .source_param("SqsQueueParameters", "MaximumBatchingWindowInSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut missing_logged = false;
        loop {
            let Some(queue) = self.targets.sqs.lookup_arn(&p.record.source) else {
                if !missing_logged {
                    tracing::warn!(pipe = %p.arn, queue = %p.record.source, "Pipes: the source queue does not exist; waiting for it");
                    missing_logged = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            missing_logged = false;
            let messages = self.gather(&queue, batch_size, window_secs).await;
            if !messages.is_empty() {
                self.handle_messages(&p, &queue, messages).await;
            }
        }
    }

    /// Waits for a first message, then gathers more until the batch is
    /// full, the window has passed, or (without a window) the queue has
    /// none left to give at once.
    async fn gather(&self, queue: &Arc<Queue>, batch_size: usize, window_secs: u64) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(window_secs);
        let mut out: Vec<Received> = Vec::new();
        loop {
            let left = batch_size - out.len();
            let wait = if out.is_empty() {
                window_secs.clamp(1, MAX_WAIT_SECS)
            } else {
                deadline.saturating_duration_since(tokio::time::Instant::now()).as_secs().min(MAX_WAIT_SECS)
            };
            let req = ReceiveRequest {
                max_messages: Some(left.min(10) as i64),
                wait_secs: Some(wait as i64),
                system_attribute_names: vec!["All".into()],
                attribute_names: vec!["All".into()],
                ..ReceiveRequest::default()
            };
            let got = match self.targets.sqs.receive(queue, req).await {
                Ok(got) => got,
                Err(e) => {
                    tracing::warn!(queue = %queue.arn, error = %e, "Pipes: receiving from the source queue failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    return out;
                }
            };
            let empty = got.is_empty();
            out.extend(got);
            let window_over = tokio::time::Instant::now() >= deadline;
            if out.len() >= batch_size || (!out.is_empty() && (window_over || (empty && window_secs == 0))) {
                return out;
            }
            if out.is_empty() && window_over {
                return out;
            }
        }
    }

    async fn handle_messages(&self, p: &Pipeline, queue: &Arc<Queue>, messages: Vec<Received>) {
        let region = &p.record.region;
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let msg = SqsMessage {
                    message_id: &m.message_id,
                    receipt_handle: &m.receipt_handle,
                    body: &m.body,
                    md5_body: &m.md5_body,
                    system_attributes: &m.system_attributes,
                    attributes: &m.attributes,
                    md5_attributes: m.md5_attributes.as_deref(),
                };
                sqs_record(&msg, &queue.arn, region)
            })
            .collect();
        bump(&self.stats.processed, records.len());
        let passes = p.passes(&records);
        let mut passed = Vec::new();
        let mut filtered = Vec::new();
        for ((record, m), pass) in records.into_iter().zip(&messages).zip(passes) {
            if pass {
                passed.push(record);
            } else {
                filtered.push(m);
            }
        }
        if !filtered.is_empty() {
            bump(&self.stats.filtered, filtered.len());
            tracing::info!(pipe = %p.arn, count = filtered.len(),
                "Pipes: messages no filter matched deleted from the source queue (AWS drops them)");
        }
        let delivered = match self.deliver_batch(p, passed).await {
            Ok(()) => true,
            Err(f) => {
                bump(&self.stats.failed, 1);
                tracing::warn!(pipe = %p.arn, code = f.code, reason = %f.message,
                    "Pipes: batch failed; its messages stay in the source queue and reappear after the visibility timeout");
                false
            }
        };
        for m in &messages {
            let was_filtered = filtered.iter().any(|f| f.receipt_handle == m.receipt_handle);
            if delivered || was_filtered {
                if let Err(e) = self.targets.sqs.delete_message(queue, &m.receipt_handle).await {
                    tracing::warn!(pipe = %p.arn, error = %e, "Pipes: could not delete a handled message; it will be read again");
                }
            }
        }
    }
}
