//! Work waiting for its due time, in memory beside the store: EventBridge's
//! delivery jobs and Scheduler's firings. One queue, ordered by (due time,
//! sequence number), and the loop's nap until the next item is due.

use std::collections::BTreeMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::clock::Millis;

/// Longest a loop sleeps before looking at the clock again (tests move it).
const MAX_NAP_MS: Millis = 1000;

pub(crate) struct DueQueue<T> {
    pending: Mutex<BTreeMap<(Millis, u64), T>>,
    wake: Notify,
}

impl<T> Default for DueQueue<T> {
    fn default() -> Self {
        DueQueue { pending: Mutex::new(BTreeMap::new()), wake: Notify::new() }
    }
}

impl<T> DueQueue<T> {
    pub fn insert(&self, due: Millis, seq: u64, item: T) {
        self.pending.lock().insert((due, seq), item);
        self.wake.notify_one();
    }

    /// Makes the loop look at the clock now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// At most `max` items due at `now`, earliest first, taken out of the queue.
    pub fn take_due(&self, now: Millis, max: usize) -> Vec<(u64, T)> {
        let mut pending = self.pending.lock();
        let mut out = Vec::new();
        while out.len() < max {
            match pending.first_entry() {
                Some(first) if first.key().0 <= now => {
                    let ((_, seq), item) = first.remove_entry();
                    out.push((seq, item));
                }
                _ => break,
            }
        }
        out
    }

    pub fn pending(&self) -> usize {
        self.pending.lock().len()
    }

    /// Waits until the first item, or `other` (another due time the loop
    /// keeps), is due, a new item arrives, or [`MAX_NAP_MS`] passes. `now`
    /// is when the loop last looked, `current` the clock's time now.
    pub async fn nap(&self, now: Millis, other: Millis, current: Millis) {
        let first = self.pending.lock().first_key_value().map_or(Millis::MAX, |(&(due, _), _)| due);
        let next = first.min(other);
        let nap = next.saturating_sub(current).clamp(if next <= now { 1 } else { 0 }, MAX_NAP_MS);
        let _ = tokio::time::timeout(Duration::from_millis(nap), self.wake.notified()).await;
    }
}

/// The wait before retry `n` (1-based): 1 s doubling to at most 5 min,
/// with jitter (AWS's "exponential back off and jitter").
pub(crate) fn backoff_ms(n: u32) -> Millis {
    let base: Millis = 1000u64.saturating_mul(1 << n.saturating_sub(1).min(20)).min(300_000);
    let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=base / 4);
    base - base / 8 + jitter
}
