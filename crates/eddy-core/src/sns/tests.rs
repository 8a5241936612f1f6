//! SNS core tests: fan-out, the queue-policy check, dead-letter queues,
//! FIFO deduplication, HTTP retries and recovery, on an in-memory store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;

use parking_lot::Mutex;
use serde_json::{json, Value};

use super::*;
use crate::clock::ManualClock;
use crate::sqs::{Queue, ReceiveRequest, Received, Sqs};

const T0: u64 = 1_700_000_000_000;

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
}

/// One POST: URL, headers, body.
type Post = (String, Vec<(&'static str, String)>, String);

/// Answers HTTP deliveries from a script of statuses (then 200), recording
/// each. Notifications to `hung.test` never get an answer; `hung` counts
/// those in flight and `hung_max` the most at once.
#[derive(Default)]
struct ScriptedHttp {
    statuses: Mutex<Vec<u16>>,
    posts: Mutex<Vec<Post>>,
    hung: Arc<AtomicUsize>,
    hung_max: AtomicUsize,
}

/// Counts a hung request until its future is dropped.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

impl HttpSender for ScriptedHttp {
    fn post(
        &self,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
        let notification = headers.iter().any(|(k, v)| *k == "x-amz-sns-message-type" && v == "Notification");
        if notification && url.contains("hung.test") {
            self.hung_max.fetch_max(self.hung.fetch_add(1, SeqCst) + 1, SeqCst);
            let guard = InFlight(self.hung.clone());
            return Box::pin(async move {
                let _guard = guard;
                std::future::pending::<Result<u16, String>>().await
            });
        }
        self.posts.lock().push((url, headers, body));
        let mut s = self.statuses.lock();
        let status = if s.is_empty() { 200 } else { s.remove(0) };
        Box::pin(async move { Ok(status) })
    }
}

struct World {
    sqs: Arc<Sqs>,
    sns: Arc<Sns>,
    http: Arc<ScriptedHttp>,
    store: eddy_store::Store,
    clock: ManualClock,
    /// The delivery loop's input, when the world was made without running it.
    backlog: Mutex<Option<Backlog>>,
}

fn world(enforcement: Enforcement) -> World {
    world_on(eddy_store::Store::in_memory(), enforcement, true)
}

fn world_on(store: eddy_store::Store, enforcement: Enforcement, run: bool) -> World {
    let clock = ManualClock::new(T0);
    let sqs = Sqs::open(store.clone(), Arc::new(clock.clone())).unwrap();
    let http = Arc::new(ScriptedHttp::default());
    let config = SnsConfig { enforcement, urls: Urls { base: "http://eddy.test".into() } };
    let (sns, queue) = Sns::open(store.clone(), Arc::new(clock.clone()), sqs.clone(), http.clone(), config).unwrap();
    let backlog = match run {
        true => {
            tokio::spawn(sns.clone().run_deliveries(queue));
            None
        }
        false => Some(queue),
    };
    World { sqs, sns, http, store, clock, backlog: Mutex::new(backlog) }
}

impl World {
    async fn topic(&self, name: &str) -> String {
        let fifo = name.ends_with(".fifo");
        let attrs = if fifo { attrs(&[("FifoTopic", "true")]) } else { BTreeMap::new() };
        self.sns.create_topic(&caller(), name, attrs, BTreeMap::new(), None).await.unwrap()
    }

    async fn queue(&self, name: &str, allow_from: Option<&str>) -> Arc<Queue> {
        let mut a = BTreeMap::new();
        if name.ends_with(".fifo") {
            a.insert("FifoQueue".to_string(), "true".to_string());
        }
        let q = self.sqs.create_queue(&caller(), name, a, BTreeMap::new()).await.unwrap();
        if let Some(topic) = allow_from {
            let policy = json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": q.arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}
            }]});
            self.sqs.set_attributes(&q, attrs(&[("Policy", &policy.to_string())])).await.unwrap();
        }
        q
    }

    async fn subscribe(&self, topic: &str, protocol: &str, endpoint: &str, a: &[(&str, &str)]) -> String {
        let req = manage::SubscribeRequest {
            topic_arn: topic.into(),
            protocol: protocol.into(),
            endpoint: endpoint.into(),
            attributes: attrs(a),
        };
        self.sns.subscribe(&caller(), req).await.unwrap().0
    }

    async fn publish(&self, topic: &str, message: &str) -> Published {
        let req = PublishRequest { topic_arn: Some(topic.into()), message: Some(message.into()), ..Default::default() };
        self.sns.publish(req).await.unwrap()
    }
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Receives until `n` messages arrived or two seconds passed.
async fn drain(sqs: &Sqs, q: &Arc<Queue>, n: usize) -> Vec<Received> {
    let mut got = Vec::new();
    for _ in 0..400 {
        let req = ReceiveRequest { max_messages: Some(10), wait_secs: Some(0), ..Default::default() };
        got.extend(sqs.receive(q, req).await.unwrap());
        if got.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    got
}

/// Receives with every system attribute, waiting up to two seconds for a message.
async fn receive_all(sqs: &Sqs, q: &Arc<Queue>) -> Vec<Received> {
    for _ in 0..400 {
        let req = ReceiveRequest { system_attribute_names: vec!["All".into()], ..Default::default() };
        let got = sqs.receive(q, req).await.unwrap();
        if !got.is_empty() {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Vec::new()
}

/// Lets the delivery tasks run, for tests that expect nothing to arrive.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn fans_out_signed_envelopes_to_allowed_queues() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("orders").await;
    let (a, b) = (w.queue("a", Some(&topic)).await, w.queue("b", Some(&topic)).await);
    w.subscribe(&topic, "sqs", &a.arn, &[]).await;
    w.subscribe(&topic, "sqs", &b.arn, &[("RawMessageDelivery", "true")]).await;
    let p = w.publish(&topic, "hello").await;
    let got_a = drain(&w.sqs, &a, 1).await;
    let got_b = drain(&w.sqs, &b, 1).await;
    assert_eq!(got_b.len(), 1);
    assert_eq!(got_b[0].body, "hello");
    let env: Value = serde_json::from_str(&got_a[0].body).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["MessageId"], p.message_id.as_str());
    assert_eq!(env["Message"], "hello");
    assert_eq!(env["SignatureVersion"], "1");
    assert_eq!(env["SigningCertURL"], "http://eddy.test/_eddy/sns/SimpleNotificationService-eddy.pem");
    assert!(env.get("Subject").is_none());
    assert!(crate::signing::verify(&env, &w.sns.signing_certificate()));
}

#[tokio::test]
async fn queue_without_policy_is_not_written_unless_warn() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t").await;
    let q = w.queue("nopolicy", None).await;
    w.subscribe(&topic, "sqs", &q.arn, &[]).await;
    w.publish(&topic, "x").await;
    settle().await;
    assert!(drain(&w.sqs, &q, 0).await.is_empty());
    assert_eq!(w.sns.stats.dropped_by_policy.load(std::sync::atomic::Ordering::Relaxed), 1);

    let w = world(Enforcement::Warn);
    let topic = w.topic("t").await;
    let q = w.queue("nopolicy", None).await;
    w.subscribe(&topic, "sqs", &q.arn, &[]).await;
    w.publish(&topic, "x").await;
    assert_eq!(drain(&w.sqs, &q, 1).await.len(), 1);
}

