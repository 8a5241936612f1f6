//! The delivery path: each job fans out to its subscriptions; SQS
//! deliveries pass the queue policy as `sns.amazonaws.com`; HTTP/S
//! deliveries retry on the subscription's schedule; what cannot be
//! delivered goes to the subscription's dead-letter queue, or is dropped
//! with one log line saying why. Every outcome is counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::envelope;
use super::error::{invalid, SnsResult};
use super::queue;
use super::records::{self, Job, Notice, OutboxEntry, Retry};
use super::subscription::Subscription;
use super::topic::Topic;
use super::{Enforcement, Shared, Sns};
use crate::pattern::Scope;
use crate::policy;
use crate::sqs::{Attributes, Caller, Queue, SendRequest};

pub const SNS_PRINCIPAL: &str = "sns.amazonaws.com";

/// Outcomes of deliveries since start.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub delivered: AtomicU64,
    pub filtered_out: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Dropped because a queue policy did not allow the delivery (gotchas #3).
    pub dropped_by_policy: AtomicU64,
    /// Dropped for any other reason (no DLQ, queue gone, retries exhausted).
    pub dropped: AtomicU64,
    pub recorded: AtomicU64,
}

impl DeliveryStats {
    pub(super) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "delivered": g(&self.delivered), "filteredOut": g(&self.filtered_out), "retried": g(&self.retried),
            "deadLettered": g(&self.dead_lettered), "droppedByPolicy": g(&self.dropped_by_policy),
            "dropped": g(&self.dropped), "recorded": g(&self.recorded),
        })
    }
}

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug)]
pub(super) struct Failure {
    pub reason: String,
    pub retryable: bool,
    pub denied_by_policy: bool,
}

impl Failure {
    fn permanent(reason: impl Into<String>) -> Failure {
        Failure { reason: reason.into(), retryable: false, denied_by_policy: false }
    }
}

/// Delivers one job to every subscription concurrently, then forgets it.
pub(super) async fn deliver_job(sns: Arc<Sns>, seq: u64, job: Job) {
    let topic = match sns.lookup_topic(&job.notice.topic_arn) {
        Ok(t) => Some(t),
        Err(_) => {
            tracing::info!(topic = %job.notice.topic_arn, message_id = %job.notice.message_id,
                "topic deleted before delivery: message not delivered");
            None
        }
    };
    if let Some(topic) = topic {
        let notice = Arc::new(job.notice);
        let signatures = Arc::new(Signatures::default());
        let mut set = tokio::task::JoinSet::new();
        let mut bodies = HashMap::new();
        for sub in sns.subscriptions_of(&topic.arn) {
            if sub.pending() || sub.state.read().record.created_seq > seq {
                continue;
            }
            if !matches_filter(&sub, &notice, &mut bodies) {
                DeliveryStats::bump(&sns.stats.filtered_out);
                tracing::debug!(subscription = %sub.arn, message_id = %notice.message_id, "filtered out by the subscription's FilterPolicy");
                continue;
            }
            set.spawn(deliver_first(sns.clone(), topic.clone(), sub, notice.clone(), signatures.clone()));
        }
        while set.join_next().await.is_some() {}
    }
    forget(&sns.sh, &sns.sh.jobs, seq);
}

/// Deletes a finished job or retry record; the next group commit makes it
/// durable (a crash before that only repeats a delivery, never loses one).
pub(super) fn forget(sh: &Shared, family: &eddy_store::Partition, seq: u64) {
    let mut batch = sh.store.batch();
    batch.delete(family, records::seq_key(seq).to_vec());
    match batch.commit().and_then(|t| sh.store.make_durable_soon(t)) {
        Ok(()) => {}
        Err(e) => tracing::warn!(error = %e, "could not forget a finished delivery record"),
    }
}

/// Whether the subscription's FilterPolicy lets the message through.
/// `bodies` keeps each message text parsed once per job for body-scope policies.
fn matches_filter<'n>(
    sub: &Subscription,
    notice: &'n Notice,
    bodies: &mut HashMap<&'n str, Option<serde_json::Value>>,
) -> bool {
    let st = sub.state.read();
    let Some(filter) = &st.filter else { return true };
    match filter.scope() {
        Scope::MessageBody => {
            let text = notice.message_for(&sub.protocol);
            let body = bodies.entry(text).or_insert_with(|| serde_json::from_str(text).ok());
            filter.matches_body(body.as_ref())
        }
        Scope::MessageAttributes => {
            let attrs = notice
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.data_type.as_str(), v.string.as_deref().unwrap_or("")));
            filter.matches_attributes(attrs)
        }
    }
}

