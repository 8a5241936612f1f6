//! A family of records kept in memory beside the store, by key: what
//! connections and API destinations share (saved whole, created once,
//! deleted), so each keeps only its own rules.

use std::collections::BTreeMap;

use eddy_store::Partition;
use parking_lot::RwLock;
use serde::Serialize;

use super::records;
use super::{Events, EventsError, EventsResult};

pub(crate) struct Keyed<T> {
    part: Partition,
    map: RwLock<BTreeMap<Vec<u8>, T>>,
}

impl<T: Clone + Serialize> Keyed<T> {
    pub fn new(part: Partition) -> Keyed<T> {
        Keyed { part, map: RwLock::new(BTreeMap::new()) }
    }

    pub fn partition(&self) -> &Partition {
        &self.part
    }

    pub fn load(&self, key: Vec<u8>, record: T) {
        self.map.write().insert(key, record);
    }

    pub fn get(&self, key: &[u8]) -> Option<T> {
        self.map.read().get(key).cloned()
    }

    pub fn find(&self, pred: impl Fn(&T) -> bool) -> Option<T> {
        self.map.read().values().find(|r| pred(r)).cloned()
    }

    pub fn all(&self, pred: impl Fn(&T) -> bool) -> Vec<T> {
        self.map.read().values().filter(|r| pred(r)).cloned().collect()
    }

    /// Stores `record` durably; with `taken` (a create), refuses a key in use with that message.
    pub async fn save(&self, events: &Events, key: Vec<u8>, record: T, taken: Option<String>) -> EventsResult<T> {
        let ticket = {
            let _w = events.write.lock();
            if let Some(message) = taken.filter(|_| self.map.read().contains_key(&key)) {
                return Err(EventsError::AlreadyExists(message));
            }
            let mut batch = events.sh.store.batch();
            batch.put(&self.part, key.clone(), records::to_json(&record));
            let ticket = batch.commit()?;
            self.map.write().insert(key, record.clone());
            ticket
        };
        events.sh.store.durable(ticket).await?;
        Ok(record)
    }

    pub async fn remove(&self, events: &Events, key: &[u8]) -> EventsResult<()> {
        let ticket = {
            let _w = events.write.lock();
            let mut batch = events.sh.store.batch();
            batch.delete(&self.part, key.to_vec());
            let ticket = batch.commit()?;
            self.map.write().remove(key);
            ticket
        };
        events.sh.store.durable(ticket).await?;
        Ok(())
    }
}
