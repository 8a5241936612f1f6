//! Resharding: SplitShard, MergeShards and UpdateShardCount. A parent is
//! closed (its EndingSequenceNumber set, writes refused) and stays readable
//! until retention ends; its children start numbering after its end, so a
//! reader that finishes the parent and moves to the children never goes
//! back in sequence. UpdateShardCount is carried out as AWS does it: as
//! splits and merges, so every new shard has a true lineage.

use eddy_store::Partition;

use super::error::{KinesisError, KinesisResult};
use super::hashkey;
use super::manage::{new_log, new_shard, SHARD_LIMIT};
use super::records::StreamMeta;
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::{parse_shard_id, shard_id, Kinesis, Stream, StreamRef};
use crate::sqs::Caller;

impl Kinesis {
    pub async fn split_shard(
        &self,
        caller: &Caller,
        which: &StreamRef,
        shard: &str,
        new_start: &str,
    ) -> KinesisResult<()> {
        let at = hashkey::parse(new_start, "NewStartingHashKey")?;
        self.reshard(caller, which, |stream, meta, now| {
            provisioned_only(meta, "SplitShard")?;
            let index = open_shard(meta, shard)?;
            let (start, end) = meta.shards.iter().find(|s| s.index == index).map(|s| s.hash_range()).expect("found");
            if at <= start.saturating_add(1) || at >= end {
                return Err(KinesisError::InvalidArgument(format!(
                    "NewStartingHashKey {new_start} used in SplitShard() on shard {shard} in stream {} under account \
                     {} is not both greater than one plus the shard's StartingHashKey {start} and less than the \
                     shard's EndingHashKey {end}.",
                    meta.name, meta.account
                )));
            }
            split(stream, meta, index, at, now)
        })
        .await
    }

    pub async fn merge_shards(
        &self,
        caller: &Caller,
        which: &StreamRef,
        shard: &str,
        adjacent: &str,
    ) -> KinesisResult<()> {
        self.reshard(caller, which, |stream, meta, now| {
            provisioned_only(meta, "MergeShards")?;
            let a = open_shard(meta, shard)?;
            let b = open_shard(meta, adjacent)?;
            let range = |i: u32| meta.shards.iter().find(|s| s.index == i).map(|s| s.hash_range()).expect("found");
            let ((a_start, a_end), (b_start, b_end)) = (range(a), range(b));
            if a_end.checked_add(1) != Some(b_start) && b_end.checked_add(1) != Some(a_start) {
                return Err(KinesisError::InvalidArgument(format!(
                    "Shards {shard} and {adjacent} in stream {} under account {} are not an adjacent pair of shards \
                     eligible for merging",
                    meta.name, meta.account
                )));
            }
            merge(stream, meta, a, b, now)
        })
        .await
    }

    /// UNIFORM_SCALING to `target` open shards; the open count before.
    pub async fn update_shard_count(&self, caller: &Caller, which: &StreamRef, target: u32) -> KinesisResult<u32> {
        let mut current = 0;
        self.reshard(caller, which, |stream, meta, now| {
            current = meta.shards.iter().filter(|s| s.is_open()).count() as u32;
            provisioned_only(meta, "UpdateShardCount")?;
            if target > current * 2 || target < current.div_ceil(2) {
                return Err(KinesisError::InvalidArgument(format!(
                    "UpdateShardCount to {target} shards is not allowed for stream {} under account {}: the target \
                     must be at least half and at most double the current {current} open shards.",
                    meta.name, meta.account
                )));
            }
            if target as usize > SHARD_LIMIT {
                return Err(KinesisError::LimitExceeded(format!(
                    "UpdateShardCount to {target} shards would exceed the shard limit of {SHARD_LIMIT}."
                )));
            }
            scale(stream, meta, target, now)
        })
        .await?;
        Ok(current)
    }

    /// Runs one resharding change under the stream's change lock and saves it.
    async fn reshard(
        &self,
        caller: &Caller,
        which: &StreamRef,
        change: impl FnOnce(&Stream, &mut StreamMeta, u64) -> KinesisResult<()>,
    ) -> KinesisResult<()> {
        let stream = self.stream(caller, which)?;
        let _changing = stream.changing.lock().await;
        let now = self.now_ms();
        let meta = {
            let mut m = stream.meta.write();
            change(&stream, &mut m, now)?;
            m.clone()
        };
        stream.refresh_open();
        self.save(&meta).await?;
        tracing::info!(stream = %meta.name, open = meta.shards.iter().filter(|s| s.is_open()).count(), "kinesis: resharded");
        Ok(())
    }
}

/// "This API is only supported for the data streams with the provisioned capacity mode."
fn provisioned_only(meta: &StreamMeta, operation: &str) -> KinesisResult<()> {
    if meta.on_demand {
        return Err(KinesisError::Validation(format!(
            "{operation} is only supported for data streams with the PROVISIONED capacity mode; stream {} under \
             account {} is ON_DEMAND.",
            meta.name, meta.account
        )));
    }
    Ok(())
}

