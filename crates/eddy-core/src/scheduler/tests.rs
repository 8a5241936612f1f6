//! Scheduler core tests on an in-memory store and a manual clock:
//! expressions (time zones, daylight saving), next-fire times, firing into
//! targets, retries and dead letters, and recovery after a restart.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use eddy_store::Store;
use serde_json::{json, Value};

use super::expression::Expression;
use super::*;
use crate::clock::ManualClock;
use crate::identity::Caller;
use crate::kinesis::Kinesis;
use crate::sns::{Enforcement, Sns};
use crate::sqs::{Queue, ReceiveRequest};
use crate::tags::Tags;

/// 2023-11-14T22:13:20Z.
const T0: u64 = 1_700_000_000_000;
const ROLE: &str = "arn:aws:iam::000000000000:role/scheduler";

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into(), access_key: "test".into() }
}

/// Epoch ms of an ISO 8601 UTC time.
fn utc(text: &str) -> u64 {
    let ts: jiff::Timestamp = text.parse().unwrap();
    ts.as_millisecond() as u64
}

fn next(expr: &str, tz: Option<&str>, after: &str) -> Option<String> {
    let e = Expression::parse(expr, tz).unwrap();
    e.next_after(utc(after), utc(after)).map(|ms| jiff::Timestamp::from_millisecond(ms as i64).unwrap().to_string())
}

#[test]
fn expressions_parse_as_aws_documents_them() {
    for ok in [
        "at(2030-01-01T00:00:00)",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 day)",
        // Recorded as accepted by AWS (LocalStack's scheduler snapshots).
        "rate(2 minute)",
        "cron(0 12 * * ? *)",
        "cron(15 10 ? * 6L 2030-2040)",
        "cron(0/5 8-17 ? * MON-FRI *)",
    ] {
        assert!(Expression::parse(ok, None).is_ok(), "{ok}");
    }
    // The expressions AWS refused in LocalStack's recorded tests.
    for bad in [
        "cron(0 1 * * * *)",
        "cron(7 20 * * NOT *)",
        "cron(INVALID)",
        "cron(0 dummy ? * MON-FRI *)",
        "cron(71 8 1 * ? *)",
        "cron()",
        "rate(10 seconds)",
        "rate(10 years)",
        "rate()",
        "rate(10)",
        "rate(10 minutess)",
        "rate(foo minutes)",
        "rate(-10 minutes)",
        "rate( 10 minutes )",
        " rate(10 minutes)",
        "at(2021-12-31T23:59:59Z)",
        "at(2021-12-31)",
        "rate(0 minutes)",
    ] {
        let e = Expression::parse(bad, None).unwrap_err();
        assert_eq!(e.message(), format!("Invalid Schedule Expression {bad}."), "{bad}");
    }
    let e = Expression::parse("rate(1 hour)", Some("Mars/Olympus")).unwrap_err();
    assert_eq!(e.code(), "ValidationException");
}

#[test]
fn next_firings_in_utc_and_in_a_time_zone() {
    assert_eq!(next("cron(0 12 * * ? *)", None, "2030-01-01T13:00:00Z").as_deref(), Some("2030-01-02T12:00:00Z"));
    // Noon in New York is 17:00 UTC in winter, 16:00 in summer.
    let ny = Some("America/New_York");
    assert_eq!(next("cron(0 12 * * ? *)", ny, "2030-01-01T13:00:00Z").as_deref(), Some("2030-01-01T17:00:00Z"));
    assert_eq!(next("cron(0 12 * * ? *)", ny, "2030-07-01T13:00:00Z").as_deref(), Some("2030-07-01T16:00:00Z"));
    assert_eq!(
        next("at(2030-01-01T09:30:00)", Some("Asia/Tokyo"), "2029-12-01T00:00:00Z").as_deref(),
        Some("2030-01-01T00:30:00Z")
    );
    assert_eq!(next("at(2030-01-01T09:30:00)", None, "2030-01-01T09:30:00Z"), None, "at() fires once");
    // A rate counts from its anchor, whatever the zone.
    let e = Expression::parse("rate(5 minutes)", Some("Asia/Kolkata")).unwrap();
    assert_eq!(e.next_after(T0 + 1, T0), Some(T0 + 300_000));
    assert_eq!(e.next_after(T0 + 300_000, T0), Some(T0 + 600_000));
}

