//! Amazon SQS: queues, messages, FIFO, dead-letter redrive and move tasks.
//!
//! [`Sqs`] owns the registry of queues. Each [`Queue`] holds its hot index
//! behind a lock; the store holds the durable record. A method returns only
//! after the store says its changes are durable. Changes are submitted to
//! the store under the queue's lock, which fixes their order, and applied
//! after it is released: no queue lock is held through a commit (see the
//! lock order in `move_task.rs`).

mod attributes;
mod batch;
mod error;
mod index;
mod manage;
mod message;
mod move_task;
mod queue;
mod reaper;
mod receipt;
mod receive;
mod records;
mod recovery;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eddy_store::{Applied, Partition, Store, Ticket};
use parking_lot::{Mutex, RwLock};

pub use attributes::{RedriveAllowPolicy, RedrivePolicy};
pub use batch::validate_batch_ids;
pub use error::{SqsError, SqsResult};
pub use index::Counts;
pub use message::{md5_hex, md5_of_attributes, message_size, AttributeValue, Attributes, MAX_MESSAGE_BYTES};
pub use move_task::MoveTask;
pub use queue::{Queue, SendRequest, Sent};
pub use receive::{ReceiveRequest, Received};

use crate::clock::{Clock, Millis};
use receive::{DlqTarget, ReceiveOutcome};

/// Re-exported for the services built on SQS's vocabulary; it lives in
/// [`crate::identity`].
pub use crate::identity::Caller;

/// A queue's identity inside eddy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueName {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl QueueName {
    pub fn arn(&self) -> String {
        format!("arn:aws:sqs:{}:{}:{}", self.region, self.account, self.name)
    }

    pub fn from_arn(arn: &str) -> Option<QueueName> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "sqs", region, account, name] if !name.is_empty() => {
                Some(QueueName { account: account.to_string(), region: region.to_string(), name: name.to_string() })
            }
            _ => None,
        }
    }
}

/// Store handles and shared counters every queue operation needs.
pub(crate) struct Shared {
    pub store: Store,
    pub queues: Partition,
    pub messages: Partition,
    pub msg_state: Partition,
    pub dedup: Partition,
    pub tasks: Partition,
    pub clock: Arc<dyn Clock>,
    /// Issues and reads ListQueues / ListDeadLetterSourceQueues tokens.
    pub tokens: crate::page::PageTokens,
    /// Message sequence numbers, unique across queues and increasing over
    /// restarts, so a message can move between queues without their locks.
    seq: AtomicU64,
    next_queue_id: AtomicU64,
}

impl Shared {
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

pub struct Sqs {
    sh: Arc<Shared>,
    queues: RwLock<HashMap<QueueName, Arc<Queue>>>,
    /// Names deleted in the last 60 s: AWS refuses to recreate them.
    recently_deleted: Mutex<HashMap<QueueName, Millis>>,
    tasks: Mutex<Vec<Arc<MoveTask>>>,
    /// Held by a CreateQueue from its name check until the new queue is
    /// saved and registered: two creations of one name cannot both save a
    /// record, and a queue is never visible before it is durable.
    creations: tokio::sync::Mutex<()>,
}

impl Sqs {
    /// Opens the SQS state in `store`, rebuilding every queue's index.
    pub fn open(store: Store, clock: Arc<dyn Clock>) -> SqsResult<Arc<Sqs>> {
        let sqs = store.partition(records::PARTITION)?;
        let sh = Shared {
            queues: sqs.family(records::QUEUES),
            messages: sqs.family(records::MESSAGES),
            msg_state: sqs.family(records::MSG_STATE),
            dedup: sqs.family(records::DEDUP),
            tasks: sqs.family(records::TASKS),
            tokens: crate::page::PageTokens::open(&store)?,
            store,
            seq: AtomicU64::new(0),
            next_queue_id: AtomicU64::new(1),
            clock,
        };
        let sqs = Arc::new(Sqs {
            sh: Arc::new(sh),
            queues: RwLock::new(HashMap::new()),
            recently_deleted: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
            creations: tokio::sync::Mutex::new(()),
        });
        recovery::recover(&sqs)?;
        Ok(sqs)
    }

