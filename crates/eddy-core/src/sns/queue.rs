//! HTTP/S deliveries per endpoint (`host:port`): at most [`SLOTS`] requests
//! in flight to one endpoint, and every delivery that has to wait (a retry,
//! or a first attempt that found no free slot) waits as a record in the
//! store, not in memory. One pump task per endpoint with waiting deliveries
//! loads them in due order, as slots free up.
//!
//! So an endpoint that accepts connections and never answers holds
//! [`SLOTS`] connections for AWS's 15-second delivery timeout (enforced by
//! the [`super::HttpSender`]) and a growing queue on disk, while every other
//! endpoint and protocol keeps its own pace.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::delivery::{dead_letter, Delivery, DeliveryStats, Failure};
use super::records::{self, Retry};
use super::subscription::Subscription;
use super::topic::Topic;
use super::Sns;
use crate::clock::Millis;

/// Requests in flight to one endpoint at once. AWS documents no figure for
/// this; its own knob is the DeliveryPolicy's `throttlePolicy`
/// (`maxReceivesPerSecond`, no throttling by default). This bound is
/// eddy's, so one hung endpoint cannot take every socket of the process.
pub const SLOTS: usize = 8;

/// Longest a pump sleeps before looking at its queue again (the clock may
/// be moved by tests, and a due time may have been written meanwhile).
const MAX_NAP_MS: Millis = 1000;

/// The endpoint's key: lower-case `host:port`, the port made explicit.
pub(crate) fn endpoint_key(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_ascii_lowercase();
    // `[::1]` has colons but no port; `[::1]:8080` and `host:8080` have one.
    let has_port = host_port.rfind(':').is_some_and(|i| !host_port[i..].contains(']'));
    if has_port {
        return host_port;
    }
    let port = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
    format!("{host_port}:{port}")
}

/// One endpoint's slots and queue state.
pub(crate) struct Gate {
    key: String,
    slots: Arc<Semaphore>,
    wake: Notify,
    /// A pump task runs (the endpoint has queued deliveries).
    pumping: AtomicBool,
    /// Keys of queued deliveries being attempted now.
    in_flight: Mutex<HashSet<Vec<u8>>>,
    /// Whether "endpoint busy" was logged since the queue last emptied.
    saturated: AtomicBool,
}

impl Gate {
    fn new(key: String) -> Gate {
        Gate {
            key,
            slots: Arc::new(Semaphore::new(SLOTS)),
            wake: Notify::new(),
            pumping: AtomicBool::new(false),
            in_flight: Mutex::new(HashSet::new()),
            saturated: AtomicBool::new(false),
        }
    }

    /// A slot for a first attempt made now, unless the endpoint has a queue
    /// (then the delivery queues behind it, to keep publish order).
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        if self.pumping.load(Ordering::SeqCst) {
            return None;
        }
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Waits for a slot: for confirmations, which are not queued on disk.
    pub async fn enter(&self) -> OwnedSemaphorePermit {
        self.slots.clone().acquire_owned().await.expect("gate semaphores are never closed")
    }

    fn idle(&self) -> bool {
        !self.pumping.load(Ordering::SeqCst) && self.slots.available_permits() == SLOTS
    }
}

/// Gates by endpoint key; idle ones are reaped by the housekeeping pass.
#[derive(Default)]
pub(crate) struct Gates(Mutex<HashMap<String, Arc<Gate>>>);

impl Gates {
    pub fn get(&self, url: &str) -> Arc<Gate> {
        let key = endpoint_key(url);
        self.0.lock().entry(key.clone()).or_insert_with(|| Arc::new(Gate::new(key))).clone()
    }

    /// Forgets gates nobody uses; returns how many.
    pub fn reap(&self) -> usize {
        let mut map = self.0.lock();
        let before = map.len();
        map.retain(|_, g| Arc::strong_count(g) > 1 || !g.idle());
        before - map.len()
    }

    pub fn len(&self) -> usize {
        self.0.lock().len()
    }
}

/// Writes a waiting delivery for `url`'s endpoint and makes sure its pump runs.
pub(super) fn enqueue(sns: &Arc<Sns>, url: &str, retry: Retry, why: &'static str) {
    let gate = sns.sh.gates.get(url);
    let key = records::queue_key(&gate.key, retry.due_ms, sns.sh.next_seq());
    let mut batch = sns.sh.store.batch();
    batch.put(&sns.sh.queued, key, records::to_json(&retry));
    if let Err(e) = batch.commit().and_then(|t| sns.sh.store.make_durable_soon(t)) {
        tracing::warn!(error = %e, subscription = %retry.subscription, "could not queue an HTTP/S delivery");
        return;
    }
    if retry.attempts == 0 && !gate.saturated.swap(true, Ordering::SeqCst) {
        tracing::info!(endpoint = %gate.key, slots = SLOTS, reason = why,
            "HTTP/S endpoint has all its delivery slots in use: further deliveries wait on disk until it answers");
    }
    poke(sns, &gate);
}