/// One message on its way to one subscription.
pub(super) struct Delivery<'a> {
    pub sns: &'a Sns,
    pub topic: &'a Topic,
    pub sub: &'a Subscription,
    pub notice: &'a Notice,
    /// Signatures shared by the job's deliveries; None for queued ones.
    pub cache: Option<&'a Signatures>,
}

impl Delivery<'_> {
    pub async fn attempt(&self) -> Result<(), Failure> {
        match self.sub.protocol.as_str() {
            "sqs" => self.to_sqs().await,
            "http" | "https" => self.to_http().await,
            _ => self.to_outbox().await,
        }
    }

    /// What the endpoint receives: the message itself when raw, else the envelope.
    async fn body(&self) -> String {
        if self.sub.raw() {
            self.notice.message_for(&self.sub.protocol).to_string()
        } else {
            self.envelope().await
        }
    }

    /// Raw deliveries carry the message attributes as SQS attributes.
    fn attributes(&self) -> Attributes {
        if self.sub.raw() {
            self.notice.attributes.clone()
        } else {
            Attributes::new()
        }
    }

    /// The envelope this subscription receives (signed unless the topic is
    /// FIFO). The job's deliveries share one signature: the first to need
    /// it makes it, the others await it without holding a lock.
    async fn envelope(&self) -> String {
        let (notice, urls) = (self.notice, &self.sns.sh.config.urls);
        let message = notice.message_for(&self.sub.protocol);
        if self.topic.fifo {
            return envelope::unsigned_notification(notice, message, &self.sub.arn, urls);
        }
        let version = self.topic.signature_version();
        let sign = || sign_off_workers(&self.sns.sh, notice, message, version);
        let signature = match self.cache {
            Some(c) => {
                let cell = c.0.lock().entry((message.to_string(), version)).or_default().clone();
                cell.get_or_init(sign).await.clone()
            }
            None => sign().await,
        };
        envelope::notification(notice, message, &signature, &self.sub.arn, urls)
    }

    async fn to_sqs(&self) -> Result<(), Failure> {
        let queue = self
            .sns
            .sh
            .sqs
            .lookup_arn(&self.sub.endpoint)
            .ok_or_else(|| Failure::permanent(format!("queue {} does not exist", self.sub.endpoint)))?;
        check_queue_policy(self.sns, &queue, self.topic, "subscription")?;
        send_to_queue(self.sns, &queue, self.topic, self.notice, self.body().await, self.attributes()).await
    }

    async fn to_http(&self) -> Result<(), Failure> {
        let (sub, notice) = (self.sub, self.notice);
        let mut headers = vec![
            ("content-type", content_type(sub, self.topic)),
            ("x-amz-sns-message-type", "Notification".to_string()),
            ("x-amz-sns-message-id", notice.message_id.clone()),
            ("x-amz-sns-topic-arn", self.topic.arn.clone()),
            ("x-amz-sns-subscription-arn", sub.arn.clone()),
        ];
        if sub.raw() {
            headers.push(("x-amz-sns-rawdelivery", "true".to_string()));
        }
        post(self.sns, &sub.endpoint, headers, self.body().await).await
    }

    /// Protocols eddy does not send (email, SMS, mobile push, Lambda): recorded.
    async fn to_outbox(&self) -> Result<(), Failure> {
        let (sub, notice) = (self.sub, self.notice);
        let message = match sub.protocol.as_str() {
            "email-json" => self.envelope().await,
            _ => notice.message_for(&sub.protocol).to_string(),
        };
        let entry = OutboxEntry {
            protocol: sub.protocol.clone(),
            endpoint: sub.endpoint.clone(),
            subscription_arn: Some(sub.arn.clone()),
            topic_arn: Some(self.topic.arn.clone()),
            message_id: notice.message_id.clone(),
            message,
            subject: notice.subject.clone(),
            message_attributes: envelope::attributes_json(&notice.attributes).into_iter().collect(),
            kind: "Notification".into(),
            timestamp_ms: notice.timestamp_ms,
        };
        record_outbox(&self.sns.sh, &entry).await.map_err(|e| Failure::permanent(e.to_string()))?;
        DeliveryStats::bump(&self.sns.stats.recorded);
        Ok(())
    }
}

