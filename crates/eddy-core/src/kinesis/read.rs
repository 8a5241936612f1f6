//! GetShardIterator and GetRecords, over one shard-reading routine that
//! SubscribeToShard shares.

use super::error::{self, KinesisError, KinesisResult};
use super::iterator::{IteratorType, Position};
use super::records::{self, Record, StreamMeta};
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::{parse_shard_id, shard_id, Kinesis, Stream, StreamRef};
use crate::sqs::Caller;

/// The most data one GetRecords call returns.
pub const MAX_READ_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShard {
    pub shard_id: String,
    pub parents: Vec<String>,
    pub hash_range: (u128, u128),
}

#[derive(Debug)]
pub struct GetRecordsOutput {
    pub records: Vec<Record>,
    /// `None` once a closed shard has been read to its end.
    pub next_iterator: Option<String>,
    pub millis_behind: u64,
    /// Set at the end of a closed shard: where to read next.
    pub child_shards: Option<Vec<ChildShard>>,
}

/// What one read of a shard found.
#[derive(Debug)]
pub struct ReadBatch {
    pub records: Vec<Record>,
    /// Where the next read starts.
    pub next_from: SeqNo,
    /// A closed shard with nothing left after `next_from`.
    pub at_end: bool,
    pub millis_behind: u64,
}

impl Kinesis {
    #[allow(clippy::too_many_arguments)]
    pub fn get_shard_iterator(
        &self,
        caller: &Caller,
        stream_ref: &StreamRef,
        shard: &str,
        kind: IteratorType,
        starting_sequence: Option<&str>,
        timestamp_ms: Option<u64>,
    ) -> KinesisResult<String> {
        let stream = self.stream(caller, stream_ref)?;
        let log = shard_log(&stream, shard)?;
        let now = self.now_ms();
        let from = self.start_position(&log, kind, starting_sequence, timestamp_ms, now)?;
        Ok(Position { uid: stream.uid, shard: log.index, from, issued_ms: now }.encode())
    }

    /// The sequence number of the shard's last record, if it has one: where
    /// a LATEST reader that must survive a restart records its start
    /// (Pipes), since an iterator expires and LATEST moves.
    pub fn last_sequence_number(
        &self,
        caller: &Caller,
        stream_ref: &StreamRef,
        shard: &str,
    ) -> KinesisResult<Option<String>> {
        let stream = self.stream(caller, stream_ref)?;
        let log = shard_log(&stream, shard)?;
        let last = log.write.lock().last_written.max(log.visible());
        Ok((last.0 > 0 && last.shard() == log.index).then(|| last.to_string()))
    }

    /// Where a read of the given type starts (SubscribeToShard's
    /// StartingPosition takes the same types).
    pub(crate) fn start_position(
        &self,
        log: &ShardLog,
        kind: IteratorType,
        starting_sequence: Option<&str>,
        timestamp_ms: Option<u64>,
        now: u64,
    ) -> KinesisResult<SeqNo> {
        let needs_seq = matches!(kind, IteratorType::AtSequenceNumber | IteratorType::AfterSequenceNumber);
        match (needs_seq, starting_sequence) {
            (true, None) => {
                return Err(KinesisError::InvalidArgument(format!(
                    "Must specify StartingSequenceNumber for shard iterator type {}.",
                    type_name(kind)
                )))
            }
            (false, Some(_)) => {
                return Err(KinesisError::InvalidArgument(format!(
                    "Request specified {} and also a StartingSequenceNumber. StartingSequenceNumber is only valid \
                     for AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER.",
                    type_name(kind)
                )))
            }
            _ => {}
        }
        Ok(match kind {
            IteratorType::TrimHorizon => SeqNo(0),
            IteratorType::Latest => {
                let written = log.write.lock().last_written;
                written.max(log.visible()).next()
            }
            IteratorType::AtSequenceNumber | IteratorType::AfterSequenceNumber => {
                let seq = SeqNo::parse(starting_sequence.unwrap_or_default(), "StartingSequenceNumber")?;
                if seq.shard() != log.index && seq.0 > 0 {
                    return Err(KinesisError::InvalidArgument(format!(
                        "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
                        shard_id(seq.shard()),
                        shard_id(log.index)
                    )));
                }
                if kind == IteratorType::AtSequenceNumber {
                    seq
                } else {
                    seq.next()
                }
            }
            IteratorType::AtTimestamp => {
                let Some(ts) = timestamp_ms else {
                    return Err(KinesisError::InvalidArgument(
                        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current \
                         request has no timestamp parameter."
                            .into(),
                    ));
                };
                if ts > now {
                    return Err(KinesisError::InvalidArgument(format!(
                        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. \
                         timestampInMillis: {ts}, currentTimestampInMillis: {now}"
                    )));
                }
                SeqNo::at_ms(ts)
            }
        })
    }

