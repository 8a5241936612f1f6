//! Queue attributes: which exist, their ranges, defaults (gotchas.md #4:
//! short polling and SSE-SQS), and the typed view the queue logic reads.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{unknown_attribute, SqsError, SqsResult};

/// Attributes a caller may set (FifoQueue only at creation).
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

/// On a standard queue these are unknown attributes, even `FifoQueue=false`.
const FIFO_ONLY: &[&str] = &["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

/// Attributes GetQueueAttributes knows, beyond the settable ones.
pub const COMPUTED: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

pub fn is_known(name: &str) -> bool {
    SETTABLE.contains(&name) || COMPUTED.contains(&name)
}

/// The values a new queue starts with.
pub fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if fifo {
        for (k, v) in [
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "false"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
        ] {
            m.insert(k.into(), v.into());
        }
    }
    m
}

/// Checks `given` against the rules and merges it into `current`.
/// Nothing is changed on error. (A FIFO queue may be "set" to
/// `FifoQueue=true`, which changes nothing; `false` is refused.)
pub fn apply(
    current: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
    fifo: bool,
) -> SqsResult<BTreeMap<String, String>> {
    let mut next = current.clone();
    for (name, value) in given {
        if !SETTABLE.contains(&name.as_str()) || (!fifo && FIFO_ONLY.contains(&name.as_str())) {
            return Err(not_settable(name));
        }
        let normalized = validate(name, value, fifo)?;
        next.insert(name.clone(), normalized);
    }
    if given.get("KmsMasterKeyId").is_some_and(|k| !k.is_empty()) {
        if given.get("SqsManagedSseEnabled").map(String::as_str) == Some("true") {
            return Err(SqsError::InvalidAttributeName(
                "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."
                    .into(),
            ));
        }
        next.insert("SqsManagedSseEnabled".into(), "false".into());
        next.entry("KmsDataKeyReusePeriodSeconds".into()).or_insert_with(|| "300".into());
    } else if given.get("SqsManagedSseEnabled").map(String::as_str) == Some("true") {
        next.remove("KmsMasterKeyId");
        next.remove("KmsDataKeyReusePeriodSeconds");
    }
    if given.get("KmsMasterKeyId").is_some_and(|k| k.is_empty()) {
        next.remove("KmsMasterKeyId");
    }
    // The data key reuse period only means something with a KMS key.
    if !next.contains_key("KmsMasterKeyId") {
        next.remove("KmsDataKeyReusePeriodSeconds");
    }
    for optional in ["Policy", "RedrivePolicy", "RedriveAllowPolicy"] {
        if next.get(optional).is_some_and(|v| v.is_empty()) {
            next.remove(optional);
        }
    }
    Ok(next)
}

fn validate(name: &str, value: &str, fifo: bool) -> SqsResult<String> {
    let bad = || SqsError::InvalidAttributeValue(format!("Invalid value for the parameter {name}."));
    let int_in = |lo: i64, hi: i64| -> SqsResult<String> {
        let n: i64 = value.trim().parse().map_err(|_| bad())?;
        if (lo..=hi).contains(&n) {
            Ok(n.to_string())
        } else {
            Err(bad())
        }
    };
    match name {
        "DelaySeconds" => int_in(0, 900),
        "MaximumMessageSize" => int_in(1024, 1_048_576),
        "MessageRetentionPeriod" => int_in(60, 1_209_600),
        "ReceiveMessageWaitTimeSeconds" => int_in(0, 20),
        "VisibilityTimeout" => int_in(0, 43_200),
        "KmsDataKeyReusePeriodSeconds" => int_in(60, 86_400),
        "SqsManagedSseEnabled" | "ContentBasedDeduplication" => match value.to_ascii_lowercase().as_str() {
            v @ ("true" | "false") => Ok(v.to_string()),
            _ => Err(bad()),
        },
        "FifoQueue" => match (value.to_ascii_lowercase().as_str(), fifo) {
            ("true", true) => Ok("true".into()),
            ("false", true) => Err(SqsError::InvalidAttributeValue(
                "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.".into(),
            )),
            _ => Err(bad()),
        },
        "DeduplicationScope" => one_of(value, &["messageGroup", "queue"]).ok_or_else(bad),
        "FifoThroughputLimit" => one_of(value, &["perQueue", "perMessageGroupId"]).ok_or_else(bad),
        "KmsMasterKeyId" => Ok(value.to_string()),
        "Policy" => validate_json_object(name, value),
        "RedrivePolicy" => {
            if value.is_empty() {
                return Ok(String::new());
            }
            RedrivePolicy::parse(value).map(|p| p.to_json())
        }
        "RedriveAllowPolicy" => {
            if value.is_empty() {
                return Ok(String::new());
            }
            RedriveAllowPolicy::parse(value).map(|_| value.to_string())
        }
        _ => Err(unknown_attribute(name)),
    }
}