/// The first attempt. An HTTP/S delivery is made now only when its endpoint
/// has a free slot and no backlog; otherwise it waits in the endpoint's
/// queue on disk (see [`super::queue`]), so a slow endpoint holds neither
/// this job nor the other subscribers. HTTP failures become queued retries.
async fn deliver_first(
    sns: Arc<Sns>,
    topic: Arc<Topic>,
    sub: Arc<Subscription>,
    notice: Arc<Notice>,
    signatures: Arc<Signatures>,
) {
    let http = matches!(sub.protocol.as_str(), "http" | "https");
    let permit = match http {
        true => match sns.sh.gates.get(&sub.endpoint).try_enter() {
            Some(p) => Some(p),
            None => {
                let retry = Retry::first(&notice, &sub.arn, sns.now_ms());
                queue::enqueue(&sns, &sub.endpoint, retry, "endpoint busy: delivery queued");
                return;
            }
        },
        false => None,
    };
    let d = Delivery { sns: &sns, topic: &topic, sub: &sub, notice: &notice, cache: Some(&signatures) };
    let result = d.attempt().await;
    drop(permit);
    match result {
        Ok(()) => DeliveryStats::bump(&sns.stats.delivered),
        Err(f) if f.retryable && sub.retry_schedule(topic.attribute("DeliveryPolicy").as_deref()).num_retries > 0 => {
            queue::schedule_retry(&sns, &topic, &sub, (*notice).clone(), 1, f.reason);
        }
        Err(f) => dead_letter(&d, f).await,
    }
}

async fn send_to_queue(
    sns: &Sns,
    queue: &Queue,
    topic: &Topic,
    notice: &Notice,
    body: String,
    attributes: Attributes,
) -> Result<(), Failure> {
    let req = SendRequest {
        body,
        attributes,
        // A FIFO topic's group does not reach a standard queue (recorded);
        // a standard topic's does (fair queues).
        group_id: notice.group_id.clone().filter(|_| queue.is_fifo() || !topic.fifo),
        dedup_id: if queue.is_fifo() { notice.dedup_id.clone() } else { None },
        trace_header: notice.trace_header.clone(),
        ..SendRequest::default()
    };
    let req = SendRequest {
        // A FIFO queue needs a group and a dedup id even from a standard topic's fan-out.
        group_id: req.group_id.or_else(|| queue.is_fifo().then(|| topic.arn.clone())),
        dedup_id: req.dedup_id.or_else(|| queue.is_fifo().then(|| notice.message_id.clone())),
        ..req
    };
    let caller = Caller { account: topic.account.clone(), region: region_of(&topic.arn), access_key: "sns".into() };
    sns.sh.sqs.send(queue, &caller, req).await.map(|_| ()).map_err(|e| Failure::permanent(e.to_string()))
}

/// The queue's policy must let `sns.amazonaws.com` send from this topic.
fn check_queue_policy(sns: &Sns, queue: &Queue, topic: &Topic, role: &str) -> Result<(), Failure> {
    let mode = sns.sh.config.enforcement;
    if mode == Enforcement::Off {
        return Ok(());
    }
    let policy_text = sns.sh.sqs.attribute(queue, "Policy");
    let delivery = policy::ServiceDelivery {
        service: SNS_PRINCIPAL,
        action: "sqs:SendMessage",
        resource: &queue.arn,
        source_arn: &topic.arn,
        source_account: &topic.account,
    };
    let Err(refusal) = delivery.check(policy_text.as_deref(), &sns.policies) else {
        return Ok(());
    };
    let (why, needed) = (refusal.why, refusal.needed);
    if mode == Enforcement::Warn {
        tracing::warn!(queue = %queue.arn, source = %topic.arn, role, needed = %needed,
            "policy would drop this SNS delivery ({why}); delivering anyway because --policy-enforcement=warn");
        return Ok(());
    }
    Err(Failure {
        reason: format!(
            "the policy of queue {} does not allow sns.amazonaws.com to send from {} ({why}); add this statement: {needed}",
            queue.arn, topic.arn
        ),
        retryable: false,
        denied_by_policy: true,
    })
}

