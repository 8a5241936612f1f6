//! The delivery loop: which jobs are in memory, FIFO lanes, housekeeping.
//!
//! Every accepted Publish is a durable job record. At most
//! [`MAX_LOADED_JOBS`] of them are in memory at once (handed over by
//! Publish, or under delivery); beyond that Publish leaves the job on disk
//! and the loop reads such jobs back, in order, as deliveries finish.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{mpsc, Notify};

use super::delivery::{deliver_job, forget};
use super::records::{self, Job};
use super::{queue, Sns};
use crate::clock::Millis;

/// Jobs held in memory at once, queued or under delivery.
pub const MAX_LOADED_JOBS: usize = 1024;
/// A FIFO topic's lane (a task and a channel) is dropped after this long without work.
pub const LANE_IDLE_MS: Millis = 60_000;
/// How often expired deduplication ids, idle lanes and idle endpoint gates are swept.
const HOUSEKEEPING: Duration = Duration::from_secs(10);

/// Work handed to the delivery loop.
pub enum Work {
    Job { seq: u64, job: Job },
}

/// The delivery loop's input.
pub struct Backlog {
    pub(crate) rx: mpsc::UnboundedReceiver<Work>,
}

/// Which jobs are in memory, and whether some wait on disk only.
#[derive(Default)]
pub(crate) struct Admission {
    state: Mutex<AdmissionState>,
    refill: Notify,
}

#[derive(Default)]
pub(crate) struct AdmissionState {
    loaded: HashSet<u64>,
    /// Jobs exist on disk that are not in memory.
    spilled: bool,
}

impl AdmissionState {
    #[cfg(test)]
    pub fn loaded_len(&self) -> usize {
        self.loaded.len()
    }

    /// Whether job `seq` may be handed over in memory; if not, it waits on disk.
    pub fn admit(&mut self, seq: u64) -> bool {
        if self.spilled || self.loaded.len() >= MAX_LOADED_JOBS {
            if !self.spilled {
                tracing::info!(
                    loaded = MAX_LOADED_JOBS,
                    "SNS delivery backlog is full in memory: new jobs wait on disk until deliveries catch up"
                );
            }
            self.spilled = true;
            return false;
        }
        self.loaded.insert(seq)
    }
}

impl Admission {
    /// Held by Publish while it numbers, writes and admits its jobs, so jobs
    /// are admitted in their sequence order.
    pub fn lock(&self) -> MutexGuard<'_, AdmissionState> {
        self.state.lock()
    }

    /// Forgets a job that could not be handed over; a later refill reads it.
    pub fn release(&self, seq: u64) {
        let mut st = self.state.lock();
        st.loaded.remove(&seq);
        st.spilled = true;
    }

    fn finish(&self, seq: u64) {
        let mut st = self.state.lock();
        st.loaded.remove(&seq);
        if st.spilled && st.loaded.len() <= MAX_LOADED_JOBS / 2 {
            self.refill.notify_one();
        }
    }

    fn wants_refill(&self) -> bool {
        let st = self.state.lock();
        st.spilled && st.loaded.len() <= MAX_LOADED_JOBS / 2
    }

    /// Marks jobs found on disk at start-up as waiting there.
    pub fn recovered(&self, jobs: bool) {
        self.state.lock().spilled |= jobs;
    }
}

/// One ordered delivery task per FIFO topic with recent work.
#[derive(Default)]
pub(crate) struct Lanes(HashMap<String, Lane>);

struct Lane {
    tx: mpsc::UnboundedSender<(u64, Job)>,
    pending: Arc<AtomicUsize>,
    last_ms: Millis,
}

impl Lanes {
    pub fn send(&mut self, sns: &Arc<Sns>, seq: u64, job: Job) {
        let now = sns.now_ms();
        let lane = self.0.entry(job.notice.topic_arn.clone()).or_insert_with(|| spawn_lane(sns.clone(), now));
        lane.last_ms = now;
        lane.pending.fetch_add(1, Ordering::SeqCst);
        let _ = lane.tx.send((seq, job));
    }