#[test]
fn daylight_saving_skips_the_gap_and_fires_a_fold_once() {
    let ny = Some("America/New_York");
    // 2030-03-10: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    assert_eq!(next("cron(30 2 * * ? *)", ny, "2030-03-09T12:00:00Z").as_deref(), Some("2030-03-11T06:30:00Z"));
    // 2030-11-03: 01:30 happens twice (EDT, then EST): it fires at the first.
    assert_eq!(next("cron(30 1 * * ? *)", ny, "2030-11-02T12:00:00Z").as_deref(), Some("2030-11-03T05:30:00Z"));
    assert_eq!(next("cron(30 1 * * ? *)", ny, "2030-11-03T05:30:00Z").as_deref(), Some("2030-11-04T06:30:00Z"));
    // Every 15 minutes through the fold: the repeated hour does not fire again.
    assert_eq!(next("cron(0/15 * * * ? *)", ny, "2030-11-03T05:45:00Z").as_deref(), Some("2030-11-03T07:00:00Z"));
    // An at() in the gap fires when the clock jumps past it.
    assert_eq!(next("at(2030-03-10T02:30:00)", ny, "2030-03-01T00:00:00Z").as_deref(), Some("2030-03-10T07:30:00Z"));
}

struct NoHttp;

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

impl crate::events::HttpInvoker for NoHttp {
    fn invoke(
        &self,
        call: crate::events::HttpCall,
    ) -> Pin<Box<dyn Future<Output = Result<crate::events::HttpReply, String>> + Send>> {
        Box::pin(async move { Err(format!("no HTTP in these tests ({})", call.url)) })
    }
}

struct World {
    sqs: Arc<crate::sqs::Sqs>,
    events: Arc<crate::events::Events>,
    scheduler: Arc<Scheduler>,
    clock: ManualClock,
}

fn world_on(store: Store, clock: ManualClock) -> World {
    let c = || Arc::new(clock.clone());
    let sqs = crate::sqs::Sqs::open(store.clone(), c()).unwrap();
    let config = crate::sns::SnsConfig {
        enforcement: Enforcement::Enforce,
        urls: crate::sns::Urls { base: "http://eddy.test".into() },
    };
    let (sns, _backlog) = Sns::open(store.clone(), c(), sqs.clone(), Arc::new(NoHttp), config).unwrap();
    let kinesis = Kinesis::open(store.clone(), c(), crate::kinesis::KinesisConfig { enforce_limits: false }).unwrap();
    let events = crate::events::Events::open(
        store.clone(),
        c(),
        crate::events::Targets { sqs: sqs.clone(), sns: sns.clone(), kinesis: kinesis.clone() },
        Arc::new(NoHttp),
        crate::events::EventsConfig::new(Enforcement::Off),
    )
    .unwrap();
    let scheduler =
        Scheduler::open(store, c(), Targets { sqs: sqs.clone(), sns, kinesis, events: events.clone() }).unwrap();
    World { sqs, events, scheduler, clock }
}

fn world() -> World {
    world_on(Store::in_memory(), ManualClock::new(T0))
}

