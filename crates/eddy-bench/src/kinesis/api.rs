//! The Kinesis operations the bench uses, with request and response shapes
//! from the AWS Kinesis API reference (awsJson1_1: PascalCase members, blobs
//! as base64 strings).
//!
//! The hot paths (PutRecords bodies, GetRecords answers) avoid
//! `serde_json::Value`: bodies are written by hand and answers parsed into
//! structs that borrow their strings from the response buffer.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::http::Conn;

pub const CREATE_STREAM: &str = "Kinesis_20131202.CreateStream";
pub const DELETE_STREAM: &str = "Kinesis_20131202.DeleteStream";
pub const DESCRIBE_STREAM_SUMMARY: &str = "Kinesis_20131202.DescribeStreamSummary";
pub const LIST_SHARDS: &str = "Kinesis_20131202.ListShards";
pub const PUT_RECORD: &str = "Kinesis_20131202.PutRecord";
pub const PUT_RECORDS: &str = "Kinesis_20131202.PutRecords";
pub const GET_SHARD_ITERATOR: &str = "Kinesis_20131202.GetShardIterator";
pub const GET_RECORDS: &str = "Kinesis_20131202.GetRecords";
pub const REGISTER_STREAM_CONSUMER: &str = "Kinesis_20131202.RegisterStreamConsumer";
pub const DESCRIBE_STREAM_CONSUMER: &str = "Kinesis_20131202.DescribeStreamConsumer";
pub const DEREGISTER_STREAM_CONSUMER: &str = "Kinesis_20131202.DeregisterStreamConsumer";
pub const SUBSCRIBE_TO_SHARD: &str = "Kinesis_20131202.SubscribeToShard";

/// How long a stream or consumer may take to become ACTIVE (eddy: at once;
/// LocalStack and kinesalite: a few hundred milliseconds).
const ACTIVE_LIMIT: Duration = Duration::from_secs(60);
const ACTIVE_POLL: Duration = Duration::from_millis(50);

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamNameReq<'a> {
    stream_name: &'a str,
}

pub async fn create_stream(conn: &Conn, name: &str, shards: u32) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        stream_name: &'a str,
        shard_count: u32,
    }
    conn.call(CREATE_STREAM, serde_json::to_vec(&Req { stream_name: name, shard_count: shards })?).await?;
    Ok(())
}

pub async fn delete_stream(conn: &Conn, name: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        stream_name: &'a str,
        enforce_consumer_deletion: bool,
    }
    conn.call(DELETE_STREAM, serde_json::to_vec(&Req { stream_name: name, enforce_consumer_deletion: true })?).await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSummary {
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: String,
}

pub async fn describe_stream_summary(conn: &Conn, name: &str) -> Result<StreamSummary> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        stream_description_summary: StreamSummary,
    }
    let resp: Resp = conn.json(DESCRIBE_STREAM_SUMMARY, &StreamNameReq { stream_name: name }).await?;
    Ok(resp.stream_description_summary)
}

/// Polls DescribeStreamSummary until the stream is ACTIVE; its summary and
/// how long that took.
pub async fn wait_stream_active(conn: &Conn, name: &str) -> Result<(StreamSummary, Duration)> {
    let t0 = Instant::now();
    loop {
        let summary = describe_stream_summary(conn, name).await?;
        if summary.stream_status == "ACTIVE" {
            return Ok((summary, t0.elapsed()));
        }
        if t0.elapsed() > ACTIVE_LIMIT {
            bail!("stream {name} still {} after {ACTIVE_LIMIT:?}", summary.stream_status);
        }
        tokio::time::sleep(ACTIVE_POLL).await;
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shard {
    pub shard_id: String,
    pub hash_key_range: HashKeyRange,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HashKeyRange {
    pub starting_hash_key: String,
}

/// Every shard of the stream (following NextToken).
pub async fn list_shards(conn: &Conn, name: &str) -> Result<Vec<Shard>> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        stream_name: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<&'a str>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        shards: Vec<Shard>,
        next_token: Option<String>,
    }
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        // With a NextToken the stream name must be left out.
        let req = match &token {
            Some(t) => Req { stream_name: None, next_token: Some(t) },
            None => Req { stream_name: Some(name), next_token: None },
        };
        let resp: Resp = conn.json(LIST_SHARDS, &req).await?;
        shards.extend(resp.shards);
        match resp.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(shards),
        }
    }
}