#[tokio::test]
async fn undeliverable_goes_to_dlq_only_when_its_policy_allows() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t").await;
    let gone = w.queue("gone", Some(&topic)).await;
    let dlq = w.queue("dlq", Some(&topic)).await;
    let bare_dlq = w.queue("bare-dlq", None).await;
    let redrive = |q: &Queue| json!({"deadLetterTargetArn": q.arn}).to_string();
    w.subscribe(&topic, "sqs", &gone.arn, &[("RedrivePolicy", &redrive(&dlq))]).await;
    w.sqs.delete_queue(&gone).await.unwrap();
    let to_bare = w.queue("other", Some("arn:aws:sns:us-east-1:000000000000:elsewhere")).await;
    w.subscribe(&topic, "sqs", &to_bare.arn, &[("RedrivePolicy", &redrive(&bare_dlq))]).await;
    w.publish(&topic, "x").await;
    let dead = drain(&w.sqs, &dlq, 1).await;
    assert_eq!(dead.len(), 1);
    settle().await;
    assert!(drain(&w.sqs, &bare_dlq, 0).await.is_empty());
    assert!(drain(&w.sqs, &to_bare, 0).await.is_empty());
    assert_eq!(w.sns.stats.dead_lettered.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(w.sns.stats.dropped_by_policy.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[tokio::test]
async fn fifo_topic_deduplicates_and_keeps_order() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t.fifo").await;
    let q = w.queue("q.fifo", Some(&topic)).await;
    w.subscribe(&topic, "sqs", &q.arn, &[("RawMessageDelivery", "true")]).await;
    let mut first = None;
    for (i, dedup) in ["a", "b", "a", "c"].iter().enumerate() {
        let req = PublishRequest {
            topic_arn: Some(topic.clone()),
            message: Some(format!("m{i}")),
            group_id: Some("g".into()),
            dedup_id: Some(dedup.to_string()),
            ..Default::default()
        };
        let p = w.sns.publish(req).await.unwrap();
        assert!(p.sequence_number.is_some());
        if i == 0 {
            first = Some(p.message_id.clone());
        }
        if i == 2 {
            assert_eq!(Some(p.message_id), first);
        }
    }
    // The duplicate (m2) is not delivered; the group arrives in publish
    // order. Each message is deleted once received: while one is in flight
    // its group serves nothing more (deliveries land asynchronously, so the
    // first receive may find only m0).
    let mut bodies = Vec::new();
    while bodies.len() < 3 {
        let got = drain(&w.sqs, &q, 1).await;
        assert!(!got.is_empty(), "only {bodies:?} arrived");
        for m in got {
            w.sqs.delete_message(&q, &m.receipt_handle).await.unwrap();
            bodies.push(m.body);
        }
    }
    assert_eq!(bodies, ["m0", "m1", "m3"]);
}

#[tokio::test]
async fn http_delivery_retries_then_succeeds() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t").await;
    *w.http.statuses.lock() = vec![200, 500, 503];
    let policy = r#"{"healthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":0,"numRetries":3}}"#;
    let arn = w.subscribe(&topic, "http", "http://receiver.test/hook", &[("DeliveryPolicy", policy)]).await;
    settle().await;
    let confirmation: Value = serde_json::from_str(&w.http.posts.lock()[0].2).unwrap();
    assert_eq!(confirmation["Type"], "SubscriptionConfirmation");
    let token = confirmation["Token"].as_str().unwrap().to_string();
    assert_eq!(w.sns.confirm_subscription(&topic, &token, false).await.unwrap(), arn);
    w.publish(&topic, "ping").await;
    for _ in 0..200 {
        if w.http.posts.lock().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let posts = w.http.posts.lock();
    assert_eq!(posts.len(), 4, "confirmation + 3 attempts");
    let last: Value = serde_json::from_str(&posts[3].2).unwrap();
    assert_eq!(last["Message"], "ping");
    assert!(posts[3].1.iter().any(|(k, v)| *k == "x-amz-sns-message-type" && v == "Notification"));
}

#[tokio::test]
async fn unfinished_jobs_are_delivered_after_restart() {
    let store = eddy_store::Store::in_memory();
    let w = world_on(store.clone(), Enforcement::Enforce, false);
    let topic = w.topic("t").await;
    let q = w.queue("q", Some(&topic)).await;
    w.subscribe(&topic, "sqs", &q.arn, &[]).await;
    w.publish(&topic, "survives").await;
    drop(w);
    let w = world_on(store, Enforcement::Enforce, true);
    let q = w.sqs.lookup_arn(&q.arn).unwrap();
    let got = drain(&w.sqs, &q, 1).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].body.contains("survives"));
    let _ = &w.store;
}

