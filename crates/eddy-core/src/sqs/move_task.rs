//! Message move tasks (DLQ redrive): StartMessageMoveTask moves the messages
//! of a dead-letter queue back to their source queues, or to a destination.
//! Moved messages are new messages: new id, new enqueue time, receive count 0
//! (SQS developer guide, "configure dead-letter queue redrive").
//!
//! Lock order, for all of SQS (every lock here is a `parking_lot` lock:
//! neither reentrant nor ordered by itself, and none is held across an
//! `.await`):
//!
//! 1. `Sqs::tasks` (the task list) before a task's `record`; neither is
//!    held while a queue lock is taken.
//! 2. `Sqs::queues` (the registry) is held only to clone a queue's `Arc`.
//! 3. At most one queue `state` lock at a time, on every path. A move (a
//!    move task, or a redrive to a dead-letter queue on receive) reads and
//!    stages under the source's lock, releases it, resolves destinations
//!    with no lock held, and only then takes each destination's lock to
//!    index the moved messages (`receive::place_moved`). So two queues that
//!    are each other's dead-letter queue, with move tasks and redrives
//!    running both ways at once, cannot deadlock (tests
//!    `move_tasks_both_ways_between_mutual_dlqs_finish`,
//!    `redrives_and_move_tasks_both_ways_at_once_finish`).
//! 4. No store lock, and no commit, under a queue lock. A queue's changes
//!    are staged in a batch and *submitted* under its lock
//!    (`WriteBatch::submit`: a channel push, which fixes the order the
//!    store's apply thread applies them in, so the store sees changes in
//!    the index's order). The commit (where the engine can stall for
//!    hundreds of milliseconds), the wait for it, the wait for durability
//!    and the reading of received messages' records all come after the
//!    queue lock is released. The one store call left under a queue lock is
//!    the read of a message's record when a receive moves it to its
//!    dead-letter queue (the copy must join the delete's batch).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use parking_lot::Mutex;

use super::error::{invalid_param, SqsError, SqsResult};
use super::index::Meta;
use super::queue::{json, load_record};
use super::receive::{place_moved, Moved};
use super::records::{MessageRecord, MoveTaskRecord};
use super::{Queue, Sqs};
use crate::clock::Millis;

pub struct MoveTask {
    record: Mutex<MoveTaskRecord>,
    cancelled: AtomicBool,
}

impl MoveTask {
    pub(crate) fn new(record: MoveTaskRecord) -> MoveTask {
        MoveTask { record: Mutex::new(record), cancelled: AtomicBool::new(false) }
    }

    pub fn snapshot(&self) -> MoveTaskRecord {
        self.record.lock().clone()
    }

    pub(crate) fn spawn(sqs: Arc<Sqs>, task: Arc<MoveTask>) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        rt.spawn(async move {
            if let Err(e) = sqs.run_move_task(&task).await {
                let mut r = task.record.lock();
                r.status = "FAILED".into();
                r.failure_reason = Some(failure_reason(&e));
                tracing::warn!(task = %r.handle, source = %r.source_arn, error = %e, "message move task failed");
            }
            let _ = sqs.save_task(&task).await;
        });
    }
}

