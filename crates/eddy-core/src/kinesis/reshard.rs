//! Resharding: SplitShard, MergeShards and UpdateShardCount. A parent is
//! closed (its EndingSequenceNumber set, writes refused) and stays readable
//! until retention ends; its children start numbering after its end, so a
//! reader that finishes the parent and moves to the children never goes
//! back in sequence. UpdateShardCount is carried out as AWS does it: as
//! splits and merges, so every new shard has a true lineage.
//!
//! Like every metadata change, a reshard is built on a copy of the stream's
//! metadata ([`Draft`]) and swapped in only once that copy is saved: until
//! then readers and writers see the old shards and no child accepts a
//! record, so an acknowledged record is never in a shard whose metadata a
//! crash could lose. The parents are closed (writes refused, their ending
//! number fixed) before the save, as the saved metadata records that
//! ending; if the save fails they are opened again.

use std::collections::HashMap;
use std::sync::Arc;

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
        let (shard, new_start) = (shard.to_string(), new_start.to_string());
        self.reshard(caller, which, move |draft, now| {
            let meta = &draft.meta;
            provisioned_only(meta, "SplitShard")?;
            let index = open_shard(meta, &shard)?;
            let (start, end) = meta.shards.iter().find(|s| s.index == index).map(|s| s.hash_range()).expect("found");
            if at <= start.saturating_add(1) || at >= end {
                return Err(KinesisError::InvalidArgument(format!(
                    "NewStartingHashKey {new_start} used in SplitShard() on shard {shard} in stream {} under account \
                     {} is not both greater than one plus the shard's StartingHashKey {start} and less than the \
                     shard's EndingHashKey {end}.",
                    meta.name, meta.account
                )));
            }
            split(draft, index, at, now)
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
        let (shard, adjacent) = (shard.to_string(), adjacent.to_string());
        self.reshard(caller, which, move |draft, now| {
            let meta = &draft.meta;
            provisioned_only(meta, "MergeShards")?;
            let a = open_shard(meta, &shard)?;
            let b = open_shard(meta, &adjacent)?;
            let range = |i: u32| meta.shards.iter().find(|s| s.index == i).map(|s| s.hash_range()).expect("found");
            let ((a_start, a_end), (b_start, b_end)) = (range(a), range(b));
            if a_end.checked_add(1) != Some(b_start) && b_end.checked_add(1) != Some(a_start) {
                return Err(KinesisError::InvalidArgument(format!(
                    "Shards {shard} and {adjacent} in stream {} under account {} are not an adjacent pair of shards \
                     eligible for merging",
                    meta.name, meta.account
                )));
            }
            merge(draft, a, b, now)
        })
        .await
    }

    /// UNIFORM_SCALING to `target` open shards; the open count before.
    pub async fn update_shard_count(&self, caller: &Caller, which: &StreamRef, target: u32) -> KinesisResult<u32> {
        self.reshard(caller, which, move |draft, now| {
            let meta = &draft.meta;
            let current = meta.shards.iter().filter(|s| s.is_open()).count() as u32;
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
            scale(draft, target, now).map(|()| current)
        })
        .await
    }

    /// Runs one resharding change under the stream's change lock: on a
    /// draft, saved, then swapped in (see the module comment). The change
    /// runs on a blocking thread: opening its children's logs creates files
    /// and fsyncs directories.
    async fn reshard<T: Send + 'static>(
        &self,
        caller: &Caller,
        which: &StreamRef,
        change: impl FnOnce(&mut Draft, u64) -> KinesisResult<T> + Send + 'static,
    ) -> KinesisResult<T> {
        let stream = self.stream(caller, which)?;
        let _changing = stream.changing.lock().await;
        let now = self.now_ms();
        let meta = stream.meta.read().clone();
        let mut draft = Draft { stream: stream.clone(), meta, logs: HashMap::new(), closed: Vec::new() };
        let (draft, changed) = super::off_workers(move || {
            let changed = change(&mut draft, now);
            Ok((draft, changed))
        })
        .await?;
        let saved = match changed {
            Ok(out) => self.save(&draft.meta).await.map(|()| out),
            Err(e) => Err(e),
        };
        // A failed change or save drops the draft, which opens the parents again.
        let out = saved?;
        let (meta, logs) = draft.keep();
        *stream.meta.write() = meta.clone();
        stream.logs.write().extend(logs);
        stream.refresh_open();
        tracing::info!(stream = %meta.name, open = meta.shards.iter().filter(|s| s.is_open()).count(), "kinesis: resharded");
        Ok(out)
    }
}

/// A reshard in the making: the new metadata and the children's logs, not
/// yet visible to anyone.
struct Draft {
    stream: Arc<Stream>,
    meta: StreamMeta,
    logs: HashMap<u32, Arc<ShardLog>>,
    /// Parents closed so far, with the clock each had before.
    closed: Vec<(Arc<ShardLog>, SeqNo)>,
}

