//! EventBridge and EventBridge Scheduler through aws-sdk-eventbridge
//! (awsJson 1.1) and aws-sdk-scheduler (restJson1): a rule delivering the
//! event envelope to SQS under the queue policy AWS documents, an input
//! transformer, AWS's validation errors, and a one-time schedule firing into
//! a queue.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_eventbridge::types::{InputTransformer, PutEventsRequestEntry, Target};
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target as ScheduleTarget};
use aws_sdk_sqs::types::QueueAttributeName as A;
use serde_json::{json, Value};

use crate::common::{create_queue, queue_arn, receive_n, receive_now, Eddy};

/// The statement AWS documents for letting a rule send to a queue.
async fn allow_rule(sqs: &aws_sdk_sqs::Client, url: &str, rule_arn: &str) -> String {
    let arn = queue_arn(sqs, url).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}
    }]});
    sqs.set_queue_attributes().queue_url(url).attributes(A::Policy, policy.to_string()).send().await.expect("Policy");
    arn
}

fn entry(bus: &str, source: &str, detail: &Value) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(source)
        .detail_type("Order Placed")
        .detail(detail.to_string())
        .resources("arn:aws:example:us-east-1:000000000000:thing/1")
        .build()
}

#[tokio::test]
async fn a_matching_event_reaches_the_queue_as_the_event_envelope() {
    let eddy = Eddy::start();
    let (events, sqs) = (eddy.events_client().await, eddy.client().await);
    let bus_arn = events.create_event_bus().name("orders").send().await.expect("CreateEventBus").event_bus_arn;
    assert!(bus_arn.as_deref().is_some_and(|a| a.ends_with(":event-bus/orders")), "{bus_arn:?}");
    let pattern = json!({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}});
    let rule_arn = events
        .put_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .event_pattern(pattern.to_string())
        .send()
        .await
        .expect("PutRule")
        .rule_arn
        .expect("RuleArn");
    assert!(rule_arn.ends_with(":rule/orders/big-orders"), "{rule_arn}");
    let url = create_queue(&sqs, "big-orders").await;
    let arn = allow_rule(&sqs, &url, &rule_arn).await;
    let target = Target::builder().id("q").arn(&arn).build().expect("target");
    let put = events.put_targets().rule("big-orders").event_bus_name("orders").targets(target).send().await;
    assert_eq!(put.expect("PutTargets").failed_entry_count, 0);

    let big = json!({"total": 250, "items": ["a", "b"]});
    let sent = events
        .put_events()
        .entries(entry("orders", "shop", &big))
        .entries(entry("orders", "shop", &json!({"total": 5})))
        .entries(entry("orders", "elsewhere", &big))
        .send()
        .await
        .expect("PutEvents");
    assert_eq!(sent.failed_entry_count, 0);
    let ids: Vec<_> = sent.entries().iter().map(|e| e.event_id().expect("EventId").to_string()).collect();
    assert_eq!(ids.len(), 3);

    let got = receive_n(&sqs, &url, 1, Duration::from_secs(5)).await;
    let event: Value = serde_json::from_str(got[0].body().unwrap_or_default()).expect("JSON event");
    assert_eq!(event["version"], "0");
    assert_eq!(event["id"], ids[0].as_str());
    assert_eq!(event["source"], "shop");
    assert_eq!(event["detail-type"], "Order Placed");
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["resources"], json!(["arn:aws:example:us-east-1:000000000000:thing/1"]));
    assert_eq!(event["detail"], big);
    assert!(event["time"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20), "{}", event["time"]);
    // Only the first entry matched.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receive_now(&sqs, &url).await.is_empty());
}