pub async fn shard_iterator(conn: &Conn, stream: &str, shard_id: &str, kind: &str) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        stream_name: &'a str,
        shard_id: &'a str,
        shard_iterator_type: &'a str,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        shard_iterator: String,
    }
    let req = Req { stream_name: stream, shard_id, shard_iterator_type: kind };
    let resp: Resp = conn.json(GET_SHARD_ITERATOR, &req).await?;
    Ok(resp.shard_iterator)
}

/// One record as GetRecords and SubscribeToShard return it, borrowing from
/// the response body (strings without escapes, which base64 and the bench's
/// keys never need, are not copied).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordRef<'a> {
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    #[serde(borrow)]
    pub partition_key: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsResp<'a> {
    #[serde(borrow, default)]
    pub records: Vec<RecordRef<'a>>,
    pub next_shard_iterator: Option<String>,
    #[serde(default)]
    pub millis_behind_latest: u64,
}

/// The raw GetRecords answer; parse it with [`parse_get_records`] (the
/// parsed form borrows from these bytes).
pub async fn get_records(conn: &Conn, iterator: &str, limit: u32) -> Result<Bytes> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        shard_iterator: &'a str,
        limit: u32,
    }
    conn.call(GET_RECORDS, serde_json::to_vec(&Req { shard_iterator: iterator, limit })?).await
}

pub fn parse_get_records(body: &[u8]) -> Result<GetRecordsResp<'_>> {
    serde_json::from_slice(body).context("GetRecords: unexpected response body")
}

/// A PutRecords request body, written by hand: serde would need an owned
/// base64 string per record.
pub struct PutRecordsBody {
    buf: Vec<u8>,
    entries: usize,
}

impl PutRecordsBody {
    pub fn new(stream: &str, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(b"{\"StreamName\":");
        buf.extend_from_slice(serde_json::to_string(stream).expect("a string serializes").as_bytes());
        buf.extend_from_slice(b",\"Records\":[");
        Self { buf, entries: 0 }
    }

    /// Appends one entry; `key` must need no JSON escaping.
    pub fn push(&mut self, data: &[u8], key: &str) {
        if self.entries > 0 {
            self.buf.push(b',');
        }
        self.entries += 1;
        self.buf.extend_from_slice(b"{\"Data\":\"");
        let start = self.buf.len();
        self.buf.resize(start + base64::encoded_len(data.len(), true).expect("small payload"), 0);
        let written = B64.encode_slice(data, &mut self.buf[start..]).expect("sized for the encoding");
        self.buf.truncate(start + written);
        self.buf.extend_from_slice(b"\",\"PartitionKey\":\"");
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\"}");
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"]}");
        self.buf
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsResp<'a> {
    #[serde(default)]
    pub failed_record_count: u64,
    #[serde(borrow)]
    pub records: Vec<PutResult<'a>>,
}

/// One entry of a PutRecords answer: ShardId and SequenceNumber when it was
/// stored, ErrorCode and ErrorMessage when not.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResult<'a> {
    #[serde(borrow, default)]
    pub shard_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub sequence_number: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub error_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub error_message: Option<Cow<'a, str>>,
}

impl PutResult<'_> {
    pub fn stored(&self) -> bool {
        self.shard_id.as_deref().is_some_and(|s| !s.is_empty())
            && self.sequence_number.as_deref().is_some_and(|s| !s.is_empty())
    }
}

pub fn parse_put_records(body: &[u8]) -> Result<PutRecordsResp<'_>> {
    serde_json::from_slice(body).context("PutRecords: unexpected response body")
}

/// PutRecord with an explicit hash key (the push phase pins shard 0).
pub async fn put_record(conn: &Conn, stream: &str, data: &[u8], key: &str, hash_key: &str) -> Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        stream_name: &'a str,
        data: String,
        partition_key: &'a str,
        explicit_hash_key: &'a str,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        #[allow(dead_code)]
        sequence_number: String,
    }
    let req = Req { stream_name: stream, data: B64.encode(data), partition_key: key, explicit_hash_key: hash_key };
    let _: Resp = conn.json(PUT_RECORD, &req).await?;
    Ok(())
}