/// The index of an open shard by id, or the error AWS gives.
fn open_shard(meta: &StreamMeta, shard: &str) -> KinesisResult<u32> {
    let found = parse_shard_id(shard).and_then(|i| meta.shards.iter().find(|s| s.index == i));
    match found {
        None => Err(KinesisError::ResourceNotFound(format!(
            "Could not find shard {shard} in stream {} under account {}.",
            meta.name, meta.account
        ))),
        Some(s) if !s.is_open() => Err(KinesisError::InvalidArgument(format!(
            "Shard {shard} in stream {} under account {} has already been merged or split, and thus is not eligible \
             for merging or splitting.",
            meta.name, meta.account
        ))),
        Some(s) => Ok(s.index),
    }
}

/// Closes a shard: no more writes, and its ending number is fixed. Returns
/// the millisecond its children start numbering at.
fn close(stream: &Stream, meta: &mut StreamMeta, index: u32, now: u64) -> u64 {
    let log = stream.log(index).expect("every shard has a log");
    let ending = {
        let mut w = log.write.lock();
        let ending = SeqNo::end_of_ms(now.max(w.clock.last.ms()), index);
        w.closed = true;
        w.clock.last = ending;
        ending
    };
    if let Some(s) = meta.shards.iter_mut().find(|s| s.index == index) {
        s.ending_seq = Some(ending.0.to_string());
    }
    ending.ms() + 1
}

/// Adds a new open shard on a log partition opened beforehand; its index.
fn add_child(
    stream: &Stream,
    meta: &mut StreamMeta,
    partition: Partition,
    range: (u128, u128),
    start_ms: u64,
    parents: (Option<u32>, Option<u32>),
) -> u32 {
    let index = meta.next_shard;
    meta.next_shard += 1;
    let shard = new_shard(index, range, start_ms, parents.0, parents.1);
    stream.logs.write().insert(index, new_log(partition, &shard));
    meta.shards.push(shard);
    index
}

/// Opens the partitions of the next `n` shards first: if the store fails,
/// nothing has been closed yet.
fn child_partitions(stream: &Stream, meta: &StreamMeta, n: u32) -> KinesisResult<Vec<Partition>> {
    (0..n).map(|i| ShardLog::open_partition(&stream.store, meta.uid, meta.next_shard + i)).collect()
}

fn split(stream: &Stream, meta: &mut StreamMeta, index: u32, at: u128, now: u64) -> KinesisResult<()> {
    let (start, end) = meta.shards.iter().find(|s| s.index == index).map(|s| s.hash_range()).expect("exists");
    let mut logs = child_partitions(stream, meta, 2)?.into_iter();
    let start_ms = close(stream, meta, index, now);
    add_child(stream, meta, logs.next().expect("two"), (start, at - 1), start_ms, (Some(index), None));
    add_child(stream, meta, logs.next().expect("two"), (at, end), start_ms, (Some(index), None));
    tracing::debug!(shard = %shard_id(index), "kinesis: shard split");
    Ok(())
}

fn merge(stream: &Stream, meta: &mut StreamMeta, a: u32, b: u32, now: u64) -> KinesisResult<()> {
    let range =
        |m: &StreamMeta, i: u32| m.shards.iter().find(|s| s.index == i).map(|s| s.hash_range()).expect("exists");
    let ((a_start, a_end), (b_start, b_end)) = (range(meta, a), range(meta, b));
    let log = child_partitions(stream, meta, 1)?.pop().expect("one");
    let start_ms = close(stream, meta, a, now).max(close(stream, meta, b, now));
    add_child(stream, meta, log, (a_start.min(b_start), a_end.max(b_end)), start_ms, (Some(a), Some(b)));
    Ok(())
}

/// Splits open shards at every boundary of the even `target` division,
/// then merges the pieces inside each target range.
fn scale(stream: &Stream, meta: &mut StreamMeta, target: u32, now: u64) -> KinesisResult<()> {
    let ranges = hashkey::even_ranges(target);
    for &(boundary, _) in ranges.iter().skip(1) {
        let inside = meta.shards.iter().find(|s| {
            let (start, end) = s.hash_range();
            s.is_open() && start < boundary && boundary <= end
        });
        if let Some(index) = inside.map(|s| s.index) {
            split(stream, meta, index, boundary, now)?;
        }
    }
    for &(start, end) in &ranges {
        loop {
            let mut pieces: Vec<(u128, u32)> = meta
                .shards
                .iter()
                .filter(|s| s.is_open() && s.hash_range().0 >= start && s.hash_range().1 <= end)
                .map(|s| (s.hash_range().0, s.index))
                .collect();
            if pieces.len() < 2 {
                break;
            }
            pieces.sort();
            merge(stream, meta, pieces[0].1, pieces[1].1, now)?;
        }
    }
    Ok(())
}
