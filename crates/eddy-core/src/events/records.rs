//! The persisted key families of EventBridge, all in the `events`
//! partition under a stable type byte; changing a byte or a layout means a
//! migration.
//!
//! | type byte | key after the type byte                 | value                 |
//! |-----------|-----------------------------------------|-----------------------|
//! | `B`       | account, region, bus name (NUL-separated) | [`BusRecord`] JSON  |
//! | `R`       | account, region, bus, rule name           | [`RuleRecord`] JSON |
//! | `J`       | job sequence number (u64 BE)              | [`JobRecord`] JSON  |

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;
use crate::tags::Tags;

pub const PARTITION: &str = "events";
pub const BUSES: u8 = b'B';
pub const RULES: u8 = b'R';
pub const JOBS: u8 = b'J';

/// A custom event bus (the default bus has a record only once changed:
/// a policy, a description, tags).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_arn: Option<String>,
    /// The resource policy (PutPermission, or a whole `Policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    #[serde(default)]
    pub tags: Tags,
    pub created_ms: Millis,
    pub modified_ms: Millis,
}

/// A rule and its targets (kept as the caller gave them, in the API's
/// shape, so ListTargetsByRule returns exactly what PutTargets stored).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleRecord {
    pub account: String,
    pub region: String,
    pub bus: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// `ENABLED` or `DISABLED` (and AWS's `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub targets: Vec<Value>,
    pub created_ms: Millis,
    /// A scheduled rule: when it last fired (its next firing follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fired_ms: Option<Millis>,
}

/// One event on its way to one target of one rule: written before
/// PutEvents answers, deleted once delivered or given up on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    /// The event as the rule matched it (EventBridge's JSON envelope).
    pub event: String,
    pub rule_arn: String,
    /// The target as PutTargets stored it when the event matched.
    pub target: Value,
    /// Attempts made so far.
    #[serde(default)]
    pub attempts: u32,
    /// When the event was accepted (MaximumEventAgeInSeconds counts from it).
    pub accepted_ms: Millis,
    /// When the next attempt is due.
    pub due_ms: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

pub fn bus_key(account: &str, region: &str, name: &str) -> Vec<u8> {
    join(&[account, region, name])
}

pub fn rule_key(account: &str, region: &str, bus: &str, name: &str) -> Vec<u8> {
    join(&[account, region, bus, name])
}

pub fn job_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn join(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise")
}
