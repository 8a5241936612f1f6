//! ReceiveMessage under a queue's lock: picking deliverable messages,
//! marking them in flight, FIFO receive-attempt retries, and moving messages
//! past `maxReceiveCount` to the dead-letter queue.

use std::collections::BTreeMap;
use std::sync::Arc;

use eddy_store::{Ticket, WriteBatch};

use super::error::{SqsError, SqsResult};
use super::index::Meta;
use super::message::{self, Attributes};
use super::queue::{json, load_record, sequence_number, state_of, Attempt, Queue, QueueState, DEDUP_WINDOW_MS};
use super::receipt::Receipt;
use super::records::{self, MessageRecord};
use super::Shared;
use crate::clock::Millis;

#[derive(Debug, Clone, Default)]
pub struct ReceiveRequest {
    pub max_messages: Option<i64>,
    pub visibility_secs: Option<i64>,
    pub wait_secs: Option<i64>,
    /// System attributes asked for (`MessageSystemAttributeNames` and the
    /// older `AttributeNames`).
    pub system_attribute_names: Vec<String>,
    /// User attributes asked for (`MessageAttributeNames`).
    pub attribute_names: Vec<String>,
    pub attempt_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_body: String,
    pub system_attributes: BTreeMap<String, String>,
    pub attributes: Attributes,
    pub md5_attributes: Option<String>,
}

/// A message moving to another queue (a DLQ, or a move task's destination),
/// already written to the store; the target's index takes it after the
/// source lock is released.
pub(crate) struct Moved {
    pub to: Arc<Queue>,
    pub seq: u64,
    pub meta: Meta,
}

impl Moved {
    /// Stages `record` as a new message of `to` in `batch`.
    pub(crate) fn stage(
        sh: &Shared,
        batch: &mut WriteBatch,
        to: Arc<Queue>,
        record: &MessageRecord,
        meta: Meta,
    ) -> Moved {
        let seq = sh.next_seq();
        let key = records::message_key(to.id, seq);
        batch.put(&sh.messages, key.clone(), json(record));
        batch.put(&sh.msg_state, key, state_of(&meta).encode());
        Moved { to, seq, meta }
    }
}

pub(crate) struct ReceiveOutcome {
    pub messages: Vec<Received>,
    pub moved: Vec<Moved>,
    pub ticket: Ticket,
}

/// The DLQ of a queue being received from, resolved before taking its lock.
pub(crate) struct DlqTarget {
    pub queue: Arc<Queue>,
    pub max_receive_count: u32,
    pub retention_ms: Millis,
    pub fifo: bool,
}

impl QueueState {
    /// One receive pass: picks deliverable messages, moves those past the
    /// redrive limit to the DLQ, and marks the rest in flight.
    pub(crate) fn receive(
        &mut self,
        sh: &Shared,
        queue_arn: &str,
        req: &ReceiveRequest,
        dlq: Option<&DlqTarget>,
    ) -> SqsResult<ReceiveOutcome> {
        self.check_live()?;
        let now = sh.clock.now_ms();
        let mut batch = sh.store.batch();
        self.expire(sh, &mut batch, now);
        let max = req.max_messages.unwrap_or(1) as usize;
        let visibility = req.visibility_secs.map(|v| v as u64).unwrap_or(self.config.visibility_secs);
        if let Some(again) = self.retry_attempt(sh, req, now)? {
            return Ok(ReceiveOutcome { messages: again, moved: Vec::new(), ticket: batch.commit()? });
        }
        let mut messages = Vec::new();
        let mut moved = Vec::new();
        // Messages moved to the DLQ free their slot; look again until full.
        loop {
            let want = max - messages.len();
            let ready =
                if self.config.fifo { self.index.ready_fifo(now, want) } else { self.index.ready_standard(now, want) };
            if ready.is_empty() {
                break;
            }
            let mut moved_any = false;
            for seq in ready {
                let count = self.index.get(seq).map_or(0, |m| m.receive_count);
                match dlq {
                    Some(d) if count >= d.max_receive_count => {
                        if let Some(m) = self.move_to_dlq(sh, &mut batch, seq, queue_arn, d, now)? {
                            moved.push(m);
                            moved_any = true;
                        }
                    }
                    _ => {
                        if let Some(r) = self.deliver(sh, &mut batch, seq, visibility, req, now)? {
                            messages.push(r);
                        }
                    }
                }
            }
            if !moved_any || messages.len() >= max {
                break;
            }
        }
        if let (Some(id), true, false) = (&req.attempt_id, self.config.fifo, messages.is_empty()) {
            let receipts = messages.iter().filter_map(|m| Receipt::decode(&m.receipt_handle)).collect();
            self.attempts.insert(id.clone(), Attempt { expires_ms: now + DEDUP_WINDOW_MS, receipts });
        }
        Ok(ReceiveOutcome { messages, moved, ticket: batch.commit()? })
    }

