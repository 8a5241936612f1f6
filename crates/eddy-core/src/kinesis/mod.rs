//! Amazon Kinesis Data Streams: streams of shards, each an append-only,
//! replayable log on the embedded store.
//!
//! A write takes the shards it touches in index order, stamps each record
//! with the next number of its shard's clock ([`sequence`]), appends one
//! chunk per shard in a single atomic batch, and answers once that batch is
//! fsynced. Readers see a shard only up to its *visible* mark, the last
//! durable number, so nothing a reader has seen can vanish in a crash, and
//! subscribers ([`subscribe`]) wake on the same mark.

mod authz;
mod consumer;
mod error;
pub mod hashkey;
mod iterator;
mod manage;
mod put;
mod read;
mod records;
mod reshard;
mod retention;
pub mod sequence;
mod shard;
mod shard_api;
mod subscribe;
mod throttle;
mod validate;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use eddy_store::{Partition, Store};
use parking_lot::{Mutex, RwLock};

pub use authz::ResourceFacts;
pub use consumer::{Consumer, ConsumerRef};
pub use error::{KinesisError, KinesisResult};
pub use iterator::IteratorType;
pub use manage::{CreateStream, Limits, ShardFilter, StreamPage, StreamSummary, ALL_METRICS};
pub use put::{PutEntry, PutOutcome};
pub use read::{ChildShard, GetRecordsOutput, ReadBatch};
pub use records::{AccountSettings, Record, ShardMeta, StreamMeta};
pub use sequence::SeqNo;
pub use shard_api::ShardHandle;
pub use subscribe::LIFETIME as SUBSCRIPTION_LIFETIME;
pub use subscribe::{ShardEvent, Subscription};

use crate::clock::Clock;
use crate::sqs::Caller;
use shard::ShardLog;

#[derive(Debug, Clone, Default)]
pub struct KinesisConfig {
    /// Answer ProvisionedThroughputExceededException past a provisioned
    /// shard's limits, as AWS does (`--kinesis-enforce-limits`).
    pub enforce_limits: bool,
}

/// Which stream a request names: by name (in the caller's account and
/// region) or by ARN (any account), or both (they must agree).
#[derive(Debug, Clone, Default)]
pub struct StreamRef {
    pub name: Option<String>,
    pub arn: Option<String>,
}

