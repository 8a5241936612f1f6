//! The memory engine (`--in-memory`): one ordered map per partition,
//! nothing touches the disk, so there is no journal and nothing to sync.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::engine::{self, Batch, Engine, Journal, PartitionKind, Table};
use crate::{KvIter, Result};

type Rows = Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>;

#[derive(Default)]
pub(crate) struct MemoryEngine {
    tables: Mutex<HashMap<String, Rows>>,
}

impl Engine for MemoryEngine {
    fn info(&self) -> crate::StoreInfo {
        crate::StoreInfo { engine: "memory", remote: None }
    }

    fn open(&self, name: &str, _kind: PartitionKind) -> Result<Arc<dyn Table>> {
        let rows = self.tables.lock().entry(name.to_string()).or_default().clone();
        Ok(Arc::new(MemoryTable(rows)))
    }

    fn names(&self) -> Vec<String> {
        self.tables.lock().keys().cloned().collect()
    }

    fn drop_partition(&self, name: &str) -> Result<()> {
        self.tables.lock().remove(name);
        Ok(())
    }

    fn batch(&self) -> Box<dyn Batch> {
        Box::new(MemoryBatch(Vec::new()))
    }

    fn hand_to_os(&self) -> Result<()> {
        Ok(())
    }

    fn journal(&self) -> Option<Box<dyn Journal>> {
        None
    }
}

struct MemoryTable(Rows);

impl Table for MemoryTable {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.read().get(key).cloned())
    }

    /// Copies the matching pairs under one read lock, so the iterator holds
    /// no lock while the caller works (and perhaps writes) through it.
    fn scan_prefix(&self, prefix: Vec<u8>) -> KvIter {
        let snapshot: Vec<_> = self
            .0
            .read()
            .range::<[u8], _>((Included(&prefix[..]), Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| Ok((k.clone(), v.clone())))
            .collect();
        Box::new(snapshot.into_iter())
    }

    fn scan_range(&self, start: Vec<u8>, end: Vec<u8>) -> KvIter {
        Box::new(MemoryCursor { rows: self.0.clone(), next: start, end, page: Vec::new() })
    }

    fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let rows = self.0.read();
        let last = rows.range::<[u8], _>((Included(low), Included(high))).next_back();
        Ok(last.map(|(k, v)| (k.clone(), v.clone())))
    }

    fn flush_memtable(&self) -> Result<bool> {
        Ok(false)
    }
}

/// A forward scan over a memory table that takes the lock one page at a
/// time, so a long scan neither copies the whole range nor holds up writers.
struct MemoryCursor {
    rows: Rows,
    next: Vec<u8>,
    end: Vec<u8>,
    /// The current page, reversed: the next pair is last.
    page: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Iterator for MemoryCursor {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        const PAGE: usize = 256;
        if self.page.is_empty() {
            if self.next >= self.end {
                return None;
            }
            let rows = self.rows.read();
            self.page = rows
                .range::<[u8], _>((Included(&self.next[..]), Excluded(&self.end[..])))
                .take(PAGE)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            drop(rows);
            let (last, _) = self.page.last()?;
            // The next page starts just after the last key read.
            self.next = last.clone();
            self.next.push(0);
            self.page.reverse();
        }
        self.page.pop().map(Ok)
    }
}

/// The batch's operations in order, applied at commit.
struct MemoryBatch(Vec<(Rows, Vec<u8>, Option<Vec<u8>>)>);

impl Batch for MemoryBatch {
    fn put(&mut self, table: &dyn Table, key: Vec<u8>, value: Vec<u8>) {
        self.0.push((engine::own::<MemoryTable>(table).0.clone(), key, Some(value)));
    }

    fn delete(&mut self, table: &dyn Table, key: Vec<u8>) {
        self.0.push((engine::own::<MemoryTable>(table).0.clone(), key, None));
    }

    fn commit(self: Box<Self>) -> Result<()> {
        for (rows, key, value) in self.0 {
            let mut rows = rows.write();
            match value {
                Some(v) => rows.insert(key, v),
                None => rows.remove(&key),
            };
        }
        Ok(())
    }

    /// Memory commits never wait but on other commits' row locks.
    fn commit_quick(self: Box<Self>) -> std::result::Result<Result<()>, Box<dyn Batch>> {
        Ok(self.commit())
    }
}
