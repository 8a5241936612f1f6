//! EventBridge core tests on an in-memory store and a manual clock:
//! input shapes, schedule expressions, PutEvents' per-entry checks, and
//! delivery (policy checks, dead-letter queues, recovery, schedules).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{json, Value};

use super::input::{self, Context, Shape};
use super::schedule::Schedule;
use super::*;
use crate::clock::ManualClock;
use crate::sqs::{Queue, ReceiveRequest};

const T0: u64 = 1_700_000_000_000;

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
}

struct NoHttp;

impl HttpInvoker for NoHttp {
    fn invoke(&self, call: HttpCall) -> Pin<Box<dyn Future<Output = Result<HttpReply, String>> + Send>> {
        Box::pin(async move { Err(format!("no HTTP in these tests ({})", call.url)) })
    }
}

impl crate::sns::HttpSender for NoHttp {
    fn post(
        &self,
        _url: String,
        _headers: Vec<(&'static str, String)>,
        _body: String,
    ) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send>> {
        Box::pin(async { Ok(200) })
    }
}

struct World {
    sqs: Arc<Sqs>,
    events: Arc<Events>,
    store: Store,
    clock: ManualClock,
}

fn world() -> World {
    world_on(Store::in_memory(), ManualClock::new(T0), true)
}

fn world_on(store: Store, clock: ManualClock, run: bool) -> World {
    let c = || Arc::new(clock.clone());
    let sqs = Sqs::open(store.clone(), c()).unwrap();
    let config = crate::sns::SnsConfig {
        enforcement: Enforcement::Enforce,
        urls: crate::sns::Urls { base: "http://eddy.test".into() },
    };
    let (sns, _backlog) = Sns::open(store.clone(), c(), sqs.clone(), Arc::new(NoHttp), config).unwrap();
    let kinesis = Kinesis::open(store.clone(), c(), crate::kinesis::KinesisConfig { enforce_limits: false }).unwrap();
    let targets = Targets { sqs: sqs.clone(), sns, kinesis };
    let http = Arc::new(NoHttp);
    let events = Events::open(store.clone(), c(), targets, http, EventsConfig::new(Enforcement::Enforce)).unwrap();
    if run {
        tokio::spawn(events.clone().run_deliveries());
    }
    World { sqs, events, store, clock }
}

impl World {
    async fn queue(&self, name: &str, allow_rule: Option<&str>) -> Arc<Queue> {
        let mut a = BTreeMap::new();
        if name.ends_with(".fifo") {
            a.insert("FifoQueue".to_string(), "true".to_string());
        }
        let q = self.sqs.create_queue(&caller(), name, a, BTreeMap::new()).await.unwrap();
        if let Some(rule) = allow_rule {
            let policy = json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": q.arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule}}
            }]});
            let attrs = BTreeMap::from([("Policy".to_string(), policy.to_string())]);
            self.sqs.set_attributes(&q, attrs).await.unwrap();
        }
        q
    }

    async fn rule(&self, name: &str, pattern: &str) -> String {
        let input = RuleInput { name: name.into(), event_pattern: Some(pattern.into()), ..RuleInput::default() };
        self.events.put_rule(&caller(), input).await.unwrap()
    }

    async fn target(&self, rule: &str, target: Value) {
        let failed = self.events.put_targets(&caller(), rule, None, vec![target]).await.unwrap();
        assert!(failed.is_empty());
    }

    async fn put(&self, source: &str, detail: Value) -> Vec<EntryResult> {
        let entry = EventEntry {
            source: Some(source.into()),
            detail_type: Some("test".into()),
            detail: Some(detail.to_string()),
            ..EventEntry::default()
        };
        self.events.put_events(&caller(), vec![entry]).await.unwrap()
    }

    /// The queue's messages (bodies and attributes), waiting up to 2 s for the first.
    async fn drain(&self, q: &Arc<Queue>) -> Vec<crate::sqs::Received> {
        let req = ReceiveRequest {
            max_messages: Some(10),
            wait_secs: Some(2),
            attribute_names: vec!["All".into()],
            ..ReceiveRequest::default()
        };
        self.sqs.receive(q, req).await.unwrap()
    }
}

fn ctx() -> Context<'static> {
    Context { rule_arn: "arn:aws:events:us-east-1:1:rule/r", rule_name: "r", ingestion_time: "2024-01-01T00:00:00Z" }
}

