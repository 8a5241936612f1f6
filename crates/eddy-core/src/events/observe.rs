//! A hook for services that watch the events entering a bus (the schema
//! registry's discoverers): called for each event [`Events::route`] takes
//! in, with the batch that accepts it, so what an observer stores is as
//! durable as the event. One observer at most; without one it costs a
//! lock-free load.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::Events;

pub trait BusObserver: Send + Sync {
    /// `event` entered the bus `bus_arn`; must be cheap when the observer
    /// does not watch that bus.
    fn observe(&self, batch: &mut eddy_store::WriteBatch, bus_arn: &str, event: &Value);
}

#[derive(Default)]
pub(crate) struct Observer(OnceLock<Arc<dyn BusObserver>>);

impl Observer {
    pub(crate) fn notify(&self, batch: &mut eddy_store::WriteBatch, bus_arn: &str, event: &Value) {
        if let Some(observer) = self.0.get() {
            observer.observe(batch, bus_arn, event);
        }
    }
}

impl Events {
    /// Registers the observer of every bus's events; a second is ignored.
    pub fn set_observer(&self, observer: Arc<dyn BusObserver>) {
        if self.observer.0.set(observer).is_err() {
            tracing::warn!("EventBridge: a bus observer is already registered; ignoring another");
        }
    }
}