/// Registers a consumer and waits for it to be ACTIVE; its ARN.
pub async fn register_consumer(conn: &Conn, stream_arn: &str, name: &str) -> Result<String> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Req<'a> {
        #[serde(rename = "StreamARN")]
        stream_arn: &'a str,
        consumer_name: &'a str,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        consumer: Consumer,
    }
    let resp: Resp = conn.json(REGISTER_STREAM_CONSUMER, &Req { stream_arn, consumer_name: name }).await?;
    let arn = resp.consumer.consumer_arn;
    let t0 = Instant::now();
    let mut status = resp.consumer.consumer_status;
    while status != "ACTIVE" {
        if t0.elapsed() > ACTIVE_LIMIT {
            bail!("consumer {arn} still {status} after {ACTIVE_LIMIT:?}");
        }
        tokio::time::sleep(ACTIVE_POLL).await;
        status = describe_consumer(conn, &arn).await?;
    }
    Ok(arn)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Consumer {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: String,
    consumer_status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsumerArnReq<'a> {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: &'a str,
}

/// The consumer's status.
async fn describe_consumer(conn: &Conn, arn: &str) -> Result<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Resp {
        consumer_description: Consumer,
    }
    let resp: Resp = conn.json(DESCRIBE_STREAM_CONSUMER, &ConsumerArnReq { consumer_arn: arn }).await?;
    Ok(resp.consumer_description.consumer_status)
}

pub async fn deregister_consumer(conn: &Conn, arn: &str) -> Result<()> {
    conn.call(DEREGISTER_STREAM_CONSUMER, serde_json::to_vec(&ConsumerArnReq { consumer_arn: arn })?).await?;
    Ok(())
}

/// The SubscribeToShard request body, from the latest position.
pub fn subscribe_body(consumer_arn: &str, shard_id: &str) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(&serde_json::json!({
        "ConsumerARN": consumer_arn,
        "ShardId": shard_id,
        "StartingPosition": {"Type": "LATEST"},
    }))?)
}

/// The payload of a `SubscribeToShardEvent` frame.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShardEvent<'a> {
    #[serde(borrow, default)]
    pub records: Vec<RecordRef<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_records_body_is_json() {
        let mut body = PutRecordsBody::new("s\"1", 64);
        body.push(b"hello", "k1");
        body.push(&[0, 255, 7], "k2");
        let v: serde_json::Value = serde_json::from_slice(&body.finish()).unwrap();
        assert_eq!(v["StreamName"], "s\"1");
        assert_eq!(v["Records"][0]["Data"], "aGVsbG8=");
        assert_eq!(v["Records"][1]["PartitionKey"], "k2");
        assert_eq!(B64.decode(v["Records"][1]["Data"].as_str().unwrap()).unwrap(), vec![0, 255, 7]);
    }

    #[test]
    fn parses_answers() {
        let body = br#"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"4959","ShardId":"shardId-000000000001"},
            {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"}],"EncryptionType":"NONE"}"#;
        let r = parse_put_records(body).unwrap();
        assert_eq!(r.failed_record_count, 1);
        assert!(r.records[0].stored() && !r.records[1].stored());
        assert_eq!(r.records[1].error_code.as_deref(), Some("ProvisionedThroughputExceededException"));
        let body = br#"{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1.7E9,"Data":"aGk\/","PartitionKey":"k1","EncryptionType":"NONE"}],
            "NextShardIterator":"it","MillisBehindLatest":0,"ChildShards":[]}"#;
        let r = parse_get_records(body).unwrap();
        assert_eq!(r.records[0].data, "aGk/");
        assert_eq!(r.next_shard_iterator.as_deref(), Some("it"));
        let end = parse_get_records(br#"{"Records":[],"NextShardIterator":null,"MillisBehindLatest":0}"#).unwrap();
        assert!(end.records.is_empty() && end.next_shard_iterator.is_none());
    }
}