#[test]
fn input_shapes_follow_the_transformer_rules() {
    let event = json!({"id": "e1", "detail": {"name": "a \"b\"", "n": 3, "list": [1, 2]}});
    let text = event.to_string();
    assert_eq!(input::render(&Shape::Event, &event, &text, &ctx()), text);
    assert_eq!(input::render(&Shape::Constant("{\"k\":1}".into()), &event, &text, &ctx()), "{\"k\":1}");
    assert_eq!(input::render(&Shape::Path("$.detail.n".into()), &event, &text, &ctx()), "3");
    assert_eq!(input::render(&Shape::Path("$.detail.list[1]".into()), &event, &text, &ctx()), "2");
    assert_eq!(input::render(&Shape::Path("$.nothing".into()), &event, &text, &ctx()), "null");
    let paths = BTreeMap::from([
        ("name".to_string(), "$.detail.name".to_string()),
        ("n".to_string(), "$.detail.n".to_string()),
        ("gone".to_string(), "$.detail.gone".to_string()),
    ]);
    let template = |t: &str| Shape::Template { paths: paths.clone(), template: t.into() };
    // Outside quotes a value is its JSON; inside, its text (escaped to keep the JSON valid).
    let out = input::render(
        &template(r#"{"v": <name>, "s": "x <name> <n>", "g": <gone>, "h": "<gone>"}"#),
        &event,
        &text,
        &ctx(),
    );
    assert_eq!(out, r#"{"v": "a \"b\"", "s": "x a \"b\" 3", "g": "", "h": ""}"#);
    serde_json::from_str::<Value>(&out).expect("still JSON");
    assert_eq!(input::render(&template(r#""<name> has <n>""#), &event, &text, &ctx()), r#""a \"b\" has 3""#);
    assert_eq!(input::render(&template("plain <n> and <unknown>"), &event, &text, &ctx()), "plain 3 and <unknown>");
    let predefined = input::render(
        &template(r#"{"rule": "<aws.events.rule-name>", "e": <aws.events.event.json>}"#),
        &event,
        &text,
        &ctx(),
    );
    assert_eq!(serde_json::from_str::<Value>(&predefined).unwrap(), json!({"rule": "r", "e": event}));
    let typed = json!({"id": "e1", "detail-type": "t", "detail": {}});
    let envelope = input::render(&template("<aws.events.event>"), &typed, &typed.to_string(), &ctx());
    assert_eq!(serde_json::from_str::<Value>(&envelope).unwrap(), json!({"id": "e1", "detailType": "t"}));
    assert_eq!(input::placeholders("<a> <b-c> < x> <aws.events.event> <<d> <e"), ["a", "b-c", "aws.events.event", "d"]);
    assert!(input::valid_path("$.detail['a b'][0].c") && !input::valid_path("detail") && !input::valid_path("$..x"));
}

#[test]
fn schedule_expressions() {
    assert_eq!(Schedule::parse("rate(5 minutes)").unwrap(), Schedule::Rate { every_ms: 300_000 });
    assert_eq!(Schedule::parse("rate(1 day)").unwrap(), Schedule::Rate { every_ms: 86_400_000 });
    for bad in
        ["rate(1 minutes)", "rate(2 minute)", "rate(0 minutes)", "cron(* * * * * *)", "cron(0 12 * * ?)", "every day"]
    {
        assert!(Schedule::parse(bad).is_err(), "{bad}");
    }
    let at = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
    let ms = |s: &str| (at(s).unix_timestamp() * 1000) as u64;
    let next =
        |e: &str, after: &str| Schedule::parse(e).unwrap().next_after(ms(after), 0).map(crate::clock::iso8601_secs);
    assert_eq!(next("cron(0 12 * * ? *)", "2024-01-01T12:00:00Z").unwrap(), "2024-01-02T12:00:00Z");
    assert_eq!(next("cron(0/15 * ? * MON-FRI *)", "2024-01-06T10:00:00Z").unwrap(), "2024-01-08T00:00:00Z");
    assert_eq!(next("cron(30 9 L * ? *)", "2024-02-01T00:00:00Z").unwrap(), "2024-02-29T09:30:00Z");
    assert_eq!(next("cron(0 8 ? * 6L *)", "2024-03-01T00:00:00Z").unwrap(), "2024-03-29T08:00:00Z");
    assert_eq!(next("cron(0 8 ? * 3#2 *)", "2024-03-01T00:00:00Z").unwrap(), "2024-03-12T08:00:00Z");
    assert_eq!(next("cron(0 8 15W * ? *)", "2024-06-01T00:00:00Z").unwrap(), "2024-06-14T08:00:00Z");
    assert_eq!(next("cron(0 0 1 1 ? 2020)", "2024-01-01T00:00:00Z"), None);
    assert_eq!(Schedule::parse("rate(1 minute)").unwrap().next_after(T0 + 90_000, T0), Some(T0 + 120_000));
}

#[tokio::test]
async fn put_events_checks_each_entry() {
    let w = world();
    let entry = |source: Option<&str>, detail: Option<&str>| EventEntry {
        source: source.map(Into::into),
        detail_type: Some("t".into()),
        detail: detail.map(Into::into),
        ..EventEntry::default()
    };
    let results = w
        .events
        .put_events(
            &caller(),
            vec![
                entry(None, Some("{}")),
                entry(Some("s"), None),
                entry(Some("s"), Some("[1]")),
                entry(Some("aws.s3"), Some("{}")),
                entry(Some("s"), Some("{}")),
            ],
        )
        .await
        .unwrap();
    let codes: Vec<&str> = results
        .iter()
        .map(|r| match r {
            EntryResult::Failed { code, .. } => code.as_str(),
            EntryResult::Accepted { .. } => "ok",
        })
        .collect();
    assert_eq!(
        codes,
        ["InvalidArgument", "InvalidArgument", "MalformedDetail", "NotAuthorizedForSourceException", "ok"]
    );
    let too_many = vec![entry(Some("s"), Some("{}")); 11];
    assert!(matches!(w.events.put_events(&caller(), too_many).await, Err(EventsError::Validation(_))));
    let big = "x".repeat(super::put::MAX_REQUEST_BYTES);
    let huge = vec![entry(Some("s"), Some(&format!("{{\"a\":\"{big}\"}}")))];
    assert!(matches!(w.events.put_events(&caller(), huge).await, Err(EventsError::Validation(_))));
}

#[tokio::test]
async fn delivers_to_a_queue_that_allows_the_rule_and_drops_otherwise() {
    let w = world();
    let rule = w.rule("r1", r#"{"source": ["app"]}"#).await;
    let open = w.queue("open", Some(&rule)).await;
    let closed = w.queue("closed", None).await;
    w.target("r1", json!({"Id": "a", "Arn": open.arn})).await;
    w.target("r1", json!({"Id": "b", "Arn": closed.arn})).await;
    w.put("other", json!({"k": 0})).await;
    let results = w.put("app", json!({"k": 1})).await;
    let EntryResult::Accepted { event_id } = &results[0] else { panic!("{results:?}") };
    let got = w.drain(&open).await;
    assert_eq!(got.len(), 1);
    let event: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(event["id"], event_id.as_str());
    assert_eq!(event["source"], "app");
    assert_eq!(event["detail"], json!({"k": 1}));
    assert_eq!(event["version"], "0");
    assert!(got[0].body.starts_with(r#"{"version":"0","id":"#), "AWS's field order: {}", got[0].body);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(w.drain_now(&closed).await.is_empty());
    let stats = w.events.stats.snapshot();
    assert_eq!(stats["droppedByPolicy"], 1, "{stats}");
    assert_eq!(stats["delivered"], 1, "{stats}");
}

impl World {
    async fn drain_now(&self, q: &Arc<Queue>) -> Vec<crate::sqs::Received> {
        let req = ReceiveRequest { max_messages: Some(10), wait_secs: Some(0), ..ReceiveRequest::default() };
        self.sqs.receive(q, req).await.unwrap()
    }
}

#[tokio::test]
async fn a_failed_delivery_goes_to_the_dead_letter_queue_with_aws_attributes() {
    let w = world();
    let rule = w.rule("r1", r#"{"source": ["app"]}"#).await;
    let dlq = w.queue("dlq", Some(&rule)).await;
    let gone = "arn:aws:sqs:us-east-1:000000000000:never-made";
    w.target("r1", json!({"Id": "a", "Arn": gone, "DeadLetterConfig": {"Arn": dlq.arn}})).await;
    w.put("app", json!({"k": 1})).await;
    let got = w.drain(&dlq).await;
    assert_eq!(got.len(), 1);
    let attr = |name: &str| got[0].attributes.get(name).and_then(|a| a.string.clone());
    assert_eq!(attr("RULE_ARN").as_deref(), Some(rule.as_str()));
    assert_eq!(attr("TARGET_ARN").as_deref(), Some(gone));
    assert_eq!(attr("ERROR_CODE").as_deref(), Some("NO_RESOURCE"));
    assert_eq!(attr("RETRY_ATTEMPTS").as_deref(), Some("0"));
    // A missing resource is not retried, so no retry condition was exhausted.
    assert_eq!(attr("EXHAUSTED_RETRY_CONDITION"), None);
    assert!(attr("ERROR_MESSAGE").is_some());
    assert_eq!(serde_json::from_str::<Value>(&got[0].body).unwrap()["detail"], json!({"k": 1}));
    assert_eq!(w.events.stats.snapshot()["deadLettered"], 1);
}

#[tokio::test]
async fn accepted_events_survive_a_restart_before_delivery() {
    let store = Store::in_memory();
    let clock = ManualClock::new(T0);
    let w = world_on(store.clone(), clock.clone(), false);
    let rule = w.rule("r1", r#"{"source": ["app"]}"#).await;
    let q = w.queue("q", Some(&rule)).await;
    w.target("r1", json!({"Id": "a", "Arn": q.arn})).await;
    w.put("app", json!({"n": 1})).await;
    w.put("app", json!({"n": 2})).await;
    assert_eq!(w.events.pending_deliveries(), 2);
    drop(w);
    let again = world_on(store, clock, true);
    assert_eq!(again.events.describe_rule(&caller(), "r1", None).unwrap().record.targets.len(), 1);
    let q = again.sqs.lookup_arn(&q.arn).expect("the queue was recovered");
    let mut got = again.drain(&q).await;
    if got.len() < 2 {
        got.extend(again.drain(&q).await);
    }
    assert_eq!(got.len(), 2);
    assert_eq!(again.events.pending_deliveries(), 0);
}

#[tokio::test]
async fn a_rate_rule_fires_on_the_clock() {
    let w = world();
    let input = RuleInput { name: "tick".into(), schedule: Some("rate(1 minute)".into()), ..RuleInput::default() };
    let rule = w.events.put_rule(&caller(), input).await.unwrap();
    let q = w.queue("ticks", Some(&rule)).await;
    w.target("tick", json!({"Id": "a", "Arn": q.arn})).await;
    assert!(w.drain_now(&q).await.is_empty());
    w.clock.advance_secs(61);
    w.events.jobs_wake();
    let got = w.drain(&q).await;
    assert_eq!(got.len(), 1);
    let event: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["resources"], json!([rule]));
    assert_eq!(event["detail"], json!({}));
}

#[tokio::test]
async fn rules_keep_targets_across_updates_and_delete_only_when_forced() {
    let w = world();
    w.rule("r1", r#"{"source": ["a"]}"#).await;
    w.target("r1", json!({"Id": "t", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"})).await;
    w.rule("r1", r#"{"source": ["b"]}"#).await;
    let rule = w.events.describe_rule(&caller(), "r1", None).unwrap();
    assert_eq!(rule.record.targets.len(), 1);
    assert_eq!(rule.record.event_pattern.as_deref(), Some(r#"{"source": ["b"]}"#));
    assert!(matches!(w.events.delete_rule(&caller(), "r1", None, false).await, Err(EventsError::Validation(_))));
    w.events.delete_rule(&caller(), "r1", None, true).await.unwrap();
    assert!(matches!(w.events.describe_rule(&caller(), "r1", None), Err(EventsError::NotFound(_))));
    // A target eddy does not run is recorded in the outbox.
    w.rule("r2", r#"{"source": ["a"]}"#).await;
    w.target("r2", json!({"Id": "t", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "Input": "{\"x\":1}"}))
        .await;
    w.put("a", json!({})).await;
    for _ in 0..50 {
        if w.events.stats.snapshot()["recorded"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (entries, _) = w.events.outbox(None, 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].input, "{\"x\":1}");
    let _ = &w.store;
}

#[tokio::test]
async fn doctor_names_targets_whose_policy_drops_events() {
    let w = world();
    let rule = w.rule("r1", r#"{"source": ["app"]}"#).await;
    let open = w.queue("open", Some(&rule)).await;
    let closed = w.queue("closed", None).await;
    let dlq = w.queue("dlq", None).await;
    w.target("r1", json!({"Id": "a", "Arn": open.arn})).await;
    w.target("r1", json!({"Id": "b", "Arn": closed.arn, "DeadLetterConfig": {"Arn": dlq.arn}})).await;
    w.target("r1", json!({"Id": "c", "Arn": "arn:aws:sqs:us-east-1:000000000000:nowhere"})).await;
    let sns = w.events.sh.targets.sns.clone();
    let findings = crate::doctor::inspect_events(&w.sqs, &sns, &w.events);
    let mut named: Vec<&str> = findings.iter().map(|f| f.resource.as_str()).collect();
    named.sort();
    assert_eq!(named, [closed.arn.as_str(), dlq.arn.as_str(), "arn:aws:sqs:us-east-1:000000000000:nowhere"]);
    assert!(findings.iter().all(|f| f.trap == 3));
    assert!(findings.iter().any(|f| f.fix.contains("events.amazonaws.com") && f.fix.contains(&rule)));
}

#[tokio::test]
async fn archives_keep_matching_events_and_replays_send_them_back_once() {
    let w = world();
    let bus = bus_arn("us-east-1", "000000000000", DEFAULT_BUS);
    let input = ArchiveInput {
        name: "arc".into(),
        source_arn: Some(bus.clone()),
        event_pattern: Some(r#"{"source": ["app"]}"#.into()),
        ..ArchiveInput::default()
    };
    let archive = w.events.create_archive(&caller(), input).await.unwrap();
    w.put("app", json!({"n": 1})).await;
    w.put("other", json!({"n": 2})).await;
    w.put("app", json!({"n": 3})).await;
    assert_eq!(archive.event_count.load(std::sync::atomic::Ordering::Relaxed), 2);
    // Rules made after the events see only the replay, and only the filtered one gets it.
    let rule = w.rule("later", r#"{"source": ["app"]}"#).await;
    let other = w.rule("skipped", r#"{"source": ["app"]}"#).await;
    let q = w.queue("replayed", Some(&rule)).await;
    let q2 = w.queue("not-replayed", Some(&other)).await;
    w.target("later", json!({"Id": "a", "Arn": q.arn})).await;
    w.target("skipped", json!({"Id": "a", "Arn": q2.arn})).await;
    w.clock.advance_secs(10);
    let replay = ReplayInput {
        name: "rep".into(),
        archive_arn: archive.arn.clone(),
        start_ms: T0 - 1000,
        end_ms: T0 + 5000,
        destination: bus.clone(),
        filter_arns: vec![rule.clone()],
        ..ReplayInput::default()
    };
    w.events.start_replay(&caller(), replay.clone()).await.unwrap();
    let got = w.drain(&q).await;
    let mut ns: Vec<i64> = got
        .iter()
        .map(|m| {
            let e: Value = serde_json::from_str(&m.body).unwrap();
            assert_eq!(e["replay-name"], "rep");
            e["detail"]["n"].as_i64().unwrap()
        })
        .collect();
    ns.sort();
    assert_eq!(ns, [1, 3]);
    assert!(w.drain_now(&q2).await.is_empty());
    assert_eq!(w.events.describe_replay(&caller(), "rep").unwrap().state, "COMPLETED");
    assert!(matches!(w.events.start_replay(&caller(), replay.clone()).await, Err(EventsError::AlreadyExists(_))));
    let backwards = ReplayInput { name: "late".into(), end_ms: T0 - 5000, ..replay.clone() };
    assert!(matches!(w.events.start_replay(&caller(), backwards).await, Err(EventsError::Validation(_))));
    assert!(matches!(w.events.cancel_replay(&caller(), "rep").await, Err(EventsError::IllegalStatus(_))));
    w.events.delete_archive(&caller(), "arc").await.unwrap();
    assert!(matches!(w.events.describe_archive(&caller(), "arc"), Err(EventsError::NotFound(_))));
}
