//! Topics: names, attributes as AWS validates and reports them, the default
//! access policy, and the FIFO deduplication window.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use parking_lot::Mutex;
use serde_json::json;

use super::error::{invalid, SnsResult};
use super::records::{DedupRecord, TopicRecord};
use crate::clock::Millis;

/// Attributes a user may set on a topic (CreateTopic / SetTopicAttributes).
const SETTABLE: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "FifoTopic",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
    "DataProtectionPolicy",
    // Delivery status logging: accepted and reported, nothing is logged.
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "FirehoseFailureFeedbackRoleArn",
];

/// How long a FIFO topic remembers a deduplication id.
pub const DEDUP_WINDOW_MS: Millis = 5 * 60 * 1000;

pub struct Topic {
    pub arn: String,
    pub account: String,
    pub fifo: bool,
    pub(crate) state: Mutex<TopicState>,
    /// Held across a change's save: changes to one topic are saved one at
    /// a time, each on a copy of the record swapped in once durable.
    pub(crate) updates: tokio::sync::Mutex<()>,
}

pub(crate) struct TopicState {
    pub record: TopicRecord,
    /// FIFO deduplication ids seen in the last 5 minutes.
    dedup: HashMap<String, DedupRecord>,
    /// The same ids by expiry, so expiring them does not scan the map.
    dedup_expiry: BTreeSet<(Millis, String)>,
}

impl TopicState {
    /// The live record for `id`, if it was seen within the window.
    pub fn dedup(&self, id: &str, now: Millis) -> Option<&DedupRecord> {
        self.dedup.get(id).filter(|d| d.expires_ms > now)
    }

    pub fn remember_dedup(&mut self, id: String, record: DedupRecord) {
        self.dedup_expiry.insert((record.expires_ms, id.clone()));
        self.dedup.insert(id, record);
    }

    pub fn dedup_ids(&self) -> impl Iterator<Item = &String> {
        self.dedup.keys()
    }

    #[cfg(test)]
    pub fn dedup_len(&self) -> usize {
        self.dedup.len()
    }

    /// Removes ids whose window ended at or before `now`; returns them. An id
    /// seen again since keeps its newer record.
    pub fn expire_dedup(&mut self, now: Millis) -> Vec<String> {
        let mut gone = Vec::new();
        while let Some((expires, _)) = self.dedup_expiry.first() {
            if *expires > now {
                break;
            }
            let (_, id) = self.dedup_expiry.pop_first().expect("checked above");
            if self.dedup.get(&id).is_some_and(|d| d.expires_ms <= now) {
                self.dedup.remove(&id);
                gone.push(id);
            }
        }
        crate::maps::shrink_if_sparse(&mut self.dedup);
        gone
    }
}

impl Topic {
    pub(crate) fn new(record: TopicRecord) -> Topic {
        Topic {
            arn: record.arn.clone(),
            account: record.account.clone(),
            fifo: record.name.ends_with(".fifo"),
            state: Mutex::new(TopicState { record, dedup: HashMap::new(), dedup_expiry: BTreeSet::new() }),
            updates: tokio::sync::Mutex::new(()),
        }
    }

    pub fn record(&self) -> TopicRecord {
        self.state.lock().record.clone()
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        self.state.lock().record.attributes.get(name).cloned()
    }

    pub fn content_based_dedup(&self) -> bool {
        self.attribute("ContentBasedDeduplication").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `SignatureVersion` "2" signs with SHA-256, anything else with SHA-1.
    pub fn signature_version(&self) -> &'static str {
        match self.attribute("SignatureVersion").as_deref() {
            Some("2") => "2",
            _ => "1",
        }
    }
}

pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// `[A-Za-z0-9_-]{1,256}`, plus `.fifo` for FIFO topics.
pub fn validate_name(name: &str, fifo: bool) -> SnsResult<()> {
    let base = if fifo { name.strip_suffix(".fifo").unwrap_or("") } else { name };
    let ok = !base.is_empty()
        && name.len() <= 256
        && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (ok, fifo) {
        (true, _) => Ok(()),
        (false, true) if !name.ends_with(".fifo") => Err(invalid("Topic Name")),
        (false, true) => Err(invalid(
            "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
        )),
        (false, false) => Err(invalid("Topic Name")),
    }
}

