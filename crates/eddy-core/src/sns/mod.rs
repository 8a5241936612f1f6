//! Amazon SNS: topics, subscriptions, Publish, and delivery to SQS, HTTP/S
//! and the recorded protocols (SMS, email, mobile push).
//!
//! Publish writes one durable job (the message and the subscriptions it
//! fans out to) and returns; [`delivery`] carries each job to its
//! subscribers, retrying HTTP with the subscription's DeliveryPolicy and
//! sending what cannot be delivered to the subscription's dead-letter queue.
//! Deliveries into SQS are made as the service principal `sns.amazonaws.com`
//! and must be allowed by the queue's policy (gotchas #3).

mod delivery;
mod dispatch;
mod envelope;
mod error;
mod manage;
mod pages;
mod platform;
mod publish;
mod queue;
mod records;
mod recovery;
mod sms;
mod subscription;
mod topic;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use eddy_store::{Partition, Store};
use parking_lot::RwLock;
use tokio::sync::mpsc;

pub use delivery::{DeliveryStats, OutboxPage, OUTBOX_KEEP, OUTBOX_MAX_PAGE};
pub use dispatch::{Backlog, LANE_IDLE_MS, MAX_LOADED_JOBS};
pub use envelope::Urls;
pub use error::{arn_elements, check_confirmation_topic, check_topic_arn, SnsError, SnsResult};
pub use manage::SubscribeRequest;
pub use pages::Page;
pub use platform::{PlatformApplication, PlatformEndpoint};
pub use publish::{PublishRequest, Published};
pub use queue::SLOTS as HTTP_SLOTS_PER_ENDPOINT;
pub use records::{OutboxEntry, SubscriptionRecord, TopicRecord};
pub use subscription::{RetrySchedule, Subscription};
pub use topic::Topic;

use crate::clock::{Clock, Millis};
use crate::sqs::Sqs;

/// What to do when a queue's policy does not allow a service's delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Drop the delivery, as AWS does.
    Enforce,
    /// Deliver anyway, but log the line that `Enforce` would have logged.
    Warn,
    /// Do not evaluate policies.
    Off,
}

/// Sends an HTTP POST for HTTP/S subscriptions. The binary provides it, so
/// this crate stays free of HTTP.
pub trait HttpSender: Send + Sync + 'static {
    /// POSTs `body` with `headers`; the response status, or why there was none.
    fn post(
        &self,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>>;
}

pub struct SnsConfig {
    pub enforcement: Enforcement,
    pub urls: Urls,
}

/// Who is calling: the account and region resources live in.
pub use crate::sqs::Caller;

pub(crate) struct Shared {
    pub store: Store,
    pub topics: Partition,
    pub subscriptions: Partition,
    pub jobs: Partition,
    /// Retries of earlier versions, moved into `queued` at start-up.
    pub retries: Partition,
    /// HTTP/S deliveries waiting for their endpoint (see `queue`).
    pub queued: Partition,
    pub dedup: Partition,
    pub outbox: Partition,
    pub applications: Partition,
    pub endpoints: Partition,
    pub sms: Partition,
    pub clock: Arc<dyn Clock>,
    pub sqs: Arc<Sqs>,
    pub signer: Arc<recovery::Signer>,
    pub http: Arc<dyn HttpSender>,
    pub config: SnsConfig,
    /// Issues and reads listing tokens.
    pub tokens: crate::page::PageTokens,
    /// Job, retry and outbox keys and FIFO sequence numbers: start at the
    /// clock (in 2^20ths of a millisecond), so they keep increasing across restarts.
    seq: AtomicU64,
    /// HTTP/S slots and queues per endpoint.
    pub gates: queue::Gates,
    /// Entries in the outbox (counted at start-up), to keep it bounded.
    pub outbox_len: AtomicUsize,
}