/// Why `name` cannot be set here (AWS's recorded wording): the two FIFO
/// throughput settings explain themselves on a standard queue; other
/// names are unknown.
fn not_settable(name: &str) -> SqsError {
    match name {
        "DeduplicationScope" | "FifoThroughputLimit" => {
            SqsError::InvalidAttributeName(format!("You can specify the {name} only when FifoQueue is set to true."))
        }
        _ => unknown_attribute(name),
    }
}

fn one_of(value: &str, allowed: &[&str]) -> Option<String> {
    allowed.iter().find(|a| **a == value).map(|a| a.to_string())
}

fn validate_json_object(name: &str, value: &str) -> SqsResult<String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Object(_)) => Ok(value.to_string()),
        _ => Err(SqsError::InvalidAttributeValue(format!("Invalid value for the parameter {name}."))),
    }
}

/// `RedrivePolicy`: where messages go after `maxReceiveCount` receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    pub fn parse(value: &str) -> SqsResult<RedrivePolicy> {
        let bad = |why: &str| {
            SqsError::InvalidParameterValue(format!(
                "Value {value} for parameter RedrivePolicy is invalid. Reason: {why}"
            ))
        };
        let v: Value = serde_json::from_str(value).map_err(|_| bad("Redrive policy is not a valid JSON map."))?;
        let arn = v
            .get("deadLetterTargetArn")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn."))?;
        let count = match v.get("maxReceiveCount") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| bad("Redrive policy does not contain mandatory attribute: maxReceiveCount."))?;
        if !(1..=1000).contains(&count) {
            return Err(bad("Invalid value for maxReceiveCount: must be between 1 and 1000."));
        }
        Ok(RedrivePolicy { dead_letter_target_arn: arn.to_string(), max_receive_count: count as u32 })
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({
            "deadLetterTargetArn": self.dead_letter_target_arn,
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }
}

/// `RedriveAllowPolicy`: which source queues may use this queue as a DLQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveAllowPolicy {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

impl RedriveAllowPolicy {
    pub fn parse(value: &str) -> SqsResult<RedriveAllowPolicy> {
        let bad = |why: &str| {
            SqsError::InvalidAttributeValue(format!(
                "Value {value} for parameter RedriveAllowPolicy is invalid. Reason: {why}"
            ))
        };
        let v: Value = serde_json::from_str(value).map_err(|_| bad("Invalid JSON."))?;
        let permission =
            v.get("redrivePermission").and_then(Value::as_str).ok_or_else(|| bad("redrivePermission is required."))?;
        let arns: Vec<String> = match v.get("sourceQueueArns") {
            None => Vec::new(),
            Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
            Some(_) => return Err(bad("sourceQueueArns must be a list.")),
        };
        match permission {
            "allowAll" | "denyAll" if !arns.is_empty() => {
                Err(bad("sourceQueueArns may only be given with redrivePermission byQueue."))
            }
            "allowAll" => Ok(RedriveAllowPolicy::AllowAll),
            "denyAll" => Ok(RedriveAllowPolicy::DenyAll),
            "byQueue" if arns.is_empty() || arns.len() > 10 => {
                Err(bad("byQueue needs between 1 and 10 sourceQueueArns."))
            }
            "byQueue" => Ok(RedriveAllowPolicy::ByQueue(arns)),
            _ => Err(bad("redrivePermission must be allowAll, denyAll or byQueue.")),
        }
    }

    pub fn allows(&self, source_arn: &str) -> bool {
        match self {
            RedriveAllowPolicy::AllowAll => true,
            RedriveAllowPolicy::DenyAll => false,
            RedriveAllowPolicy::ByQueue(arns) => arns.iter().any(|a| a == source_arn),
        }
    }
}

