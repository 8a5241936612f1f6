//! Background upkeep: records older than the stream's retention period are
//! deleted (readers already skip them), closed shards past retention leave
//! the stream, deleted streams' records are purged, and idle shards'
//! memtables are flushed so retained records cost disk, not memory.

use std::sync::Arc;
use std::time::Duration;

use super::error::KinesisResult;
use super::records;
use super::sequence::SeqNo;
use super::shard::ShardLog;
use super::{off_workers, shard_id, Kinesis, Stream};

const TICK: Duration = Duration::from_secs(1);
const PURGE_EVERY_TICKS: u32 = 5;
const TRIM_EVERY_TICKS: u32 = 60;
const DELETES_PER_BATCH: usize = 1000;
/// A shard not written for this long has its memtable flushed.
const IDLE_FLUSH_MS: u64 = 2_000;

impl Kinesis {
    /// Runs forever: flushes idle shards every second, purges every 5 s,
    /// trims every minute.
    pub async fn run_maintenance(self: Arc<Self>) {
        let mut tick = 0u32;
        loop {
            tokio::time::sleep(TICK).await;
            tick = tick.wrapping_add(1);
            let k = self.clone();
            if let Err(e) = off_workers(move || k.flush_idle_shards()).await {
                tracing::warn!(error = %e, "kinesis: flushing idle shards failed");
            }
            if tick.is_multiple_of(PURGE_EVERY_TICKS) {
                let k = self.clone();
                if let Err(e) = off_workers(move || k.purge_deleted()).await {
                    tracing::warn!(error = %e, "kinesis: purging deleted streams failed");
                }
            }
            if tick.is_multiple_of(TRIM_EVERY_TICKS) {
                if let Err(e) = self.trim_expired().await {
                    tracing::warn!(error = %e, "kinesis: retention trimming failed");
                }
            }
        }
    }

    /// Moves the memtables of shards idle for a while to disk: retained
    /// records should cost disk, not memory.
    pub fn flush_idle_shards(&self) -> KinesisResult<()> {
        let now = self.now_ms();
        let streams: Vec<Arc<Stream>> = self.by_uid.read().values().cloned().collect();
        for stream in streams {
            let logs: Vec<Arc<ShardLog>> = stream.logs.read().values().cloned().collect();
            for log in logs {
                log.flush_if_idle(now, IDLE_FLUSH_MS)?;
            }
        }
        Ok(())
    }

    /// Drops the shard logs of streams marked deleted.
    pub fn purge_deleted(&self) -> KinesisResult<()> {
        let uids: Vec<Vec<u8>> = self.purges.scan_prefix(b"").map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
        for key in uids {
            let Ok(uid) = key.as_slice().try_into().map(u64::from_be_bytes) else { continue };
            if self.by_uid.read().contains_key(&uid) {
                // Its deletion is saved but not yet durable (DeleteStream
                // forgets the stream only then): if that fails, it stays.
                continue;
            }
            for name in self.store.partition_names(&records::log_prefix(uid)) {
                self.store.drop_partition(&name)?;
            }
            let mut batch = self.store.batch();
            batch.delete(&self.purges, key);
            self.store.make_durable_soon(batch.commit()?)?;
        }
        Ok(())
    }

    /// Deletes expired chunks, and closed shards whose every record expired.
    pub async fn trim_expired(self: &Arc<Self>) -> KinesisResult<()> {
        let now = self.now_ms();
        let streams: Vec<Arc<Stream>> = self.by_uid.read().values().cloned().collect();
        for stream in streams {
            let (k, s) = (self.clone(), stream.clone());
            let gone = off_workers(move || k.trim_stream(&s, now)).await?;
            if !gone.is_empty() {
                self.forget_shards(&stream, &gone).await?;
            }
        }
        Ok(())
    }

    /// Deletes a stream's expired chunks (a scan of every shard: blocking
    /// work); the closed shards left empty.
    fn trim_stream(&self, stream: &Stream, now: u64) -> KinesisResult<Vec<u32>> {
        {
            let (cutoff, shards) = {
                let m = stream.meta.read();
                (now.saturating_sub(u64::from(m.retention_hours) * 3_600_000), m.shards.clone())
            };
            let mut gone = Vec::new();
            for shard in &shards {
                let Some(log) = stream.log(shard.index) else { continue };
                let (low, high) = log.key_bounds();
                let expired = log.partition.scan_range(&low, &high).map_while(|kv| match kv {
                    Ok((k, v)) => records::chunk_last(&v).filter(|last| last.ms() < cutoff).map(|_| Ok(k)),
                    Err(e) => Some(Err(e)),
                });
                self.delete_keys(&log, expired)?;
                let ended_before_cutoff = shard.ending_seq_value().is_some_and(|e| SeqNo(e).ms() < cutoff);
                if ended_before_cutoff && log.partition.scan_range(&low, &high).next().is_none() {
                    gone.push(shard.index);
                }
            }
            Ok(gone)
        }
    }

    /// Removes shards from the stream: the new metadata is built on a copy
    /// and swapped in once saved, then their logs are dropped off the
    /// async workers.
    async fn forget_shards(self: &Arc<Self>, stream: &Stream, gone: &[u32]) -> KinesisResult<()> {
        let _changing = stream.changing.lock().await;
        let mut meta = stream.meta.read().clone();
        meta.shards.retain(|s| !gone.contains(&s.index));
        self.save(&meta).await?;
        *stream.meta.write() = meta.clone();
        stream.logs.write().retain(|i, _| !gone.contains(i));
        for &index in gone {
            let (store, name) = (self.store.clone(), records::log_name(meta.uid, index));
            off_workers(move || Ok(store.drop_partition(&name)?)).await?;
            tracing::info!(stream = %meta.name, shard = %shard_id(index), "kinesis: closed shard passed its retention period and was removed");
        }
        Ok(())
    }

    fn delete_keys(
        &self,
        log: &ShardLog,
        keys: impl Iterator<Item = eddy_store::Result<Vec<u8>>>,
    ) -> KinesisResult<()> {
        let mut batch = self.store.batch();
        let mut pending = 0;
        for key in keys {
            batch.delete(&log.partition, key?);
            pending += 1;
            if pending == DELETES_PER_BATCH {
                self.store.make_durable_soon(std::mem::replace(&mut batch, self.store.batch()).commit()?)?;
                pending = 0;
            }
        }
        if pending > 0 {
            self.store.make_durable_soon(batch.commit()?)?;
        }
        Ok(())
    }
}
