//! What the store keeps for Pipes, each in a key family of the `pipes`
//! partition, as JSON:
//!
//! | type byte | key                                         | value            |
//! |-----------|---------------------------------------------|------------------|
//! | `P`       | account, region, pipe name (NUL-separated)  | [`PipeRecord`]   |
//! | `K`       | pipe key, NUL, shard id                     | [`Checkpoint`]   |
//! | `O`       | sequence number (u64 BE)                    | [`OutboxEntry`]  |

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Millis;
use crate::tags::Tags;

pub(crate) const PARTITION: &str = "pipes";
pub(crate) const PIPES: u8 = b'P';
pub(crate) const CHECKPOINTS: u8 = b'K';
pub(crate) const OUTBOX: u8 = b'O';

/// A pipe as the API describes it. Parameter objects are kept in the API's
/// own member names, so DescribePipe returns what was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipeRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RUNNING or STOPPED.
    pub desired_state: String,
    /// The model's PipeState: CREATING, RUNNING, STOPPING, …
    pub current_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    pub source: String,
    #[serde(default)]
    pub source_parameters: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<String>,
    #[serde(default)]
    pub enrichment_parameters: Map<String, Value>,
    pub target: String,
    #[serde(default)]
    pub target_parameters: Map<String, Value>,
    pub role_arn: String,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_identifier: Option<String>,
    pub created_ms: Millis,
    pub modified_ms: Millis,
}

impl PipeRecord {
    pub fn arn(&self) -> String {
        super::pipe_arn(&self.region, &self.account, &self.name)
    }

    /// A member of SourceParameters' service object (`SqsQueueParameters.BatchSize`).
    pub fn source_param(&self, object: &str, member: &str) -> Option<&Value> {
        self.source_parameters.get(object).and_then(|o| o.get(member))
    }

    pub fn target_param(&self, object: &str, member: &str) -> Option<&Value> {
        self.target_parameters.get(object).and_then(|o| o.get(member))
    }
}

/// Where a stream source's shard is read from next: after the last record
/// delivered (or dead-lettered), written once that is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The sequence number of the last record handled; None: the shard had
    /// no record when a LATEST pipe started, so everything in it is new.
    pub after: Option<String>,
}

/// An invocation of a target or enrichment eddy does not run (Lambda,
/// Step Functions, ECS, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub pipe_arn: String,
    /// `target` or `enrichment`.
    pub role: String,
    pub arn: String,
    /// What the target would have received.
    pub input: String,
    /// The pipe's TargetParameters or EnrichmentParameters.
    pub parameters: Value,
    pub time_ms: Millis,
}

pub(crate) fn pipe_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    format!("{account}\0{region}\0{name}").into_bytes()
}

pub(crate) fn checkpoint_key(pipe_key: &[u8], shard: &str) -> Vec<u8> {
    let mut key = pipe_key.to_vec();
    key.push(0);
    key.extend_from_slice(shard.as_bytes());
    key
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise")
}