    pub fn now_ms(&self) -> Millis {
        self.sh.clock.now_ms()
    }

    pub fn queue_count(&self) -> usize {
        self.queues.read().len()
    }

    /// Background upkeep, once a second until the process ends: drops
    /// messages past retention, forgotten deduplication ids, deleted names
    /// past their 60 s and move tasks no longer listed.
    pub async fn run_sweeper(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = self.sweep_once().await {
                tracing::warn!(error = %e, "retention sweep failed");
            }
        }
    }

    pub async fn sweep_once(&self) -> SqsResult<()> {
        let queues: Vec<Arc<Queue>> = self.queues.read().values().cloned().collect();
        let now = self.now_ms();
        self.recently_deleted.lock().retain(|_, t| now < *t + manage::DELETED_NAME_BLOCK_MS);
        self.prune_tasks().await?;
        for q in queues {
            self.sweep_queue(&q, now).await?;
        }
        Ok(())
    }

    /// Drops a queue's expired messages and ids in batches of at most
    /// [`reaper::STEP`] each, pausing between batches: a queue where a
    /// million messages expire at once never makes one huge commit, holds
    /// its lock only to update its index, and leaves room for other
    /// requests' writes.
    async fn sweep_queue(&self, q: &Queue, now: Millis) -> SqsResult<()> {
        loop {
            let mut batch = self.sh.store.batch();
            let (done, applied) = {
                let mut st = q.state.lock();
                let messages = st.expire(&self.sh, &mut batch, now, reaper::STEP);
                let ids = st.forget_expired_ids(&self.sh, &mut batch, now, reaper::STEP);
                (messages < reaper::STEP && ids < reaper::STEP, (!batch.is_empty()).then(|| batch.submit()))
            };
            if let Some(applied) = applied {
                // Not waited for: a deletion a crash loses is made again, as
                // recovery reloads the message and the next sweep expires it.
                self.sh.store.make_durable_soon(applied.await?)?;
            }
            if done {
                return Ok(());
            }
            tokio::time::sleep(reaper::PAUSE).await;
        }
    }

    /// Makes every change so far durable, including receive state that is
    /// otherwise fsynced "soon" (see [`Sqs::receive`]). Call before exiting.
    pub async fn flush(&self) -> SqsResult<()> {
        Ok(self.sh.store.sync_all().await?)
    }

    pub(crate) async fn durable(&self, ticket: Ticket) -> SqsResult<()> {
        Ok(self.sh.store.durable(ticket).await?)
    }

    /// Waits until a batch submitted under a queue's lock is applied, then
    /// until it is durable: what a write waits for before it answers.
    pub(crate) async fn applied_and_durable(&self, applied: Applied) -> SqsResult<()> {
        self.durable(applied.await?).await
    }

    pub fn lookup(&self, name: &QueueName) -> SqsResult<Arc<Queue>> {
        self.queues.read().get(name).cloned().ok_or(SqsError::QueueDoesNotExist)
    }

