//! Amazon EventBridge Pipes: a pipe reads batches from a source (an SQS
//! queue, a Kinesis stream), keeps the events its filters match, passes
//! them through an optional enrichment (an API destination), reshapes them
//! with the target's input template and delivers them to the target (SQS,
//! SNS, Kinesis, an event bus, an API destination; other services are
//! recorded in the outbox).
//!
//! Every change is durable before it is answered. A pipe's CurrentState
//! moves through AWS's transitional states (CREATING, STARTING, UPDATING,
//! STOPPING, DELETING) to where its DesiredState points; the loop in
//! [`run`] makes those moves and starts or stops the pipe's reader. SQS
//! messages are deleted once delivered (or filtered out), so a failed
//! batch reappears after the visibility timeout and the queue's own
//! redrive policy applies; a Kinesis shard's checkpoint is written after
//! each batch, so a restart resumes where it left off.

mod crud;
mod deliver;
mod error;
mod kinesis_source;
mod records;
mod run;
pub mod source;
mod sqs_source;
pub mod transform;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use eddy_store::{Partition, Store};
use parking_lot::{Mutex, RwLock};

pub use crud::{ListPipes, PipeInput};
pub use deliver::PipesStats;
pub use error::pipe_not_found;
pub use error::{
    constraint as constraint_error, null_member as null_member_error, validation as validation_error, PipesError,
    PipesResult,
};
pub use records::{Checkpoint, OutboxEntry, PipeRecord};

use crate::clock::{Clock, Millis};
use crate::events::Events;
use crate::kinesis::Kinesis;
use crate::sns::Sns;
use crate::sqs::Sqs;

/// The service principal a pipe's role must trust.
pub const PIPES_PRINCIPAL: &str = "pipes.amazonaws.com";

/// The services sources and targets live in.
pub struct Targets {
    pub sqs: Arc<Sqs>,
    pub sns: Arc<Sns>,
    pub kinesis: Arc<Kinesis>,
    pub events: Arc<Events>,
}

pub struct Pipes {
    store: Store,
    pipes_part: Partition,
    checkpoints_part: Partition,
    outbox: crate::outbox::Outbox,
    clock: Arc<dyn Clock>,
    targets: Targets,
    tokens: crate::page::PageTokens,
    /// Pipes by [`records::pipe_key`].
    pipes: RwLock<BTreeMap<Vec<u8>, Arc<PipeRecord>>>,
    /// Serialises read-modify-write changes.
    write: Mutex<()>,
    runners: run::Runners,
    /// Outbox keys: start at the clock (in 2^20ths of a ms), so they keep
    /// increasing across restarts.
    seq: AtomicU64,
    pub stats: Arc<PipesStats>,
}

impl Pipes {
    /// Opens Pipes' state in `store`; pipes run once [`Pipes::run`] does.
    pub fn open(store: Store, clock: Arc<dyn Clock>, targets: Targets) -> PipesResult<Arc<Pipes>> {
        let part = store.partition(records::PARTITION)?;
        let tokens = crate::page::PageTokens::open(&store)?;
        let now = clock.now_ms();
        let pipes = Arc::new(Pipes {
            pipes_part: part.family(records::PIPES),
            checkpoints_part: part.family(records::CHECKPOINTS),
            outbox: crate::outbox::Outbox::open(part.family(records::OUTBOX)),
            store,
            clock,
            targets,
            tokens,
            pipes: RwLock::new(BTreeMap::new()),
            write: Mutex::new(()),
            runners: run::Runners::default(),
            seq: AtomicU64::new(now << 20),
            stats: Arc::new(PipesStats::default()),
        });
        pipes.recover()?;
        Ok(pipes)
    }

    fn recover(&self) -> PipesResult<()> {
        for kv in self.pipes_part.scan_prefix(b"") {
            let (k, v) = kv?;
            let record: PipeRecord = decode(&v, "pipe")?;
            self.pipes.write().insert(k, Arc::new(record));
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
    async fn commit(&self, batch: eddy_store::WriteBatch) -> PipesResult<()> {
        let ticket = batch.commit()?;
        self.store.durable(ticket).await?;
        Ok(())
    }

    /// The pipe by key, as it is now.
    fn current(&self, key: &[u8]) -> Option<Arc<PipeRecord>> {
        self.pipes.read().get(key).cloned()
    }
}

pub fn pipe_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:pipes:{region}:{account}:pipe/{name}")
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> PipesResult<T> {
    serde_json::from_slice(bytes).map_err(|e| PipesError::Internal(format!("undecodable {what} record: {e}")))
}
