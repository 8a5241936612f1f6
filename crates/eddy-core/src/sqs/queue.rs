//! One queue: its configuration, hot index and the message operations that
//! run under its lock. Every change is staged in a batch that is submitted
//! inside the lock (so the store applies changes in the order the index
//! makes them) and applied by the store's apply thread; callers wait for
//! the apply and for durability after releasing the lock, which is never
//! held through a commit.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::attributes::QueueConfig;
use super::error::{invalid_param, SqsError, SqsResult};
use super::index::{Index, Meta};
use super::message::{self, Attributes};
use super::receipt::Receipt;
use super::records::{self, DedupRecord, MessageRecord, MessageState, QueueRecord};
use super::{QueueName, Shared};
use crate::clock::Millis;
use eddy_store::WriteBatch;

/// How long FIFO deduplication ids and receive attempt ids are remembered.
pub const DEDUP_WINDOW_MS: Millis = 5 * 60 * 1000;

pub struct Queue {
    pub id: u64,
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub(crate) state: Mutex<QueueState>,
    /// Woken whenever a message may have become receivable.
    pub(crate) notify: Notify,
    /// Held by every change to the queue's record (attributes, tags,
    /// policy, purge, deletion) from reading it to swapping in the saved
    /// copy, so each change starts from the last one's result.
    pub(crate) updating: tokio::sync::Mutex<()>,
}

pub(crate) struct QueueState {
    pub record: QueueRecord,
    pub config: QueueConfig,
    pub deleted: bool,
    pub index: Index,
    pub dedup: HashMap<String, DedupRecord>,
    pub attempts: HashMap<String, Attempt>,
    pub last_purge_ms: Option<Millis>,
}

/// A FIFO ReceiveRequestAttemptId and the receipts it handed out.
pub(crate) struct Attempt {
    pub expires_ms: Millis,
    pub receipts: Vec<Receipt>,
}

#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    pub body: String,
    pub delay_secs: Option<i64>,
    pub attributes: Attributes,
    pub system_attributes: Attributes,
    pub dedup_id: Option<String>,
    pub group_id: Option<String>,
    /// The request's `X-Amzn-Trace-Id` header: AWS stores it as the
    /// `AWSTraceHeader` system attribute unless the sender set one.
    pub trace_header: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system_attributes: Option<String>,
    pub sequence_number: Option<String>,
}

impl Queue {
    /// The key this queue is found by.
    pub fn queue_name(&self) -> QueueName {
        QueueName { account: self.account.clone(), region: self.region.clone(), name: self.name.clone() }
    }

    pub(crate) fn new(record: QueueRecord, arn: String) -> Queue {
        let config = record.config();
        Queue {
            id: record.id,
            account: record.account.clone(),
            region: record.region.clone(),
            name: record.name.clone(),
            arn,
            state: Mutex::new(QueueState {
                index: Index::new(config.fifo),
                config,
                record,
                deleted: false,
                dedup: HashMap::new(),
                attempts: HashMap::new(),
                last_purge_ms: None,
            }),
            notify: Notify::new(),
            updating: tokio::sync::Mutex::new(()),
        }
    }

    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }

    pub(crate) fn config(&self) -> QueueConfig {
        self.state.lock().config.clone()
    }
}

impl QueueState {
    pub(crate) fn check_live(&self) -> SqsResult<()> {
        if self.deleted {
            Err(SqsError::QueueDoesNotExist)
        } else {
            Ok(())
        }
    }