/// Signatures made for one job, shared by its deliveries (see [`envelope::Signed`]).
#[derive(Default)]
pub(super) struct Signatures(parking_lot::Mutex<HashMap<(String, &'static str), SignatureCell>>);

type SignatureCell = Arc<tokio::sync::OnceCell<envelope::Signed>>;

/// Signs a notification on a blocking thread: an RSA signature costs
/// milliseconds (the first one may also generate the key: far longer), and
/// an async worker busy signing holds up every request queued on it.
async fn sign_off_workers(sh: &Shared, notice: &Notice, message: &str, version: &str) -> envelope::Signed {
    let (v, text) = envelope::notification_to_sign(notice, message, version);
    let signer = sh.signer.clone();
    off_workers(move || envelope::sign_text(signer.key(), v, &text)).await
}

/// Runs CPU-heavy work (RSA) on a blocking thread.
async fn off_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.expect("signing does not panic")
}

/// A signed SubscriptionConfirmation or UnsubscribeConfirmation (for the
/// subscription `unsubscribed`), made off the async workers.
async fn confirmation_body(
    sh: &Arc<Shared>,
    topic: &Topic,
    unsubscribed: Option<String>,
    message_id: &str,
    token: String,
) -> String {
    let (sh, topic_arn, message_id) = (sh.clone(), topic.arn.clone(), message_id.to_string());
    let version = topic.signature_version();
    off_workers(move || {
        let kind = match &unsubscribed {
            Some(arn) => envelope::Confirmation::Unsubscribe(arn),
            None => envelope::Confirmation::Subscribe,
        };
        let now_ms = sh.clock.now_ms();
        let message = envelope::ConfirmationMessage {
            kind,
            message_id: &message_id,
            topic_arn: &topic_arn,
            token: &token,
            now_ms,
        };
        envelope::confirmation(&message, sh.signer.key(), version, &sh.config.urls)
    })
    .await
}

async fn post(sns: &Sns, url: &str, headers: Vec<(&'static str, String)>, body: String) -> Result<(), Failure> {
    match sns.sh.http.post(url.to_string(), headers, body).await {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        // AWS retries server errors and unreachable endpoints, and also
        // client errors other than those that say the request is wrong.
        Ok(status) => Err(Failure { reason: format!("HTTP {status}"), retryable: true, denied_by_policy: false }),
        Err(e) => Err(Failure { reason: e, retryable: true, denied_by_policy: false }),
    }
}

fn content_type(sub: &Subscription, topic: &Topic) -> String {
    let from = |p: Option<String>, ptr: &str| {
        p.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| v.pointer(ptr).and_then(|c| c.as_str()).map(String::from))
    };
    let sub_policy = sub.record().attributes.get("DeliveryPolicy").cloned();
    from(sub_policy, "/requestPolicy/headerContentType")
        .or_else(|| from(topic.attribute("DeliveryPolicy"), "/http/defaultRequestPolicy/headerContentType"))
        .unwrap_or_else(|| "text/plain; charset=UTF-8".to_string())
}

/// Outbox entries kept: the newest; older ones are deleted (with a log line)
/// once the outbox holds [`OUTBOX_SLACK`] more than this.
pub const OUTBOX_KEEP: usize = 10_000;
const OUTBOX_SLACK: usize = 1_000;
/// Largest page of `GET /_eddy/sns/outbox`.
pub const OUTBOX_MAX_PAGE: usize = 1_000;

pub(crate) async fn record_outbox(sh: &Shared, entry: &OutboxEntry) -> SnsResult<()> {
    let mut batch = sh.store.batch();
    batch.put(&sh.outbox, records::seq_key(sh.next_seq()).to_vec(), records::to_json(entry));
    let ticket = batch.commit()?;
    if sh.outbox_len.fetch_add(1, Ordering::SeqCst) + 1 > OUTBOX_KEEP + OUTBOX_SLACK {
        prune_outbox(sh);
    }
    Ok(sh.store.durable(ticket).await?)
}

/// Deletes the oldest entries beyond [`OUTBOX_KEEP`].
fn prune_outbox(sh: &Shared) {
    let excess = sh.outbox_len.load(Ordering::SeqCst).saturating_sub(OUTBOX_KEEP);
    let mut batch = sh.store.batch();
    let mut n = 0;
    for kv in sh.outbox.scan_range(&[0u8; 8], &[0xffu8; 8]).take(excess) {
        match kv {
            Ok((k, _)) => {
                batch.delete(&sh.outbox, k);
                n += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the outbox to prune it");
                return;
            }
        }
    }
    match batch.commit().and_then(|t| sh.store.make_durable_soon(t)) {
        Ok(()) => {
            sh.outbox_len.fetch_sub(n, Ordering::SeqCst);
            tracing::info!(deleted = n, kept = OUTBOX_KEEP, "outbox full: oldest entries deleted");
        }
        Err(e) => tracing::warn!(error = %e, "could not prune the outbox"),
    }
}

/// One page of the outbox, oldest first, and the token of the next.
pub struct OutboxPage {
    pub entries: Vec<OutboxEntry>,
    pub next_token: Option<String>,
}

impl Sns {
    /// Up to `limit` entries recorded after the entry `token` names (from the
    /// oldest when None). A token is the decimal key of the last entry of the
    /// previous page; anything else is refused.
    pub fn outbox(&self, token: Option<&str>, limit: usize) -> SnsResult<OutboxPage> {
        let start = match token.filter(|t| !t.is_empty()) {
            None => 0,
            Some(t) => t.parse::<u64>().ok().and_then(|s| s.checked_add(1)).ok_or_else(|| invalid("NextToken"))?,
        };
        let limit = limit.clamp(1, OUTBOX_MAX_PAGE);
        let mut entries = Vec::new();
        let mut last = None;
        let mut rows = self.sh.outbox.scan_range(&records::seq_key(start), &[0xffu8; 8]);
        for kv in rows.by_ref() {
            let (k, v) = kv?;
            if let Ok(e) = serde_json::from_slice(&v) {
                entries.push(e);
            }
            last = Some(records::seq_of(&k));
            if entries.len() >= limit {
                break;
            }
        }
        let next_token = last.filter(|_| rows.next().is_some()).map(|s| s.to_string());
        Ok(OutboxPage { entries, next_token })
    }

    pub async fn clear_outbox(&self) -> SnsResult<usize> {
        let mut batch = self.sh.store.batch();
        let mut n = 0;
        for kv in self.sh.outbox.scan_prefix(b"") {
            batch.delete(&self.sh.outbox, kv?.0);
            n += 1;
        }
        let ticket = batch.commit()?;
        let _ = self.sh.outbox_len.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| Some(l.saturating_sub(n)));
        self.sh.store.durable(ticket).await?;
        Ok(n)
    }
}