impl Shared {
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

pub struct Sns {
    sh: Arc<Shared>,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    subscriptions: RwLock<subscription::SubscriptionIndex>,
    jobs_tx: mpsc::UnboundedSender<dispatch::Work>,
    admission: dispatch::Admission,
    policies: crate::policy::PolicyCache,
    applications: RwLock<HashMap<String, PlatformApplication>>,
    endpoints: RwLock<HashMap<String, PlatformEndpoint>>,
    /// Serialises SMS settings changes (read-modify-write of one record).
    sms_lock: parking_lot::Mutex<()>,
    pub stats: Arc<DeliveryStats>,
}

impl Sns {
    /// Opens SNS state in `store`. Deliveries start when [`Sns::run_deliveries`] runs.
    pub fn open(
        store: Store,
        clock: Arc<dyn Clock>,
        sqs: Arc<Sqs>,
        http: Arc<dyn HttpSender>,
        config: SnsConfig,
    ) -> SnsResult<(Arc<Sns>, Backlog)> {
        let part = store.partition(records::PARTITION)?;
        let signer = recovery::Signer::open(&store, part.family(records::KEYS))?;
        let tokens = crate::page::PageTokens::open(&store)?;
        let seq = clock.now_ms() << 20;
        let sh = Shared {
            topics: part.family(records::TOPICS),
            subscriptions: part.family(records::SUBSCRIPTIONS),
            jobs: part.family(records::JOBS),
            retries: part.family(records::RETRIES),
            queued: part.family(records::QUEUED),
            dedup: part.family(records::DEDUP),
            outbox: part.family(records::OUTBOX),
            applications: part.family(records::APPLICATIONS),
            endpoints: part.family(records::ENDPOINTS),
            sms: part.family(records::SMS),
            store,
            clock,
            sqs,
            signer,
            http,
            config,
            tokens,
            seq: AtomicU64::new(seq),
            outbox_len: AtomicUsize::new(0),
            gates: queue::Gates::default(),
        };
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
        let sns = Arc::new(Sns {
            sh: Arc::new(sh),
            topics: RwLock::new(HashMap::new()),
            subscriptions: RwLock::new(subscription::SubscriptionIndex::default()),
            jobs_tx,
            admission: dispatch::Admission::default(),
            policies: crate::policy::PolicyCache::default(),
            applications: RwLock::new(HashMap::new()),
            endpoints: RwLock::new(HashMap::new()),
            sms_lock: parking_lot::Mutex::new(()),
            stats: Arc::new(DeliveryStats::default()),
        });
        recovery::recover(&sns)?;
        Ok((sns, Backlog { rx: jobs_rx }))
    }

    pub fn now_ms(&self) -> Millis {
        self.sh.clock.now_ms()
    }

    pub fn topic_count(&self) -> usize {
        self.topics.read().len()
    }

    /// The PEM certificate notifications' `SigningCertURL` points at.
    pub fn signing_certificate(&self) -> String {
        self.sh.signer.key().certificate_pem().to_string()
    }

    pub fn lookup_topic(&self, arn: &str) -> SnsResult<Arc<Topic>> {
        self.topics.read().get(arn).cloned().ok_or_else(|| SnsError::NotFound("Topic does not exist".into()))
    }

    pub fn lookup_subscription(&self, arn: &str) -> SnsResult<Arc<Subscription>> {
        self.subscriptions
            .read()
            .get(arn)
            .cloned()
            .ok_or_else(|| SnsError::NotFound("Subscription does not exist".into()))
    }

    pub(crate) fn subscriptions_of(&self, topic_arn: &str) -> Vec<Arc<Subscription>> {
        let mut subs = self.subscriptions.read().of_topic(topic_arn).to_vec();
        subs.sort_by(|a, b| a.arn.cmp(&b.arn));
        subs
    }

    /// Every topic and subscription, for `eddy doctor`.
    pub fn all_topics(&self) -> Vec<Arc<Topic>> {
        let mut t: Vec<_> = self.topics.read().values().cloned().collect();
        t.sort_by(|a, b| a.arn.cmp(&b.arn));
        t
    }

    pub fn all_subscriptions(&self) -> Vec<Arc<Subscription>> {
        let mut s: Vec<_> = self.subscriptions.read().all().cloned().collect();
        s.sort_by(|a, b| a.arn.cmp(&b.arn));
        s
    }
}

#[cfg(test)]
mod tests;