/// Queues the `retry`-th retry of a failed delivery, due per the DeliveryPolicy.
pub(super) fn schedule_retry(
    sns: &Arc<Sns>,
    topic: &Topic,
    sub: &Subscription,
    notice: super::records::Notice,
    retry: u32,
    error: String,
) {
    let schedule = sub.retry_schedule(topic.attribute("DeliveryPolicy").as_deref());
    let due_ms = sns.now_ms() + schedule.delay_secs(retry) * 1000;
    tracing::info!(subscription = %sub.arn, message_id = %notice.message_id, error = %error, retry,
        in_secs = schedule.delay_secs(retry), "HTTP delivery failed; retrying per the DeliveryPolicy");
    let record = Retry { notice, subscription: sub.arn.clone(), attempts: retry, due_ms, last_error: error };
    enqueue(sns, &sub.endpoint, record, "retry");
}

fn poke(sns: &Arc<Sns>, gate: &Arc<Gate>) {
    if gate.pumping.swap(true, Ordering::SeqCst) {
        gate.wake.notify_one();
    } else {
        tokio::spawn(pump(sns.clone(), gate.clone()));
    }
}

enum Next {
    Due(Vec<u8>, Box<Retry>),
    /// Nothing due yet: look again in this many milliseconds (or when woken).
    Later(Millis),
    Empty,
}

/// Runs one endpoint's queue until it is empty: each free slot takes the
/// oldest due delivery not already in flight.
async fn pump(sns: Arc<Sns>, gate: Arc<Gate>) {
    loop {
        let slot = gate.slots.clone().acquire_owned().await.expect("gate semaphores are never closed");
        match next_due(&sns, &gate) {
            Next::Due(key, retry) => {
                gate.in_flight.lock().insert(key.clone());
                tokio::spawn(attempt(sns.clone(), gate.clone(), key, *retry, slot));
            }
            Next::Later(ms) => {
                drop(slot);
                let nap = Duration::from_millis(ms.clamp(1, MAX_NAP_MS));
                tokio::select! {
                    _ = tokio::time::sleep(nap) => {}
                    _ = gate.wake.notified() => {}
                }
            }
            Next::Empty => {
                drop(slot);
                gate.pumping.store(false, Ordering::SeqCst);
                // A delivery queued between the scan and the store above saw a
                // running pump and only woke it: take the queue back if so.
                if !matches!(next_due(&sns, &gate), Next::Empty) && !gate.pumping.swap(true, Ordering::SeqCst) {
                    continue;
                }
                if gate.saturated.swap(false, Ordering::SeqCst) {
                    tracing::info!(endpoint = %gate.key, "HTTP/S endpoint caught up: no deliveries waiting");
                }
                return;
            }
        }
    }
}

fn next_due(sns: &Sns, gate: &Gate) -> Next {
    let now = sns.now_ms();
    let mut busy = false;
    for kv in sns.sh.queued.scan_prefix(&records::queue_prefix(&gate.key)) {
        let (key, value) = match kv {
            Ok(kv) => kv,
            Err(e) => {
                tracing::warn!(endpoint = %gate.key, error = %e, "could not read queued HTTP/S deliveries");
                return Next::Later(MAX_NAP_MS);
            }
        };
        if gate.in_flight.lock().contains(&key) {
            busy = true;
            continue;
        }
        let due = records::parse_queue_key(&key).map_or(0, |(_, due)| due);
        if due > now {
            return Next::Later(due - now);
        }
        match serde_json::from_slice::<Retry>(&value) {
            Ok(retry) => return Next::Due(key, Box::new(retry)),
            Err(e) => {
                tracing::warn!(endpoint = %gate.key, error = %e, "corrupt queued HTTP/S delivery dropped");
                settle(&sns.sh, key, None);
            }
        }
    }
    if busy {
        Next::Later(MAX_NAP_MS)
    } else {
        Next::Empty
    }
}

/// Makes one queued attempt, then removes the record or replaces it with the next retry.
async fn attempt(sns: Arc<Sns>, gate: Arc<Gate>, key: Vec<u8>, retry: Retry, slot: OwnedSemaphorePermit) {
    let next = attempt_once(&sns, retry).await;
    let again = next.map(|r| (records::queue_key(&gate.key, r.due_ms, sns.sh.next_seq()), r));
    settle(&sns.sh, key.clone(), again);
    gate.in_flight.lock().remove(&key);
    drop(slot);
    gate.wake.notify_one();
}

