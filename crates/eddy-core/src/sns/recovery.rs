//! Start-up: topics, subscriptions and FIFO deduplication ids back into
//! memory; unfinished jobs and retries handed to the delivery loop.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use eddy_store::{Partition, Store};
use serde::de::DeserializeOwned;

use super::error::{SnsError, SnsResult};
use super::records::{self, DedupRecord, Job, Retry, SubscriptionRecord, TopicRecord};
use super::subscription::Subscription;
use super::topic::Topic;
use super::Sns;
use crate::signing::SigningKey;

/// Work the previous run accepted but did not finish.
#[derive(Default)]
pub struct Pending {
    pub jobs: Vec<(u64, Job)>,
    pub retries: Vec<(u64, Retry)>,
}

pub(crate) fn recover(sns: &Arc<Sns>) -> SnsResult<Pending> {
    let sh = &sns.sh;
    for kv in sh.topics.scan_prefix(b"") {
        let record: TopicRecord = decode(&kv?.1, "topic")?;
        sns.topics.write().insert(record.arn.clone(), Arc::new(Topic::new(record)));
    }
    for kv in sh.subscriptions.scan_prefix(b"") {
        let record: SubscriptionRecord = decode(&kv?.1, "subscription")?;
        let sub = Subscription::new(record)?;
        sns.subscriptions.write().insert(Arc::new(sub));
    }
    for kv in sh.applications.scan_prefix(b"") {
        let app: super::PlatformApplication = decode(&kv?.1, "platform application")?;
        sns.applications.write().insert(app.arn.clone(), app);
    }
    for kv in sh.endpoints.scan_prefix(b"") {
        let endpoint: super::PlatformEndpoint = decode(&kv?.1, "platform endpoint")?;
        sns.endpoints.write().insert(endpoint.arn.clone(), endpoint);
    }
    let now = sh.clock.now_ms();
    for kv in sh.dedup.scan_prefix(b"") {
        let (k, v) = kv?;
        let d: DedupRecord = decode(&v, "deduplication id")?;
        let Some(split) = k.iter().position(|b| *b == 0) else { continue };
        let (arn, id) = (String::from_utf8_lossy(&k[..split]), String::from_utf8_lossy(&k[split + 1..]));
        if d.expires_ms > now {
            if let Some(t) = sns.topics.read().get(arn.as_ref()) {
                t.state.lock().dedup.insert(id.into_owned(), d);
            }
        }
    }
    let mut pending = Pending::default();
    let mut max_seq = 0;
    for kv in sh.jobs.scan_prefix(b"") {
        let (k, v) = kv?;
        let seq = seq_of(&k);
        max_seq = max_seq.max(seq);
        pending.jobs.push((seq, decode(&v, "delivery job")?));
    }
    for kv in sh.retries.scan_prefix(b"") {
        let (k, v) = kv?;
        let seq = seq_of(&k);
        max_seq = max_seq.max(seq);
        pending.retries.push((seq, decode(&v, "delivery retry")?));
    }
    sh.seq.fetch_max(max_seq + 1, Ordering::Relaxed);
    tracing::info!(
        topics = sns.topics.read().len(),
        subscriptions = sns.subscriptions.read().len(),
        jobs = pending.jobs.len(),
        retries = pending.retries.len(),
        "SNS state recovered"
    );
    Ok(pending)
}

/// The key notifications are signed with: made once, then kept in the
/// store. Generating an RSA key takes tens of milliseconds, so a new data
/// directory gets its key when the first signature is needed, not at start-up.
pub struct Signer {
    key: OnceLock<SigningKey>,
    store: Store,
    keys: Partition,
}

impl Signer {
    pub(crate) fn open(store: &Store, keys: Partition) -> SnsResult<Arc<Signer>> {
        let signer = Arc::new(Signer { key: OnceLock::new(), store: store.clone(), keys });
        // An existing data directory's key is read now (a millisecond); a new one is made lazily.
        if let Some(bytes) = signer.keys.get(records::SIGNING_KEY)? {
            let key =
                SigningKey::from_bytes(&bytes).map_err(|e| SnsError::Internal(format!("stored signing key: {e}")))?;
            let _ = signer.key.set(key);
        }
        Ok(signer)
    }

    /// The key, made and stored first if this is a new data directory.
    pub fn key(&self) -> &SigningKey {
        self.key.get_or_init(|| {
            let key = SigningKey::generate().expect("RSA key generation does not fail");
            let mut batch = self.store.batch();
            batch.put(&self.keys, records::SIGNING_KEY.to_vec(), key.to_bytes());
            match batch.commit().and_then(|t| self.store.make_durable_soon(t)) {
                Ok(()) => tracing::info!("created the SNS signing key and certificate"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not store the SNS signing key; a new one is made next start")
                }
            }
            key
        })
    }
}

fn seq_of(key: &[u8]) -> u64 {
    key.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> SnsResult<T> {
    serde_json::from_slice(bytes).map_err(|e| SnsError::Internal(format!("corrupt {what} record: {e}")))
}