/// The typed view of a queue's attributes that the message logic reads.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub fifo: bool,
    pub delay_secs: u64,
    pub max_message_size: usize,
    pub retention_secs: u64,
    pub wait_secs: u64,
    pub visibility_secs: u64,
    pub content_dedup: bool,
    pub dedup_per_group: bool,
    pub redrive: Option<RedrivePolicy>,
}

impl QueueConfig {
    pub fn from_attributes(a: &BTreeMap<String, String>) -> QueueConfig {
        let num = |k: &str, d: u64| a.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        QueueConfig {
            fifo: a.get("FifoQueue").map(String::as_str) == Some("true"),
            delay_secs: num("DelaySeconds", 0),
            max_message_size: num("MaximumMessageSize", 1_048_576) as usize,
            retention_secs: num("MessageRetentionPeriod", 345_600),
            wait_secs: num("ReceiveMessageWaitTimeSeconds", 0),
            visibility_secs: num("VisibilityTimeout", 30),
            content_dedup: a.get("ContentBasedDeduplication").map(String::as_str) == Some("true"),
            dedup_per_group: a.get("DeduplicationScope").map(String::as_str) == Some("messageGroup"),
            redrive: a.get("RedrivePolicy").and_then(|p| RedrivePolicy::parse(p).ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn ranges_are_enforced() {
        let d = defaults(false);
        for (k, v) in [
            ("VisibilityTimeout", "43201"),
            ("DelaySeconds", "901"),
            ("MessageRetentionPeriod", "59"),
            ("MaximumMessageSize", "1023"),
            ("ReceiveMessageWaitTimeSeconds", "21"),
            ("KmsDataKeyReusePeriodSeconds", "59"),
            ("Policy", "not json"),
        ] {
            assert!(matches!(apply(&d, &given(&[(k, v)]), false), Err(SqsError::InvalidAttributeValue(_))), "{k}={v}");
        }
        assert!(apply(&d, &given(&[("VisibilityTimeout", "43200")]), false).is_ok());
    }

    #[test]
    fn unknown_and_fifo_only_names_are_rejected_on_standard_queues() {
        let d = defaults(false);
        for k in ["Bogus", "ContentBasedDeduplication", "QueueArn"] {
            assert!(matches!(apply(&d, &given(&[(k, "true")]), false), Err(SqsError::InvalidAttributeName(_))));
        }
    }

    #[test]
    fn kms_key_turns_off_sse_sqs() {
        let a = apply(&defaults(false), &given(&[("KmsMasterKeyId", "alias/mine")]), false).unwrap();
        assert_eq!(a["SqsManagedSseEnabled"], "false");
        assert_eq!(a["KmsDataKeyReusePeriodSeconds"], "300");
        let b = apply(&a, &given(&[("KmsMasterKeyId", ""), ("KmsDataKeyReusePeriodSeconds", "300")]), false).unwrap();
        assert!(!b.contains_key("KmsMasterKeyId") && !b.contains_key("KmsDataKeyReusePeriodSeconds"));
        assert_eq!(b["SqsManagedSseEnabled"], "false");
    }

    #[test]
    fn fifo_queue_attribute() {
        let std = defaults(false);
        for v in ["true", "false"] {
            assert!(matches!(apply(&std, &given(&[("FifoQueue", v)]), false), Err(SqsError::InvalidAttributeName(_))));
        }
        let fifo = defaults(true);
        assert!(apply(&fifo, &given(&[("FifoQueue", "true")]), true).is_ok());
        assert!(matches!(
            apply(&fifo, &given(&[("FifoQueue", "false")]), true),
            Err(SqsError::InvalidAttributeValue(_))
        ));
    }

    #[test]
    fn redrive_policies() {
        let p = RedrivePolicy::parse(
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:d","maxReceiveCount":"3"}"#,
        )
        .unwrap();
        assert_eq!(p.max_receive_count, 3);
        assert!(RedrivePolicy::parse(r#"{"maxReceiveCount":3}"#).is_err());
        assert!(
            RedriveAllowPolicy::parse(r#"{"redrivePermission":"denyAll"}"#).unwrap() == RedriveAllowPolicy::DenyAll
        );
        let by = RedriveAllowPolicy::parse(r#"{"redrivePermission":"byQueue","sourceQueueArns":["a"]}"#).unwrap();
        assert!(by.allows("a") && !by.allows("b"));
    }
}