impl Sqs {
    pub async fn start_move_task(
        self: &Arc<Self>,
        source_arn: &str,
        destination_arn: Option<String>,
        max_per_second: Option<i64>,
    ) -> SqsResult<String> {
        let source = self.lookup_arn(source_arn).ok_or_else(|| {
            SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            )
        })?;
        if self.dead_letter_sources(&source).is_empty() {
            return Err(invalid_param("Source queue must be configured as a Dead Letter Queue."));
        }
        if let Some(d) = &destination_arn {
            let dest = self.lookup_arn(d).ok_or_else(|| {
                SqsError::ResourceNotFound(
                    "The resource that you specified for the DestinationArn parameter doesn't exist.".into(),
                )
            })?;
            check_destination(&source, &dest)?;
        }
        if let Some(r) = max_per_second.filter(|r| !(1..=500).contains(r)) {
            return Err(invalid_param(format!(
                "Value {r} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500."
            )));
        }
        // AWS's form: standard base64 of {"taskId", "sourceArn"}.
        let handle = STANDARD.encode(
            serde_json::json!({"taskId": uuid::Uuid::new_v4().to_string(), "sourceArn": source_arn}).to_string(),
        );
        let to_move = source.state.lock().index.len() as u64;
        let task = Arc::new(MoveTask::new(MoveTaskRecord {
            handle: handle.clone(),
            source_arn: source_arn.to_string(),
            destination_arn,
            max_per_second: max_per_second.map(|r| r as u32),
            status: "RUNNING".into(),
            moved: 0,
            to_move,
            started_ms: self.now_ms(),
            failure_reason: None,
        }));
        self.register_task(&task)?;
        if let Err(e) = self.save_task(&task).await {
            self.tasks.lock().retain(|t| !Arc::ptr_eq(t, &task));
            return Err(e);
        }
        tracing::info!(source = %source_arn, to_move, "message move task started");
        MoveTask::spawn(self.clone(), task);
        self.prune_tasks().await?;
        Ok(handle)
    }

    /// Keeps only the tasks ListMessageMoveTasks can still show: the 10 most
    /// recent of each existing source queue ("the most recent message
    /// movement tasks (up to 10)", API reference). Active tasks always stay.
    /// Forgotten tasks leave the store too.
    pub(crate) async fn prune_tasks(&self) -> SqsResult<()> {
        let mut records: Vec<(MoveTaskRecord, Arc<MoveTask>)> =
            self.tasks.lock().iter().map(|t| (t.snapshot(), t.clone())).collect();
        records.sort_by_key(|(r, _)| std::cmp::Reverse(r.started_ms));
        let mut per_source: HashMap<String, usize> = HashMap::new();
        let mut forget = Vec::new();
        for (r, t) in &records {
            let seen = per_source.entry(r.source_arn.clone()).or_default();
            *seen += 1;
            let active = r.status == "RUNNING" || r.status == "CANCELLING";
            if !active && (*seen > MAX_LISTED_TASKS || self.lookup_arn(&r.source_arn).is_none()) {
                forget.push((r.handle.clone(), t.clone()));
            }
        }
        if forget.is_empty() {
            return Ok(());
        }
        self.tasks.lock().retain(|t| !forget.iter().any(|(_, f)| Arc::ptr_eq(t, f)));
        let mut batch = self.sh.store.batch();
        for (handle, _) in &forget {
            batch.delete(&self.sh.tasks, handle.as_bytes().to_vec());
        }
        self.sh.store.make_durable_soon(batch.submit().await?)?;
        tracing::debug!(
            count = forget.len(),
            "finished message move tasks forgotten: beyond the 10 most recent of their source, or their source is gone"
        );
        Ok(())
    }

    /// Adds a new RUNNING task, checking under the same lock that its source
    /// has no other: two concurrent starts cannot both pass.
    fn register_task(&self, task: &Arc<MoveTask>) -> SqsResult<()> {
        let source = task.snapshot().source_arn;
        let mut tasks = self.tasks.lock();
        if tasks.iter().any(|t| {
            let r = t.snapshot();
            r.source_arn == source && (r.status == "RUNNING" || r.status == "CANCELLING")
        }) {
            return Err(invalid_param("There is already a task running. Only one active task is allowed for a source queue arn at a given time."));
        }
        tasks.push(task.clone());
        Ok(())
    }

    /// Why a persisted unfinished task cannot run under today's rules, if it
    /// cannot (a task from an older eddy, or whose queues changed since).
    pub(crate) fn invalid_task_reason(&self, r: &MoveTaskRecord) -> Option<String> {
        let Some(source) = self.lookup_arn(&r.source_arn) else {
            return Some(NON_EXISTENT_QUEUE.into());
        };
        let dest = r.destination_arn.as_deref().map(|d| self.lookup_arn(d));
        match dest {
            Some(None) => Some(NON_EXISTENT_QUEUE.into()),
            Some(Some(dest)) => check_destination(&source, &dest).err().map(|e| e.to_string()),
            None => None,
        }
    }

    /// Returns how many messages had moved when the task stopped.
    pub async fn cancel_move_task(&self, handle: &str) -> SqsResult<u64> {
        // Handles made before eddy used AWS's standard base64 are URL-safe.
        let doc = STANDARD
            .decode(handle)
            .or_else(|_| URL_SAFE_NO_PAD.decode(handle))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(|v| v.get("taskId").is_some());
        // AWS's recorded wording for each refusal.
        let Some(doc) = doc else {
            return Err(invalid_param("Value for parameter TaskHandle is invalid."));
        };
        let source = doc.get("sourceArn").and_then(|a| a.as_str()).unwrap_or_default();
        if self.lookup_arn(source).is_none() {
            return Err(SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            ));
        }
        let task = self
            .tasks
            .lock()
            .iter()
            .find(|t| t.snapshot().handle == handle)
            .cloned()
            .ok_or_else(|| SqsError::ResourceNotFound("Task does not exist.".into()))?;
        let moved = {
            let mut r = task.record.lock();
            if r.status != "RUNNING" {
                return Err(invalid_param("Only active tasks can be cancelled."));
            }
            task.cancelled.store(true, Ordering::SeqCst);
            r.status = "CANCELLING".into();
            r.moved
        };
        self.save_task(&task).await?;
        Ok(moved)
    }

    /// The most recent tasks of a source queue, newest first.
    pub fn list_move_tasks(&self, source_arn: &str, max: Option<i64>) -> SqsResult<Vec<MoveTaskRecord>> {
        if self.lookup_arn(source_arn).is_none() {
            return Err(SqsError::ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            ));
        }
        let max = match max {
            None => 1,
            Some(m) if (1..=10).contains(&m) => m as usize,
            Some(m) => {
                return Err(invalid_param(format!(
                    "Value {m} for parameter MaxResults is invalid. Reason: Must be between 1 and 10."
                )))
            }
        };
        let mut v: Vec<MoveTaskRecord> =
            self.tasks.lock().iter().map(|t| t.snapshot()).filter(|r| r.source_arn == source_arn).collect();
        v.sort_by_key(|t| std::cmp::Reverse(t.started_ms));
        v.truncate(max);
        Ok(v)
    }

    async fn save_task(&self, task: &MoveTask) -> SqsResult<()> {
        let r = task.snapshot();
        let mut batch = self.sh.store.batch();
        batch.put(&self.sh.tasks, r.handle.as_bytes().to_vec(), json(&r));
        self.applied_and_durable(batch.submit()).await
    }

    async fn run_move_task(self: &Arc<Self>, task: &MoveTask) -> SqsResult<()> {
        let (source_arn, dest_arn, rate) = {
            let r = task.record.lock();
            (r.source_arn.clone(), r.destination_arn.clone(), r.max_per_second)
        };
        let source = self.lookup_arn(&source_arn).ok_or(SqsError::QueueDoesNotExist)?;
        let pending = source.state.lock().index.seqs();
        // With a rate, move that many per second (at most 10 at a time).
        let chunk_size = rate.map_or(10, |r| (r as usize).clamp(1, 10));
        for chunk in pending.chunks(chunk_size) {
            if task.cancelled.load(Ordering::SeqCst) {
                task.record.lock().status = "CANCELLED".into();
                return Ok(());
            }
            let moved = self.move_chunk(&source, chunk, dest_arn.as_deref()).await?;
            task.record.lock().moved += moved;
            match rate {
                Some(r) => tokio::time::sleep(Duration::from_millis(1000 * moved.max(1) / r as u64)).await,
                None => tokio::task::yield_now().await,
            }
        }
        let mut r = task.record.lock();
        r.status = "COMPLETED".into();
        tracing::info!(source = %source_arn, moved = r.moved, "message move task completed");
        Ok(())
    }

    /// Moves the given messages (those not in flight) out of `source`.
    ///
    /// No queue lock is ever held while another queue's lock is taken: the
    /// destination may be the source itself (a recovered task) or a queue
    /// whose own task moves messages the other way, and parking_lot locks
    /// are neither reentrant nor ordered. So the candidates are read under
    /// the source lock, the destinations resolved with no lock held, and the
    /// source lock taken again to stage the moves of messages still there.
    async fn move_chunk(&self, source: &Queue, seqs: &[u64], dest_arn: Option<&str>) -> SqsResult<u64> {
        let now = self.now_ms();
        let candidates = self.move_candidates(source, seqs, now)?;
        let dests = self.resolve_destinations(&candidates, dest_arn)?;
        let mut batch = self.sh.store.batch();
        let mut placed = Vec::new();
        let applied = {
            let mut st = source.state.lock();
            st.check_live()?;
            for (seq, count, mut record) in candidates {
                let unchanged = st.index.get(seq).is_some_and(|m| m.receive_count == count && m.visible_at <= now);
                let target = dest_arn.or(record.dlq_source_arn.as_deref());
                let Some(dest) = target.and_then(|a| dests.get(a)).filter(|_| unchanged) else { continue };
                let Some(old) = st.stage_delete(&self.sh, &mut batch, seq) else { continue };
                if dest.queue.is_fifo() {
                    // The old id stands in as deduplication id in FIFO redrive.
                    record.dedup_id = Some(record.message_id.clone());
                }
                record.message_id = uuid::Uuid::new_v4().to_string();
                record.sent_ms = now;
                record.dlq_source_arn = None;
                let meta = Meta {
                    visible_at: now + dest.delay_ms,
                    receive_count: 0,
                    first_receive: 0,
                    expires_at: now + dest.retention_ms,
                    group: old.group,
                };
                placed.push(Moved::stage(&self.sh, &mut batch, dest.queue.clone(), &record, meta));
            }
            batch.submit()
        };
        let moved = placed.len() as u64;
        // Placed once applied: their new queues read their records.
        let ticket = applied.await?;
        place_moved(&self.sh, placed);
        self.durable(ticket).await?;
        Ok(moved)
    }

    /// The messages among `seqs` that are not in flight, with their receive
    /// count (to notice a receive in between) and stored record.
    fn move_candidates(&self, source: &Queue, seqs: &[u64], now: Millis) -> SqsResult<Vec<(u64, u32, MessageRecord)>> {
        let visible: Vec<(u64, u32)> = {
            let st = source.state.lock();
            st.check_live()?;
            seqs.iter()
                .filter_map(|&s| st.index.get(s).filter(|m| m.visible_at <= now).map(|m| (s, m.receive_count)))
                .collect()
        };
        let mut out = Vec::with_capacity(visible.len());
        for (seq, count) in visible {
            if let Some(record) = load_record(&self.sh, source.id, seq)? {
                out.push((seq, count, record));
            }
        }
        Ok(out)
    }

    /// Each destination queue and the settings a moved message takes from
    /// it, read before the source lock is taken again. A named destination
    /// that no longer exists fails the task, as on AWS; a message whose
    /// original source is gone stays where it is.
    fn resolve_destinations(
        &self,
        candidates: &[(u64, u32, MessageRecord)],
        dest_arn: Option<&str>,
    ) -> SqsResult<HashMap<String, Destination>> {
        let mut out = HashMap::new();
        let arns = candidates.iter().filter_map(|(_, _, r)| dest_arn.or(r.dlq_source_arn.as_deref()));
        for arn in arns {
            if out.contains_key(arn) {
                continue;
            }
            let Some(queue) = self.lookup_arn(arn) else {
                if dest_arn.is_some() {
                    return Err(SqsError::QueueDoesNotExist);
                }
                tracing::info!(source_queue = %arn,
                    "message move task left a message in place: its original source queue no longer exists");
                continue;
            };
            let cfg = queue.config();
            let dest = Destination { queue, delay_ms: cfg.delay_secs * 1000, retention_ms: cfg.retention_secs * 1000 };
            out.insert(arn.to_string(), dest);
        }
        Ok(out)
    }
}

