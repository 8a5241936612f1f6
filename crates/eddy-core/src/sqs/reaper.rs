//! Background deletion of what PurgeQueue and DeleteQueue leave behind.
//!
//! Both calls empty the queue's index in O(1) under its lock and durably
//! record the fact (a purge mark, a tombstone) before they answer; the
//! message records are then deleted here in steps of [`STEP`] messages, so
//! no single commit is large enough to stall other clients' writes. After a
//! crash, recovery finishes the job from the mark or the tombstone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{SqsError, SqsResult};
use super::index::Index;
use super::records;
use super::Shared;

/// Messages deleted per commit.
pub(crate) const STEP: usize = 1000;

/// Pause between two steps (of this job and of the retention sweep).
pub(crate) const PAUSE: Duration = Duration::from_millis(5);

/// What one purge or deletion left to delete.
pub(crate) struct ReapJob {
    pub queue_id: u64,
    pub queue_name: String,
    pub messages: Index,
    /// FIFO deduplication keys (deletion only).
    pub dedup: Vec<String>,
    /// Deletion: drop the tombstone once everything else is gone.
    pub drop_record: bool,
}

/// Runs `job` on the current runtime, or at once without one.
pub(crate) fn spawn(sh: Arc<Shared>, job: ReapJob) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        if let Err(e) = reap_now(&sh, job) {
            tracing::warn!(error = %e, "background deletion failed; recovery finishes it on the next start");
        }
        return;
    };
    rt.spawn(async move {
        let name = job.queue_name.clone();
        if let Err(e) = reap(sh, job).await {
            tracing::warn!(queue = %name, error = %e,
                "background deletion failed; recovery finishes it on the next start");
        }
    });
}

/// Every step is a store commit of thousands of deletes, and walking and
/// freeing a big index is CPU work: all of it runs on blocking threads, so
/// no async worker (serving other requests) waits on it.
async fn reap(sh: Arc<Shared>, job: ReapJob) -> SqsResult<()> {
    let started = Instant::now();
    let messages = job.messages;
    let seqs = Arc::new(off_workers(move || Ok(messages.into_seqs())).await?);
    for at in (0..seqs.len()).step_by(STEP) {
        let (sh, seqs, queue_id) = (sh.clone(), seqs.clone(), job.queue_id);
        off_workers(move || delete_messages(&sh, queue_id, &seqs[at..(at + STEP).min(seqs.len())])).await?;
        // Paced, so other requests' commits and fsyncs never queue behind a
        // run of deletions: 200,000 messages take about a second, far
        // inside the 60 s AWS allows a purge.
        tokio::time::sleep(PAUSE).await;
    }
    let (sh2, dedup) = (sh.clone(), job.dedup);
    off_workers(move || finish(&sh2, &dedup, job.queue_id, job.drop_record)).await?;
    tracing::info!(queue = %job.queue_name, messages = seqs.len(), elapsed_ms = started.elapsed().as_millis() as u64,
        "background deletion of purged or deleted messages finished");
    Ok(())
}

async fn off_workers<T: Send + 'static>(work: impl FnOnce() -> SqsResult<T> + Send + 'static) -> SqsResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| SqsError::Internal(format!("background deletion: {e}")))?
}

/// Without a runtime (offline tools): the same steps, one after another.
fn reap_now(sh: &Shared, job: ReapJob) -> SqsResult<()> {
    for chunk in job.messages.into_seqs().chunks(STEP) {
        delete_messages(sh, job.queue_id, chunk)?;
    }
    finish(sh, &job.dedup, job.queue_id, job.drop_record)
}

/// One step: deletes these messages' records. Not waited for: if a crash
/// loses it, recovery deletes them again from the purge mark or tombstone.
pub(crate) fn delete_messages(sh: &Shared, queue_id: u64, seqs: &[u64]) -> SqsResult<()> {
    let mut batch = sh.store.batch();
    for &seq in seqs {
        let key = records::message_key(queue_id, seq);
        batch.delete(&sh.messages, key.clone());
        batch.delete(&sh.msg_state, key);
    }
    sh.store.make_durable_soon(batch.commit()?)?;
    Ok(())
}

/// Deletes the deduplication ids and, for a deleted queue, its tombstone:
/// committed after every message step, so a crash can never leave messages
/// without the tombstone that says they are garbage.
fn finish(sh: &Shared, dedup: &[String], queue_id: u64, drop_record: bool) -> SqsResult<()> {
    for chunk in dedup.chunks(STEP) {
        let mut batch = sh.store.batch();
        for key in chunk {
            batch.delete(&sh.dedup, records::dedup_key(queue_id, key));
        }
        sh.store.make_durable_soon(batch.commit()?)?;
    }
    if drop_record {
        let mut batch = sh.store.batch();
        batch.delete(&sh.queues, records::queue_key(queue_id));
        sh.store.make_durable_soon(batch.commit()?)?;
    }
    Ok(())
}