/// Validates one attribute for CreateTopic/SetTopicAttributes and returns
/// the value to store.
pub fn validate_attribute(name: &str, value: &str, fifo: bool, creating: bool) -> SnsResult<String> {
    if !SETTABLE.contains(&name) {
        return Err(invalid(format!("Attributes Reason: Unknown attribute {name}")));
    }
    match name {
        // Recorded AWS behaviour: FifoTopic can only be given to CreateTopic.
        "FifoTopic" if !creating => Err(invalid("AttributeName")),
        "FifoTopic" => Ok(parse_bool(name, value)?.to_string()),
        "ContentBasedDeduplication" => {
            let v = parse_bool(name, value)?;
            if !fifo {
                return Err(invalid("Attributes Reason: Content-based deduplication can only be set for FIFO topics"));
            }
            Ok(v.to_string())
        }
        "Policy" | "DeliveryPolicy" | "ArchivePolicy" | "DataProtectionPolicy" => {
            if value.is_empty() && name != "Policy" {
                return Ok(String::new());
            }
            match serde_json::from_str::<serde_json::Value>(value) {
                Ok(serde_json::Value::Object(_)) => Ok(value.to_string()),
                _ => Err(invalid(format!("Attributes Reason: {name}: failed to parse JSON."))),
            }
        }
        "SignatureVersion" => match value {
            "1" | "2" => Ok(value.to_string()),
            _ => Err(invalid("Attributes Reason: SignatureVersion: value must be 1 or 2")),
        },
        "TracingConfig" => match value {
            "PassThrough" | "Active" => Ok(value.to_string()),
            _ => Err(invalid("Attributes Reason: TracingConfig: value must be PassThrough or Active")),
        },
        "FifoThroughputScope" => match (value, fifo) {
            ("Topic" | "MessageGroup", true) => Ok(value.to_string()),
            (_, false) => Err(invalid("Attributes Reason: FifoThroughputScope can only be set for FIFO topics")),
            _ => Err(invalid("Attributes Reason: FifoThroughputScope: value must be Topic or MessageGroup")),
        },
        "DisplayName" if value.chars().count() > 100 => Err(invalid("DisplayName must be at most 100 characters long")),
        _ => Ok(value.to_string()),
    }
}

fn parse_bool(name: &str, value: &str) -> SnsResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(format!("Attributes Reason: {name}: Invalid value [{value}]. Must be true or false."))),
    }
}

/// The access policy AWS gives a new topic: the owner account may do everything.
pub fn default_policy(arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

/// What AWS reports for HTTP retries when the topic sets no DeliveryPolicy.
pub fn default_effective_delivery_policy() -> String {
    json!({"http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"
        },
        "disableSubscriptionOverrides": false,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
    }})
    .to_string()
}

/// Subscription counts shown in GetTopicAttributes.
#[derive(Debug, Default, Clone, Copy)]
pub struct SubscriptionCounts {
    pub confirmed: usize,
    pub pending: usize,
    pub deleted: usize,
}

/// GetTopicAttributes: the stored attributes over AWS's defaults.
pub fn attributes_view(record: &TopicRecord, counts: SubscriptionCounts) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("TopicArn".into(), record.arn.clone());
    out.insert("Owner".into(), record.account.clone());
    out.insert("Policy".into(), default_policy(&record.arn, &record.account));
    out.insert("DisplayName".into(), String::new());
    out.insert("EffectiveDeliveryPolicy".into(), default_effective_delivery_policy());
    out.insert("SubscriptionsConfirmed".into(), counts.confirmed.to_string());
    out.insert("SubscriptionsPending".into(), counts.pending.to_string());
    out.insert("SubscriptionsDeleted".into(), counts.deleted.to_string());
    if record.name.ends_with(".fifo") {
        out.insert("FifoTopic".into(), "true".into());
        out.insert("ContentBasedDeduplication".into(), "false".into());
    }
    for (k, v) in &record.attributes {
        if k == "FifoTopic" && v == "false" {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    if let Some(dp) = record.attributes.get("DeliveryPolicy").filter(|p| !p.is_empty()) {
        out.insert("EffectiveDeliveryPolicy".into(), effective_delivery_policy(dp));
    }
    out
}

/// The topic's DeliveryPolicy completed with AWS's defaults, member by member.
fn effective_delivery_policy(set: &str) -> String {
    let mut effective: serde_json::Value =
        serde_json::from_str(&default_effective_delivery_policy()).unwrap_or_default();
    if let Ok(given) = serde_json::from_str::<serde_json::Value>(set) {
        overlay(&mut effective, &given);
    }
    effective.to_string()
}

/// Copies `given` over `base`, descending into objects present in both.
fn overlay(base: &mut serde_json::Value, given: &serde_json::Value) {
    match (base, given) {
        (serde_json::Value::Object(b), serde_json::Value::Object(g)) => {
            for (k, v) in g {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => overlay(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, g) => *b = g.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("orders-1_a", false).is_ok());
        assert!(validate_name("orders.fifo", false).is_err());
        assert!(validate_name("orders.fifo", true).is_ok());
        assert!(validate_name("orders", true).is_err());
        assert!(validate_name(&"a".repeat(257), false).is_err());
        assert!(validate_name("", false).is_err());
    }

    #[test]
    fn attributes() {
        assert_eq!(validate_attribute("FifoTopic", "TRUE", true, true).unwrap(), "true");
        assert!(validate_attribute("ContentBasedDeduplication", "true", false, true).is_err());
        assert!(validate_attribute("Policy", "{", false, true).is_err());
        assert!(validate_attribute("Nope", "x", false, true).is_err());
        assert!(validate_attribute("FifoTopic", "true", false, false).is_err());
        let e = effective_delivery_policy(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":1}}}"#);
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["http"]["defaultHealthyRetryPolicy"]["numRetries"], 1);
        assert_eq!(v["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"], 20);
        assert_eq!(v["http"]["defaultRequestPolicy"]["headerContentType"], "text/plain; charset=UTF-8");
    }
}
