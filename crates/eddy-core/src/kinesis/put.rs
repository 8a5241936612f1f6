//! PutRecord and PutRecords: route, number, append, make durable, publish.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::{KinesisError, KinesisResult};
use super::hashkey;
use super::records;
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::validate::Checks;
use super::{shard_id, Kinesis, Stream, StreamRef};
use crate::sqs::Caller;

/// The model's ceiling for one record's data; streams allow less
/// (MaxRecordSizeInKiB, 1 MiB by default).
const MODEL_MAX_DATA: usize = 10 * 1024 * 1024;
const MAX_ENTRIES: usize = 500;
/// A PutRecords request's data and keys together (the current API text;
/// older text said 5 MiB, from before 10 MiB records).
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PutEntry {
    pub partition_key: String,
    pub explicit_hash_key: Option<String>,
    pub data: Vec<u8>,
}

/// One entry's result: where it went, or why it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Stored { shard_id: String, seq: SeqNo },
    Failed { code: &'static str, message: String },
}

impl Kinesis {
    /// PutRecord: one record; a throttled record fails the whole call.
    pub async fn put_record(
        &self,
        caller: &Caller,
        stream: &StreamRef,
        entry: PutEntry,
        sequence_for_ordering: Option<&str>,
    ) -> KinesisResult<(String, SeqNo, bool)> {
        check_entries(std::slice::from_ref(&entry), "")?;
        if let Some(s) = sequence_for_ordering {
            SeqNo::parse(s, "SequenceNumberForOrdering")?;
        }
        let (mut outcomes, encrypted) = self.put(caller, stream, vec![entry]).await?;
        match outcomes.pop() {
            Some(PutOutcome::Stored { shard_id, seq }) => Ok((shard_id, seq, encrypted)),
            Some(PutOutcome::Failed { message, .. }) => Err(KinesisError::ProvisionedThroughputExceeded(message)),
            None => Err(KinesisError::Internal("no outcome for the record".into())),
        }
    }

    /// PutRecords: up to 500 records; each succeeds or fails on its own.
    pub async fn put_records(
        &self,
        caller: &Caller,
        stream: &StreamRef,
        entries: Vec<PutEntry>,
    ) -> KinesisResult<(Vec<PutOutcome>, bool)> {
        if entries.len() > MAX_ENTRIES {
            let mut c = Checks::default();
            c.custom("[...]", "records", &format!("have length less than or equal to {MAX_ENTRIES}"));
            c.done()?;
        }
        if entries.is_empty() {
            let mut c = Checks::default();
            c.custom("[]", "records", "have length greater than or equal to 1");
            c.done()?;
        }
        check_entries(&entries, "records.")?;
        self.put(caller, stream, entries).await
    }

