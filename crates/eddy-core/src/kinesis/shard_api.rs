//! The per-shard log as a public API: records in, records out, positions,
//! and a wait for new data, over the same logs Kinesis serves. The Kafka
//! protocol is to sit on it (a topic partition being a shard), so it names
//! a shard directly instead of routing by partition key, and knows nothing
//! of iterators, pagination or Kinesis's wire shapes.

use std::sync::Arc;

use super::error::{KinesisError, KinesisResult};
use super::put::{check_entries, PutEntry, PutOutcome, WriteSettings};
use super::read::ReadBatch;
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::{shard_id, Kinesis, Stream, StreamRef};
use crate::sqs::Caller;

/// One shard of one stream, held open: cheap to keep and to clone.
#[derive(Clone)]
pub struct ShardHandle {
    kinesis: Arc<Kinesis>,
    stream: Arc<Stream>,
    log: Arc<ShardLog>,
}

impl Kinesis {
    /// The shard `index` of a stream, or ResourceNotFoundException.
    pub fn shard_handle(
        self: &Arc<Self>,
        caller: &Caller,
        stream: &StreamRef,
        index: u32,
    ) -> KinesisResult<ShardHandle> {
        let stream = self.stream(caller, stream)?;
        let log = stream.log(index).ok_or_else(|| {
            let m = stream.meta.read();
            super::error::shard_not_found(&shard_id(index), &m.name, &m.account)
        })?;
        Ok(ShardHandle { kinesis: self.clone(), stream, log })
    }
}

impl ShardHandle {
    pub fn index(&self) -> u32 {
        self.log.index
    }

    /// Appends `entries` to this shard, in order, as one durable batch, and
    /// answers each one's sequence number once all are on disk and readable.
    /// The stream's record size and encryption apply; the hash key is not
    /// consulted (the caller chose the shard), and Kinesis's per-shard
    /// throughput limits do not apply (they belong to the Kinesis API).
    pub async fn append(&self, entries: &[PutEntry]) -> KinesisResult<Vec<SeqNo>> {
        check_entries(entries, "")?;
        let w = WriteSettings::of(&self.stream, false);
        w.check_sizes(entries)?;
        let routed = vec![self.log.clone(); entries.len()];
        let outcomes = self
            .kinesis
            .append(&routed, entries, false, w.encrypted, &w.name, &w.account)
            .await?
            .ok_or_else(|| self.closed())?;
        outcomes
            .into_iter()
            .map(|o| match o {
                PutOutcome::Stored { seq, .. } => Ok(seq),
                PutOutcome::Failed { message, .. } => Err(KinesisError::Internal(message)),
            })
            .collect()
    }

    /// Up to `limit` records (and about `max_bytes`, at least one record)
    /// from position `from` on, past what retention has expired; the
    /// answer's `next_from` is where the following read starts.
    pub fn read(&self, from: SeqNo, limit: usize, max_bytes: usize) -> KinesisResult<ReadBatch> {
        self.kinesis.read_batch(&self.stream, &self.log, from, limit.max(1), max_bytes)
    }

    /// The newest readable record's sequence number; `SeqNo(0)` while the
    /// shard has none.
    pub fn latest(&self) -> SeqNo {
        self.log.visible()
    }

    /// Whether resharding closed the shard: it takes no more records.
    pub fn is_closed(&self) -> bool {
        self.log.write.lock().closed
    }

    /// Resolves once a record past `seq` is readable. Never resolves on a
    /// closed shard read to its end: callers bound it with their own
    /// timeout (a Kafka fetch's max wait, a long poll's).
    pub async fn wait_past(&self, seq: SeqNo) {
        let mut visible = self.log.visible.subscribe();
        // The sender lives as long as `self.log`, which this handle holds.
        let _ = visible.wait_for(|v| *v > seq).await;
    }

    fn closed(&self) -> KinesisError {
        let m = self.stream.meta.read();
        KinesisError::InvalidArgument(format!(
            "Shard {} in stream {} under account {} is closed and takes no more records.",
            shard_id(self.log.index),
            m.name,
            m.account
        ))
    }
}
