//! The outbox of EventBridge, Scheduler and Pipes: invocations of targets
//! eddy does not run (Lambda, Step Functions, ECS, …), recorded as each
//! service's entry (JSON) under an increasing sequence number in the
//! service's own key family, the oldest deleted beyond [`OUTBOX_KEEP`],
//! and read back a page at a time at `/_eddy/<service>/outbox`.

use std::sync::atomic::{AtomicUsize, Ordering};

use eddy_store::{Partition, WriteBatch};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Entries kept; older ones are deleted.
pub const OUTBOX_KEEP: usize = 10_000;

pub(crate) struct Outbox {
    part: Partition,
    len: AtomicUsize,
}

impl Outbox {
    /// The outbox in `part`, its entries counted.
    pub fn open(part: Partition) -> Outbox {
        let len = part.scan_prefix(b"").count();
        Outbox { part, len: AtomicUsize::new(len) }
    }

    /// Stages `entry` under `seq` in `batch`, with the deletion of the
    /// oldest entry when the outbox is full.
    pub fn stage<T: Serialize>(&self, batch: &mut WriteBatch, seq: u64, entry: &T) {
        let value = serde_json::to_vec(entry).expect("outbox entries serialise");
        batch.put(&self.part, seq.to_be_bytes().to_vec(), value);
        if self.len.fetch_add(1, Ordering::SeqCst) + 1 > OUTBOX_KEEP {
            if let Some(Ok((oldest, _))) = self.part.scan_prefix(b"").next() {
                batch.delete(&self.part, oldest);
                self.len.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Up to `limit` entries, oldest first, from `after` (the key an
    /// earlier page ended with), and the key to go on from when more remain.
    pub fn page<T: DeserializeOwned>(&self, after: Option<u64>, limit: usize) -> Result<(Vec<T>, Option<u64>), String> {
        let start = after.map_or(0, |a| a + 1).to_be_bytes();
        let mut out = Vec::new();
        let mut last = None;
        for kv in self.part.scan_range(&start, &[0xff; 9]) {
            let (k, v) = kv.map_err(|e| e.to_string())?;
            if out.len() == limit {
                return Ok((out, last));
            }
            last = <[u8; 8]>::try_from(k.as_slice()).ok().map(u64::from_be_bytes);
            out.push(serde_json::from_slice(&v).map_err(|e| format!("undecodable outbox entry: {e}"))?);
        }
        Ok((out, None))
    }
}