    async fn put(
        &self,
        caller: &Caller,
        stream_ref: &StreamRef,
        entries: Vec<PutEntry>,
    ) -> KinesisResult<(Vec<PutOutcome>, bool)> {
        let stream = self.stream(caller, stream_ref)?;
        let w = WriteSettings::of(&stream, self.config.enforce_limits);
        w.check_sizes(&entries)?;
        let mut hashes = Vec::with_capacity(entries.len());
        for e in &entries {
            hashes.push(match &e.explicit_hash_key {
                Some(h) => hashkey::parse(h, "ExplicitHashKey")?,
                None => hashkey::of_partition_key(&e.partition_key),
            });
        }
        let (name, account, throttled, encrypted) = (&w.name, &w.account, w.throttled, w.encrypted);
        // A reshard between routing and locking closes a shard; route again.
        // The children are routed to once the reshard's metadata is saved
        // (an fsync), so after a few yields wait a millisecond per try.
        for attempt in 0..100 {
            let Some(routed) = stream.route(&hashes) else {
                return Err(KinesisError::Internal(format!("no open shard of {name} covers a hash key")));
            };
            if let Some(result) = self.append(&routed, &entries, throttled, encrypted, name, account).await? {
                return Ok((result, encrypted));
            }
            if attempt < 10 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        Err(KinesisError::ResourceInUse(format!("Stream {name} under account {account} is being resharded.")))
    }

    /// Appends each entry to its routed shard, one chunk per shard in one
    /// batch; `None` when a routed shard was closed meanwhile.
    pub(crate) async fn append(
        &self,
        routed: &[Arc<ShardLog>],
        entries: &[PutEntry],
        throttled: bool,
        encrypted: bool,
        stream_name: &str,
        account: &str,
    ) -> KinesisResult<Option<Vec<PutOutcome>>> {
        let mut by_shard: BTreeMap<u32, (Arc<ShardLog>, Vec<usize>)> = BTreeMap::new();
        for (i, log) in routed.iter().enumerate() {
            by_shard.entry(log.index).or_insert_with(|| (log.clone(), Vec::new())).1.push(i);
        }
        let now = self.now_ms();
        let mut outcomes: Vec<Option<PutOutcome>> = vec![None; entries.len()];
        let mut newest: Vec<(Arc<ShardLog>, SeqNo)> = Vec::with_capacity(by_shard.len());
        let applied = {
            // Shards are locked in index order, so concurrent writers never deadlock.
            let mut guards: Vec<_> = by_shard.values().map(|(log, _)| log.write.lock()).collect();
            if guards.iter().any(|g| g.closed) {
                return Ok(None);
            }
            let mut batch = self.store.batch();
            for ((log, indexes), guard) in by_shard.values().zip(guards.iter_mut()) {
                let mut chunk: Vec<(SeqNo, &str, &[u8])> = Vec::with_capacity(indexes.len());
                for &i in indexes {
                    let e = &entries[i];
                    if throttled && !log.throttle.lock().admit_write(now, (e.data.len() + e.partition_key.len()) as u64)
                    {
                        outcomes[i] = Some(PutOutcome::Failed {
                            code: "ProvisionedThroughputExceededException",
                            message: format!(
                                "Rate exceeded for shard {} in stream {stream_name} under account {account}.",
                                shard_id(log.index)
                            ),
                        });
                        continue;
                    }
                    let seq = guard.clock.tick(now);
                    chunk.push((seq, &e.partition_key, &e.data));
                    outcomes[i] = Some(PutOutcome::Stored { shard_id: shard_id(log.index), seq });
                }
                if let Some(&(first, _, _)) = chunk.first() {
                    let last = chunk.last().map(|c| c.0).unwrap_or(first);
                    batch.put(&log.partition, records::chunk_key(first), records::encode_chunk(&chunk, encrypted));
                    guard.last_written = last;
                    newest.push((log.clone(), last));
                }
            }
            // Submitted under the locks, so chunks are applied in sequence
            // order; applied after they are released, so a stalled commit
            // never holds a shard's lock (readers take it too).
            batch.submit()
        };
        self.store.durable(applied.await?).await?;
        for (log, seq) in newest {
            log.mark_visible(seq);
            log.note_write(now);
        }
        Ok(Some(outcomes.into_iter().map(|o| o.expect("every entry has an outcome")).collect()))
    }
}

/// What a write to a stream needs from its metadata, read once.
pub(crate) struct WriteSettings {
    pub name: String,
    pub account: String,
    /// MaxRecordSizeInKiB in bytes.
    pub max_size: usize,
    pub encrypted: bool,
    /// Provisioned-shard limits apply (`--kinesis-enforce-limits`).
    pub throttled: bool,
}

impl WriteSettings {
    pub fn of(stream: &Stream, enforce_limits: bool) -> WriteSettings {
        let m = stream.meta.read();
        WriteSettings {
            name: m.name.clone(),
            account: m.account.clone(),
            max_size: m.max_record_size_kib as usize * 1024,
            encrypted: m.encryption_key.is_some(),
            throttled: enforce_limits && !m.on_demand,
        }
    }

    /// Each record within the stream's record size, and a request of
    /// several within the request limit.
    pub fn check_sizes(&self, entries: &[PutEntry]) -> KinesisResult<()> {
        let mut total = 0usize;
        for e in entries {
            let size = e.data.len() + e.partition_key.len();
            total += size;
            if size > self.max_size {
                return Err(KinesisError::InvalidArgument(format!(
                    "Record size of {size} bytes exceeds the maximum record size of {} bytes for stream {} under \
                     account {}.",
                    self.max_size, self.name, self.account
                )));
            }
        }
        if entries.len() > 1 && total > MAX_REQUEST_BYTES {
            return Err(KinesisError::InvalidArgument(format!(
                "Records size exceeds {} MB limit",
                MAX_REQUEST_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }
}

/// The model's checks on each entry: key length, data size.
pub(crate) fn check_entries(entries: &[PutEntry], prefix: &str) -> KinesisResult<()> {
    let mut c = Checks::default();
    for (i, e) in entries.iter().enumerate() {
        let at = |field: &str| {
            if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}{}.member.{field}", i + 1)
            }
        };
        c.length(Some(&e.partition_key), &at("partitionKey"), 1, 256);
        if e.data.len() > MODEL_MAX_DATA {
            c.custom(
                "java.nio.HeapByteBuffer",
                &at("data"),
                &format!("have length less than or equal to {MODEL_MAX_DATA}"),
            );
        }
        if let Some(h) = &e.explicit_hash_key {
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_digit()) {
                c.custom(h, &at("explicitHashKey"), "satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
            }
        }
    }
    c.done()
}
