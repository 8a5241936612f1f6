//! The run loop: moves each pipe from its transitional state to where its
//! DesiredState points, and keeps one reader task per running pipe.
//!
//! CREATING, STARTING and UPDATING end in RUNNING (the reader started:
//! for a Kinesis source its LATEST position taken first, so what is put
//! once the pipe shows RUNNING is read) or STOPPED; a source that does not
//! exist makes them CREATE_FAILED, START_FAILED or UPDATE_FAILED with a
//! StateReason. STOPPING ends in STOPPED, DELETING in the pipe's removal
//! with its checkpoints. After a restart, RUNNING pipes get their readers
//! back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::records::{self, PipeRecord};
use super::source::SourceKind;
use super::{Pipes, PipesResult};

/// A running pipe's reader: the record it runs and its task.
type Reader = (Arc<PipeRecord>, JoinHandle<()>);

/// The readers of running pipes, by pipe key.
#[derive(Default)]
pub(crate) struct Runners {
    running: Mutex<HashMap<Vec<u8>, Reader>>,
    wake: Notify,
}

impl Runners {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn stop(&self, key: &[u8]) {
        if let Some((record, task)) = self.running.lock().remove(key) {
            task.abort();
            tracing::info!(pipe = %record.arn(), "Pipes: reader stopped");
        }
    }

    fn runs(&self, key: &[u8], record: &Arc<PipeRecord>) -> bool {
        self.running.lock().get(key).is_some_and(|(r, _)| Arc::ptr_eq(r, record))
    }
}

impl Pipes {
    /// Runs pipes until the task is aborted (then their readers stop too).
    pub async fn run(self: Arc<Self>) {
        struct StopAll<'a>(&'a Runners);
        impl Drop for StopAll<'_> {
            fn drop(&mut self) {
                for (_, (_, task)) in self.0.running.lock().drain() {
                    task.abort();
                }
            }
        }
        let _stop = StopAll(&self.runners);
        loop {
            let notified = self.runners.wake.notified();
            self.reconcile().await;
            let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
        }
    }

    /// One pass over every pipe.
    async fn reconcile(self: &Arc<Self>) {
        let all: Vec<(Vec<u8>, Arc<PipeRecord>)> =
            self.pipes.read().iter().map(|(k, r)| (k.clone(), r.clone())).collect();
        for (key, record) in all {
            if let Err(e) = self.settle(&key, &record).await {
                tracing::error!(pipe = %record.arn(), error = %e, "Pipes: could not change the pipe's state");
            }
        }
    }

    async fn settle(self: &Arc<Self>, key: &[u8], record: &Arc<PipeRecord>) -> PipesResult<()> {
        match record.current_state.as_str() {
            "CREATING" | "STARTING" | "UPDATING" => {
                self.runners.stop(key);
                if record.desired_state != "RUNNING" {
                    return self.set_state(key, record, "STOPPED", None).await;
                }
                match self.start_reader(key, record).await {
                    Ok(()) => self.set_state(key, record, "RUNNING", None).await,
                    Err(reason) => {
                        let failed = match record.current_state.as_str() {
                            "CREATING" => "CREATE_FAILED",
                            "UPDATING" => "UPDATE_FAILED",
                            _ => "START_FAILED",
                        };
                        tracing::warn!(pipe = %record.arn(), reason = %reason, state = %failed, "Pipes: pipe could not start");
                        self.set_state(key, record, failed, Some(reason)).await
                    }
                }
            }
            "STOPPING" => {
                self.runners.stop(key);
                self.set_state(key, record, "STOPPED", None).await
            }
            "DELETING" => {
                self.runners.stop(key);
                self.remove(key, record).await
            }
            "RUNNING" if !self.runners.runs(key, record) => {
                // After a restart: the reader comes back, from the checkpoints
                // stored when the pipe started (it waits for a source gone meanwhile).
                self.runners.stop(key);
                self.spawn_reader(key, record);
                Ok(())
            }
            "RUNNING" => Ok(()),
            _ => {
                self.runners.stop(key);
                Ok(())
            }
        }
    }

    /// Starts the pipe's reader; Err: why the pipe cannot run (its StateReason).
    async fn start_reader(self: &Arc<Self>, key: &[u8], record: &Arc<PipeRecord>) -> Result<(), String> {
        let kind = SourceKind::of(&record.source);
        match kind {
            SourceKind::Sqs => {
                if self.targets.sqs.lookup_arn(&record.source).is_none() {
                    return Err(format!("The source queue {} does not exist.", record.source));
                }
            }
            SourceKind::Kinesis => self.position_shards(key, record).await?,
            SourceKind::Other => {
                tracing::warn!(pipe = %record.arn(), source = %record.source,
                    "Pipes: eddy does not run this kind of source; the pipe shows RUNNING and reads nothing");
            }
        }
        self.spawn_reader(key, record);
        Ok(())
    }

    fn spawn_reader(self: &Arc<Self>, key: &[u8], record: &Arc<PipeRecord>) {
        let kind = SourceKind::of(&record.source);
        let pipes = self.clone();
        let (k, r) = (key.to_vec(), record.clone());
        let task = tokio::spawn(async move {
            match kind {
                SourceKind::Sqs => pipes.read_queue(r).await,
                SourceKind::Kinesis => pipes.read_stream(k, r).await,
                SourceKind::Other => std::future::pending().await,
            }
        });
        self.runners.running.lock().insert(key.to_vec(), (record.clone(), task));
        tracing::info!(pipe = %record.arn(), source = %record.source, "Pipes: reader started");
    }

    /// Moves the pipe to `state`, unless it changed meanwhile (then the new version decides).
    async fn set_state(
        &self,
        key: &[u8],
        seen: &Arc<PipeRecord>,
        state: &str,
        reason: Option<String>,
    ) -> PipesResult<()> {
        let record = {
            let _w = self.write.lock();
            let Some(current) = self.current(key).filter(|c| Arc::ptr_eq(c, seen)) else { return Ok(()) };
            let mut r = (*current).clone();
            r.current_state = state.to_string();
            r.state_reason = reason;
            let r = Arc::new(r);
            self.pipes.write().insert(key.to_vec(), r.clone());
            // The reader runs what it ran: the record changed only in its state.
            if let Some(entry) = self.runners.running.lock().get_mut(key) {
                entry.0 = r.clone();
            }
            r
        };
        let mut batch = self.store.batch();
        batch.put(&self.pipes_part, key.to_vec(), records::to_json(&*record));
        self.commit(batch).await?;
        tracing::info!(pipe = %record.arn(), state, "Pipes: pipe state changed");
        Ok(())
    }

    async fn remove(&self, key: &[u8], seen: &Arc<PipeRecord>) -> PipesResult<()> {
        let mut batch = self.store.batch();
        {
            let _w = self.write.lock();
            if !self.current(key).is_some_and(|c| Arc::ptr_eq(&c, seen)) {
                return Ok(());
            }
            self.pipes.write().remove(key);
        }
        batch.delete(&self.pipes_part, key.to_vec());
        let prefix = records::checkpoint_key(key, "");
        for kv in self.checkpoints_part.scan_prefix(&prefix) {
            let (k, _) = kv?;
            batch.delete(&self.checkpoints_part, k);
        }
        self.commit(batch).await?;
        tracing::info!(pipe = %seen.arn(), "Pipes: pipe deleted");
        Ok(())
    }
}
