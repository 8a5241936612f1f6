//! The values this node wrote most recently to record partitions, so that
//! reading them back costs no round trip.
//!
//! An SQS receive reads the records of the messages it hands out, and they
//! were nearly always sent moments before: on PostgreSQL that read was the
//! statement the server spent most time on in the batched round trip.
//! Only this node writes its schema (it holds the schema's lock), so what
//! it wrote last is what the database holds, as long as its commits
//! succeed; a failed commit fails the store and empties the cache.
//!
//! Written as a batch's commit starts (the apply thread starts them in
//! submission order), so a read may see a batch whose commit is still
//! running, as the engine contract allows. Reads never fill it: a value
//! read could be older than a write racing with it.
//! Oldest writes are forgotten first once the values pass a byte budget.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

/// A key of the `kv` table: partition id and key.
pub(super) type RowKey = (i64, Vec<u8>);

/// Memory the cache may hold: keys, values and bookkeeping.
pub(super) const BUDGET: usize = 64 << 20;

/// What an entry costs beyond its key and value: the map's slot and the
/// order queue's, and the allocations' headers (an SQS message's state row
/// is a few dozen bytes, so this is most of its cost).
const ENTRY_OVERHEAD: usize = 96;

/// The memory an entry of `key` and `value` holds.
fn cost(key: &RowKey, value: &[u8]) -> usize {
    key.1.len() + value.len() + ENTRY_OVERHEAD
}

pub(super) struct RecordCache {
    state: Mutex<State>,
    budget: usize,
}

#[derive(Default)]
struct State {
    /// Each key's value, and the write that put it there.
    values: HashMap<RowKey, (Vec<u8>, u64)>,
    /// Keys in write order with the write's number, oldest first; a key
    /// written again or deleted leaves a stale entry, skipped when reached.
    order: VecDeque<(RowKey, u64)>,
    /// What the entries cost ([`cost`]).
    bytes: usize,
    writes: u64,
}

impl RecordCache {
    pub(super) fn new(budget: usize) -> RecordCache {
        RecordCache { state: Mutex::default(), budget }
    }

    /// The value of `key` if this node wrote it recently; None when not
    /// known here (the database has the answer).
    pub(super) fn get(&self, key: &RowKey) -> Option<Vec<u8>> {
        self.state.lock().values.get(key).map(|(value, _)| value.clone())
    }

    /// Records a batch's changes: `puts` as the keys' values, `deletes` gone.
    pub(super) fn write<'a>(
        &self,
        puts: impl Iterator<Item = (RowKey, &'a Vec<u8>)>,
        deletes: impl Iterator<Item = RowKey>,
    ) {
        let mut state = self.state.lock();
        for key in deletes {
            if let Some((old, _)) = state.values.remove(&key) {
                state.bytes -= cost(&key, &old);
            }
        }
        for (key, value) in puts {
            state.writes += 1;
            let write = state.writes;
            state.bytes += cost(&key, value);
            if let Some((old, _)) = state.values.insert(key.clone(), (value.clone(), write)) {
                state.bytes -= cost(&key, &old);
            }
            state.order.push_back((key, write));
        }
        while state.bytes > self.budget || state.order.len() > 2 * state.values.len() + 1024 {
            let Some((key, write)) = state.order.pop_front() else { break };
            if state.values.get(&key).is_some_and(|(_, w)| *w == write) {
                let (old, _) = state.values.remove(&key).expect("checked above");
                state.bytes -= cost(&key, &old);
            }
        }
    }

    /// Forgets a dropped partition's keys.
    pub(super) fn forget_partition(&self, partition: i64) {
        let mut state = self.state.lock();
        state.values.retain(|(p, _), _| *p != partition);
        state.bytes = state.values.iter().map(|(key, (value, _))| cost(key, value)).sum();
    }

    /// Forgets everything: after a failed commit the database may not hold
    /// what was written here.
    pub(super) fn clear(&self) {
        let mut state = self.state.lock();
        *state = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> RowKey {
        (1, k.as_bytes().to_vec())
    }

    #[test]
    fn keeps_the_last_write_and_forgets_deletes() {
        let cache = RecordCache::new(1 << 20);
        let (v1, v2) = (b"one".to_vec(), b"two".to_vec());
        cache.write([(key("a"), &v1), (key("b"), &v1)].into_iter(), std::iter::empty());
        cache.write([(key("a"), &v2)].into_iter(), [key("b")].into_iter());
        assert_eq!(cache.get(&key("a")), Some(v2));
        assert_eq!(cache.get(&key("b")), None);
        cache.forget_partition(1);
        assert_eq!(cache.get(&key("a")), None);
    }

    #[test]
    fn forgets_the_oldest_writes_past_its_budget() {
        let value = vec![0u8; 4];
        let cache = RecordCache::new(2 * cost(&key("a"), &value));
        for k in ["a", "b", "c", "d"] {
            cache.write([(key(k), &value)].into_iter(), std::iter::empty());
        }
        assert_eq!(cache.get(&key("a")), None);
        assert_eq!(cache.get(&key("b")), None);
        assert_eq!(cache.get(&key("c")), Some(value.clone()));
        assert_eq!(cache.get(&key("d")), Some(value));
    }
}
