//! SubscribeToShard: enhanced fan-out. A subscription pushes each batch of
//! records as soon as it is durable (it waits on the shard's visible mark,
//! not on a poll timer), sends an empty event every few seconds while idle,
//! ends with ChildShards at the end of a closed shard, and lives at most
//! 5 minutes, as AWS's do.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::consumer::parse_consumer_arn;
use super::error::{KinesisError, KinesisResult};
use super::iterator::IteratorType;
use super::read::{child_shards, shard_log, ChildShard, ReadBatch};
use super::records::Record;
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::{shard_id, Kinesis, Stream};
use crate::sqs::Caller;

pub const LIFETIME: Duration = Duration::from_secs(300);
/// AWS sends an event at least this often, records or not.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Records per pushed event: bounded so one event stays a few MiB at most.
const EVENT_RECORDS: usize = 10_000;
const EVENT_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct ShardEvent {
    pub records: Vec<Record>,
    pub continuation: SeqNo,
    pub millis_behind: u64,
    /// Set on the last event of a closed shard.
    pub child_shards: Option<Vec<ChildShard>>,
}

pub struct Subscription {
    kinesis: Arc<Kinesis>,
    stream: Arc<Stream>,
    log: Arc<ShardLog>,
    from: SeqNo,
    /// What ContinuationSequenceNumber says when nothing was sent yet.
    continuation: SeqNo,
    visible: watch::Receiver<SeqNo>,
    ended: bool,
    first: bool,
}

impl Kinesis {
    /// Opens a subscription; the caller sends its events until `next`
    /// returns `None` or [`LIFETIME`] passes.
    pub fn subscribe_to_shard(
        self: &Arc<Self>,
        caller: &Caller,
        consumer_arn: &str,
        shard: &str,
        kind: IteratorType,
        starting_sequence: Option<&str>,
        timestamp_ms: Option<u64>,
    ) -> KinesisResult<Subscription> {
        let (stream_ref, consumer_name) = parse_consumer_arn(consumer_arn)?;
        let stream = self.stream(caller, &stream_ref)?;
        let registered = stream.meta.read().consumers.iter().any(|c| c.name == consumer_name);
        if !registered {
            return Err(KinesisError::ResourceNotFound(format!("Consumer {consumer_arn} not found.")));
        }
        let log = shard_log(&stream, shard)?;
        let now = self.now_ms();
        let from = self.start_position(&log, kind, starting_sequence, timestamp_ms, now)?;
        {
            let mut recent = self.subscribed.lock();
            let key = (consumer_arn.to_string(), log.index);
            if recent.get(&key).is_some_and(|at| now.saturating_sub(*at) < 5_000) {
                return Err(KinesisError::ResourceInUse(format!(
                    "Another active subscription exists for consumer {consumer_arn} and shard {}.",
                    shard_id(log.index)
                )));
            }
            recent.retain(|_, at| now.saturating_sub(*at) < 5_000);
            recent.insert(key, now);
        }
        let starting = SeqNo(
            stream
                .meta
                .read()
                .shards
                .iter()
                .find(|s| s.index == log.index)
                .map(|s| s.starting_seq_value())
                .unwrap_or(0),
        );
        let continuation = SeqNo(from.0.saturating_sub(1)).max(starting);
        let visible = log.visible.subscribe();
        Ok(Subscription { kinesis: self.clone(), stream, log, from, continuation, visible, ended: false, first: true })
    }
}

impl Subscription {
    /// The next event: records as soon as there are any, an empty event
    /// after [`HEARTBEAT`] of silence, `None` after the closing event.
    pub async fn next(&mut self) -> KinesisResult<Option<ShardEvent>> {
        if self.ended {
            return Ok(None);
        }
        let deadline = tokio::time::Instant::now() + HEARTBEAT;
        loop {
            self.visible.borrow_and_update();
            let batch = self.read().await?;
            self.from = batch.next_from;
            if let Some(last) = batch.records.last() {
                self.continuation = last.seq;
            }
            let child_shards = batch.at_end.then(|| child_shards(&self.stream.meta.read(), self.log.index));
            self.ended = batch.at_end;
            // The first event goes out at once, so clients see the stream open.
            if !batch.records.is_empty() || batch.at_end || self.first || tokio::time::Instant::now() >= deadline {
                self.first = false;
                return Ok(Some(ShardEvent {
                    records: batch.records,
                    continuation: self.continuation,
                    millis_behind: batch.millis_behind,
                    child_shards,
                }));
            }
            tokio::select! {
                changed = self.visible.changed() => {
                    if changed.is_err() {
                        // The shard's log was dropped: the stream is gone.
                        self.ended = true;
                        return Ok(None);
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Reads the records after `from` on a blocking thread, as GetRecords
    /// does: up to 10,000 records and 4 MiB from the store would hold up an
    /// async worker, and every request queued on it, for milliseconds. If
    /// `next` is dropped meanwhile the read finishes unused; `from` moves
    /// only once a read's result is taken.
    async fn read(&self) -> KinesisResult<ReadBatch> {
        let (kinesis, stream, log, from) = (self.kinesis.clone(), self.stream.clone(), self.log.clone(), self.from);
        tokio::task::spawn_blocking(move || kinesis.read_batch(&stream, &log, from, EVENT_RECORDS, EVENT_BYTES))
            .await
            .map_err(|e| KinesisError::Internal(format!("reading shard {}: {e}", shard_id(self.log.index))))?
    }
}