fn at_in(secs: u64) -> String {
    let ts = jiff::Timestamp::from_millisecond((T0 + secs * 1000) as i64).unwrap();
    format!("at({})", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn input(name: &str, expression: &str, target: Value) -> ScheduleInput {
    ScheduleInput {
        name: name.into(),
        expression: expression.into(),
        target,
        flexible_time_window: json!({"Mode": "OFF"}),
        ..ScheduleInput::default()
    }
}

impl World {
    async fn queue(&self, name: &str) -> Arc<Queue> {
        self.sqs.create_queue(&caller(), name, BTreeMap::new(), BTreeMap::new()).await.unwrap()
    }

    /// Fires what is due and attempts what is due, as the loop would.
    async fn tick(&self) {
        let now = self.scheduler.now_ms();
        self.scheduler.fire_due(now).await;
        for (seq, firing) in self.scheduler.firings.queue.take_due(now, 1000) {
            self.scheduler.invoke(seq, firing).await;
        }
    }

    async fn drain(&self, q: &Arc<Queue>) -> Vec<crate::sqs::Received> {
        let req = ReceiveRequest {
            max_messages: Some(10),
            wait_secs: Some(0),
            // Received messages stay hidden while the tests move the clock.
            visibility_secs: Some(43_200),
            attribute_names: vec!["All".into()],
            ..ReceiveRequest::default()
        };
        self.sqs.receive(q, req).await.unwrap()
    }
}

#[tokio::test]
async fn groups_default_conflicts_and_cascading_delete() {
    let w = world();
    let s = &w.scheduler;
    let default = s.get_group(&caller(), DEFAULT_GROUP).unwrap();
    assert_eq!(default.arn, "arn:aws:scheduler:us-east-1:000000000000:schedule-group/default");
    assert_eq!(s.delete_group(&caller(), DEFAULT_GROUP).await.unwrap_err().code(), "ValidationException");
    assert_eq!(s.create_group(&caller(), DEFAULT_GROUP, Tags::new()).await.unwrap_err().code(), "ConflictException");
    s.create_group(&caller(), "g1", Tags::from([("k".into(), "v".into())])).await.unwrap();
    assert_eq!(s.create_group(&caller(), "g1", Tags::new()).await.unwrap_err().code(), "ConflictException");
    let arn = group_arn("us-east-1", "000000000000", "g1");
    assert_eq!(s.list_tags(&arn).unwrap().get("k").map(String::as_str), Some("v"));
    let q = w.queue("q").await;
    let mut i = input("s1", "rate(5 minutes)", json!({"Arn": q.arn, "RoleArn": ROLE}));
    i.group = Some("g1".into());
    s.create_schedule(&caller(), i).await.unwrap();
    let names: Vec<_> = s.list_groups(&caller(), None, None, 100).unwrap().items.into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["default", "g1"]);
    s.delete_group(&caller(), "g1").await.unwrap();
    assert_eq!(s.get_schedule(&caller(), Some("g1"), "s1").unwrap_err().code(), "ResourceNotFoundException");
    assert!(s.list_schedules(&caller(), &ListSchedules { limit: 100, ..Default::default() }).unwrap().items.is_empty());
    assert_eq!(s.list_tags(&arn).unwrap_err().code(), "ResourceNotFoundException");
}

#[tokio::test]
async fn schedules_validate_replace_and_page() {
    let w = world();
    let s = &w.scheduler;
    let target = json!({"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": ROLE});
    for n in 0..5 {
        s.create_schedule(&caller(), input(&format!("s{n}"), "rate(1 hour)", target.clone())).await.unwrap();
    }
    let dup = s.create_schedule(&caller(), input("s0", "rate(1 hour)", target.clone())).await.unwrap_err();
    assert_eq!(dup.code(), "ConflictException");
    let bad = s.create_schedule(&caller(), input("x", "rate(1 fortnight)", target.clone())).await.unwrap_err();
    assert_eq!(bad.message(), "Invalid Schedule Expression rate(1 fortnight).");
    let mut flexible = input("x", "rate(1 hour)", target.clone());
    flexible.flexible_time_window = json!({"Mode": "FLEXIBLE"});
    assert_eq!(s.create_schedule(&caller(), flexible).await.unwrap_err().code(), "ValidationException");
    let mut elsewhere = input("x", "rate(1 hour)", target.clone());
    elsewhere.group = Some("nope".into());
    assert_eq!(s.create_schedule(&caller(), elsewhere).await.unwrap_err().code(), "ResourceNotFoundException");
    // The defaults AWS fills in.
    let got = s.get_schedule(&caller(), None, "s0").unwrap();
    assert_eq!(
        got.target.retry_policy,
        RetryPolicy { maximum_event_age_in_seconds: 86400, maximum_retry_attempts: 185 }
    );
    assert_eq!((got.state.as_str(), got.action_after_completion.as_str()), ("ENABLED", "NONE"));
    // Update replaces the definition.
    let mut changed = input("s0", "cron(0 8 * * ? *)", target.clone());
    changed.state = Some("DISABLED".into());
    s.update_schedule(&caller(), changed).await.unwrap();
    let got = s.get_schedule(&caller(), None, "s0").unwrap();
    assert_eq!((got.expression.as_str(), got.state.as_str()), ("cron(0 8 * * ? *)", "DISABLED"));
    let missing = s.update_schedule(&caller(), input("zz", "rate(1 hour)", target.clone())).await.unwrap_err();
    assert_eq!(missing.code(), "ResourceNotFoundException");
    let disabled = ListSchedules { state: Some("DISABLED"), limit: 100, ..Default::default() };
    assert_eq!(s.list_schedules(&caller(), &disabled).unwrap().items.len(), 1);
    let (mut seen, mut token) = (Vec::new(), None::<String>);
    loop {
        let q = ListSchedules { token: token.as_deref(), limit: 2, name_prefix: Some("s"), ..Default::default() };
        let page = s.list_schedules(&caller(), &q).unwrap();
        seen.extend(page.items.into_iter().map(|i| i.name));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4"]);
    s.delete_schedule(&caller(), None, "s0").await.unwrap();
    assert_eq!(s.delete_schedule(&caller(), None, "s0").await.unwrap_err().code(), "ResourceNotFoundException");
}

#[tokio::test]
async fn an_at_schedule_fires_once_into_a_queue_and_deletes_itself() {
    let w = world();
    let q = w.queue("q").await;
    let target = json!({"Arn": q.arn, "RoleArn": ROLE, "Input": "{\"arn\": \"<aws.scheduler.schedule-arn>\"}"});
    let mut i = input("once", &at_in(30), target);
    i.action_after_completion = Some("DELETE".into());
    let arn = w.scheduler.create_schedule(&caller(), i).await.unwrap();
    w.tick().await;
    assert!(w.drain(&q).await.is_empty(), "not due yet");
    w.clock.advance_secs(30);
    w.tick().await;
    let got = w.drain(&q).await;
    assert_eq!(got.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&got[0].body).unwrap()["arn"], json!(arn));
    assert_eq!(w.scheduler.get_schedule(&caller(), None, "once").unwrap_err().code(), "ResourceNotFoundException");
    w.clock.advance_secs(3600);
    w.tick().await;
    assert!(w.drain(&q).await.is_empty(), "fired once");
}

#[tokio::test]
async fn a_rate_schedule_fires_on_the_clock_and_a_disabled_one_does_not() {
    let w = world();
    let q = w.queue("q").await;
    let target = json!({"Arn": q.arn, "RoleArn": ROLE, "Input": "tick"});
    w.scheduler.create_schedule(&caller(), input("r", "rate(1 minute)", target.clone())).await.unwrap();
    let mut off = input("off", "rate(1 minute)", target);
    off.state = Some("DISABLED".into());
    w.scheduler.create_schedule(&caller(), off).await.unwrap();
    for _ in 0..3 {
        w.clock.advance_secs(60);
        w.tick().await;
    }
    assert_eq!(w.drain(&q).await.len(), 3);
    assert_eq!(w.scheduler.stats.snapshot()["fired"], 3);
}

#[tokio::test]
async fn a_schedule_fires_into_an_event_bus() {
    let w = world();
    let q = w.queue("bus-q").await;
    let rule = crate::events::RuleInput {
        name: "from-scheduler".into(),
        event_pattern: Some(r#"{"source": ["my.app"]}"#.into()),
        ..Default::default()
    };
    w.events.put_rule(&caller(), rule).await.unwrap();
    let targets = vec![json!({"Id": "q", "Arn": q.arn})];
    w.events.put_targets(&caller(), "from-scheduler", None, targets).await.unwrap();
    let target = json!({
        "Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default", "RoleArn": ROLE, "Input": "{\"n\": 1}",
        "EventBridgeParameters": {"DetailType": "tick", "Source": "my.app"}
    });
    let arn = w.scheduler.create_schedule(&caller(), input("eb", &at_in(5), target)).await.unwrap();
    w.clock.advance_secs(5);
    w.tick().await;
    tokio::spawn(w.events.clone().run_deliveries());
    let req = ReceiveRequest { max_messages: Some(1), wait_secs: Some(2), ..ReceiveRequest::default() };
    let got = w.sqs.receive(&q, req).await.unwrap();
    assert_eq!(got.len(), 1);
    let event: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!((event["source"].clone(), event["detail-type"].clone()), (json!("my.app"), json!("tick")));
    assert_eq!(event["detail"], json!({"n": 1}));
    assert_eq!(event["resources"], json!([arn]));
}

#[tokio::test]
async fn a_failed_invocation_goes_to_the_dead_letter_queue_with_aws_attributes() {
    let w = world();
    let dlq = w.queue("dlq").await;
    let gone = "arn:aws:sqs:us-east-1:000000000000:never-made";
    let target = json!({"Arn": gone, "RoleArn": ROLE, "Input": "payload", "DeadLetterConfig": {"Arn": dlq.arn}});
    let arn = w.scheduler.create_schedule(&caller(), input("d", &at_in(1), target)).await.unwrap();
    w.clock.advance_secs(1);
    w.tick().await;
    let got = w.drain(&dlq).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "payload");
    let attr = |name: &str| got[0].attributes.get(name).and_then(|a| a.string.clone());
    assert_eq!(attr("SCHEDULE_ARN").as_deref(), Some(arn.as_str()));
    assert_eq!(attr("TARGET_ARN").as_deref(), Some(gone));
    assert_eq!(attr("ERROR_CODE").as_deref(), Some("AWS.SimpleQueueService.NonExistentQueue"));
    assert_eq!(attr("RETRY_ATTEMPTS").as_deref(), Some("0"));
    assert!(attr("INVOCATION_ID").is_some() && attr("ERROR_MESSAGE").is_some());
    // Not retried, so no retry condition was exhausted.
    assert_eq!(attr("EXHAUSTED_RETRY_CONDITION"), None);
}

#[tokio::test]
async fn other_targets_are_recorded_in_the_outbox() {
    let w = world();
    let target = json!({"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleArn": ROLE, "Input": "{}"});
    w.scheduler.create_schedule(&caller(), input("l", &at_in(1), target)).await.unwrap();
    w.clock.advance_secs(1);
    w.tick().await;
    let (entries, _) = w.scheduler.outbox(None, 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].target_arn, "arn:aws:lambda:us-east-1:000000000000:function:f");
}

