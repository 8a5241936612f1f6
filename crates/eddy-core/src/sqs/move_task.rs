//! Message move tasks (DLQ redrive): StartMessageMoveTask moves the messages
//! of a dead-letter queue back to their source queues, or to a destination.
//! Moved messages are new messages: new id, new enqueue time, receive count 0
//! (SQS developer guide, "configure dead-letter queue redrive").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use parking_lot::Mutex;

use super::error::{invalid_param, SqsError, SqsResult};
use super::index::Meta;
use super::queue::{json, load_record};
use super::receive::Moved;
use super::records::MoveTaskRecord;
use super::Sqs;

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
                r.failure_reason = Some(e.to_string());
                tracing::warn!(task = %r.handle, error = %e, "message move task failed");
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
            if dest.is_fifo() != source.is_fifo() {
                return Err(invalid_param("The source queue and destination queue must be of the same queue type."));
            }
        }
        if let Some(r) = max_per_second.filter(|r| !(1..=500).contains(r)) {
            return Err(invalid_param(format!(
                "Value {r} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500."
            )));
        }
        if self.tasks.lock().iter().any(|t| t.snapshot().source_arn == source_arn && t.snapshot().status == "RUNNING") {
            return Err(invalid_param("There is already a task running. Only one active task is allowed for a source queue arn at a given time."));
        }
        let started_ms = self.now_ms();
        let handle = URL_SAFE_NO_PAD.encode(
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
            started_ms,
            failure_reason: None,
        }));
        self.save_task(&task).await?;
        self.tasks.lock().push(task.clone());
        tracing::info!(source = %source_arn, to_move, "message move task started");
        MoveTask::spawn(self.clone(), task);
        Ok(handle)
    }

    /// Returns how many messages had moved when the task stopped.
    pub async fn cancel_move_task(&self, handle: &str) -> SqsResult<u64> {
        let decodable = URL_SAFE_NO_PAD
            .decode(handle)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v.get("taskId").is_some());
        if !decodable {
            return Err(invalid_param(format!("Value {handle} for parameter TaskHandle is invalid.")));
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
        self.durable(batch.commit()?).await
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
    async fn move_chunk(&self, source: &super::Queue, seqs: &[u64], dest_arn: Option<&str>) -> SqsResult<u64> {
        let now = self.now_ms();
        let mut batch = self.sh.store.batch();
        let mut placed = Vec::new();
        let ticket = {
            let mut st = source.state.lock();
            for &seq in seqs {
                let in_flight = st.index.get(seq).is_none_or(|m| m.visible_at > now);
                let Some(mut record) = (if in_flight { None } else { load_record(&self.sh, source.id, seq)? }) else {
                    continue;
                };
                let target = dest_arn.map(String::from).or_else(|| record.dlq_source_arn.clone());
                let Some(dest) = target.and_then(|a| self.lookup_arn(&a)) else { continue };
                let old = st.stage_delete(&self.sh, &mut batch, seq).expect("indexed message");
                if dest.is_fifo() {
                    // The old id stands in as deduplication id in FIFO redrive.
                    record.dedup_id = Some(record.message_id.clone());
                }
                record.message_id = uuid::Uuid::new_v4().to_string();
                record.sent_ms = now;
                record.dlq_source_arn = None;
                let cfg = dest.config();
                let meta = Meta {
                    visible_at: now + cfg.delay_secs * 1000,
                    receive_count: 0,
                    first_receive: 0,
                    expires_at: now + cfg.retention_secs * 1000,
                    group: old.group,
                };
                placed.push(Moved::stage(&self.sh, &mut batch, dest, &record, meta));
            }
            batch.commit()?
        };
        let moved = placed.len() as u64;
        self.place_moved(placed);
        self.durable(ticket).await?;
        Ok(moved)
    }
}
