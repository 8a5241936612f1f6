//! SNS core tests: fan-out, the queue-policy check, dead-letter queues,
//! FIFO deduplication, HTTP retries and recovery, on an in-memory store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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

/// Answers HTTP deliveries from a script of statuses (then 200), recording each.
#[derive(Default)]
struct ScriptedHttp {
    statuses: Mutex<Vec<u16>>,
    posts: Mutex<Vec<Post>>,
}

impl HttpSender for ScriptedHttp {
    fn post(
        &self,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
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
}

fn world(enforcement: Enforcement) -> World {
    world_on(eddy_store::Store::in_memory(), enforcement, true)
}

fn world_on(store: eddy_store::Store, enforcement: Enforcement, run: bool) -> World {
    let clock = Arc::new(ManualClock::new(T0));
    let sqs = Sqs::open(store.clone(), clock.clone()).unwrap();
    let http = Arc::new(ScriptedHttp::default());
    let config = SnsConfig { enforcement, urls: Urls { base: "http://eddy.test".into() } };
    let (sns, queue) = Sns::open(store.clone(), clock, sqs.clone(), http.clone(), config).unwrap();
    if run {
        tokio::spawn(sns.clone().run_deliveries(queue));
    }
    World { sqs, sns, http, store }
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
    // The duplicate (m2) is not delivered; the group arrives in publish order.
    let got = drain(&w.sqs, &q, 3).await;
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
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