impl Draft {
    /// A shard's log: a child made in this draft or an existing one.
    fn log(&self, index: u32) -> Arc<ShardLog> {
        self.logs.get(&index).cloned().or_else(|| self.stream.log(index)).expect("every shard has a log")
    }

    /// The saved draft's metadata and new logs, to swap in: its parents
    /// stay closed.
    fn keep(mut self) -> (StreamMeta, HashMap<u32, Arc<ShardLog>>) {
        self.closed.clear();
        (self.meta.clone(), std::mem::take(&mut self.logs))
    }
}

/// A draft dropped unsaved (its change or save failed, or the request was
/// abandoned meanwhile) undoes its closes.
impl Drop for Draft {
    fn drop(&mut self) {
        for (log, last) in &self.closed {
            let mut w = log.write.lock();
            w.closed = false;
            w.clock.last = *last;
        }
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
fn close(d: &mut Draft, index: u32, now: u64) -> u64 {
    let log = d.log(index);
    let ending = {
        let mut w = log.write.lock();
        let ending = SeqNo::end_of_ms(now.max(w.clock.last.ms()), index);
        d.closed.push((log.clone(), w.clock.last));
        w.closed = true;
        w.clock.last = ending;
        ending
    };
    if let Some(s) = d.meta.shards.iter_mut().find(|s| s.index == index) {
        s.ending_seq = Some(ending.0.to_string());
    }
    ending.ms() + 1
}

/// Adds a new open shard on a log partition opened beforehand; its index.
fn add_child(
    d: &mut Draft,
    partition: Partition,
    range: (u128, u128),
    start_ms: u64,
    parents: (Option<u32>, Option<u32>),
) -> u32 {
    let index = d.meta.next_shard;
    d.meta.next_shard += 1;
    let shard = new_shard(index, range, start_ms, parents.0, parents.1);
    d.logs.insert(index, new_log(partition, &shard));
    d.meta.shards.push(shard);
    index
}

/// Opens the partitions of the next `n` shards first: if the store fails,
/// nothing has been closed yet.
fn child_partitions(d: &Draft, n: u32) -> KinesisResult<Vec<Partition>> {
    (0..n).map(|i| ShardLog::open_partition(&d.stream.store, d.meta.uid, d.meta.next_shard + i)).collect()
}

fn hash_range(meta: &StreamMeta, index: u32) -> (u128, u128) {
    meta.shards.iter().find(|s| s.index == index).map(|s| s.hash_range()).expect("exists")
}

fn split(d: &mut Draft, index: u32, at: u128, now: u64) -> KinesisResult<()> {
    let (start, end) = hash_range(&d.meta, index);
    let mut logs = child_partitions(d, 2)?.into_iter();
    let start_ms = close(d, index, now);
    add_child(d, logs.next().expect("two"), (start, at - 1), start_ms, (Some(index), None));
    add_child(d, logs.next().expect("two"), (at, end), start_ms, (Some(index), None));
    tracing::debug!(shard = %shard_id(index), "kinesis: shard split");
    Ok(())
}

fn merge(d: &mut Draft, a: u32, b: u32, now: u64) -> KinesisResult<()> {
    let ((a_start, a_end), (b_start, b_end)) = (hash_range(&d.meta, a), hash_range(&d.meta, b));
    let log = child_partitions(d, 1)?.pop().expect("one");
    let start_ms = close(d, a, now).max(close(d, b, now));
    add_child(d, log, (a_start.min(b_start), a_end.max(b_end)), start_ms, (Some(a), Some(b)));
    Ok(())
}

/// Splits open shards at every boundary of the even `target` division,
/// then merges the pieces inside each target range.
fn scale(d: &mut Draft, target: u32, now: u64) -> KinesisResult<()> {
    let ranges = hashkey::even_ranges(target);
    for &(boundary, _) in ranges.iter().skip(1) {
        let inside = d.meta.shards.iter().find(|s| {
            let (start, end) = s.hash_range();
            s.is_open() && start < boundary && boundary <= end
        });
        if let Some(index) = inside.map(|s| s.index) {
            split(d, index, boundary, now)?;
        }
    }
    for &(start, end) in &ranges {
        loop {
            let mut pieces: Vec<(u128, u32)> = d
                .meta
                .shards
                .iter()
                .filter(|s| s.is_open() && s.hash_range().0 >= start && s.hash_range().1 <= end)
                .map(|s| (s.hash_range().0, s.index))
                .collect();
            if pieces.len() < 2 {
                break;
            }
            pieces.sort();
            merge(d, pieces[0].1, pieces[1].1, now)?;
        }
    }
    Ok(())
}
