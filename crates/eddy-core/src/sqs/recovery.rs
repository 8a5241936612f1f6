//! Start-up: rebuild every queue's hot index from the store. Only the small
//! message-state records are read; bodies stay on disk until received.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::error::{SqsError, SqsResult};
use super::index::Meta;
use super::move_task::MoveTask;
use super::queue::Queue;
use super::records::{self, DedupRecord, MessageState, MoveTaskRecord, QueueRecord};
use super::{reaper, QueueName, Shared, Sqs};

pub(crate) fn recover(sqs: &Arc<Sqs>) -> SqsResult<()> {
    let started = std::time::Instant::now();
    let sh = &sqs.sh;
    let mut by_id: HashMap<u64, Arc<Queue>> = HashMap::new();
    let mut tombstones = Vec::new();
    let (mut max_queue_id, mut max_purge_mark) = (0, 0);
    for kv in sh.queues.scan_prefix(b"") {
        let (_, v) = kv?;
        let record: QueueRecord = decode(&v, "queue")?;
        // A tombstone's id stays taken until its leftovers are gone.
        max_queue_id = max_queue_id.max(record.id);
        max_purge_mark = max_purge_mark.max(record.purged_below);
        let name =
            QueueName { account: record.account.clone(), region: record.region.clone(), name: record.name.clone() };
        if let Some(deleted_ms) = record.deleted_ms {
            sqs.block_name(name, deleted_ms);
            tombstones.push(record.id);
            continue;
        }
        let queue = Arc::new(Queue::new(record, name.arn()));
        by_id.insert(queue.id, queue.clone());
        sqs.queues.write().insert(name, queue);
    }
    let (messages, max_seq) = load_messages(sqs, &by_id)?;
    load_dedup(sqs, &by_id)?;
    drop_tombstones(sqs, &tombstones)?;
    let now = sh.clock.now_ms();
    // Sequence numbers keep growing across restarts, even if every message
    // was deleted: start past the largest stored one, every purge mark (so a
    // new message is never taken for a purged one) and the clock.
    sh.seq.store((max_seq + 1).max(max_purge_mark).max(now * 1000), Ordering::Relaxed);
    sh.next_queue_id.store(max_queue_id + 1, Ordering::Relaxed);
    load_tasks(sqs)?;
    tracing::info!(
        queues = by_id.len(),
        messages,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "SQS state recovered"
    );
    Ok(())
}

/// Rebuilds each queue's index. Records of deleted queues and of purged
/// messages (a crash interrupted their background deletion) are deleted,
/// in steps, as the scan meets them.
fn load_messages(sqs: &Sqs, by_id: &HashMap<u64, Arc<Queue>>) -> SqsResult<(usize, u64)> {
    let sh = &sqs.sh;
    let mut orphans = Orphans::default();
    let (mut count, mut max_seq) = (0usize, 0u64);
    // Keys sort by queue id, so one queue's messages arrive together: keep
    // its lock across the run instead of taking it per message.
    let mut current: Option<(u64, parking_lot::MutexGuard<'_, super::queue::QueueState>)> = None;
    for kv in sh.msg_state.scan_prefix(b"") {
        let (k, v) = kv?;
        let (Some((qid, seq)), Some(state)) = (records::split_message_key(&k), MessageState::decode(&v)) else {
            orphans.push(sh, k)?;
            continue;
        };
        max_seq = max_seq.max(seq);
        if current.as_ref().is_none_or(|(id, _)| *id != qid) {
            // Release the previous queue's lock before taking the next one.
            drop(current.take());
            current = by_id.get(&qid).map(|q| (qid, q.state.lock()));
        }
        let Some((_, st)) = current.as_mut().filter(|(_, st)| seq >= st.record.purged_below) else {
            orphans.push(sh, k)?;
            continue;
        };
        let meta = Meta {
            visible_at: state.visible_at,
            receive_count: state.receive_count,
            first_receive: state.first_receive,
            expires_at: state.expires_at,
            group: state.group.map(Arc::from),
        };
        st.index.insert(seq, meta);
        count += 1;
    }
    drop(current);
    orphans.flush(sh)?;
    Ok((count, max_seq))
}

/// Reloads live deduplication ids; those of deleted queues are deleted.
fn load_dedup(sqs: &Sqs, by_id: &HashMap<u64, Arc<Queue>>) -> SqsResult<()> {
    let sh = &sqs.sh;
    let now = sh.clock.now_ms();
    let mut orphans = Orphans::default();
    for kv in sh.dedup.scan_prefix(b"") {
        let (k, v) = kv?;
        if k.len() < 8 {
            continue;
        }
        let qid = u64::from_be_bytes(k[..8].try_into().expect("8 bytes"));
        let Some(q) = by_id.get(&qid) else {
            orphans.push_dedup(sh, k)?;
            continue;
        };
        let record: DedupRecord = decode(&v, "dedup")?;
        if record.expires_ms > now {
            q.state.lock().dedup.insert(String::from_utf8_lossy(&k[8..]).into_owned(), record);
        }
    }
    orphans.flush(sh)
}

/// Deleted queues' records go once their messages and ids are gone (the
/// scans above deleted them).
fn drop_tombstones(sqs: &Sqs, ids: &[u64]) -> SqsResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut batch = sqs.sh.store.batch();
    for &id in ids {
        batch.delete(&sqs.sh.queues, records::queue_key(id));
    }
    sqs.sh.store.make_durable_soon(batch.commit()?)?;
    tracing::info!(queues = ids.len(), "finished deleting queues whose deletion a restart interrupted");
    Ok(())
}