#[tokio::test]
async fn filter_policy_selects_messages() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t").await;
    let q = w.queue("q", Some(&topic)).await;
    let policy = r#"{"color": ["red"]}"#;
    w.subscribe(&topic, "sqs", &q.arn, &[("FilterPolicy", policy), ("RawMessageDelivery", "true")]).await;
    for color in ["blue", "red"] {
        let mut attributes = crate::sqs::Attributes::new();
        attributes.insert(
            "color".into(),
            crate::sqs::AttributeValue { data_type: "String".into(), string: Some(color.into()), binary: None },
        );
        let req = PublishRequest {
            topic_arn: Some(topic.clone()),
            message: Some(color.into()),
            attributes,
            ..Default::default()
        };
        w.sns.publish(req).await.unwrap();
    }
    let got = drain(&w.sqs, &q, 2).await;
    assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["red"]);
}

fn fifo_request(topic: &str, dedup: &str) -> PublishRequest {
    PublishRequest {
        topic_arn: Some(topic.into()),
        message: Some(format!("m-{dedup}")),
        group_id: Some("g".into()),
        dedup_id: Some(dedup.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn fifo_dedup_ids_expire_after_five_minutes_in_memory_and_store() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t.fifo").await;
    let first = w.sns.publish(fifo_request(&topic, "a")).await.unwrap();
    w.sns.publish(fifo_request(&topic, "b")).await.unwrap();
    assert_eq!(w.sns.publish(fifo_request(&topic, "a")).await.unwrap().message_id, first.message_id);
    let in_memory = || w.sns.lookup_topic(&topic).unwrap().state.lock().dedup_len();
    let stored = || w.sns.sh.dedup.scan_prefix(b"").count();
    assert_eq!((in_memory(), stored()), (2, 2));

    w.clock.advance_ms(topic::DEDUP_WINDOW_MS - 1);
    assert_eq!(w.sns.expire_dedup(), 0);
    // Seen again 1 ms before expiry would still be a duplicate.
    assert_eq!(w.sns.publish(fifo_request(&topic, "a")).await.unwrap().message_id, first.message_id);
    w.clock.advance_ms(1);
    assert_eq!(w.sns.expire_dedup(), 2);
    assert_eq!((in_memory(), stored()), (0, 0));
    let later = w.sns.publish(fifo_request(&topic, "a")).await.unwrap();
    assert_ne!(later.message_id, first.message_id, "an expired id is accepted as new");
    assert_eq!((in_memory(), stored()), (1, 1));
}

#[tokio::test]
async fn expired_dedup_ids_are_deleted_at_start_up() {
    let store = eddy_store::Store::in_memory();
    let w = world_on(store.clone(), Enforcement::Enforce, false);
    let topic = w.topic("t.fifo").await;
    // Written by hand with an expiry already past: what a crash leaves behind.
    let old = records::DedupRecord { message_id: "m".into(), sequence_number: "1".into(), expires_ms: T0 - 1 };
    let mut batch = store.batch();
    batch.put(&w.sns.sh.dedup, records::dedup_key(&topic, "old"), records::to_json(&old));
    batch.commit().unwrap();
    drop(w);
    let w = world_on(store, Enforcement::Enforce, false);
    assert_eq!(w.sns.sh.dedup.scan_prefix(b"").count(), 0);
    assert_eq!(w.sns.lookup_topic(&topic).unwrap().state.lock().dedup_len(), 0);
}

#[tokio::test]
async fn idle_fifo_lanes_are_reaped() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t.fifo").await;
    let q = w.queue("q.fifo", Some(&topic)).await;
    w.subscribe(&topic, "sqs", &q.arn, &[("RawMessageDelivery", "true")]).await;
    let notice = records::Notice {
        message_id: "m1".into(),
        topic_arn: topic.clone(),
        message: "lane".into(),
        per_protocol: None,
        subject: None,
        attributes: Default::default(),
        group_id: Some("g".into()),
        dedup_id: Some("d".into()),
        sequence_number: Some("1".into()),
        timestamp_ms: T0,
        trace_header: None,
    };
    let mut lanes = dispatch::Lanes::default();
    lanes.send(&w.sns, u64::MAX, records::Job { notice });
    assert_eq!(drain(&w.sqs, &q, 1).await.len(), 1);
    settle().await;
    assert_eq!(lanes.len(), 1);
    let now = w.sns.now_ms();
    assert_eq!(lanes.reap(now + LANE_IDLE_MS - 1), 0, "a lane used within the idle time stays");
    assert_eq!(lanes.reap(now + LANE_IDLE_MS), 1);
    assert_eq!(lanes.len(), 0);
}

#[tokio::test]
async fn a_hung_endpoint_holds_its_slots_only_and_waits_on_disk() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t").await;
    let q = w.queue("q", Some(&topic)).await;
    w.subscribe(&topic, "sqs", &q.arn, &[("RawMessageDelivery", "true")]).await;
    let hung = w.subscribe(&topic, "http", "http://hung.test:8080/hook", &[]).await;
    let token = w.sns.lookup_subscription(&hung).unwrap().record().token.unwrap();
    w.sns.confirm_subscription(&topic, &token, false).await.unwrap();
    for i in 0..200 {
        w.publish(&topic, &format!("m{i}")).await;
    }
    // The SQS subscriber gets everything although the endpoint never answers.
    assert_eq!(drain(&w.sqs, &q, 200).await.len(), 200);
    settle().await;
    assert_eq!(w.http.hung_max.load(SeqCst), HTTP_SLOTS_PER_ENDPOINT);
    assert_eq!(w.http.hung.load(SeqCst), HTTP_SLOTS_PER_ENDPOINT);
    // Only the jobs whose attempt is in flight wait (for the HTTP timeout);
    // the endpoint's other deliveries wait as records on disk.
    assert_eq!(w.sns.sh.jobs.scan_prefix(b"").count(), HTTP_SLOTS_PER_ENDPOINT);
    assert_eq!(w.sns.sh.queued.scan_prefix(b"").count(), 200 - HTTP_SLOTS_PER_ENDPOINT);
    let keys: Vec<_> = w.sns.sh.queued.scan_prefix(b"").map(|kv| kv.unwrap().0).collect();
    assert!(keys.iter().all(|k| records::parse_queue_key(k).unwrap().0 == "hung.test:8080"));
}