    pub fn lookup_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        QueueName::from_arn(arn).and_then(|n| self.lookup(&n).ok())
    }

    pub async fn send(&self, q: &Queue, caller: &Caller, req: SendRequest) -> SqsResult<Sent> {
        let mut batch = self.sh.store.batch();
        let (sent, applied) = {
            let mut st = q.state.lock();
            let sent = st.send(&self.sh, &mut batch, req, &caller.account)?;
            (sent, batch.submit())
        };
        // A receiver woken now reads the message's record only after its
        // own batch is applied, which is after this one.
        q.notify.notify_waiters();
        self.applied_and_durable(applied).await?;
        Ok(sent)
    }

    /// Sends each entry independently; one durable commit covers them all.
    pub async fn send_batch(
        &self,
        q: &Queue,
        caller: &Caller,
        entries: Vec<(String, SendRequest)>,
    ) -> SqsResult<Vec<(String, SqsResult<Sent>)>> {
        let mut batch = self.sh.store.batch();
        let (results, applied) = {
            let mut st = q.state.lock();
            st.check_live()?;
            st.check_fifo_batch(entries.iter().map(|(_, r)| r))?;
            let results: Vec<_> = entries
                .into_iter()
                .map(|(id, req)| match st.too_large(&req) {
                    // A batch entry's wording differs from SendMessage's (recorded from AWS).
                    Some(max) => (
                        id,
                        Err(SqsError::InvalidParameterValue(format!(
                        "One or more parameters cannot be validated. Reason: Message must be shorter than {max} bytes."
                    ))),
                    ),
                    None => (id, st.send(&self.sh, &mut batch, req, &caller.account)),
                })
                .collect();
            (results, batch.submit())
        };
        q.notify.notify_waiters();
        self.applied_and_durable(applied).await?;
        Ok(results)
    }

    /// ReceiveMessage, long polling included: returns as soon as a message
    /// is deliverable, or empty once the wait time has passed.
    pub async fn receive(&self, q: &Arc<Queue>, req: ReceiveRequest) -> SqsResult<Vec<Received>> {
        validate_receive(&req)?;
        let wait_secs = req.wait_secs.map(|w| w as u64).unwrap_or_else(|| q.config().wait_secs);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait_secs);
        loop {
            let notified = q.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let dlq = self.dlq_target(q);
            let (outcome, next_visible) = {
                let mut st = q.state.lock();
                let outcome = st.receive(&self.sh, &q.arn, &req, dlq.as_ref())?;
                (outcome, st.index.next_visible_after(self.now_ms()))
            };
            let messages = self.finish_receive(q, outcome, &req).await?;
            let now = tokio::time::Instant::now();
            if !messages.is_empty() || now >= deadline {
                return Ok(messages);
            }
            let wake = next_visible
                .map(|at| now + Duration::from_millis(at.saturating_sub(self.now_ms())))
                .map_or(deadline, |w| w.min(deadline));
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// After a receive pass, with the queue's lock released: waits until its
    /// changes are applied (and so every change submitted before them, such
    /// as the sends of the messages it picked), places the messages it moved,
    /// and reads the records of the messages it delivered.
    async fn finish_receive(
        &self,
        q: &Queue,
        outcome: ReceiveOutcome,
        req: &ReceiveRequest,
    ) -> SqsResult<Vec<Received>> {
        let ReceiveOutcome { delivered, moved, applied } = outcome;
        let Some(applied) = applied else { return Ok(Vec::new()) };
        let ticket = if moved.is_empty() {
            applied.await?
        } else {
            // Moved messages are out of this queue's index already: a task
            // of their own places them, even if this request is dropped
            // meanwhile (its client gone).
            let sh = self.sh.clone();
            let placing = tokio::spawn(async move {
                let ticket = applied.await?;
                receive::place_moved(&sh, moved);
                Ok::<_, SqsError>(ticket)
            });
            placing.await.map_err(|e| SqsError::Internal(format!("placing moved messages: {e}")))??
        };
        // A receive's own state change (receive count, visibility) is handed
        // to the OS now and fsynced by the next group commit, but does not
        // wait for that fsync: if a machine crash loses it, the message is
        // merely delivered again, which at-least-once delivery allows.
        // Waiting would add a disk flush to every receive and to every
        // long-poll wake-up.
        self.sh.store.make_durable_soon(ticket)?;
        // One read for all the records (one round trip on PostgreSQL).
        let seqs: Vec<u64> = delivered.iter().map(|(seq, _)| *seq).collect();
        let records = queue::load_records(&self.sh, q.id, &seqs)?;
        let mut messages = Vec::with_capacity(delivered.len());
        for ((seq, meta), record) in delivered.iter().zip(records) {
            messages.extend(record.map(|record| receive::render(q, *seq, meta, req, record)));
        }
        Ok(messages)
    }

    fn dlq_target(&self, q: &Queue) -> Option<DlqTarget> {
        let policy = q.config().redrive?;
        let dlq = self.lookup_arn(&policy.dead_letter_target_arn).filter(|d| d.id != q.id)?;
        let cfg = dlq.config();
        Some(DlqTarget {
            queue: dlq,
            max_receive_count: policy.max_receive_count,
            retention_ms: cfg.retention_secs * 1000,
            fifo: cfg.fifo,
        })
    }

    pub async fn delete_message(&self, q: &Queue, handle: &str) -> SqsResult<()> {
        self.delete_batch(q, vec![(String::new(), handle.to_string())]).await?.remove(0).1
    }

    pub async fn delete_batch(
        &self,
        q: &Queue,
        entries: Vec<(String, String)>,
    ) -> SqsResult<Vec<(String, SqsResult<()>)>> {
        let mut batch = self.sh.store.batch();
        let (results, applied) = {
            let mut st = q.state.lock();
            st.check_live()?;
            let results: Vec<_> = entries
                .into_iter()
                .map(|(id, h)| {
                    let r = st.delete(&self.sh, &mut batch, &h);
                    (id, r)
                })
                .collect();
            (results, batch.submit())
        };
        // In a FIFO queue a deleted message may have been holding its group:
        // the group's next message can go to a receiver already waiting.
        if q.is_fifo() {
            q.notify.notify_waiters();
        }
        self.applied_and_durable(applied).await?;
        Ok(results)
    }

    pub async fn change_visibility(&self, q: &Queue, handle: &str, timeout: i64) -> SqsResult<()> {
        self.change_visibility_batch(q, vec![(String::new(), handle.to_string(), timeout)]).await?.remove(0).1
    }

    pub async fn change_visibility_batch(
        &self,
        q: &Queue,
        entries: Vec<(String, String, i64)>,
    ) -> SqsResult<Vec<(String, SqsResult<()>)>> {
        let mut batch = self.sh.store.batch();
        let mut wake = false;
        let (results, applied) = {
            let mut st = q.state.lock();
            st.check_live()?;
            let results: Vec<_> = entries
                .into_iter()
                .map(|(id, h, t)| {
                    let r = st.change_visibility(&self.sh, &mut batch, &h, t).map(|now_visible| wake |= now_visible);
                    (id, r)
                })
                .collect();
            (results, batch.submit())
        };
        if wake {
            q.notify.notify_waiters();
        }
        self.applied_and_durable(applied).await?;
        Ok(results)
    }

    /// PurgeQueue: answers once the purge is durably recorded; the purged
    /// messages' records are deleted in the background (AWS: "takes up to 60
    /// seconds"), so a big queue's purge never holds its lock or the store.
    pub async fn purge(&self, q: &Queue) -> SqsResult<()> {
        let _updating = q.updating.lock().await;
        let mut batch = self.sh.store.batch();
        let (old, applied) = {
            let mut st = q.state.lock();
            let old = st.purge(&self.sh, &mut batch)?;
            (old, batch.submit())
        };
        self.applied_and_durable(applied).await?;
        tracing::info!(queue = %q.name, messages = old.len(),
            "queue purged: its messages are gone now, their records are deleted in the background");
        let job = reaper::ReapJob {
            queue_id: q.id,
            queue_name: q.name.clone(),
            messages: old,
            dedup: Vec::new(),
            drop_record: false,
        };
        reaper::spawn(self.sh.clone(), job);
        Ok(())
    }
}

fn validate_receive(req: &ReceiveRequest) -> SqsResult<()> {
    let check = |name: &str, v: Option<i64>, lo: i64, hi: i64, why: &str| match v {
        Some(v) if !(lo..=hi).contains(&v) => {
            Err(SqsError::InvalidParameterValue(format!("Value {v} for parameter {name} is invalid. Reason: {why}")))
        }
        _ => Ok(()),
    };
    check("MaxNumberOfMessages", req.max_messages, 1, 10, "Must be between 1 and 10, if provided.")?;
    check("VisibilityTimeout", req.visibility_secs, 0, 43_200, "Must be between 0 and 43200, if provided.")?;
    check("WaitTimeSeconds", req.wait_secs, 0, 20, "Must be >= 0 and <= 20, if provided.")?;
    if let Some(id) = &req.attempt_id {
        if id.is_empty() || id.len() > 128 || !id.chars().all(|c| c.is_ascii_graphic()) {
            return Err(SqsError::InvalidParameterValue(format!(
                "Value {id} for parameter ReceiveRequestAttemptId is invalid."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