    pub fn get_records(
        &self,
        stream_ref: &StreamRef,
        caller: &Caller,
        iterator: &str,
        limit: Option<usize>,
    ) -> KinesisResult<GetRecordsOutput> {
        let position = Position::decode(iterator)?;
        let now = self.now_ms();
        position.check_fresh(now)?;
        let stream = self.by_uid.read().get(&position.uid).cloned();
        let Some(stream) = stream else {
            return Err(KinesisError::ResourceNotFound(format!(
                "Shard {} in stream (deleted) under account {} does not exist",
                shard_id(position.shard),
                caller.account
            )));
        };
        if stream_ref.arn.is_some() || stream_ref.name.is_some() {
            let named = self.stream(caller, stream_ref)?;
            if named.uid != stream.uid {
                return Err(KinesisError::InvalidArgument(
                    "The ShardIterator does not belong to the stream named.".into(),
                ));
            }
        }
        let Some(log) = stream.log(position.shard) else {
            let m = stream.meta.read();
            return Err(error::shard_not_found(&shard_id(position.shard), &m.name, &m.account));
        };
        if self.config.enforce_limits && !stream.meta.read().on_demand && !log.throttle.lock().admit_read(now) {
            let m = stream.meta.read();
            return Err(KinesisError::ProvisionedThroughputExceeded(format!(
                "Rate exceeded for Shard - {}/{}/{}",
                m.account,
                m.name,
                shard_id(log.index)
            )));
        }
        let batch = self.read_batch(&stream, &log, position.from, limit.unwrap_or(10_000), MAX_READ_BYTES)?;
        if self.config.enforce_limits {
            let bytes: usize = batch.records.iter().map(|r| r.data.len() + r.partition_key.len()).sum();
            log.throttle.lock().record_read_bytes(bytes as u64);
        }
        let (next_iterator, child_shards) = if batch.at_end {
            (None, Some(child_shards(&stream.meta.read(), log.index)))
        } else {
            (Some(Position { from: batch.next_from, issued_ms: now, ..position }.encode()), None)
        };
        Ok(GetRecordsOutput { records: batch.records, next_iterator, millis_behind: batch.millis_behind, child_shards })
    }

    /// Reads up to `limit` records (and about `max_bytes`, at least one
    /// record) from `from` on, skipping what retention has expired and
    /// stopping at the visible mark.
    pub(crate) fn read_batch(
        &self,
        stream: &Stream,
        log: &ShardLog,
        from: SeqNo,
        limit: usize,
        max_bytes: usize,
    ) -> KinesisResult<ReadBatch> {
        let now = self.now_ms();
        let retention_ms = u64::from(stream.meta.read().retention_hours) * 3_600_000;
        let start = from.max(SeqNo::at_ms(now.saturating_sub(retention_ms)));
        let visible = log.visible();
        let mut records = Vec::new();
        if start <= visible {
            let (low, _) = log.key_bounds();
            let start_key = records::chunk_key(start);
            let end_key = records::chunk_key(visible.next());
            // The chunk that covers `start` begins at or before it.
            let first_key = log.partition.last_in(&low, &start_key)?.map(|(k, _)| k).unwrap_or(start_key.to_vec());
            let mut bytes = 0usize;
            'chunks: for kv in log.partition.scan_range(&first_key, &end_key) {
                let (_, chunk) = kv?;
                let mut full = false;
                records::decode_chunk(&chunk, |r| {
                    if r.seq < start || r.seq > visible {
                        return r.seq <= visible;
                    }
                    bytes += r.data.len() + r.partition_key.len();
                    if !records.is_empty() && bytes > max_bytes {
                        full = true;
                        return false;
                    }
                    records.push(r);
                    full = records.len() >= limit;
                    !full
                })
                .ok_or_else(|| KinesisError::Internal(format!("corrupt chunk in {}", shard_id(log.index))))?;
                if full {
                    break 'chunks;
                }
            }
        }
        let next_from = records.last().map(|r| r.seq.next()).unwrap_or(start);
        let (closed, last_written) = {
            let w = log.write.lock();
            (w.closed, w.last_written)
        };
        let caught_up = next_from > visible;
        let millis_behind = if caught_up { 0 } else { now.saturating_sub(next_from.ms().min(now)) };
        Ok(ReadBatch {
            records,
            next_from,
            at_end: closed && (next_from > last_written || last_written == SeqNo(0)),
            millis_behind,
        })
    }
}

/// The log of `shard` (by id) in `stream`, or ResourceNotFoundException.
pub(crate) fn shard_log(stream: &Stream, shard: &str) -> KinesisResult<std::sync::Arc<ShardLog>> {
    let not_found = || {
        let m = stream.meta.read();
        error::shard_not_found(shard, &m.name, &m.account)
    };
    let index = parse_shard_id(shard).ok_or_else(not_found)?;
    stream.log(index).ok_or_else(not_found)
}

/// The shards created from `index` by a split or a merge.
pub(crate) fn child_shards(meta: &StreamMeta, index: u32) -> Vec<ChildShard> {
    meta.shards
        .iter()
        .filter(|s| s.parent == Some(index) || s.adjacent_parent == Some(index))
        .map(|s| ChildShard {
            shard_id: shard_id(s.index),
            parents: s.parent.iter().chain(s.adjacent_parent.iter()).map(|p| shard_id(*p)).collect(),
            hash_range: s.hash_range(),
        })
        .collect()
}

fn type_name(kind: IteratorType) -> &'static str {
    match kind {
        IteratorType::AtSequenceNumber => "AT_SEQUENCE_NUMBER",
        IteratorType::AfterSequenceNumber => "AFTER_SEQUENCE_NUMBER",
        IteratorType::TrimHorizon => "TRIM_HORIZON",
        IteratorType::Latest => "LATEST",
        IteratorType::AtTimestamp => "AT_TIMESTAMP",
    }
}