/// Keys to delete during a scan, committed every [`reaper::STEP`] keys so
/// that a million leftovers never make one huge batch.
#[derive(Default)]
struct Orphans {
    batch: Vec<(bool, Vec<u8>)>,
    total: usize,
}

impl Orphans {
    fn push(&mut self, sh: &Shared, key: Vec<u8>) -> SqsResult<()> {
        self.add(sh, false, key)
    }

    fn push_dedup(&mut self, sh: &Shared, key: Vec<u8>) -> SqsResult<()> {
        self.add(sh, true, key)
    }

    fn add(&mut self, sh: &Shared, dedup: bool, key: Vec<u8>) -> SqsResult<()> {
        self.batch.push((dedup, key));
        self.total += 1;
        if self.batch.len() >= reaper::STEP {
            self.commit(sh)?;
        }
        Ok(())
    }

    fn commit(&mut self, sh: &Shared) -> SqsResult<()> {
        let mut batch = sh.store.batch();
        for (dedup, key) in self.batch.drain(..) {
            if dedup {
                batch.delete(&sh.dedup, key);
            } else {
                batch.delete(&sh.messages, key.clone());
                batch.delete(&sh.msg_state, key);
            }
        }
        sh.store.make_durable_soon(batch.commit()?)?;
        Ok(())
    }

    fn flush(mut self, sh: &Shared) -> SqsResult<()> {
        self.commit(sh)?;
        if self.total > 0 {
            tracing::info!(
                records = self.total,
                "deleted leftovers of purged messages and deleted queues that a restart interrupted"
            );
        }
        Ok(())
    }
}

/// Reloads move tasks and resumes the running ones. A task that can no
/// longer run (its queue is gone, or it breaks a rule added since, such as
/// moving a queue into itself) is marked FAILED instead of resumed, so one
/// bad task cannot wedge every restart; one interrupted while cancelling is
/// CANCELLED.
fn load_tasks(sqs: &Arc<Sqs>) -> SqsResult<()> {
    let mut batch = sqs.sh.store.batch();
    for kv in sqs.sh.tasks.scan_prefix(b"") {
        let (_, v) = kv?;
        let mut record: MoveTaskRecord = decode(&v, "move task")?;
        let mut changed = true;
        match record.status.as_str() {
            "RUNNING" => match sqs.invalid_task_reason(&record) {
                Some(reason) => {
                    tracing::warn!(task = %record.handle, source = %record.source_arn,
                        destination = ?record.destination_arn, %reason,
                        "message move task marked FAILED on recovery instead of resumed");
                    record.status = "FAILED".into();
                    record.failure_reason = Some(reason);
                }
                None => changed = false,
            },
            "CANCELLING" => record.status = "CANCELLED".into(),
            _ => changed = false,
        }
        if changed {
            batch.put(&sqs.sh.tasks, record.handle.as_bytes().to_vec(), super::queue::json(&record));
        }
        let running = record.status == "RUNNING";
        let task = Arc::new(MoveTask::new(record));
        sqs.tasks.lock().push(task.clone());
        if running {
            MoveTask::spawn(sqs.clone(), task);
        }
    }
    sqs.sh.store.make_durable_soon(batch.commit()?)?;
    Ok(())
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> SqsResult<T> {
    serde_json::from_slice(bytes).map_err(|e| SqsError::Internal(format!("corrupt {what} record: {e}")))
}
