//! Start-up: topics, subscriptions and live FIFO deduplication ids back
//! into memory (expired ones deleted). Unfinished jobs stay on disk: the
//! delivery loop reads them a bounded number at a time, and queued HTTP/S
//! deliveries resume per endpoint (see `dispatch` and `queue`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use eddy_store::{Partition, Store};
use serde::de::DeserializeOwned;

use super::error::{SnsError, SnsResult};
use super::records::{self, DedupRecord, SubscriptionRecord, TopicRecord};
use super::subscription::Subscription;
use super::topic::Topic;
use super::Sns;
use crate::signing::SigningKey;

pub(crate) fn recover(sns: &Arc<Sns>) -> SnsResult<()> {
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
    recover_dedup(sns)?;
    let outbox = sh.outbox.scan_prefix(b"").count();
    sh.outbox_len.store(outbox, Ordering::SeqCst);
    // Sequence numbers continue after every job and retry on disk.
    let last = |family: &Partition| -> SnsResult<u64> {
        Ok(family.last_in(&[0u8; 8], &[0xffu8; 8])?.map_or(0, |(k, _)| records::seq_of(&k)))
    };
    let max_seq = last(&sh.jobs)?.max(last(&sh.retries)?);
    sh.seq.fetch_max(max_seq + 1, Ordering::Relaxed);
    let jobs = sh.jobs.scan_prefix(b"").next().is_some();
    sns.admission.recovered(jobs);
    tracing::info!(
        topics = sns.topics.read().len(),
        subscriptions = sns.subscriptions.read().len(),
        unfinished_jobs = jobs,
        "SNS state recovered"
    );
    Ok(())
}

/// Live deduplication ids back into their topics; expired ones deleted.
fn recover_dedup(sns: &Arc<Sns>) -> SnsResult<()> {
    let sh = &sns.sh;
    let now = sh.clock.now_ms();
    let mut batch = sh.store.batch();
    let mut expired = 0usize;
    for kv in sh.dedup.scan_prefix(b"") {
        let (k, v) = kv?;
        let d: DedupRecord = decode(&v, "deduplication id")?;
        let Some(split) = k.iter().position(|b| *b == 0) else { continue };
        let (arn, id) = (String::from_utf8_lossy(&k[..split]), String::from_utf8_lossy(&k[split + 1..]));
        let topic = sns.topics.read().get(arn.as_ref()).cloned();
        match topic {
            Some(t) if d.expires_ms > now => t.state.lock().remember_dedup(id.into_owned(), d),
            _ => {
                batch.delete(&sh.dedup, k);
                expired += 1;
            }
        }
    }
    if expired > 0 {
        sh.store.make_durable_soon(batch.commit()?)?;
        tracing::info!(expired, "expired FIFO deduplication ids deleted");
    }
    Ok(())
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

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> SnsResult<T> {
    serde_json::from_slice(bytes).map_err(|e| SnsError::Internal(format!("corrupt {what} record: {e}")))
}
