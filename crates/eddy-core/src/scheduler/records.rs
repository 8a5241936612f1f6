//! What the store keeps for Scheduler: schedule groups, schedules, firings
//! waiting to be delivered, and the outbox, each in a key family of the
//! `scheduler` partition, as JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Millis;
use crate::tags::Tags;

pub(crate) const PARTITION: &str = "scheduler";
pub(crate) const GROUPS: u8 = b'G';
pub(crate) const SCHEDULES: u8 = b'S';
pub(crate) const FIRINGS: u8 = b'F';
pub(crate) const OUTBOX: u8 = b'O';

/// AWS's defaults for a target without a RetryPolicy (or without one of its members).
pub const DEFAULT_MAX_RETRY_ATTEMPTS: u32 = 185;
pub const DEFAULT_MAX_EVENT_AGE_SECS: u32 = 86_400;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    #[serde(default = "default_age")]
    pub maximum_event_age_in_seconds: u32,
    #[serde(default = "default_attempts")]
    pub maximum_retry_attempts: u32,
}

fn default_age() -> u32 {
    DEFAULT_MAX_EVENT_AGE_SECS
}

fn default_attempts() -> u32 {
    DEFAULT_MAX_RETRY_ATTEMPTS
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { maximum_event_age_in_seconds: default_age(), maximum_retry_attempts: default_attempts() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SqsParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisParameters {
    pub partition_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBridgeParameters {
    pub detail_type: String,
    pub source: String,
}

/// A schedule's target, in the API's own member names. Members eddy does
/// not act on (EcsParameters, SageMakerPipelineParameters, …) are kept as
/// given and returned by GetSchedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleTarget {
    pub arn: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    #[serde(default)]
    pub retry_policy: RetryPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs_parameters: Option<SqsParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_parameters: Option<KinesisParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_bridge_parameters: Option<EventBridgeParameters>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ScheduleTarget {
    pub fn dead_letter_arn(&self) -> Option<&str> {
        self.dead_letter_config.as_ref().and_then(|d| d.arn.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlexibleTimeWindow {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_window_in_minutes: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub account: String,
    pub region: String,
    pub group: String,
    pub name: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub start_ms: Option<Millis>,
    pub end_ms: Option<Millis>,
    pub description: Option<String>,
    /// ENABLED or DISABLED.
    pub state: String,
    pub kms_key_arn: Option<String>,
    pub target: ScheduleTarget,
    pub flexible_time_window: FlexibleTimeWindow,
    /// NONE or DELETE.
    pub action_after_completion: String,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    /// The scheduled time of the last firing since the last change.
    #[serde(default)]
    pub last_fired_ms: Option<Millis>,
}

/// One invocation of a target, stored before it is attempted: a restart
/// attempts it again rather than losing it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FiringRecord {
    pub schedule_arn: String,
    pub account: String,
    pub region: String,
    pub target: ScheduleTarget,
    /// When the schedule was due (the window's start for flexible ones).
    pub scheduled_ms: Millis,
    /// When the next attempt is due.
    pub due_ms: Millis,
    pub attempts: u32,
    pub invocation_id: String,
}

/// An invocation of a target eddy does not run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub target_arn: String,
    pub schedule_arn: String,
    pub role_arn: String,
    pub input: Option<String>,
    /// The target as the schedule has it (the service's parameters).
    pub target: Value,
    pub time_ms: Millis,
}

pub(crate) fn group_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    format!("{account}\0{region}\0{name}").into_bytes()
}

pub(crate) fn schedule_key(account: &str, region: &str, group: &str, name: &str) -> Vec<u8> {
    format!("{account}\0{region}\0{group}\0{name}").into_bytes()
}

pub(crate) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise")
}