/// A move task's destination and the settings moved messages take from it.
struct Destination {
    queue: Arc<Queue>,
    delay_ms: Millis,
    retention_ms: Millis,
}

/// ListMessageMoveTasks shows at most this many tasks per source queue.
const MAX_LISTED_TASKS: usize = 10;

/// The failure reason AWS lists for a task whose queue disappeared.
const NON_EXISTENT_QUEUE: &str = "AWS.SimpleQueueService.NonExistentQueue";

/// The rules a named destination must meet.
fn check_destination(source: &Queue, dest: &Queue) -> SqsResult<()> {
    if dest.id == source.id {
        // Moving a queue's messages into itself would never end and, before
        // this check, deadlocked eddy.
        return Err(invalid_param("Source queue and destination queue cannot be the same."));
    }
    if dest.is_fifo() != source.is_fifo() {
        return Err(invalid_param("The source queue and destination queue must be of the same queue type."));
    }
    Ok(())
}

/// ListMessageMoveTasks' FailureReason: AWS's error code for a vanished
/// queue (LocalStack's AWS recording), the message otherwise.
fn failure_reason(e: &SqsError) -> String {
    match e {
        SqsError::QueueDoesNotExist => NON_EXISTENT_QUEUE.into(),
        e => e.to_string(),
    }
}
