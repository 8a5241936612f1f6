//! What a pipe reads from, and the record shapes its events take: AWS's
//! Pipes SQS and Kinesis records (the event source mapping shapes), so a
//! target or an input template sees what it would see on AWS.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::clock::Millis;
use crate::sqs::Attributes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Sqs,
    Kinesis,
    /// DynamoDB streams, MQ brokers, MSK, self-managed Kafka: accepted and
    /// described, never read (eddy runs none of them).
    Other,
}

impl SourceKind {
    pub fn of(source: &str) -> SourceKind {
        match source.split(':').nth(2) {
            Some("sqs") => SourceKind::Sqs,
            Some("kinesis") if source.contains(":stream/") => SourceKind::Kinesis,
            _ => SourceKind::Other,
        }
    }

    /// The `eventSource` a record carries, also the default DetailType's tail.
    pub fn event_source(self) -> &'static str {
        match self {
            SourceKind::Sqs => "aws:sqs",
            SourceKind::Kinesis => "aws:kinesis",
            SourceKind::Other => "aws:pipes",
        }
    }
}

/// A received SQS message, as the fields the record shows.
pub struct SqsMessage<'a> {
    pub message_id: &'a str,
    pub receipt_handle: &'a str,
    pub body: &'a str,
    pub md5_body: &'a str,
    pub system_attributes: &'a BTreeMap<String, String>,
    pub attributes: &'a Attributes,
    pub md5_attributes: Option<&'a str>,
}

/// The Pipes SQS record: messageId, receiptHandle, body, attributes,
/// messageAttributes (each with stringValue/binaryValue, the list members
/// and dataType), md5OfBody, eventSource, eventSourceARN, awsRegion.
pub fn sqs_record(m: &SqsMessage<'_>, queue_arn: &str, region: &str) -> Value {
    let mut attributes = Map::new();
    for (k, v) in m.system_attributes {
        attributes.insert(k.clone(), json!(v));
    }
    let mut message_attributes = Map::new();
    for (name, v) in m.attributes {
        let mut a = Map::new();
        if let Some(s) = &v.string {
            a.insert("stringValue".into(), json!(s));
        }
        if let Some(b) = &v.binary {
            a.insert("binaryValue".into(), json!(STANDARD.encode(b)));
        }
        a.insert("stringListValues".into(), json!([]));
        a.insert("binaryListValues".into(), json!([]));
        a.insert("dataType".into(), json!(v.data_type));
        message_attributes.insert(name.clone(), Value::Object(a));
    }
    let mut record = json!({
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": m.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    });
    if let Some(md5) = m.md5_attributes {
        record["md5OfMessageAttributes"] = json!(md5);
    }
    record
}

/// A Kinesis record, as the fields the record shows.
pub struct KinesisRecord<'a> {
    pub shard_id: &'a str,
    pub sequence_number: &'a str,
    pub partition_key: &'a str,
    pub data: &'a [u8],
    pub arrival_ms: Millis,
}

/// The Pipes Kinesis record: flat (not under `kinesis` as Lambda's), the
/// data base64, the arrival time in epoch seconds with milliseconds.
pub fn kinesis_record(r: &KinesisRecord<'_>, stream_arn: &str, region: &str, role_arn: &str) -> Value {
    json!({
        "kinesisSchemaVersion": "1.0",
        "partitionKey": r.partition_key,
        "sequenceNumber": r.sequence_number,
        "data": STANDARD.encode(r.data),
        "approximateArrivalTimestamp": r.arrival_ms as f64 / 1000.0,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", r.shard_id, r.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    })
}

/// The record as filters and input templates see it: an SQS `body`, or
/// Kinesis `data` once base64-decoded, that is JSON is parsed in place
/// (AWS's "implicit body data parsing"); other bodies stay text.
pub fn view(record: &Value) -> Value {
    let mut out = record.clone();
    if let Some(body) = record.get("body").and_then(Value::as_str) {
        if let Some(parsed) = json_of(body) {
            out["body"] = parsed;
        }
    }
    if record.get("eventSource").and_then(Value::as_str) == Some("aws:kinesis") {
        let decoded = record.get("data").and_then(Value::as_str).and_then(|d| STANDARD.decode(d).ok());
        if let Some(parsed) = decoded.and_then(|b| String::from_utf8(b).ok()).and_then(|t| json_of(&t)) {
            out["data"] = parsed;
        }
    }
    out
}

/// A text's JSON value if it is a JSON object or array (AWS parses only
/// those; a bare number or string body stays the text it is).
fn json_of(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str(text).ok()
}