    /// Drops lanes with nothing to do for [`LANE_IDLE_MS`]; returns how many.
    pub fn reap(&mut self, now: Millis) -> usize {
        let before = self.0.len();
        self.0.retain(|_, l| l.pending.load(Ordering::SeqCst) > 0 || now.saturating_sub(l.last_ms) < LANE_IDLE_MS);
        before - self.0.len()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

fn spawn_lane(sns: Arc<Sns>, now: Millis) -> Lane {
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Job)>();
    let pending = Arc::new(AtomicUsize::new(0));
    let left = pending.clone();
    // Ends when the lane is reaped (its sender dropped) and its queue is empty.
    tokio::spawn(async move {
        while let Some((seq, job)) = rx.recv().await {
            run_job(sns.clone(), seq, job).await;
            left.fetch_sub(1, Ordering::SeqCst);
        }
    });
    Lane { tx, pending, last_ms: now }
}

async fn run_job(sns: Arc<Sns>, seq: u64, job: Job) {
    deliver_job(sns.clone(), seq, job).await;
    sns.admission.finish(seq);
}

impl Sns {
    /// Runs deliveries until the process ends. Standard topics' jobs run
    /// concurrently; each FIFO topic has one lane, so its subscribers see
    /// publish order.
    pub async fn run_deliveries(self: Arc<Self>, mut backlog: Backlog) {
        queue::recover(&self);
        let mut lanes = Lanes::default();
        let mut tick = tokio::time::interval(HOUSEKEEPING);
        loop {
            // Jobs on disk are read only once everything handed over before is
            // dispatched, so they never overtake an older job of their lane.
            if backlog.rx.is_empty() && self.admission.wants_refill() {
                for (seq, job) in self.refill() {
                    self.dispatch(&mut lanes, seq, job);
                }
            }
            tokio::select! {
                work = backlog.rx.recv() => match work {
                    Some(Work::Job { seq, job }) => self.dispatch(&mut lanes, seq, job),
                    None => return,
                },
                _ = self.admission.refill.notified() => {}
                _ = tick.tick() => self.housekeeping(&mut lanes),
            }
        }
    }

    fn dispatch(self: &Arc<Self>, lanes: &mut Lanes, seq: u64, job: Job) {
        if job.notice.topic_arn.ends_with(".fifo") {
            lanes.send(self, seq, job);
        } else {
            tokio::spawn(run_job(self.clone(), seq, job));
        }
    }

    /// Loads jobs waiting on disk, oldest first, up to the in-memory bound.
    fn refill(&self) -> Vec<(u64, Job)> {
        let mut st = self.admission.lock();
        let mut out = Vec::new();
        let mut more = false;
        for kv in self.sh.jobs.scan_prefix(b"") {
            let (key, value) = match kv {
                Ok(kv) => kv,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read waiting SNS jobs; trying again later");
                    return out;
                }
            };
            let seq = records::seq_of(&key);
            if st.loaded.contains(&seq) {
                continue;
            }
            if st.loaded.len() >= MAX_LOADED_JOBS {
                more = true;
                break;
            }
            match serde_json::from_slice::<Job>(&value) {
                Ok(job) => {
                    st.loaded.insert(seq);
                    out.push((seq, job));
                }
                Err(e) => {
                    tracing::warn!(seq, error = %e, "corrupt SNS job record dropped");
                    forget(&self.sh, &self.sh.jobs, seq);
                }
            }
        }
        st.spilled = more;
        if !more && !out.is_empty() {
            tracing::info!(jobs = out.len(), "SNS jobs waiting on disk loaded: the delivery backlog is back in memory");
        }
        out
    }

    /// Bounded maps stay bounded: expired deduplication ids, idle FIFO lanes
    /// and idle endpoint gates are dropped.
    fn housekeeping(&self, lanes: &mut Lanes) {
        let expired = self.expire_dedup();
        let lanes_reaped = lanes.reap(self.now_ms());
        let gates_reaped = self.sh.gates.reap();
        if expired + lanes_reaped + gates_reaped > 0 {
            tracing::debug!(
                expired,
                lanes_reaped,
                gates_reaped,
                lanes = lanes.len(),
                gates = self.sh.gates.len(),
                "SNS housekeeping"
            );
        }
    }

    /// Forgets FIFO deduplication ids past their 5-minute window, in memory
    /// and in the store; returns how many.
    pub fn expire_dedup(&self) -> usize {
        let now = self.now_ms();
        let topics: Vec<_> = self.topics.read().values().filter(|t| t.fifo).cloned().collect();
        let mut batch = self.sh.store.batch();
        let mut n = 0;
        for topic in topics {
            for id in topic.state.lock().expire_dedup(now) {
                batch.delete(&self.sh.dedup, records::dedup_key(&topic.arn, &id));
                n += 1;
            }
        }
        if n > 0 {
            if let Err(e) = batch.commit().and_then(|t| self.sh.store.make_durable_soon(t)) {
                tracing::warn!(error = %e, "could not delete expired FIFO deduplication ids");
            }
        }
        n
    }
}