impl StreamRef {
    pub fn name(name: &str) -> StreamRef {
        StreamRef { name: Some(name.to_string()), arn: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct StreamKey {
    pub account: String,
    pub region: String,
    pub name: String,
}

/// A live stream: its metadata and one log per shard.
pub(crate) struct Stream {
    pub store: Store,
    pub uid: u64,
    pub meta: RwLock<StreamMeta>,
    pub logs: RwLock<HashMap<u32, Arc<ShardLog>>>,
    /// Open shards by hash range, sorted by start: where writes are routed.
    pub open: RwLock<Vec<(u128, u128, Arc<ShardLog>)>>,
    /// Serialises management changes (resharding, settings) on this stream.
    pub changing: tokio::sync::Mutex<()>,
}

pub struct Kinesis {
    pub(crate) store: Store,
    pub(crate) streams_family: Partition,
    pub(crate) purges: Partition,
    pub(crate) accounts: Partition,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: KinesisConfig,
    /// Issues and reads the NextTokens of every Kinesis listing.
    pub(crate) tokens: crate::page::PageTokens,
    pub(crate) streams: RwLock<HashMap<StreamKey, Arc<Stream>>>,
    pub(crate) by_uid: RwLock<HashMap<u64, Arc<Stream>>>,
    /// Names of streams being created, not yet saved (taken after `streams`).
    pub(crate) creating: Mutex<HashSet<StreamKey>>,
    pub(crate) next_uid: AtomicU64,
    /// Last SubscribeToShard per (consumer ARN, shard): AWS allows one per 5 s.
    pub(crate) subscribed: Mutex<HashMap<(String, u32), u64>>,
}

impl Kinesis {
    /// Opens the service on `store`, recovering every stream and each shard's
    /// last sequence number, and resuming purges of deleted streams.
    pub fn open(store: Store, clock: Arc<dyn Clock>, config: KinesisConfig) -> KinesisResult<Arc<Kinesis>> {
        let partition = store.partition("kinesis")?;
        let kinesis = Arc::new(Kinesis {
            streams_family: partition.family(records::STREAMS),
            purges: partition.family(records::PURGES),
            accounts: partition.family(records::ACCOUNTS),
            tokens: crate::page::PageTokens::open(&store)?,
            store,
            clock,
            config,
            streams: RwLock::default(),
            by_uid: RwLock::default(),
            creating: Mutex::default(),
            next_uid: AtomicU64::new(1),
            subscribed: Mutex::default(),
        });
        kinesis.recover()?;
        Ok(kinesis)
    }

    fn recover(&self) -> KinesisResult<()> {
        let mut max_uid = 0;
        for kv in self.streams_family.scan_prefix(b"") {
            let (_, value) = kv?;
            let meta: StreamMeta = serde_json::from_slice(&value)
                .map_err(|e| KinesisError::Internal(format!("corrupt stream record: {e}")))?;
            max_uid = max_uid.max(meta.uid);
            let stream = Kinesis::build_stream(&self.store, meta)?;
            self.register(stream);
        }
        for kv in self.purges.scan_prefix(b"") {
            let (key, _) = kv?;
            if let Ok(uid) = key.as_slice().try_into().map(u64::from_be_bytes) {
                max_uid = max_uid.max(uid);
            }
        }
        self.next_uid.store(max_uid + 1, Ordering::Relaxed);
        Ok(())
    }

    /// Builds the runtime form of a stream, opening (or creating) each
    /// shard's log and reading its newest chunk so its clock continues past
    /// every number it issued before: store work, for a blocking thread.
    fn build_stream(store: &Store, meta: StreamMeta) -> KinesisResult<Arc<Stream>> {
        let mut logs = HashMap::new();
        for shard in &meta.shards {
            let log = ShardLog::recover(store, meta.uid, shard)?;
            logs.insert(shard.index, Arc::new(log));
        }
        let stream = Arc::new(Stream {
            store: store.clone(),
            uid: meta.uid,
            meta: RwLock::new(meta),
            logs: RwLock::new(logs),
            open: RwLock::default(),
            changing: tokio::sync::Mutex::new(()),
        });
        stream.refresh_open();
        Ok(stream)
    }

    fn register(&self, stream: Arc<Stream>) {
        let key = stream.key();
        self.by_uid.write().insert(stream.uid, stream.clone());
        self.streams.write().insert(key, stream);
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The stream a request names, or ResourceNotFoundException.
    pub(crate) fn stream(&self, caller: &Caller, stream: &StreamRef) -> KinesisResult<Arc<Stream>> {
        let key = self.stream_key(caller, stream)?;
        self.streams.read().get(&key).cloned().ok_or_else(|| error::stream_not_found(&key.name, &key.account))
    }

    pub(crate) fn stream_key(&self, caller: &Caller, stream: &StreamRef) -> KinesisResult<StreamKey> {
        match (&stream.name, &stream.arn) {
            (None, None) => Err(KinesisError::InvalidArgument("Neither StreamName nor StreamARN was provided.".into())),
            (Some(name), None) => {
                Ok(StreamKey { account: caller.account.clone(), region: caller.region.clone(), name: name.clone() })
            }
            (name, Some(arn)) => {
                let key = parse_stream_arn(arn)?;
                if name.as_ref().is_some_and(|n| *n != key.name) {
                    return Err(KinesisError::InvalidArgument(format!(
                        "StreamARN {arn} and StreamName {} do not refer to the same stream.",
                        name.as_deref().unwrap_or_default()
                    )));
                }
                Ok(key)
            }
        }
    }

    pub fn stream_count(&self) -> usize {
        self.streams.read().len()
    }

    /// Commits `batch` on the store's apply thread (an engine commit can
    /// stall; an async worker must not) and waits until it is durable.
    pub(crate) async fn commit(&self, batch: eddy_store::WriteBatch) -> KinesisResult<()> {
        let ticket = batch.submit().await?;
        self.store.durable(ticket).await?;
        Ok(())
    }

    /// Writes a stream's metadata and waits for durability.
    pub(crate) async fn save(&self, meta: &StreamMeta) -> KinesisResult<()> {
        let mut batch = self.store.batch();
        batch.put(&self.streams_family, meta.uid.to_be_bytes(), serde_json::to_vec(meta).expect("serialisable"));
        self.commit(batch).await
    }
}

impl Stream {
    pub fn key(&self) -> StreamKey {
        let m = self.meta.read();
        StreamKey { account: m.account.clone(), region: m.region.clone(), name: m.name.clone() }
    }

    /// Rebuilds the routing table from the metadata's open shards.
    pub fn refresh_open(&self) {
        let meta = self.meta.read();
        let logs = self.logs.read();
        let mut open: Vec<(u128, u128, Arc<ShardLog>)> = meta
            .shards
            .iter()
            .filter(|s| s.ending_seq.is_none())
            .filter_map(|s| {
                let log = logs.get(&s.index)?.clone();
                Some((s.start_hash.parse().ok()?, s.end_hash.parse().ok()?, log))
            })
            .collect();
        open.sort_by_key(|(start, _, _)| *start);
        *self.open.write() = open;
    }

    /// The open shard whose hash range holds each hash, read under one lock.
    pub fn route(&self, hashes: &[u128]) -> Option<Vec<Arc<ShardLog>>> {
        let open = self.open.read();
        let owner = |hash: u128| {
            let at = open.partition_point(|(start, _, _)| *start <= hash);
            let (_, end, log) = open.get(at.checked_sub(1)?)?;
            (hash <= *end).then(|| log.clone())
        };
        hashes.iter().map(|h| owner(*h)).collect()
    }

    pub fn log(&self, index: u32) -> Option<Arc<ShardLog>> {
        self.logs.read().get(&index).cloned()
    }
}

pub fn stream_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kinesis:{region}:{account}:stream/{name}")
}

/// Runs store work that scans, deletes, creates or drops many files
/// (partition creation fsyncs directories) on a blocking thread: on an
/// async worker it would hold up other clients' requests.
pub(crate) async fn off_workers<T: Send + 'static>(
    work: impl FnOnce() -> KinesisResult<T> + Send + 'static,
) -> KinesisResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| KinesisError::Internal(format!("store work: {e}")))?
}

/// `arn:aws:kinesis:{region}:{account}:stream/{name}` → its stream key.
pub(crate) fn parse_stream_arn(arn: &str) -> KinesisResult<StreamKey> {
    let invalid = || KinesisError::InvalidArgument(format!("Invalid StreamARN {arn}."));
    let parsed = crate::arn::Arn::parse(arn).ok().filter(|a| a.service == "kinesis").ok_or_else(invalid)?;
    let name =
        parsed.resource.strip_prefix("stream/").filter(|n| !n.is_empty() && !n.contains('/')).ok_or_else(invalid)?;
    Ok(StreamKey { account: parsed.account.to_string(), region: parsed.region.to_string(), name: name.to_string() })
}

/// `shardId-000000000007` ↔ 7.
pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

pub(crate) fn parse_shard_id(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("shardId-").unwrap_or(text);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests;
