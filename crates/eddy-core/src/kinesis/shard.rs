//! One shard's log at run time: its clock and write lock, and the
//! *visible* mark readers and subscribers follow.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use eddy_store::{Partition, Store};
use parking_lot::Mutex;
use tokio::sync::watch;

use super::error::{KinesisError, KinesisResult};
use super::records::{self, ShardMeta};
use super::sequence::{SeqNo, ShardClock};
use super::throttle::Throttle;

pub(crate) struct ShardLog {
    pub index: u32,
    /// The shard's own partition: its chunks, keyed by first sequence number.
    pub partition: Partition,
    /// Held while numbering records and submitting their chunk, so chunks
    /// are applied in sequence order (never through the commit itself).
    pub write: Mutex<WriteState>,
    /// The newest durable sequence number (`SeqNo(0)`: none yet).
    pub visible: watch::Sender<SeqNo>,
    pub throttle: Mutex<Throttle>,
    /// When the shard was last written (ms), and whether its memtable was
    /// flushed since: an idle shard's tail goes to disk, not RSS.
    pub last_write_ms: AtomicU64,
    pub flushed_since_write: AtomicBool,
}

pub(crate) struct WriteState {
    pub clock: ShardClock,
    /// Closed by resharding: writes go to the children.
    pub closed: bool,
    /// The newest record written (durable or not), `SeqNo(0)` when empty.
    pub last_written: SeqNo,
}

impl ShardLog {
    /// Opens (or creates) the partition of a shard's log.
    pub fn open_partition(store: &Store, uid: u64, index: u32) -> KinesisResult<Partition> {
        Ok(store.log_partition(&records::log_name(uid, index))?)
    }

    pub fn new(partition: Partition, index: u32, starting: SeqNo) -> ShardLog {
        ShardLog {
            index,
            partition,
            write: Mutex::new(WriteState {
                clock: ShardClock { shard: index, last: starting },
                closed: false,
                last_written: SeqNo(0),
            }),
            visible: watch::Sender::new(SeqNo(0)),
            throttle: Mutex::new(Throttle::default()),
            last_write_ms: AtomicU64::new(0),
            flushed_since_write: AtomicBool::new(true),
        }
    }

    /// Rebuilds a shard from the store: its newest chunk gives the clock.
    pub fn recover(store: &Store, uid: u64, meta: &ShardMeta) -> KinesisResult<ShardLog> {
        let starting = SeqNo(meta.starting_seq_value());
        let log = ShardLog::new(Self::open_partition(store, uid, meta.index)?, meta.index, starting);
        let (low, high) = log.key_bounds();
        if let Some((_, chunk)) = log.partition.last_in(&low, &high)? {
            let last = records::chunk_last(&chunk).ok_or_else(|| KinesisError::Internal("corrupt chunk".into()))?;
            let mut w = log.write.lock();
            w.clock.last = w.clock.last.max(last);
            w.last_written = last;
            log.visible.send_replace(last);
        }
        if let Some(ending) = &meta.ending_seq {
            let mut w = log.write.lock();
            w.closed = true;
            w.clock.last = w.clock.last.max(SeqNo(ending.parse().unwrap_or(0)));
        }
        Ok(log)
    }

    /// The first and last possible chunk keys of this shard.
    pub fn key_bounds(&self) -> ([u8; 16], [u8; 16]) {
        (records::chunk_key(SeqNo(0)), records::chunk_key(SeqNo(u128::MAX)))
    }

    pub fn note_write(&self, now_ms: u64) {
        self.last_write_ms.store(now_ms, Ordering::Relaxed);
        self.flushed_since_write.store(false, Ordering::Relaxed);
    }

    /// Flushes the memtable of a shard idle for `idle_ms`, once per idle spell.
    pub fn flush_if_idle(&self, now_ms: u64, idle_ms: u64) -> KinesisResult<()> {
        let idle = now_ms.saturating_sub(self.last_write_ms.load(Ordering::Relaxed)) >= idle_ms;
        if idle && !self.flushed_since_write.swap(true, Ordering::Relaxed) {
            self.partition.flush_memtable()?;
        }
        Ok(())
    }

    pub fn visible(&self) -> SeqNo {
        *self.visible.borrow()
    }

    /// Raises the visible mark once records up to `seq` are durable.
    pub fn mark_visible(&self, seq: SeqNo) {
        self.visible.send_if_modified(|v| {
            let raise = seq > *v;
            if raise {
                *v = seq;
            }
            raise
        });
    }
}

impl ShardMeta {
    pub(crate) fn starting_seq_value(&self) -> u128 {
        self.starting_seq.parse().unwrap_or(0)
    }

    pub(crate) fn ending_seq_value(&self) -> Option<u128> {
        self.ending_seq.as_ref().and_then(|s| s.parse().ok())
    }

    pub(crate) fn hash_range(&self) -> (u128, u128) {
        (self.start_hash.parse().unwrap_or(0), self.end_hash.parse().unwrap_or(u128::MAX))
    }

    pub(crate) fn is_open(&self) -> bool {
        self.ending_seq.is_none()
    }
}
