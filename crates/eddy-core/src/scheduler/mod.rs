//! Amazon EventBridge Scheduler: schedule groups, schedules and their
//! firing on the Clock into SQS, SNS, Kinesis and EventBridge buses (other
//! targets are recorded in an outbox).
//!
//! Every change is durable before it is answered. A firing is written to
//! the store, with the schedule's new "last fired" time, before its target
//! is invoked: a restart attempts a stored firing again rather than losing
//! it, and never fires the same due time twice. Targets are invoked with the
//! schedule's role (no resource policy is consulted, as AWS does for
//! Scheduler's templated targets), retried per the RetryPolicy, and what
//! fails for good goes to the DeadLetterConfig queue.

mod error;
pub(crate) mod expression;
mod fire;
mod group;
mod records;
mod schedule;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use eddy_store::{Partition, Store};
use parking_lot::{Mutex, RwLock};

pub use error::{SchedulerError, SchedulerResult};
pub use fire::SchedulerStats;
pub use group::Group;
pub use records::{
    DeadLetterConfig, EventBridgeParameters, FlexibleTimeWindow, GroupRecord, KinesisParameters, OutboxEntry,
    RetryPolicy, ScheduleRecord, ScheduleTarget, SqsParameters, DEFAULT_MAX_EVENT_AGE_SECS, DEFAULT_MAX_RETRY_ATTEMPTS,
};
pub use schedule::{ListSchedules, ScheduleInput, ScheduleSummary};

use crate::clock::{Clock, Millis};
use crate::events::Events;
use crate::kinesis::Kinesis;
use crate::sns::Sns;
use crate::sqs::Sqs;

/// The group every account has in every region; it cannot be deleted.
pub const DEFAULT_GROUP: &str = "default";

/// The services targets live in.
pub struct Targets {
    pub sqs: Arc<Sqs>,
    pub sns: Arc<Sns>,
    pub kinesis: Arc<Kinesis>,
    pub events: Arc<Events>,
}

pub struct Scheduler {
    store: Store,
    groups_part: Partition,
    schedules_part: Partition,
    firings_part: Partition,
    outbox: crate::outbox::Outbox,
    clock: Arc<dyn Clock>,
    targets: Targets,
    tokens: crate::page::PageTokens,
    /// Created groups by [`records::group_key`] (the default group only once tagged).
    groups: RwLock<BTreeMap<Vec<u8>, GroupRecord>>,
    /// Schedules by [`records::schedule_key`], with their parsed expressions.
    schedules: RwLock<BTreeMap<Vec<u8>, Arc<schedule::Entry>>>,
    /// Serialises read-modify-write changes.
    write: Mutex<()>,
    firings: fire::Firings,
    /// Firing and outbox keys: start at the clock (in 2^20ths of a ms), so
    /// they keep increasing across restarts.
    seq: AtomicU64,
    /// When this node opened the store: the default group's creation date.
    opened_ms: Millis,
    pub stats: Arc<SchedulerStats>,
}

impl Scheduler {
    /// Opens Scheduler's state in `store`; firing starts when [`Scheduler::run`] runs.
    pub fn open(store: Store, clock: Arc<dyn Clock>, targets: Targets) -> SchedulerResult<Arc<Scheduler>> {
        let part = store.partition(records::PARTITION)?;
        let tokens = crate::page::PageTokens::open(&store)?;
        let now = clock.now_ms();
        let scheduler = Arc::new(Scheduler {
            groups_part: part.family(records::GROUPS),
            schedules_part: part.family(records::SCHEDULES),
            firings_part: part.family(records::FIRINGS),
            outbox: crate::outbox::Outbox::open(part.family(records::OUTBOX)),
            store,
            clock,
            targets,
            tokens,
            groups: RwLock::new(BTreeMap::new()),
            schedules: RwLock::new(BTreeMap::new()),
            write: Mutex::new(()),
            firings: fire::Firings::default(),
            seq: AtomicU64::new(now << 20),
            opened_ms: now,
            stats: Arc::new(SchedulerStats::default()),
        });
        scheduler.recover()?;
        Ok(scheduler)
    }

    fn recover(&self) -> SchedulerResult<()> {
        for kv in self.groups_part.scan_prefix(b"") {
            let (k, v) = kv?;
            self.groups.write().insert(k, decode(&v, "schedule group")?);
        }
        for kv in self.schedules_part.scan_prefix(b"") {
            let (k, v) = kv?;
            let record: ScheduleRecord = decode(&v, "schedule")?;
            match schedule::Entry::new(record) {
                Ok(entry) => {
                    self.schedules.write().insert(k, Arc::new(entry));
                }
                Err(e) => tracing::error!(error = %e, "Scheduler: a stored schedule no longer parses; skipped"),
            }
        }
        let mut pending = 0usize;
        for kv in self.firings_part.scan_prefix(b"") {
            let (k, v) = kv?;
            let Ok(seq) = <[u8; 8]>::try_from(k.as_slice()).map(u64::from_be_bytes) else { continue };
            self.firings.insert(seq, decode(&v, "firing")?);
            pending += 1;
        }
        if pending > 0 {
            tracing::info!(pending, "Scheduler: resuming invocations stored before the stop");
        }
        Ok(())
    }

    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Commits `batch` and waits until it is durable.
    async fn commit(&self, batch: eddy_store::WriteBatch) -> SchedulerResult<()> {
        let ticket = batch.commit()?;
        self.store.durable(ticket).await?;
        Ok(())
    }
}

pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:scheduler:{region}:{account}:schedule-group/{name}")
}

pub fn schedule_arn(region: &str, account: &str, group: &str, name: &str) -> String {
    format!("arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}")
}

/// A name as the model allows it (`Name`, `ScheduleGroupName`): 1 to 64 of `[0-9a-zA-Z-_.]`.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> SchedulerResult<T> {
    serde_json::from_slice(bytes).map_err(|e| SchedulerError::Internal(format!("undecodable {what} record: {e}")))
}