fn settle(sh: &super::Shared, done: Vec<u8>, again: Option<(Vec<u8>, Retry)>) {
    let mut batch = sh.store.batch();
    batch.delete(&sh.queued, done);
    if let Some((key, retry)) = again {
        batch.put(&sh.queued, key, records::to_json(&retry));
    }
    if let Err(e) = batch.commit().and_then(|t| sh.store.make_durable_soon(t)) {
        tracing::warn!(error = %e, "could not update a queued HTTP/S delivery");
    }
}

/// The attempt itself; the delivery's next retry, if it gets one.
async fn attempt_once(sns: &Arc<Sns>, mut retry: Retry) -> Option<Retry> {
    let (Ok(sub), Ok(topic)) =
        (sns.lookup_subscription(&retry.subscription), sns.lookup_topic(&retry.notice.topic_arn))
    else {
        tracing::info!(subscription = %retry.subscription, message_id = %retry.notice.message_id,
            "subscription or topic gone: queued HTTP/S delivery dropped");
        return None;
    };
    if retry.attempts > 0 {
        DeliveryStats::bump(&sns.stats.retried);
    }
    let schedule = sub.retry_schedule(topic.attribute("DeliveryPolicy").as_deref());
    let reason = {
        let d = Delivery { sns, topic: &topic, sub: &sub, notice: &retry.notice, cache: None };
        let failure = match d.attempt().await {
            Ok(()) => {
                DeliveryStats::bump(&sns.stats.delivered);
                return None;
            }
            Err(f) => f,
        };
        if retry.attempts >= schedule.num_retries || !failure.retryable {
            let reason = match retry.attempts {
                0 => failure.reason,
                n => format!("{} (after {n} retries)", failure.reason),
            };
            dead_letter(&d, Failure { reason, ..failure }).await;
            return None;
        }
        failure.reason
    };
    retry.attempts += 1;
    retry.due_ms = sns.now_ms() + schedule.delay_secs(retry.attempts) * 1000;
    tracing::info!(subscription = %sub.arn, message_id = %retry.notice.message_id, error = %reason,
        retry = retry.attempts, in_secs = schedule.delay_secs(retry.attempts),
        "HTTP delivery failed; retrying per the DeliveryPolicy");
    retry.last_error = reason;
    Some(retry)
}

/// At start-up: moves retries written by earlier versions (`R`, one task
/// each) into the endpoint queues, then starts a pump per endpoint with a queue.
pub(super) fn recover(sns: &Arc<Sns>) {
    if let Err(e) = migrate_retries(sns) {
        tracing::warn!(error = %e, "could not move old delivery retries into the endpoint queues");
    }
    let mut start = Vec::new();
    let mut pumps = 0;
    loop {
        let first = sns.sh.queued.scan_range(&start, &[0xff]).next();
        let Some(Ok((key, _))) = first else { break };
        let Some((endpoint, _)) = records::parse_queue_key(&key) else { break };
        let gate = sns.sh.gates.get(&format!("http://{endpoint}/"));
        poke(sns, &gate);
        pumps += 1;
        // Skip to the next endpoint: its prefix sorts after this one's `endpoint \0 …` keys.
        start = endpoint.as_bytes().to_vec();
        start.push(1);
    }
    if pumps > 0 {
        tracing::info!(endpoints = pumps, "resuming queued HTTP/S deliveries");
    }
}

fn migrate_retries(sns: &Arc<Sns>) -> super::SnsResult<()> {
    let mut batch = sns.sh.store.batch();
    let mut moved = 0usize;
    for kv in sns.sh.retries.scan_prefix(b"") {
        let (key, value) = kv?;
        batch.delete(&sns.sh.retries, key);
        let Ok(retry) = serde_json::from_slice::<Retry>(&value) else { continue };
        let Ok(sub) = sns.lookup_subscription(&retry.subscription) else { continue };
        let new_key = records::queue_key(&endpoint_key(&sub.endpoint), retry.due_ms, sns.sh.next_seq());
        batch.put(&sns.sh.queued, new_key, records::to_json(&retry));
        moved += 1;
        if moved.is_multiple_of(256) {
            sns.sh.store.make_durable_soon(std::mem::replace(&mut batch, sns.sh.store.batch()).commit()?)?;
        }
    }
    sns.sh.store.make_durable_soon(batch.commit()?)?;
    if moved > 0 {
        tracing::info!(moved, "moved delivery retries of an earlier version into the endpoint queues");
    }
    Ok(())
}