#[tokio::test]
async fn a_due_firing_survives_a_restart_and_does_not_fire_twice() {
    let store = Store::in_memory();
    let clock = ManualClock::new(T0);
    let w = world_on(store.clone(), clock.clone());
    let q = w.queue("q").await;
    let target = json!({"Arn": q.arn, "RoleArn": ROLE, "Input": "x"});
    w.scheduler.create_schedule(&caller(), input("r", "rate(1 minute)", target)).await.unwrap();
    clock.advance_secs(60);
    // Fired (stored) but not yet invoked when the node stops.
    w.scheduler.fire_due(clock.now_ms()).await;
    assert_eq!(w.scheduler.pending_invocations(), 1);
    drop(w);
    let again = world_on(store.clone(), clock.clone());
    assert_eq!(again.scheduler.pending_invocations(), 1);
    again.tick().await;
    let q = again.sqs.lookup_arn(&q.arn).unwrap();
    assert_eq!(again.drain(&q).await.len(), 1, "the stored firing ran once; the schedule did not fire again");
    assert!(again.scheduler.get_schedule(&caller(), None, "r").is_ok());
    // A stop across several due times: one firing on restart, then the schedule keeps its times.
    drop(again);
    clock.advance_secs(600);
    let later = world_on(store, clock.clone());
    later.tick().await;
    later.tick().await;
    let q = later.sqs.lookup_arn(&q.arn).unwrap();
    assert_eq!(later.drain(&q).await.len(), 1);
    clock.advance_secs(60);
    later.tick().await;
    assert_eq!(later.drain(&q).await.len(), 1);
}