#[tokio::test]
async fn an_input_transformer_shapes_what_the_target_receives() {
    let eddy = Eddy::start();
    let (events, sqs) = (eddy.events_client().await, eddy.client().await);
    let rule_arn = events
        .put_rule()
        .name("shaped")
        .event_pattern(json!({"source": ["shop"]}).to_string())
        .send()
        .await
        .expect("PutRule")
        .rule_arn
        .expect("RuleArn");
    let url = create_queue(&sqs, "shaped").await;
    let arn = allow_rule(&sqs, &url, &rule_arn).await;
    let transformer = InputTransformer::builder()
        .input_paths_map("total", "$.detail.total")
        .input_paths_map("source", "$.source")
        .input_template(r#"{"from": <source>, "amount": <total>}"#)
        .build()
        .expect("transformer");
    let target = Target::builder().id("q").arn(&arn).input_transformer(transformer).build().expect("target");
    events.put_targets().rule("shaped").targets(target).send().await.expect("PutTargets");
    events.put_events().entries(entry("default", "shop", &json!({"total": 42}))).send().await.expect("PutEvents");
    let got = receive_n(&sqs, &url, 1, Duration::from_secs(5)).await;
    let body: Value = serde_json::from_str(got[0].body().unwrap_or_default()).expect("JSON body");
    assert_eq!(body, json!({"from": "shop", "amount": 42}));
}

#[tokio::test]
async fn invalid_requests_get_eventbridges_errors() {
    let eddy = Eddy::start();
    let events = eddy.events_client().await;
    let err =
        events.put_rule().name("bad").event_pattern("{\"source\": \"shop\"}").send().await.expect_err("a bare string");
    assert_eq!(err.into_service_error().meta().code(), Some("InvalidEventPatternException"));
    let err = events.describe_rule().name("missing").send().await.expect_err("no such rule");
    assert!(err.into_service_error().is_resource_not_found_exception());
    let err = events.create_event_bus().name("default").send().await.expect_err("the default bus exists");
    assert!(err.into_service_error().is_resource_already_exists_exception());
    events.put_rule().name("with-target").event_pattern(r#"{"source":["x"]}"#).send().await.expect("PutRule");
    let target = Target::builder().id("t").arn("arn:aws:sqs:us-east-1:000000000000:q").build().expect("target");
    events.put_targets().rule("with-target").targets(target).send().await.expect("PutTargets");
    let err = events.delete_rule().name("with-target").send().await.expect_err("targets remain");
    assert_eq!(err.into_service_error().meta().code(), Some("ValidationException"));
    events.remove_targets().rule("with-target").ids("t").send().await.expect("RemoveTargets");
    events.delete_rule().name("with-target").send().await.expect("DeleteRule");
}

#[tokio::test]
async fn a_one_time_schedule_sends_its_input_to_the_queue() {
    let eddy = Eddy::start();
    let (scheduler, sqs) = (eddy.scheduler_client().await, eddy.client().await);
    let url = create_queue(&sqs, "scheduled").await;
    let arn = queue_arn(&sqs, &url).await;
    let group = scheduler.create_schedule_group().name("jobs").send().await.expect("CreateScheduleGroup");
    assert!(group.schedule_group_arn.ends_with(":schedule-group/jobs"), "{}", group.schedule_group_arn);
    // at() takes a local time without seconds' fraction; UTC by default.
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() + 2;
    let at = format!("at({})", utc(secs));
    let target = ScheduleTarget::builder()
        .arn(&arn)
        .role_arn("arn:aws:iam::000000000000:role/scheduler")
        .input("hello from the scheduler")
        .build()
        .expect("target");
    let window = FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build().expect("window");
    let created = scheduler
        .create_schedule()
        .name("once")
        .group_name("jobs")
        .schedule_expression(&at)
        .flexible_time_window(window)
        .target(target)
        .send()
        .await
        .expect("CreateSchedule");
    assert!(created.schedule_arn.ends_with(":schedule/jobs/once"), "{}", created.schedule_arn);
    let got = scheduler.get_schedule().name("once").group_name("jobs").send().await.expect("GetSchedule");
    assert_eq!(got.schedule_expression(), Some(at.as_str()));
    assert_eq!(got.schedule_expression_timezone(), Some("UTC"));
    let got = receive_n(&sqs, &url, 1, Duration::from_secs(10)).await;
    assert_eq!(got[0].body(), Some("hello from the scheduler"));
    let err = scheduler.get_schedule().name("nope").group_name("jobs").send().await.expect_err("no such schedule");
    assert!(err.into_service_error().is_resource_not_found_exception());
}

/// `yyyy-mm-ddThh:mm:ss` (UTC) for seconds since the epoch, as `at()` takes it.
fn utc(secs: u64) -> String {
    let t = aws_sdk_scheduler::primitives::DateTime::from_secs(secs as i64);
    let text = t.fmt(aws_sdk_scheduler::primitives::DateTimeFormat::DateTime).expect("formats");
    text.trim_end_matches('Z').to_string()
}