    /// A FIFO receive retried with the same ReceiveRequestAttemptId gets the
    /// same messages and handles, as long as none was deleted or changed.
    fn retry_attempt(&mut self, sh: &Shared, req: &ReceiveRequest, now: Millis) -> SqsResult<Option<Vec<Received>>> {
        let Some(attempt) = req.attempt_id.as_ref().and_then(|id| self.attempts.get(id)) else {
            return Ok(None);
        };
        if attempt.expires_ms <= now {
            return Ok(None);
        }
        let unchanged = attempt
            .receipts
            .iter()
            .all(|r| self.index.get(r.seq).is_some_and(|m| m.receive_count == r.receive_count && m.visible_at > now));
        if !unchanged {
            return Ok(None);
        }
        let mut out = Vec::new();
        for r in attempt.receipts.clone() {
            let meta = self.index.get(r.seq).cloned().ok_or_else(|| SqsError::Internal("attempt".into()))?;
            out.extend(self.render(sh, r.seq, &meta, req)?);
        }
        Ok(Some(out))
    }

    fn deliver(
        &mut self,
        sh: &Shared,
        batch: &mut WriteBatch,
        seq: u64,
        visibility: u64,
        req: &ReceiveRequest,
        now: Millis,
    ) -> SqsResult<Option<Received>> {
        let Some(meta) = self
            .index
            .update(seq, |m| {
                m.receive_count += 1;
                if m.first_receive == 0 {
                    m.first_receive = now;
                }
                m.visible_at = now + visibility * 1000;
            })
            .cloned()
        else {
            return Ok(None);
        };
        if let (true, Some(g)) = (self.config.fifo, &meta.group) {
            self.index.requeue_group(g, sh.next_seq());
        }
        self.stage_state(sh, batch, seq);
        self.render(sh, seq, &meta, req)
    }

    /// Builds the received message from its stored record.
    fn render(&self, sh: &Shared, seq: u64, meta: &Meta, req: &ReceiveRequest) -> SqsResult<Option<Received>> {
        let Some(record) = load_record(sh, self.record.id, seq)? else {
            return Ok(None);
        };
        let receipt = Receipt { queue: self.record.id, seq, receive_count: meta.receive_count };
        let attributes = message::select_attributes(&record.attributes, &req.attribute_names);
        Ok(Some(Received {
            message_id: record.message_id.clone(),
            receipt_handle: receipt.encode(),
            md5_body: message::md5_hex(record.body.as_bytes()),
            md5_attributes: message::md5_of_attributes(&attributes),
            attributes,
            system_attributes: system_attributes(&record, meta, seq, self.config.fifo, &req.system_attribute_names),
            body: record.body,
        }))
    }

    fn move_to_dlq(
        &mut self,
        sh: &Shared,
        batch: &mut WriteBatch,
        seq: u64,
        source_arn: &str,
        dlq: &DlqTarget,
        now: Millis,
    ) -> SqsResult<Option<Moved>> {
        let Some(mut record) = load_record(sh, self.record.id, seq)? else {
            return Ok(None);
        };
        let Some(old) = self.stage_delete(sh, batch, seq) else { return Ok(None) };
        record.dlq_source_arn = Some(source_arn.to_string());
        // Standard DLQs keep the original enqueue time for retention; FIFO
        // DLQs restart it (SQS developer guide, dead-letter queues).
        let expires_at = if dlq.fifo { now + dlq.retention_ms } else { record.sent_ms + dlq.retention_ms };
        // The copy keeps its receive history (recorded from AWS: a message
        // received once, then moved, is received from the DLQ with
        // ApproximateReceiveCount 2).
        let meta = Meta {
            visible_at: now,
            receive_count: old.receive_count,
            first_receive: old.first_receive,
            expires_at,
            group: old.group.clone(),
        };
        tracing::info!(queue = %self.record.name, dlq = %dlq.queue.name, message_id = %record.message_id,
            receive_count = old.receive_count, max_receive_count = dlq.max_receive_count,
            "message moved to dead-letter queue: received maxReceiveCount times without being deleted");
        Ok(Some(Moved::stage(sh, batch, dlq.queue.clone(), &record, meta)))
    }
}

/// The system attributes a receive asked for (gotchas.md #1: none unless asked).
fn system_attributes(r: &MessageRecord, m: &Meta, seq: u64, fifo: bool, wanted: &[String]) -> BTreeMap<String, String> {
    let all = wanted.iter().any(|w| w == "All");
    let want = |n: &str| all || wanted.iter().any(|w| w == n);
    let mut out = BTreeMap::new();
    let mut put = |name: &str, v: Option<String>| {
        if let (true, Some(v)) = (want(name), v) {
            out.insert(name.to_string(), v);
        }
    };
    put("SenderId", Some(r.sender_id.clone()));
    put("SentTimestamp", Some(r.sent_ms.to_string()));
    put("ApproximateReceiveCount", Some(m.receive_count.to_string()));
    put("ApproximateFirstReceiveTimestamp", Some(m.first_receive.to_string()));
    put("SequenceNumber", fifo.then(|| sequence_number(seq)));
    put("MessageDeduplicationId", r.dedup_id.clone());
    put("MessageGroupId", r.group_id.clone());
    put("AWSTraceHeader", r.system_attributes.get("AWSTraceHeader").and_then(|v| v.string.clone()));
    put("DeadLetterQueueSourceArn", r.dlq_source_arn.clone());
    out
}
