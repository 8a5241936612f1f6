//! Dropping deleted keys for good.
//!
//! fjall (lsm-tree 2.x) drops a tombstone only when compaction writes into
//! the last of its seven levels, which a partition of eddy's size never
//! reaches. A delete-heavy partition (SQS messages are written, received and
//! deleted; SNS jobs likewise) therefore keeps every tombstone forever: in a
//! one-hour soak the SQS partition grew from 133 to 302 MB with nearly empty
//! queues, and the server's memory grew with it (bloom filters are held in
//! memory, and compaction buffers grow with segment size). So a thread
//! watches the metadata partitions and runs a major compaction (into the
//! last level, where tombstones are evicted) whenever one has doubled since
//! its last one and passed a floor: each byte is rewritten a bounded number
//! of times, and garbage stays within twice the live data.
//!
//! Kinesis shard logs are not watched: they are append-only and delete only
//! whole expired chunks, a tombstone per write request.

use std::sync::{Arc, Weak};
use std::time::Duration;

use fjall::PartitionHandle;
use parking_lot::Mutex;

/// How often partition sizes are checked.
const CHECK_EVERY: Duration = Duration::from_secs(15);
/// Below this a partition is never compacted on size alone.
const FLOOR_BYTES: u64 = 32 << 20;

struct Watched {
    name: String,
    handle: PartitionHandle,
    /// Disk space right after the last major compaction (or when first seen).
    baseline: u64,
}

#[derive(Default)]
pub(crate) struct Collector {
    watched: Mutex<Vec<Watched>>,
}

impl Collector {
    pub(crate) fn start() -> Arc<Collector> {
        let collector = Arc::new(Collector::default());
        let weak = Arc::downgrade(&collector);
        std::thread::Builder::new()
            .name("eddy-store-gc".into())
            .spawn(move || gc_loop(weak))
            .expect("spawn store gc thread");
        collector
    }

    pub(crate) fn watch(&self, name: &str, handle: &PartitionHandle) {
        let mut watched = self.watched.lock();
        if !watched.iter().any(|w| w.name == name) {
            let baseline = handle.disk_space();
            watched.push(Watched { name: name.to_string(), handle: handle.clone(), baseline });
        }
    }

    pub(crate) fn forget(&self, name: &str) {
        self.watched.lock().retain(|w| w.name != name);
    }

    /// Compacts every watched partition that has doubled past the floor.
    fn pass(&self) {
        let due: Vec<(String, PartitionHandle, u64)> = self
            .watched
            .lock()
            .iter()
            .map(|w| (w, w.handle.disk_space()))
            .filter(|(w, size)| needs_compaction(*size, w.baseline))
            .map(|(w, size)| (w.name.clone(), w.handle.clone(), size))
            .collect();
        for (name, handle, before) in due {
            let started = std::time::Instant::now();
            if let Err(e) = handle.major_compact() {
                tracing::warn!(partition = %name, error = %e, "store gc: major compaction failed");
                continue;
            }
            let after = handle.disk_space();
            tracing::info!(partition = %name, before_mib = before >> 20, after_mib = after >> 20,
                ms = started.elapsed().as_millis() as u64, "store gc: deleted keys compacted away");
            if let Some(w) = self.watched.lock().iter_mut().find(|w| w.name == name) {
                w.baseline = after;
            }
        }
    }
}

fn needs_compaction(size: u64, baseline: u64) -> bool {
    size > FLOOR_BYTES && size > baseline.saturating_mul(2)
}

fn gc_loop(collector: Weak<Collector>) {
    loop {
        std::thread::sleep(CHECK_EVERY);
        let Some(collector) = collector.upgrade() else { return };
        collector.pass();
    }
}

#[cfg(test)]
mod tests {
    use super::needs_compaction;

    #[test]
    fn compacts_only_past_the_floor_and_after_doubling() {
        assert!(!needs_compaction(10 << 20, 0), "under the floor");
        assert!(needs_compaction(40 << 20, 0));
        assert!(!needs_compaction(100 << 20, 60 << 20), "not yet doubled");
        assert!(needs_compaction(130 << 20, 60 << 20));
    }
}