#[tokio::test]
async fn list_tokens_continue_and_crafted_ones_are_refused() {
    let w = world(Enforcement::Enforce);
    for i in 0..250 {
        w.topic(&format!("t{i:03}")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = w.sns.list_topics(&caller(), token.as_deref()).unwrap();
        assert!(page.items.len() <= 100);
        seen.extend(page.items);
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert!(seen.windows(2).all(|p| p[0] < p[1]));
    let issued = w.sns.list_topics(&caller(), None).unwrap().next_token.unwrap();
    let near_max = (u64::MAX - 5).to_string();
    let forged = format!("{}.{}", hex::encode("arn:aws:sns:us-east-1:000000000000:t100"), "0".repeat(32));
    for bad in [near_max.as_str(), "garbage", "100", forged.as_str(), &issued[..issued.len() - 1]] {
        let e = w.sns.list_topics(&caller(), Some(bad)).expect_err("refused");
        assert_eq!(e, SnsError::InvalidParameter("Invalid parameter: NextToken".into()), "{bad}");
    }
    // A token of one listing is not accepted by another.
    assert!(w.sns.list_subscriptions(&caller(), None, Some(&issued)).is_err());
    assert!(w.sns.list_platform_applications(&caller(), Some(&issued)).is_err());
}

#[tokio::test]
async fn outbox_pages_follow_their_token() {
    let w = world(Enforcement::Enforce);
    for i in 0..5 {
        let req = PublishRequest {
            phone_number: Some(format!("+1555000000{i}")),
            message: Some(format!("sms {i}")),
            ..Default::default()
        };
        w.sns.publish(req).await.unwrap();
    }
    let mut token = None;
    let mut got = Vec::new();
    loop {
        let page = w.sns.outbox(token.as_deref(), 2).unwrap();
        assert!(page.entries.len() <= 2);
        got.extend(page.entries.into_iter().map(|e| e.message));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(got, ["sms 0", "sms 1", "sms 2", "sms 3", "sms 4"]);
    assert!(w.sns.outbox(Some("x"), 2).is_err());
    assert!(w.sns.outbox(Some(&u64::MAX.to_string()), 2).is_err());
}

#[tokio::test]
async fn jobs_beyond_the_memory_bound_wait_on_disk_and_are_all_delivered() {
    let w = world_on(eddy_store::Store::in_memory(), Enforcement::Enforce, false);
    let topic = w.topic("t").await;
    let q = w.queue("q", Some(&topic)).await;
    w.subscribe(&topic, "sqs", &q.arn, &[("RawMessageDelivery", "true")]).await;
    let n = MAX_LOADED_JOBS + 100;
    for i in 0..n {
        w.publish(&topic, &format!("m{i}")).await;
    }
    // Nothing delivers yet: the bound holds, the rest is on disk only.
    assert_eq!(w.sns.admission.lock().loaded_len(), MAX_LOADED_JOBS);
    assert_eq!(w.sns.sh.jobs.scan_prefix(b"").count(), n);
    let backlog = w.backlog.lock().take().unwrap();
    tokio::spawn(w.sns.clone().run_deliveries(backlog));
    let mut got = Vec::new();
    for _ in 0..100 {
        got.extend(drain(&w.sqs, &q, n - got.len()).await.into_iter().map(|m| m.body));
        if got.len() >= n {
            break;
        }
    }
    let total = got.len();
    got.sort();
    got.dedup();
    assert_eq!((total, got.len()), (n, n), "every job delivered exactly once");
    settle().await;
    assert_eq!(w.sns.sh.jobs.scan_prefix(b"").count(), 0);
}

#[tokio::test]
async fn fifo_topic_group_reaches_fifo_queues_only() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t.fifo").await;
    let (standard, fifo) = (w.queue("std", Some(&topic)).await, w.queue("q.fifo", Some(&topic)).await);
    let sub = w.subscribe(&topic, "sqs", &standard.arn, &[]).await;
    w.subscribe(&topic, "sqs", &fifo.arn, &[]).await;
    w.sns.publish(fifo_request(&topic, "d1")).await.unwrap();
    let (got_std, got_fifo) = (receive_all(&w.sqs, &standard).await, receive_all(&w.sqs, &fifo).await);
    assert!(got_std[0].system_attributes.contains_key("SentTimestamp"));
    assert!(!got_std[0].system_attributes.contains_key("MessageGroupId"));
    assert_eq!(got_fifo[0].system_attributes["MessageGroupId"], "g");
    // The UnsubscribeURL carries the ARN raw, as AWS writes it.
    let env: Value = serde_json::from_str(&got_std[0].body).unwrap();
    assert_eq!(env["UnsubscribeURL"], format!("http://eddy.test/?Action=Unsubscribe&SubscriptionArn={sub}"));
}

#[tokio::test]
async fn add_permission_writes_single_values_as_strings() {
    let w = world(Enforcement::Enforce);
    let topic = w.topic("t").await;
    let one = |s: &str| vec![s.to_string()];
    w.sns.add_permission(&topic, "one", &one("111111111111"), &one("Publish")).await.unwrap();
    let two = ["111111111111".to_string(), "222222222222".to_string()];
    w.sns.add_permission(&topic, "two", &two, &one("Subscribe")).await.unwrap();
    let policy: Value = serde_json::from_str(&w.sns.topic_attributes(&topic).unwrap()["Policy"]).unwrap();
    let st = &policy["Statement"];
    assert_eq!(st[1]["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
    assert_eq!(st[1]["Action"], "SNS:Publish");
    assert_eq!(st[2]["Principal"]["AWS"], json!(["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]));
}

#[tokio::test]
async fn malformed_arns_say_how_many_elements_they_have() {
    let w = world(Enforcement::Enforce);
    let e = w.sns.unsubscribe("arn:aws:sns:us-east-1:random").await.unwrap_err();
    assert_eq!(e.to_string(), "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5");
    let e = w.sns.unsubscribe("arn:aws:sns:us-east-1:000000000000:t").await.unwrap_err();
    assert_eq!(e.to_string(), "Invalid parameter: SubscriptionId");
    assert!(w.sns.unsubscribe("arn:aws:sns:us-east-1:000000000000:t:gone").await.is_ok());
    let e = w.sns.confirm_subscription("arn:aws:sns:us-east-1:000000000000:t", "not-hex", false).await.unwrap_err();
    assert_eq!(e.to_string(), "Invalid token");
}