#[tokio::test]
async fn start_and_end_dates_bound_the_firings_and_a_flexible_window_delays_within_it() {
    let w = world();
    let q = w.queue("q").await;
    let target = json!({"Arn": q.arn, "RoleArn": ROLE, "Input": "x"});
    // Starts in 10 minutes, ends 25 minutes after that: rate(10 minutes) fires at +10, +20, +30.
    let mut bounded = input("bounded", "rate(10 minutes)", target.clone());
    bounded.start_ms = Some(T0 + 600_000);
    bounded.end_ms = Some(T0 + 600_000 + 1_500_000);
    w.scheduler.create_schedule(&caller(), bounded).await.unwrap();
    let mut fired = Vec::new();
    for minute in 1..=60 {
        w.clock.advance_secs(60);
        w.tick().await;
        if !w.drain(&q).await.is_empty() {
            fired.push(minute);
        }
    }
    assert_eq!(fired, [10, 20, 30]);
    // A FLEXIBLE window of 5 minutes: the invocation comes within 5 minutes of the due time.
    let mut flexible = input("flex", &at_in(3600 + 60), target);
    flexible.flexible_time_window = json!({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5});
    w.scheduler.create_schedule(&caller(), flexible).await.unwrap();
    w.clock.advance_secs(60);
    w.tick().await;
    let mut waited = 0;
    while w.drain(&q).await.is_empty() {
        assert!(waited < 300, "not invoked within the window");
        w.clock.advance_secs(1);
        waited += 1;
        w.tick().await;
    }
}
