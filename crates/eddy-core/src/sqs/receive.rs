//! ReceiveMessage under a queue's lock: picking deliverable messages,
//! marking them in flight, FIFO receive-attempt retries, and moving messages
//! past `maxReceiveCount` to the dead-letter queue. The picked messages'
//! records are read after the lock is released, once the receive's changes
//! (and every change submitted before them) are applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use eddy_store::{Applied, WriteBatch};

use super::error::SqsResult;
use super::index::Meta;
use super::message::{self, Attributes};
use super::queue::{json, load_record, sequence_number, state_of, Attempt, Queue, QueueState, DEDUP_WINDOW_MS};
use super::receipt::Receipt;
use super::records::{self, MessageRecord};
use super::{reaper, Shared};
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
/// staged in the source's batch; the target's index takes it once that batch
/// is applied ([`place_moved`]), after the source lock is released.
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
    /// The messages handed out, with their state after this receive; built
    /// from their records once `applied` resolves.
    pub delivered: Vec<(u64, Meta)>,
    pub moved: Vec<Moved>,
    /// The receive's changes, submitted under the lock; `None` when there
    /// were none and nothing is to be read.
    pub applied: Option<Applied>,
}

/// Most messages one receive expires or moves to the dead-letter queue: the
/// rest are left to later receives and the sweeper, so no receive makes a
/// huge commit.
const FREE_PER_RECEIVE: usize = reaper::STEP;

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
        let mut freed = self.expire(sh, &mut batch, now, FREE_PER_RECEIVE);
        let max = req.max_messages.unwrap_or(1) as usize;
        let visibility = req.visibility_secs.map(|v| v as u64).unwrap_or(self.config.visibility_secs);
        if let Some(again) = self.retry_attempt(req, now) {
            return Ok(ReceiveOutcome { delivered: again, moved: Vec::new(), applied: Some(batch.submit()) });
        }
        let mut delivered = Vec::new();
        let mut moved = Vec::new();
        // Messages moved to the DLQ or expired free their slot; look again
        // until full, or until this receive has freed all it may.
        loop {
            let want = max - delivered.len();
            let ready =
                if self.config.fifo { self.index.ready_fifo(now, want) } else { self.index.ready_standard(now, want) };
            if ready.is_empty() {
                break;
            }
            let freed_before = freed;
            for seq in ready {
                let Some(m) = self.index.get(seq) else { continue };
                let count = m.receive_count;
                if m.expires_at <= now {
                    // Past retention, beyond what the expiry above took:
                    // never delivered, dropped while the budget lasts.
                    if freed < FREE_PER_RECEIVE {
                        self.stage_delete(sh, &mut batch, seq);
                        freed += 1;
                    }
                    continue;
                }
                match dlq {
                    Some(d) if count >= d.max_receive_count => {
                        if freed < FREE_PER_RECEIVE {
                            if let Some(m) = self.move_to_dlq(sh, &mut batch, seq, queue_arn, d, now)? {
                                moved.push(m);
                                freed += 1;
                            }
                        }
                    }
                    _ => delivered.extend(self.deliver(sh, &mut batch, seq, visibility, now)),
                }
            }
            if freed == freed_before || delivered.len() >= max {
                break;
            }
        }
        if let (Some(id), true, false) = (&req.attempt_id, self.config.fifo, delivered.is_empty()) {
            let queue = self.record.id;
            let receipts =
                delivered.iter().map(|(seq, m)| Receipt { queue, seq: *seq, receive_count: m.receive_count }).collect();
            self.attempts.insert(id.clone(), Attempt { expires_ms: now + DEDUP_WINDOW_MS, receipts });
        }
        // Even an empty batch is submitted when there are records to read:
        // its apply comes after every batch submitted before it, such as
        // the sends of the messages picked.
        let applied = (!batch.is_empty() || !delivered.is_empty()).then(|| batch.submit());
        Ok(ReceiveOutcome { delivered, moved, applied })
    }

    /// A FIFO receive retried with the same ReceiveRequestAttemptId gets the
    /// same messages and handles, as long as none was deleted or changed.
    fn retry_attempt(&self, req: &ReceiveRequest, now: Millis) -> Option<Vec<(u64, Meta)>> {
        let attempt = req.attempt_id.as_ref().and_then(|id| self.attempts.get(id))?;
        if attempt.expires_ms <= now {
            return None;
        }
        let unchanged = attempt
            .receipts
            .iter()
            .all(|r| self.index.get(r.seq).is_some_and(|m| m.receive_count == r.receive_count && m.visible_at > now));
        if !unchanged {
            return None;
        }
        Some(attempt.receipts.iter().filter_map(|r| self.index.get(r.seq).map(|m| (r.seq, m.clone()))).collect())
    }

    /// Marks a message in flight; its state after, for rendering.
    fn deliver(
        &mut self,
        sh: &Shared,
        batch: &mut WriteBatch,
        seq: u64,
        visibility: u64,
        now: Millis,
    ) -> Option<(u64, Meta)> {
        let meta = self
            .index
            .update(seq, |m| {
                m.receive_count += 1;
                if m.first_receive == 0 {
                    m.first_receive = now;
                }
                m.visible_at = now + visibility * 1000;
            })
            .cloned()?;
        if let (true, Some(g)) = (self.config.fifo, &meta.group) {
            self.index.requeue_group(g, sh.next_seq());
        }
        self.stage_state(sh, batch, seq);
        Some((seq, meta))
    }

    /// Stages a message's move to the dead-letter queue. Its record is read
    /// here, under the lock, as the copy must go in the same batch as the
    /// delete; a message whose send is not applied yet (possible only while
    /// the store is stalled) has none to read and stays where it is, to be
    /// moved by a later receive.
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

/// Builds a received message from its stored record, read outside the queue
/// lock; `None` when the record is gone (the message was deleted since).
pub(crate) fn render(q: &Queue, seq: u64, meta: &Meta, req: &ReceiveRequest, record: MessageRecord) -> Received {
    let receipt = Receipt { queue: q.id, seq, receive_count: meta.receive_count };
    let attributes = message::select_attributes(&record.attributes, &req.attribute_names);
    Received {
        message_id: record.message_id.clone(),
        receipt_handle: receipt.encode(),
        md5_body: message::md5_hex(record.body.as_bytes()),
        md5_attributes: message::md5_of_attributes(&attributes),
        attributes,
        system_attributes: system_attributes(&record, meta, seq, q.is_fifo(), &req.system_attribute_names),
        body: record.body,
    }
}

/// Puts moved messages into their new queue's index, one queue lock at a
/// time, once the batch that wrote them is applied (their new queue reads
/// their records). A message whose queue was deleted or purged since it was
/// staged is dropped (its records deleted): the purge or deletion came after
/// it was sent there.
pub(crate) fn place_moved(sh: &Shared, moved: Vec<Moved>) {
    for m in moved {
        let placed = {
            let mut st = m.to.state.lock();
            let refused = st.refuses(m.seq);
            if !refused {
                st.index.insert(m.seq, m.meta);
            }
            !refused
        };
        if placed {
            m.to.notify.notify_waiters();
            continue;
        }
        tracing::info!(queue = %m.to.name,
            "moved message dropped: its destination was purged or deleted while it moved");
        if let Err(e) = reaper::delete_messages(sh, m.to.id, &[m.seq]) {
            tracing::warn!(queue = %m.to.name, error = %e, "deleting a dropped moved message failed");
        }
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
