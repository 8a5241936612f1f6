//! The persisted key families of SNS. All live in the `sns` partition, each
//! under a stable type byte; changing a byte or a layout means a migration.
//!
//! | type byte | key after the type byte           | value                        |
//! |-----------|-----------------------------------|------------------------------|
//! | `T`       | topic ARN (UTF-8)                 | [`TopicRecord`] as JSON      |
//! | `S`       | subscription ARN (UTF-8)          | [`SubscriptionRecord`] JSON  |
//! | `J`       | job seq (u64 BE)                  | [`Job`] as JSON              |
//! | `R`       | retry seq (u64 BE)                | [`Retry`] as JSON (legacy)   |
//! | `Q`       | host:port, `0x00`, due ms (u64 BE), seq (u64 BE) | [`Retry`] as JSON |
//! | `D`       | topic ARN, `0x00`, dedup id       | [`DedupRecord`] as JSON      |
//! | `O`       | outbox seq (u64 BE)               | [`OutboxEntry`] as JSON      |
//! | `K`       | `signing`                         | the signing key's bytes      |
//! | `K`       | `pagination`                      | the listing tokens' MAC key  |
//! | `A`       | platform application ARN          | `PlatformApplication` JSON   |
//! | `E`       | platform endpoint ARN             | `PlatformEndpoint` JSON      |
//!
//! A job is one accepted Publish; it is deleted once every delivery finished
//! or moved to a queued HTTP/S delivery. `Q` holds HTTP/S deliveries waiting
//! for their endpoint (a retry, or a first attempt the endpoint had no slot
//! for), per endpoint in due order. Start-up moves `R` records (written by
//! earlier versions, one task each) into `Q`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::sqs::Attributes;

pub const PARTITION: &str = "sns";
pub const TOPICS: u8 = b'T';
pub const SUBSCRIPTIONS: u8 = b'S';
pub const JOBS: u8 = b'J';
pub const RETRIES: u8 = b'R';
pub const QUEUED: u8 = b'Q';
pub const DEDUP: u8 = b'D';
pub const OUTBOX: u8 = b'O';
pub const KEYS: u8 = b'K';
pub const APPLICATIONS: u8 = b'A';
pub const ENDPOINTS: u8 = b'E';
/// SMS settings and opt-out list, one record per `{account}/{region}`.
pub const SMS: u8 = b'M';

pub const SIGNING_KEY: &[u8] = b"signing";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopicRecord {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    /// Settable attributes as the user set them (defaults are added on read).
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_protection_policy: Option<String>,
    pub created_ms: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubscriptionRecord {
    pub arn: String,
    pub topic_arn: String,
    /// Account that created the subscription.
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub attributes: BTreeMap<String, String>,
    pub pending: bool,
    /// Token of the SubscriptionConfirmation, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default)]
    pub authenticated_unsubscribe: bool,
    pub created_ms: Millis,
    /// Position in the job sequence when created: a job delivers only to
    /// subscriptions older than itself.
    #[serde(default)]
    pub created_seq: u64,
}

/// A published message as every subscription sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Notice {
    pub message_id: String,
    pub topic_arn: String,
    pub message: String,
    /// `MessageStructure=json`: the per-protocol messages (`default`, `sqs`, `http`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_protocol: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    pub timestamp_ms: Millis,
    /// The Publish request's `X-Amzn-Trace-Id`: SQS subscribers get it as
    /// the AWSTraceHeader system attribute (recorded from AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

impl Notice {
    /// The message a subscriber of `protocol` receives.
    pub fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol
            .as_ref()
            .and_then(|m| m.get(protocol).or_else(|| m.get("default")))
            .map(String::as_str)
            .unwrap_or(&self.message)
    }
}

/// One accepted Publish. It fans out to the topic's confirmed subscriptions
/// created before it (by sequence), so the record stays small however many
/// subscriptions the topic has.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub notice: Notice,
}

/// An HTTP/S delivery waiting for its (next) attempt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Retry {
    pub notice: Notice,
    pub subscription: String,
    /// Which attempt is next: 0 for the first, n for the n-th retry.
    pub attempts: u32,
    pub due_ms: Millis,
    pub last_error: String,
}

impl Retry {
    /// A first attempt that waits for a free slot of its endpoint.
    pub fn first(notice: &Notice, subscription: &str, now: Millis) -> Retry {
        Retry {
            notice: notice.clone(),
            subscription: subscription.to_string(),
            attempts: 0,
            due_ms: now,
            last_error: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DedupRecord {
    pub message_id: String,
    pub sequence_number: String,
    pub expires_ms: Millis,
}

/// A message for a protocol eddy records instead of sending (SMS, email,
/// mobile push), readable at `/_eddy/sns/outbox`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub protocol: String,
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_arn: Option<String>,
    pub message_id: String,
    /// What would have been sent: the body for raw/SMS, else the JSON envelope.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub message_attributes: BTreeMap<String, serde_json::Value>,
    /// `Notification` or `SubscriptionConfirmation`.
    pub kind: String,
    pub timestamp_ms: Millis,
}

pub fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn dedup_key(topic_arn: &str, dedup_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(topic_arn.len() + dedup_id.len() + 1);
    k.extend_from_slice(topic_arn.as_bytes());
    k.push(0);
    k.extend_from_slice(dedup_id.as_bytes());
    k
}

/// The sequence number a `seq_key` holds.
pub fn seq_of(key: &[u8]) -> u64 {
    key.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

/// The keys of one endpoint's queued deliveries start with this.
pub fn queue_prefix(endpoint: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(endpoint.len() + 1);
    k.extend_from_slice(endpoint.as_bytes());
    k.push(0);
    k
}

pub fn queue_key(endpoint: &str, due_ms: Millis, seq: u64) -> Vec<u8> {
    let mut k = queue_prefix(endpoint);
    k.extend_from_slice(&due_ms.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The endpoint and due time of a queue key.
pub fn parse_queue_key(key: &[u8]) -> Option<(&str, Millis)> {
    let split = key.iter().position(|b| *b == 0)?;
    let endpoint = std::str::from_utf8(&key[..split]).ok()?;
    let due = key.get(split + 1..split + 9)?.try_into().ok().map(u64::from_be_bytes)?;
    Some((endpoint, due))
}

pub fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_round_trip() {
        let job = Job {
            notice: Notice {
                message_id: "m".into(),
                topic_arn: "arn:aws:sns:us-east-1:000000000000:t".into(),
                message: "hello".into(),
                per_protocol: None,
                subject: Some("s".into()),
                attributes: Attributes::new(),
                group_id: None,
                dedup_id: None,
                sequence_number: None,
                timestamp_ms: 5,
                trace_header: Some("Root=1-x".into()),
            },
        };
        let back: Job = serde_json::from_slice(&to_json(&job)).unwrap();
        assert_eq!(back, job);
        assert_eq!(seq_key(258), [0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(dedup_key("a", "b"), b"a\0b");
        let q = queue_key("h:80", 7, 9);
        assert!(q.starts_with(&queue_prefix("h:80")));
        assert_eq!(parse_queue_key(&q), Some(("h:80", 7)));
    }
}
