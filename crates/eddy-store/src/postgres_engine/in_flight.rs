//! Commits in flight, so that several can wait on the server's disk at
//! once without a later one undoing an earlier one.
//!
//! A pipelined commit (`Batch::commit_pipelined`) runs its statement in a
//! transaction and lets the apply thread start the next group while its
//! COMMIT is on its way. A later statement that touches the same rows then
//! waits on their row locks until the earlier transaction ends, and so
//! applies after it: an upsert after an upsert or a delete, a delete after
//! an update. One case does not wait: a DELETE does not see a row inserted
//! by a transaction still in flight, so it would delete nothing and the
//! insert would survive it. So a batch that deletes a key put by a commit
//! in flight waits here for that commit to end before it starts.
//!
//! Also bounds the commits in flight, so pool connections stay free for
//! reads.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

/// A key of the `kv` table: partition id and key.
pub(super) type RowKey = (i64, Vec<u8>);

pub(super) struct InFlight {
    state: Mutex<State>,
    changed: Condvar,
    /// Most pipelined commits in flight at once.
    most: usize,
}

#[derive(Default)]
struct State {
    pipelined: usize,
    /// Keys put by commits in flight, each with how many put it.
    puts: HashMap<RowKey, u32>,
}

impl InFlight {
    pub(super) fn new(most: usize) -> InFlight {
        InFlight { state: Mutex::default(), changed: Condvar::new(), most: most.max(1) }
    }

    /// Waits until no commit in flight put a key of `deletes` (and, for a
    /// pipelined commit, until fewer than the most are in flight), then
    /// records `puts` as in flight until the returned entry is dropped.
    pub(super) fn enter(
        self: &Arc<Self>,
        deletes: impl Iterator<Item = RowKey> + Clone,
        puts: Vec<RowKey>,
        pipelined: bool,
    ) -> Entry {
        let mut state = self.state.lock();
        while (pipelined && state.pipelined >= self.most) || deletes.clone().any(|k| state.puts.contains_key(&k)) {
            self.changed.wait(&mut state);
        }
        state.pipelined += usize::from(pipelined);
        for key in &puts {
            *state.puts.entry(key.clone()).or_default() += 1;
        }
        Entry { in_flight: self.clone(), puts, pipelined }
    }
}

/// A commit in flight; it ends when this is dropped.
pub(super) struct Entry {
    in_flight: Arc<InFlight>,
    puts: Vec<RowKey>,
    pipelined: bool,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut state = self.in_flight.state.lock();
        state.pipelined -= usize::from(self.pipelined);
        for key in self.puts.drain(..) {
            if let std::collections::hash_map::Entry::Occupied(mut count) = state.puts.entry(key) {
                *count.get_mut() -= 1;
                if *count.get() == 0 {
                    count.remove();
                }
            }
        }
        drop(state);
        self.in_flight.changed.notify_all();
    }
}