pub(super) async fn dead_letter(d: &Delivery<'_>, failure: Failure) {
    let (sns, topic, sub, notice) = (d.sns, d.topic, d.sub, d.notice);
    let stats = &sns.stats;
    let Some(dlq_arn) = sub.dead_letter_arn() else {
        let counter = if failure.denied_by_policy { &stats.dropped_by_policy } else { &stats.dropped };
        DeliveryStats::bump(counter);
        tracing::warn!(subscription = %sub.arn, message_id = %notice.message_id, reason = %failure.reason,
            "SNS delivery dropped: it failed and the subscription has no RedrivePolicy (dead-letter queue)");
        return;
    };
    let Some(dlq) = sns.sh.sqs.lookup_arn(&dlq_arn) else {
        DeliveryStats::bump(&stats.dropped);
        tracing::warn!(subscription = %sub.arn, message_id = %notice.message_id, dlq = %dlq_arn, reason = %failure.reason,
            "SNS delivery dropped: it failed and the dead-letter queue does not exist");
        return;
    };
    if let Err(denied) = check_queue_policy(sns, &dlq, topic, "dead-letter queue") {
        DeliveryStats::bump(&stats.dropped_by_policy);
        tracing::warn!(subscription = %sub.arn, message_id = %notice.message_id, reason = %failure.reason,
            dlq = %dlq.arn, why = %denied.reason,
            "SNS delivery dropped: it failed, and the dead-letter queue's policy does not let SNS write to it");
        return;
    }
    // AWS-recorded: the DLQ copy is what the endpoint would have received,
    // with the message's own attributes when raw; the reason is only logged.
    match send_to_queue(sns, &dlq, topic, notice, d.body().await, d.attributes()).await {
        Ok(()) => {
            DeliveryStats::bump(&stats.dead_lettered);
            tracing::info!(subscription = %sub.arn, message_id = %notice.message_id, dlq = %dlq.arn, reason = %failure.reason,
                "SNS delivery failed; message moved to the subscription's dead-letter queue");
        }
        Err(e) => {
            DeliveryStats::bump(&stats.dropped);
            tracing::warn!(subscription = %sub.arn, message_id = %notice.message_id, dlq = %dlq.arn, error = %e.reason,
                "SNS delivery dropped: writing to the dead-letter queue failed");
        }
    }
}

