//! Pipes core tests: record shapes, the body view filters and templates
//! see, filtering, input templates, dynamic parameters, the checks of the
//! model's constraints, and the stream dead-letter description.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::deliver::Pipeline;
use super::kinesis_source::dead_letter_body;
use super::source::{self, kinesis_record, sqs_record, KinesisRecord, SourceKind, SqsMessage};
use super::transform::{dynamic, render, Filters, PipeContext};
use super::{validate, PipeRecord, PipesError};
use crate::events::Failure;
use crate::sqs::{AttributeValue, Attributes};

const QUEUE: &str = "arn:aws:sqs:us-east-1:000000000000:src";
const STREAM: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

fn sqs_event(body: &str) -> Value {
    let mut system = BTreeMap::new();
    system.insert("ApproximateReceiveCount".to_string(), "1".to_string());
    let mut attrs = Attributes::new();
    attrs.insert(
        "color".into(),
        AttributeValue { data_type: "String".into(), string: Some("red".into()), binary: None },
    );
    let m = SqsMessage {
        message_id: "m-1",
        receipt_handle: "rh",
        body,
        md5_body: "md5",
        system_attributes: &system,
        attributes: &attrs,
        md5_attributes: None,
    };
    sqs_record(&m, QUEUE, "us-east-1")
}

fn kinesis_event(data: &[u8]) -> Value {
    let r = KinesisRecord {
        shard_id: "shardId-000000000000",
        sequence_number: "4960",
        partition_key: "pk",
        data,
        arrival_ms: 1_700_000_000_123,
    };
    kinesis_record(&r, STREAM, "us-east-1", "arn:aws:iam::000000000000:role/r")
}

fn ctx() -> PipeContext<'static> {
    PipeContext {
        pipe_arn: "arn:aws:pipes:us-east-1:000000000000:pipe/p",
        pipe_name: "p",
        source_arn: QUEUE,
        enrichment_arn: "",
        target_arn: "arn:aws:sqs:us-east-1:000000000000:dst",
        ingestion_time: "2023-11-14T22:13:20Z",
    }
}

