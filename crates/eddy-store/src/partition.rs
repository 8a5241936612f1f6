//! Partitions and key families: the store's view of an engine's table.

use std::borrow::Cow;
use std::sync::Arc;

use crate::engine::Table;
use crate::{KvIter, Result};

/// A named, ordered key space inside the store, or a *family* of keys in
/// one: a family's keys carry a type byte that the family adds and strips,
/// so several families share one partition (each partition costs the engine
/// files and fsyncs to create).
#[derive(Clone)]
pub struct Partition {
    table: Arc<dyn Table>,
    prefix: Vec<u8>,
}

impl Partition {
    pub(crate) fn new(table: Arc<dyn Table>) -> Partition {
        Partition { table, prefix: Vec::new() }
    }

    /// The family of keys starting with `type_byte` in this partition.
    pub fn family(&self, type_byte: u8) -> Partition {
        let mut prefix = self.prefix.clone();
        prefix.push(type_byte);
        Partition { table: self.table.clone(), prefix }
    }

    pub(crate) fn table(&self) -> &dyn Table {
        &*self.table
    }

    /// The engine's key for `key`: borrowed when there is no family prefix.
    fn full_key<'k>(&self, key: &'k [u8]) -> Cow<'k, [u8]> {
        if self.prefix.is_empty() {
            return Cow::Borrowed(key);
        }
        let mut k = Vec::with_capacity(self.prefix.len() + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(key);
        Cow::Owned(k)
    }

    /// [`Partition::full_key`] for a key the caller already owns (a batch's).
    pub(crate) fn full_key_owned(&self, key: Vec<u8>) -> Vec<u8> {
        if self.prefix.is_empty() {
            key
        } else {
            self.full_key(&key).into_owned()
        }
    }

    /// Drops the family prefix from the keys of `pairs`, in place.
    fn strip(&self, pairs: KvIter) -> KvIter {
        let strip = self.prefix.len();
        if strip == 0 {
            return pairs;
        }
        Box::new(pairs.map(move |kv| kv.map(|(k, v)| (strip_key(k, strip), v))))
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.table.get(&self.full_key(key))
    }

    /// The values of `keys`, in their order: one round trip on PostgreSQL
    /// where [`Partition::get`] in a loop would make one per key.
    pub fn get_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        let full: Vec<Vec<u8>> = keys.iter().map(|key| self.full_key(key.as_ref()).into_owned()).collect();
        self.table.get_many(&full)
    }

    /// Every key-value pair whose key starts with `prefix`, in key order
    /// (keys without the family's type byte).
    pub fn scan_prefix(&self, prefix: &[u8]) -> KvIter {
        self.strip(self.table.scan_prefix(self.full_key(prefix).into_owned()))
    }

    /// Pairs with `start <= key < end`, in key order, read lazily (keys
    /// without the family's type byte).
    pub fn scan_range(&self, start: &[u8], end: &[u8]) -> KvIter {
        let (start, end) = (self.full_key(start).into_owned(), self.full_key(end).into_owned());
        self.strip(self.table.scan_range(start, end))
    }

    /// Moves the partition's unflushed writes out of memory (on disk: seals
    /// the memtable and hands it to the flush worker), so an idle log's tail
    /// does not cost memory. True when there was something to move.
    pub fn flush_memtable(&self) -> Result<bool> {
        self.table.flush_memtable()
    }

    /// The last pair with `low <= key <= high`: where a log's newest entry
    /// or the entry covering a position is found.
    pub fn last_in(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let last = self.table.last_in(&self.full_key(low), &self.full_key(high))?;
        Ok(last.map(|(k, v)| (strip_key(k, self.prefix.len()), v)))
    }
}

/// `key` without its first `n` bytes, reusing its allocation.
fn strip_key(mut key: Vec<u8>, n: usize) -> Vec<u8> {
    key.drain(..n);
    key
}