/// The SubscriptionConfirmation for a new HTTP/S, email or cross-account SQS subscription.
pub(crate) async fn send_confirmation(
    sh: Arc<Shared>,
    stats: Arc<DeliveryStats>,
    topic: Arc<Topic>,
    sub: Arc<Subscription>,
) {
    let Some(token) = sub.record().token else { return };
    let message_id = uuid::Uuid::new_v4().to_string();
    let body = confirmation_body(&sh, &topic, None, &message_id, token.clone()).await;
    match sub.protocol.as_str() {
        "http" | "https" => {
            let headers = vec![
                ("content-type", "text/plain; charset=UTF-8".to_string()),
                ("x-amz-sns-message-type", "SubscriptionConfirmation".to_string()),
                ("x-amz-sns-message-id", message_id),
                ("x-amz-sns-topic-arn", topic.arn.clone()),
            ];
            let (http, url) = (sh.http.clone(), sub.endpoint.clone());
            tokio::spawn(async move {
                // Like AWS, try a few times: the endpoint may be starting up.
                for attempt in 0..3u64 {
                    let slot = sh.gates.get(&url).enter().await;
                    let posted = http.post(url.clone(), headers.clone(), body.clone()).await;
                    drop(slot);
                    match posted {
                        Ok(s) if (200..300).contains(&s) => return,
                        Ok(s) => tracing::info!(endpoint = %url, status = s, "SubscriptionConfirmation not accepted"),
                        Err(e) => tracing::info!(endpoint = %url, error = %e, "SubscriptionConfirmation not delivered"),
                    }
                    tokio::time::sleep(Duration::from_secs(1 + attempt * 2)).await;
                }
            });
        }
        "sqs" => {
            if let Some(queue) = sh.sqs.lookup_arn(&sub.endpoint) {
                let caller =
                    Caller { account: topic.account.clone(), region: region_of(&topic.arn), access_key: "sns".into() };
                let req = SendRequest { body, ..SendRequest::default() };
                if let Err(e) = sh.sqs.send(&queue, &caller, req).await {
                    tracing::warn!(queue = %queue.arn, error = %e, "SubscriptionConfirmation not delivered");
                }
            }
        }
        _ => {
            let entry = OutboxEntry {
                protocol: sub.protocol.clone(),
                endpoint: sub.endpoint.clone(),
                subscription_arn: Some(sub.arn.clone()),
                topic_arn: Some(topic.arn.clone()),
                message_id,
                message: body,
                subject: Some("AWS Notification - Subscription Confirmation".into()),
                message_attributes: Default::default(),
                kind: "SubscriptionConfirmation".into(),
                timestamp_ms: sh.clock.now_ms(),
            };
            match record_outbox(&sh, &entry).await {
                Ok(()) => DeliveryStats::bump(&stats.recorded),
                Err(e) => tracing::warn!(error = %e, "could not record a SubscriptionConfirmation"),
            }
        }
    }
}

/// Tells an HTTP/S endpoint it was unsubscribed (one attempt; nothing waits on it).
pub(crate) fn send_unsubscribe_confirmation(sh: Arc<Shared>, topic: Arc<Topic>, sub: Arc<Subscription>) {
    // A fresh token, not the subscription's (recorded from AWS).
    let token = super::subscription::new_token();
    let message_id = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let body = confirmation_body(&sh, &topic, Some(sub.arn.clone()), &message_id, token).await;
        let headers = vec![
            ("content-type", "text/plain; charset=UTF-8".to_string()),
            ("x-amz-sns-message-type", "UnsubscribeConfirmation".to_string()),
            ("x-amz-sns-message-id", message_id),
            ("x-amz-sns-topic-arn", topic.arn.clone()),
            ("x-amz-sns-subscription-arn", sub.arn.clone()),
        ];
        let _slot = sh.gates.get(&sub.endpoint).enter().await;
        if let Err(e) = sh.http.post(sub.endpoint.clone(), headers, body).await {
            tracing::info!(endpoint = %sub.endpoint, error = %e, "UnsubscribeConfirmation not delivered");
        }
    });
}

fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or("us-east-1").to_string()
}