fn params(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn sqs_records_have_the_pipes_shape() {
    let r = sqs_event("hello");
    assert_eq!(r["messageId"], "m-1");
    assert_eq!(r["receiptHandle"], "rh");
    assert_eq!(r["body"], "hello");
    assert_eq!(r["md5OfBody"], "md5");
    assert_eq!(r["eventSource"], "aws:sqs");
    assert_eq!(r["eventSourceARN"], QUEUE);
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
    assert_eq!(
        r["messageAttributes"]["color"],
        json!({"stringValue": "red", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
    );
}

#[test]
fn kinesis_records_have_the_pipes_shape() {
    let r = kinesis_event(b"{\"a\":1}");
    assert_eq!(r["kinesisSchemaVersion"], "1.0");
    assert_eq!(r["partitionKey"], "pk");
    assert_eq!(r["sequenceNumber"], "4960");
    assert_eq!(r["data"], "eyJhIjoxfQ==");
    assert_eq!(r["approximateArrivalTimestamp"], 1_700_000_000.123);
    assert_eq!(r["eventSource"], "aws:kinesis");
    assert_eq!(r["eventID"], "shardId-000000000000:4960");
    assert_eq!(r["eventSourceARN"], STREAM);
}

#[test]
fn the_view_parses_json_bodies_and_data_only() {
    assert_eq!(source::view(&sqs_event("{\"k\":\"v\"}"))["body"], json!({"k": "v"}));
    assert_eq!(source::view(&sqs_event("[1,2]"))["body"], json!([1, 2]));
    // A number or a text body stays the text it is.
    assert_eq!(source::view(&sqs_event("42"))["body"], "42");
    assert_eq!(source::view(&sqs_event("{broken"))["body"], "{broken");
    assert_eq!(source::view(&kinesis_event(b"{\"a\":1}"))["data"], json!({"a": 1}));
    assert_eq!(source::view(&kinesis_event(b"plain"))["data"], "cGxhaW4=");
}

#[test]
fn filters_match_the_view_and_none_pass_everything() {
    let none = Filters::from_parameters(&Map::new());
    assert!(none.pass(&source::view(&sqs_event("x"))));
    let p = params(json!({"FilterCriteria": {"Filters": [
        {"Pattern": "{\"body\": {\"kind\": [\"a\"]}}"},
        {"Pattern": "{\"messageAttributes\": {\"color\": {\"stringValue\": [\"blue\"]}}}"},
    ]}}));
    let f = Filters::from_parameters(&p);
    assert!(f.pass(&source::view(&sqs_event("{\"kind\":\"a\"}"))));
    assert!(!f.pass(&source::view(&sqs_event("{\"kind\":\"b\"}"))));
    assert!(!f.pass(&source::view(&sqs_event("kind a"))));
    let data = Filters::from_parameters(&params(
        json!({"FilterCriteria": {"Filters": [{"Pattern": "{\"data\": {\"a\": [1]}}"}]}}),
    ));
    assert!(data.pass(&source::view(&kinesis_event(b"{\"a\":1}"))));
    assert!(!data.pass(&source::view(&kinesis_event(b"{\"a\":2}"))));
}

#[test]
fn templates_fill_paths_and_reserved_variables() {
    let view = source::view(&sqs_event("{\"id\":7,\"name\":\"n \\\"q\\\"\",\"list\":[1,2]}"));
    let out = render(
        r#"{"id": <$.body.id>, "name": "<$.body.name>", "first": <$.body.list[0]>, "pipe": "<aws.pipes.pipe-name>", "missing": <$.body.nope>}"#,
        &view,
        &ctx(),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v, json!({"id": 7, "name": "n \"q\"", "first": 1, "pipe": "p", "missing": ""}));
    // A template that is not JSON is text.
    assert_eq!(render("order <$.body.id> from <aws.pipes.source-arn>", &view, &ctx()), format!("order 7 from {QUEUE}"));
    assert_eq!(render("<$.body.name>", &view, &ctx()), "n \"q\"");
    let whole: Value = serde_json::from_str(&render("<aws.pipes.event.json>", &view, &ctx())).unwrap();
    assert_eq!(whole["body"]["id"], 7);
}

#[test]
fn dynamic_parameters_read_the_event() {
    let view = source::view(&sqs_event("{\"group\":\"g7\",\"n\":3}"));
    assert_eq!(dynamic("fixed", &view).as_deref(), Some("fixed"));
    assert_eq!(dynamic("$.body.group", &view).as_deref(), Some("g7"));
    assert_eq!(dynamic("$.body.n", &view).as_deref(), Some("3"));
    assert_eq!(dynamic("$.body.none", &view), None);
}

fn field(e: PipesError) -> String {
    match e {
        PipesError::Validation { fields, .. } => fields.first().map(|f| f.0.clone()).unwrap_or_default(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn names_arns_and_roles_follow_the_model() {
    assert!(validate::name("a.b-c_9", "Name").is_ok());
    assert_eq!(field(validate::name("a b", "Name").unwrap_err()), "Name");
    assert!(validate::name(&"x".repeat(65), "Name").is_err());
    assert!(validate::is_arn(QUEUE));
    assert!(validate::is_arn("arn:aws:lambda:us-east-1:000000000000:function:f"));
    assert!(!validate::is_arn("arn:aws:sqs:us-east-1:123:q"));
    assert!(!validate::is_arn("queue"));
    assert!(validate::source("smk://broker-1.example.com:9092").is_ok());
    assert!(validate::role_arn("arn:aws:iam::000000000000:role/service-role/p").is_ok());
    assert!(validate::role_arn("arn:aws:iam::000000000000:user/u").is_err());
}

#[test]
fn source_parameters_follow_the_model() {
    let sqs = |v: Value| validate::source_parameters(&params(json!({"SqsQueueParameters": v})), SourceKind::Sqs);
    assert!(sqs(json!({"BatchSize": 10})).is_ok());
    assert!(sqs(json!({"BatchSize": 0})).is_err());
    // Above 10 messages a batch needs a batching window.
    assert!(sqs(json!({"BatchSize": 100})).is_err());
    assert!(sqs(json!({"BatchSize": 100, "MaximumBatchingWindowInSeconds": 1})).is_ok());
    assert!(sqs(json!({"MaximumBatchingWindowInSeconds": 301})).is_err());
    let kinesis =
        |v: Value| validate::source_parameters(&params(json!({"KinesisStreamParameters": v})), SourceKind::Kinesis);
    assert!(validate::source_parameters(&Map::new(), SourceKind::Kinesis).is_err());
    assert!(kinesis(json!({"StartingPosition": "TRIM_HORIZON"})).is_ok());
    assert!(kinesis(json!({"StartingPosition": "EARLIEST"})).is_err());
    assert!(kinesis(json!({"StartingPosition": "AT_TIMESTAMP"})).is_err());
    assert!(kinesis(
        json!({"StartingPosition": "LATEST", "MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": -1})
    )
    .is_ok());
    assert!(kinesis(json!({"StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": 30})).is_err());
    assert!(kinesis(json!({"StartingPosition": "LATEST", "OnPartialBatchItemFailure": "SPLIT"})).is_err());
    let six = json!({"FilterCriteria": {"Filters": vec![json!({"Pattern": "{}"}); 6]}});
    assert!(validate::source_parameters(&params(six), SourceKind::Sqs).is_err());
}

#[test]
fn target_parameters_follow_the_model() {
    let fifo = "arn:aws:sqs:us-east-1:000000000000:t.fifo";
    assert!(validate::target_parameters(&Map::new(), fifo).is_err());
    assert!(validate::target_parameters(&params(json!({"SqsQueueParameters": {"MessageGroupId": "g"}})), fifo).is_ok());
    let stream = "arn:aws:kinesis:us-east-1:000000000000:stream/t";
    assert!(validate::target_parameters(&Map::new(), stream).is_err());
    assert!(
        validate::target_parameters(&params(json!({"KinesisStreamParameters": {"PartitionKey": "k"}})), stream).is_ok()
    );
    let bus = "arn:aws:events:us-east-1:000000000000:event-bus/b";
    let with = |v: Value| validate::target_parameters(&params(json!({"EventBridgeEventBusParameters": v})), bus);
    assert!(with(json!({"DetailType": "d", "Source": "s", "Time": "$.body.at"})).is_ok());
    assert!(with(json!({"Source": "aws.events"})).is_err());
    assert!(with(json!({"Time": "body.at"})).is_err());
}

#[test]
fn a_failed_stream_batch_is_described_for_the_dead_letter_queue() {
    let record = PipeRecord {
        account: "000000000000".into(),
        region: "us-east-1".into(),
        name: "p".into(),
        description: None,
        desired_state: "RUNNING".into(),
        current_state: "RUNNING".into(),
        state_reason: None,
        source: STREAM.into(),
        source_parameters: Map::new(),
        enrichment: None,
        enrichment_parameters: Map::new(),
        target: QUEUE.into(),
        target_parameters: Map::new(),
        role_arn: "arn:aws:iam::000000000000:role/r".into(),
        tags: Default::default(),
        log_configuration: None,
        kms_key_identifier: None,
        created_ms: 0,
        modified_ms: 0,
    };
    let p = Pipeline::new(std::sync::Arc::new(record));
    let events = [kinesis_event(b"1"), kinesis_event(b"2")];
    let failure = Failure::permanent("NO_RESOURCE", "gone");
    let body = dead_letter_body(&p, "shardId-000000000000", &events, &failure, "RetryAttemptsExhausted", 1, 0);
    let info = &body["KinesisBatchInfo"];
    assert_eq!(info["shardId"], "shardId-000000000000");
    assert_eq!(info["batchSize"], 2);
    assert_eq!(info["startSequenceNumber"], "4960");
    assert_eq!(info["streamArn"], STREAM);
    assert_eq!(info["approximateArrivalOfFirstRecord"], "2023-11-14T22:13:20.123Z");
    assert_eq!(body["context"]["partnerResourceArn"], "arn:aws:pipes:us-east-1:000000000000:pipe/p");
    assert_eq!(body["context"]["condition"], "RetryAttemptsExhausted");
}