    /// Validates one send and stages it in `batch`. FIFO duplicates inside the
    /// window return the original message id and stage nothing.
    pub(crate) fn send(
        &mut self,
        sh: &Shared,
        batch: &mut WriteBatch,
        req: SendRequest,
        sender: &str,
    ) -> SqsResult<Sent> {
        self.check_live()?;
        message::validate_body(&req.body)?;
        message::validate_attributes(&req.attributes)?;
        message::validate_system_attributes(&req.system_attributes)?;
        if let Some(max) = self.too_large(&req) {
            return Err(invalid_param(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
            )));
        }
        let delay = self.delay_for(&req)?;
        let now = sh.clock.now_ms();
        let mut sent = Sent {
            message_id: String::new(),
            md5_body: message::md5_hex(req.body.as_bytes()),
            md5_attributes: message::md5_of_attributes(&req.attributes),
            md5_system_attributes: message::md5_of_attributes(&req.system_attributes),
            sequence_number: None,
        };
        let dedup = self.fifo_checks(&req)?;
        if let Some((key, _)) = &dedup {
            if let Some(d) = self.dedup.get(key).filter(|d| d.expires_ms > now) {
                tracing::debug!(queue = %self.record.name, dedup_key = %key, message_id = %d.message_id,
                    "FIFO send deduplicated: same deduplication id within 5 minutes, not enqueued");
                sent.message_id = d.message_id.clone();
                sent.sequence_number = Some(d.sequence_number.clone());
                return Ok(sent);
            }
        }
        let seq = sh.next_seq();
        sent.message_id = uuid::Uuid::new_v4().to_string();
        if self.config.fifo {
            sent.sequence_number = Some(sequence_number(seq));
        }
        let group = req.group_id.clone();
        let mut system_attributes = req.system_attributes;
        if let Some(trace) = req.trace_header.filter(|_| !system_attributes.contains_key("AWSTraceHeader")) {
            system_attributes.insert(
                "AWSTraceHeader".into(),
                message::AttributeValue { data_type: "String".into(), string: Some(trace), binary: None },
            );
        }
        let record = MessageRecord {
            message_id: sent.message_id.clone(),
            body: req.body,
            attributes: req.attributes,
            system_attributes,
            sender_id: sender.to_string(),
            sent_ms: now,
            group_id: req.group_id,
            // Content-based deduplication ids are reported as the body hash.
            dedup_id: dedup.as_ref().map(|(_, id)| id.clone()),
            dlq_source_arn: None,
        };
        let meta = Meta {
            visible_at: now + delay * 1000,
            receive_count: 0,
            first_receive: 0,
            expires_at: now + self.config.retention_secs * 1000,
            group: group.map(Arc::from),
        };
        if let Some((key, _)) = dedup {
            let d = DedupRecord {
                expires_ms: now + DEDUP_WINDOW_MS,
                message_id: sent.message_id.clone(),
                sequence_number: sequence_number(seq),
            };
            batch.put(&sh.dedup, records::dedup_key(self.record.id, &key), json(&d));
            self.dedup.insert(key, d);
        }
        self.stage_new(sh, batch, seq, &record, meta);
        Ok(sent)
    }

    fn delay_for(&self, req: &SendRequest) -> SqsResult<u64> {
        match req.delay_secs {
            None => Ok(self.config.delay_secs),
            Some(0) if self.config.fifo => Ok(self.config.delay_secs),
            Some(_) if self.config.fifo => Err(invalid_param(format!(
                "Value {} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
                req.delay_secs.unwrap_or(0)
            ))),
            Some(d) if (0..=900).contains(&d) => Ok(d as u64),
            Some(d) => Err(invalid_param(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            ))),
        }
    }

    /// FIFO parameter rules; for FIFO queues returns the deduplication key
    /// (scoped by group when DeduplicationScope is messageGroup) and id.
    fn fifo_checks(&self, req: &SendRequest) -> SqsResult<Option<(String, String)>> {
        for (name, v) in [("MessageGroupId", &req.group_id), ("MessageDeduplicationId", &req.dedup_id)] {
            if let Some(v) = v {
                if v.is_empty() || v.len() > 128 || !v.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(invalid_param(format!(
                        "Value {v} for parameter {name} is invalid. Reason: {name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
                    )));
                }
            }
        }
        if !self.config.fifo {
            if req.dedup_id.is_some() {
                return Err(invalid_param(
                    "Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.",
                ));
            }
            return Ok(None);
        }
        let group = req.group_id.as_ref().ok_or_else(|| SqsError::MissingParameter("MessageGroupId".into()))?;
        let id = match &req.dedup_id {
            Some(id) => id.clone(),
            None if self.config.content_dedup => hex::encode(Sha256::digest(req.body.as_bytes())),
            None => {
                return Err(invalid_param(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ))
            }
        };
        let key = if self.config.dedup_per_group { format!("{group}\u{0}{id}") } else { id.clone() };
        Ok(Some((key, id)))
    }

    pub(crate) fn stage_new(
        &mut self,
        sh: &Shared,
        batch: &mut WriteBatch,
        seq: u64,
        record: &MessageRecord,
        meta: Meta,
    ) {
        let key = records::message_key(self.record.id, seq);
        batch.put(&sh.messages, key.clone(), json(record));
        batch.put(&sh.msg_state, key, state_of(&meta).encode());
        self.index.insert(seq, meta);
    }

    pub(crate) fn stage_delete(&mut self, sh: &Shared, batch: &mut WriteBatch, seq: u64) -> Option<Meta> {
        let meta = self.index.remove(seq)?;
        let key = records::message_key(self.record.id, seq);
        batch.delete(&sh.messages, key.clone());
        batch.delete(&sh.msg_state, key);
        Some(meta)
    }

    pub(crate) fn stage_state(&self, sh: &Shared, batch: &mut WriteBatch, seq: u64) {
        if let Some(meta) = self.index.get(seq) {
            batch.put(&sh.msg_state, records::message_key(self.record.id, seq), state_of(meta).encode());
        }
    }

    /// Drops up to `max` messages whose retention period has passed: a
    /// caller takes the rest in later batches, so none grows unbounded.
    pub(crate) fn expire(&mut self, sh: &Shared, batch: &mut WriteBatch, now: Millis, max: usize) -> usize {
        let expired = self.index.expired(now, max);
        for seq in &expired {
            self.stage_delete(sh, batch, *seq);
        }
        if !expired.is_empty() {
            tracing::info!(queue = %self.record.name, count = expired.len(),
                "messages deleted: MessageRetentionPeriod elapsed before anyone deleted them");
        }
        expired.len()
    }

    /// Forgets up to `max` deduplication ids past their 5-minute window, in
    /// memory and in the store, and every expired receive attempt id; how
    /// many ids it forgot. Lookups already ignore expired entries, so this
    /// is upkeep for the sweeper, not for every receive.
    pub(crate) fn forget_expired_ids(&mut self, sh: &Shared, batch: &mut WriteBatch, now: Millis, max: usize) -> usize {
        let expired: Vec<String> =
            self.dedup.iter().filter(|(_, d)| d.expires_ms <= now).take(max).map(|(k, _)| k.clone()).collect();
        for key in &expired {
            self.dedup.remove(key);
            batch.delete(&sh.dedup, records::dedup_key(self.record.id, key));
        }
        self.attempts.retain(|_, a| a.expires_ms > now);
        crate::maps::shrink_if_sparse(&mut self.dedup);
        crate::maps::shrink_if_sparse(&mut self.attempts);
        expired.len()
    }

    pub(crate) fn delete(&mut self, sh: &Shared, batch: &mut WriteBatch, handle: &str) -> SqsResult<()> {
        self.check_live()?;
        let r = self.receipt(handle)?;
        match self.index.get(r.seq) {
            None => Ok(()), // Already gone: deleting twice succeeds, as on AWS.
            Some(m) if !self.handle_current(m.receive_count, &r) => {
                tracing::info!(queue = %self.record.name,
                    "DeleteMessage with an outdated receipt handle: the FIFO message was received again since, so it is not deleted (AWS requires the most recent handle)");
                Ok(())
            }
            Some(m) if self.config.fifo && m.visible_at <= sh.clock.now_ms() => Err(invalid_param(format!(
                "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
            ))),
            Some(_) => {
                self.stage_delete(sh, batch, r.seq);
                Ok(())
            }
        }
    }

    /// The queue's MaximumMessageSize, when `req` is larger than that.
    pub(crate) fn too_large(&self, req: &SendRequest) -> Option<usize> {
        let max = self.config.max_message_size;
        (message::message_size(&req.body, &req.attributes) > max).then_some(max)
    }

    /// FIFO batches are refused whole when an entry lacks its group id or a
    /// deduplication id (AWS answers 400, not a per-entry failure).
    pub(crate) fn check_fifo_batch<'a>(&self, reqs: impl IntoIterator<Item = &'a SendRequest>) -> SqsResult<()> {
        if !self.config.fifo {
            return Ok(());
        }
        for r in reqs {
            if r.group_id.is_none() {
                return Err(invalid_param("The request must contain the parameter MessageGroupId."));
            }
            if r.dedup_id.is_none() && !self.config.content_dedup {
                return Err(invalid_param(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn change_visibility(
        &mut self,
        sh: &Shared,
        batch: &mut WriteBatch,
        handle: &str,
        timeout: i64,
    ) -> SqsResult<bool> {
        self.check_live()?;
        let r = self.receipt(handle)?;
        if !(0..=43_200).contains(&timeout) {
            return Err(invalid_param(format!(
                "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
            )));
        }
        let now = sh.clock.now_ms();
        let gone = || {
            SqsError::InvalidParameterValue(format!(
            "Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
        ))
        };
        let meta = self.index.get(r.seq).ok_or_else(gone)?;
        if !self.handle_current(meta.receive_count, &r) {
            return Err(gone());
        }
        if meta.visible_at <= now {
            // Recorded AWS behaviour (the brief expected MessageNotInflight):
            // the call succeeds and the message stays visible.
            tracing::info!(queue = %self.record.name,
                "ChangeMessageVisibility ignored: the message's visibility timeout had already expired, so it is not in flight (AWS answers success and changes nothing)");
            return Ok(false);
        }
        self.index.update(r.seq, |m| m.visible_at = now + timeout as u64 * 1000);
        self.stage_state(sh, batch, r.seq);
        Ok(timeout == 0)
    }

    /// Whether a receipt handle still acts on its message, received
    /// `receive_count` times so far. A standard queue honours any handle the
    /// message was given (recorded from AWS: an older handle of a message
    /// received again still deletes it or changes its visibility); a FIFO
    /// queue only the latest.
    fn handle_current(&self, receive_count: u32, r: &Receipt) -> bool {
        if self.config.fifo {
            r.receive_count == receive_count
        } else {
            r.receive_count <= receive_count
        }
    }

    fn receipt(&self, handle: &str) -> SqsResult<Receipt> {
        match Receipt::decode(handle) {
            Some(r) if r.queue == self.record.id => Ok(r),
            _ => Err(SqsError::ReceiptHandleIsInvalid(handle.to_string())),
        }
    }

    /// PurgeQueue in O(1): empties the index, marks every message sent so
    /// far as purged in the queue's record, and hands back the old index for
    /// the background deletion of their records.
    pub(crate) fn purge(&mut self, sh: &Shared, batch: &mut WriteBatch) -> SqsResult<Index> {
        self.check_live()?;
        let now = sh.clock.now_ms();
        if self.last_purge_ms.is_some_and(|last| now < last + 60_000) {
            return Err(SqsError::PurgeQueueInProgress(self.record.name.clone()));
        }
        self.last_purge_ms = Some(now);
        // Every message in this queue, and every one moving into it, already
        // has a smaller sequence number than this one.
        self.record.purged_below = sh.next_seq();
        self.stage_record(sh, batch);
        self.attempts.clear();
        // AWS forgets a FIFO queue's deduplication ids on purge: a message
        // resent after a purge is enqueued, not deduplicated against a
        // message the purge removed.
        for key in std::mem::take(&mut self.dedup).into_keys() {
            batch.delete(&sh.dedup, records::dedup_key(self.record.id, &key));
        }
        Ok(self.index.take())
    }

    /// Writes the queue's record: always under its lock, so that the store
    /// keeps the last of two concurrent changes, as the queue does.
    pub(crate) fn stage_record(&self, sh: &Shared, batch: &mut WriteBatch) {
        stage_queue_record(sh, &self.record, batch);
    }

    /// A message moving into this queue that a purge or deletion already
    /// covers (its seq was taken before): it is dropped, not placed.
    pub(crate) fn refuses(&self, seq: u64) -> bool {
        self.deleted || seq < self.record.purged_below
    }
}

/// Stages `record` as its queue's saved record.
pub(crate) fn stage_queue_record(sh: &Shared, record: &QueueRecord, batch: &mut WriteBatch) {
    batch.put(&sh.queues, records::queue_key(record.id), json(record));
}

pub(crate) fn load_record(sh: &Shared, queue: u64, seq: u64) -> SqsResult<Option<MessageRecord>> {
    let Some(bytes) = sh.messages.get(&records::message_key(queue, seq))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| SqsError::Internal(format!("corrupt message record: {e}")))
}

/// The records of messages `seqs` of `queue`, in their order; None where
/// one is gone. One read of the store for all.
pub(crate) fn load_records(sh: &Shared, queue: u64, seqs: &[u64]) -> SqsResult<Vec<Option<MessageRecord>>> {
    let keys: Vec<_> = seqs.iter().map(|seq| records::message_key(queue, *seq)).collect();
    sh.messages
        .get_many(&keys)?
        .into_iter()
        .map(|bytes| match bytes {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| SqsError::Internal(format!("corrupt message record: {e}"))),
            None => Ok(None),
        })
        .collect()
}

pub(crate) fn state_of(m: &Meta) -> MessageState {
    MessageState {
        visible_at: m.visible_at,
        receive_count: m.receive_count,
        first_receive: m.first_receive,
        expires_at: m.expires_at,
        group: m.group.as_deref().map(String::from),
    }
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

/// FIFO sequence numbers: the global sequence, as AWS's 20-digit decimal.
pub fn sequence_number(seq: u64) -> String {
    format!("{seq:020}")
}
