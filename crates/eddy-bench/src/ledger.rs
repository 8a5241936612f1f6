//! Exactly-once bookkeeping.
//!
//! Every body the bench sends is `<tag>:<id>:` padded to [`BODY_LEN`] bytes,
//! with `<tag>` naming the phase (and run) and `<id>` a dense counter, so a
//! receiver can attribute any message it gets to the [`Tracker`] that sent it
//! and count deliveries per id in a flat array.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use super::api::Message;
use super::stats::count;

pub const BODY_LEN: usize = 256;

/// Bodies sent under one tag and how often each came back.
pub struct Tracker {
    tag: String,
    next_id: AtomicU64,
    /// Ids whose send failed or is in doubt: not expected back, and not an
    /// error if they do come back.
    failed: Mutex<Vec<u64>>,
    /// Deliveries per id (saturating), indexed by id.
    deliveries: Mutex<Vec<u8>>,
    distinct: AtomicU64,
}

/// What came back, compared with what was sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verdict {
    pub sent: u64,
    pub received: u64,
    pub duplicates: u64,
    pub missing: u64,
}

impl Verdict {
    pub fn exactly_once(&self) -> bool {
        self.duplicates == 0 && self.missing == 0
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [sent, received, duplicates, missing] =
            [self.sent, self.received, self.duplicates, self.missing].map(|n| count(n as f64));
        write!(f, "{sent} sent, {received} received, {duplicates} duplicates, {missing} missing")
    }
}

impl Tracker {
    pub fn new(tag: String) -> Arc<Self> {
        Arc::new(Self {
            tag,
            next_id: AtomicU64::new(0),
            failed: Mutex::new(Vec::new()),
            deliveries: Mutex::new(Vec::new()),
            distinct: AtomicU64::new(0),
        })
    }

    /// Allocates `n` fresh ids and returns them with their bodies.
    pub fn bodies(&self, n: usize) -> (Vec<u64>, Vec<String>) {
        let first = self.next_id.fetch_add(n as u64, Relaxed);
        let ids: Vec<u64> = (first..first + n as u64).collect();
        let bodies = ids.iter().map(|&id| self.body(id)).collect();
        (ids, bodies)
    }

    fn body(&self, id: u64) -> String {
        let mut body = format!("{}:{id}:", self.tag);
        body.extend(std::iter::repeat_n('.', BODY_LEN.saturating_sub(body.len())));
        body
    }

    pub fn send_failed(&self, ids: impl IntoIterator<Item = u64>) {
        self.failed.lock().unwrap().extend(ids);
    }

    fn expected(&self) -> u64 {
        self.next_id.load(Relaxed) - self.failed.lock().unwrap().len() as u64
    }

    /// Every successfully sent body has been received at least once.
    pub fn complete(&self) -> bool {
        self.distinct.load(Relaxed) >= self.expected()
    }

    fn record(&self, id: u64) {
        let mut deliveries = self.deliveries.lock().unwrap();
        let i = id as usize;
        if deliveries.len() <= i {
            deliveries.resize(i + 1, 0);
        }
        if deliveries[i] == 0 {
            self.distinct.fetch_add(1, Relaxed);
        }
        deliveries[i] = deliveries[i].saturating_add(1);
    }

    pub fn verdict(&self) -> Verdict {
        let mut failed = self.failed.lock().unwrap().clone();
        failed.sort_unstable();
        let deliveries = self.deliveries.lock().unwrap();
        let sent = self.next_id.load(Relaxed);
        let mut v = Verdict { sent: sent - failed.len() as u64, ..Verdict::default() };
        for id in 0..sent {
            let n = deliveries.get(id as usize).copied().unwrap_or(0) as u64;
            v.received += n.min(1);
            v.duplicates += n.saturating_sub(1);
            if n == 0 && failed.binary_search(&id).is_err() {
                v.missing += 1;
            }
        }
        v
    }
}

/// Routes received messages to the trackers of the current phase.
#[derive(Default)]
pub struct Ledger {
    trackers: Vec<Arc<Tracker>>,
    /// Bodies no tracker claims: not ours, or mangled.
    pub unknown: AtomicU64,
    /// Bodies whose MD5OfBody does not match.
    pub corrupt: AtomicU64,
}

impl Ledger {
    pub fn new(trackers: Vec<Arc<Tracker>>) -> Self {
        Self { trackers, ..Self::default() }
    }

    pub fn record(&self, messages: &[Message]) {
        for m in messages {
            if !m.md5_of_body.is_empty() && m.md5_of_body != hex::encode(Md5::digest(&m.body)) {
                self.corrupt.fetch_add(1, Relaxed);
            }
            match self.attribute(&m.body) {
                Some((tracker, id)) => tracker.record(id),
                None => {
                    self.unknown.fetch_add(1, Relaxed);
                }
            }
        }
    }

    fn attribute(&self, body: &str) -> Option<(&Tracker, u64)> {
        let mut parts = body.splitn(3, ':');
        let (tag, id) = (parts.next()?, parts.next()?.parse().ok()?);
        let tracker = self.trackers.iter().find(|t| t.tag == tag)?;
        Some((tracker, id))
    }

    pub fn all_complete(&self) -> bool {
        self.trackers.iter().all(|t| t.complete())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> Message {
        Message { receipt_handle: String::new(), body: body.to_string(), md5_of_body: hex::encode(Md5::digest(body)) }
    }

    #[test]
    fn counts_duplicates_missing_and_failed_sends() {
        let t = Tracker::new("t".into());
        let (ids, bodies) = t.bodies(4);
        assert!(bodies.iter().all(|b| b.len() == BODY_LEN));
        t.send_failed([ids[3]]);
        let ledger = Ledger::new(vec![t.clone()]);
        ledger.record(&[msg(&bodies[0]), msg(&bodies[0]), msg(&bodies[1])]);
        ledger.record(&[msg("someone else's")]);
        assert!(!t.complete());
        let v = t.verdict();
        assert_eq!((v.sent, v.received, v.duplicates, v.missing), (3, 2, 1, 1));
        assert_eq!(ledger.unknown.load(Relaxed), 1);
        ledger.record(&[msg(&bodies[2])]);
        assert!(t.complete());
    }

    #[test]
    fn flags_corrupt_bodies() {
        let ledger = Ledger::new(vec![]);
        let mut m = msg("x");
        m.md5_of_body = "00".into();
        ledger.record(&[m]);
        assert_eq!(ledger.corrupt.load(Relaxed), 1);
    }
}
