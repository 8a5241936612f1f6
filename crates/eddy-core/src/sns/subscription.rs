//! Subscriptions: protocols and endpoints as AWS validates them, their
//! attributes, and the retry schedule a DeliveryPolicy describes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::Value;

use super::error::{invalid, SnsError, SnsResult};
use super::records::SubscriptionRecord;
use crate::pattern::{FilterPolicy, Scope};

/// Protocols eddy accepts. `sqs`, `http`, `https` deliver for real; `email`,
/// `email-json`, `sms`, `application` and `lambda` are recorded in the outbox.
pub const PROTOCOLS: &[&str] =
    &["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"];

const SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub(crate) state: RwLock<SubscriptionState>,
    /// Held across a change's save (see `Sns::update_subscription`).
    pub(crate) updates: tokio::sync::Mutex<()>,
}

pub(crate) struct SubscriptionState {
    pub record: SubscriptionRecord,
    pub filter: Option<FilterPolicy>,
}

impl Subscription {
    pub(crate) fn new(record: SubscriptionRecord) -> SnsResult<Subscription> {
        let filter = compile_filter(&record.attributes, false)?;
        Ok(Subscription {
            arn: record.arn.clone(),
            topic_arn: record.topic_arn.clone(),
            protocol: record.protocol.clone(),
            endpoint: record.endpoint.clone(),
            state: RwLock::new(SubscriptionState { record, filter }),
            updates: tokio::sync::Mutex::new(()),
        })
    }

    pub fn record(&self) -> SubscriptionRecord {
        self.state.read().record.clone()
    }

    pub fn pending(&self) -> bool {
        self.state.read().record.pending
    }

    pub fn raw(&self) -> bool {
        self.state.read().record.attributes.get("RawMessageDelivery").is_some_and(|v| v == "true")
    }

    pub fn dead_letter_arn(&self) -> Option<String> {
        let st = self.state.read();
        let policy = st.record.attributes.get("RedrivePolicy")?;
        let v: Value = serde_json::from_str(policy).ok()?;
        v.get("deadLetterTargetArn")?.as_str().map(String::from)
    }

    pub fn retry_schedule(&self, topic_policy: Option<&str>) -> RetrySchedule {
        let st = self.state.read();
        RetrySchedule::from_policies(st.record.attributes.get("DeliveryPolicy").map(String::as_str), topic_policy)
    }
}

/// Subscriptions by ARN and by topic: Publish needs a topic's subscriptions
/// without scanning every subscription of every topic.
#[derive(Default)]
pub(crate) struct SubscriptionIndex {
    by_arn: HashMap<String, Arc<Subscription>>,
    by_topic: HashMap<String, Vec<Arc<Subscription>>>,
}

impl SubscriptionIndex {
    pub fn insert(&mut self, sub: Arc<Subscription>) {
        self.by_topic.entry(sub.topic_arn.clone()).or_default().push(sub.clone());
        self.by_arn.insert(sub.arn.clone(), sub);
    }

    pub fn remove(&mut self, arn: &str) -> Option<Arc<Subscription>> {
        let sub = self.by_arn.remove(arn)?;
        if let Some(list) = self.by_topic.get_mut(&sub.topic_arn) {
            list.retain(|s| s.arn != arn);
            if list.is_empty() {
                self.by_topic.remove(&sub.topic_arn);
            }
        }
        Some(sub)
    }

    pub fn get(&self, arn: &str) -> Option<&Arc<Subscription>> {
        self.by_arn.get(arn)
    }

    pub fn of_topic(&self, topic_arn: &str) -> &[Arc<Subscription>] {
        self.by_topic.get(topic_arn).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Subscription>> {
        self.by_arn.values()
    }

    pub fn len(&self) -> usize {
        self.by_arn.len()
    }
}

/// Compiles the FilterPolicy attribute under its FilterPolicyScope.
/// Subscribe words the errors differently from SetSubscriptionAttributes.
pub fn compile_filter(attrs: &BTreeMap<String, String>, subscribing: bool) -> SnsResult<Option<FilterPolicy>> {
    let Some(policy) = attrs.get("FilterPolicy").filter(|p| !p.is_empty()) else { return Ok(None) };
    let scope = match attrs.get("FilterPolicyScope").map(String::as_str) {
        Some("MessageBody") => Scope::MessageBody,
        _ => Scope::MessageAttributes,
    };
    let parsed = FilterPolicy::parse_sns(policy, scope).map_err(|e| if subscribing { e.for_subscribe() } else { e });
    parsed.map(Some).map_err(|e| match e {
        crate::pattern::PatternError::Invalid(m) => SnsError::InvalidParameter(m),
        crate::pattern::PatternError::LimitExceeded(m) => SnsError::FilterPolicyLimitExceeded(m),
    })
}

/// Validates the protocol and the endpoint's form for it.
pub fn validate_endpoint(protocol: &str, endpoint: &str, topic_fifo: bool) -> SnsResult<()> {
    if !PROTOCOLS.contains(&protocol) {
        return Err(invalid(format!("Amazon SNS does not support this protocol string: {protocol}")));
    }
    let ok = match protocol {
        "http" => endpoint.starts_with("http://") && endpoint.len() > 7,
        "https" => endpoint.starts_with("https://") && endpoint.len() > 8,
        "email" | "email-json" => endpoint.contains('@') && !endpoint.starts_with('@') && !endpoint.ends_with('@'),
        "sms" => valid_phone(endpoint),
        "sqs" => endpoint.starts_with("arn:") && endpoint.split(':').nth(2) == Some("sqs"),
        "lambda" => endpoint.starts_with("arn:") && endpoint.split(':').nth(2) == Some("lambda"),
        "firehose" => endpoint.starts_with("arn:") && endpoint.split(':').nth(2) == Some("firehose"),
        "application" => endpoint.starts_with("arn:") && endpoint.split(':').nth(2) == Some("sns"),
        _ => false,
    };
    if !ok {
        let what = match protocol {
            "sqs" => "SQS endpoint ARN".to_string(),
            "sms" => return Err(SnsError::InvalidParameter(format!("Invalid SMS endpoint: {endpoint}"))),
            "email" | "email-json" => "Email address".to_string(),
            _ => "Endpoint".to_string(),
        };
        return Err(invalid(what));
    }
    if topic_fifo && !matches!(protocol, "sqs" | "firehose") {
        return Err(invalid(format!("Invalid protocol type: {protocol}")));
    }
    if !topic_fifo && protocol == "sqs" && endpoint.ends_with(".fifo") {
        return Err(invalid(
            "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
        ));
    }
    Ok(())
}

/// E.164: `+` and up to 15 digits (AWS also accepts bare digits).
pub(crate) fn valid_phone(p: &str) -> bool {
    let digits = p.strip_prefix('+').unwrap_or(p);
    (4..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Validates one subscription attribute and returns the value to store.
/// Subscribe's messages say `Attributes Reason: …`; SetSubscriptionAttributes' do not.
pub fn validate_attribute(name: &str, value: &str, protocol: &str, subscribing: bool) -> SnsResult<String> {
    check_attribute(name, value, protocol).map_err(|e| match e {
        SnsError::InvalidParameter(m) if !subscribing => {
            SnsError::InvalidParameter(m.replacen("Invalid parameter: Attributes Reason: ", "Invalid parameter: ", 1))
        }
        other => other,
    })
}

fn check_attribute(name: &str, value: &str, protocol: &str) -> SnsResult<String> {
    if !SETTABLE.contains(&name) {
        return Err(invalid("AttributeName"));
    }
    match name {
        "RawMessageDelivery" => match value.to_ascii_lowercase().as_str() {
            v @ ("true" | "false") => {
                if v == "true" && !matches!(protocol, "sqs" | "http" | "https" | "firehose") {
                    return Err(invalid(
                        "Attributes Reason: RawMessageDelivery: Invalid value [true]. Delivery protocol [".to_string()
                            + protocol
                            + "] does not support raw message delivery.",
                    ));
                }
                Ok(v.to_string())
            }
            _ => Err(invalid(format!(
                "Attributes Reason: RawMessageDelivery: Invalid value [{value}]. Must be true or false."
            ))),
        },
        "FilterPolicyScope" => match value {
            "MessageAttributes" | "MessageBody" => Ok(value.to_string()),
            _ => Err(invalid(
                "Attributes Reason: FilterPolicyScope: Invalid value [".to_string()
                    + value
                    + "]. Please use either MessageBody or MessageAttributes",
            )),
        },
        "RedrivePolicy" => validate_redrive(value),
        "DeliveryPolicy" => {
            if !matches!(protocol, "http" | "https") {
                return Err(invalid("DeliveryPolicy: Delivery policy can only be set for HTTP/S subscriptions"));
            }
            match serde_json::from_str::<Value>(value) {
                Ok(Value::Object(_)) => Ok(value.to_string()),
                _ => Err(invalid("DeliveryPolicy: failed to parse JSON.")),
            }
        }
        "SubscriptionRoleArn" if protocol != "firehose" => {
            Err(invalid("Attributes Reason: SubscriptionRoleArn can only be set for firehose subscriptions"))
        }
        _ => Ok(value.to_string()),
    }
}

fn validate_redrive(value: &str) -> SnsResult<String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let v: Value = serde_json::from_str(value).map_err(|_| invalid("RedrivePolicy: failed to parse JSON."))?;
    let arn = v.get("deadLetterTargetArn").and_then(Value::as_str).unwrap_or("");
    let parts: Vec<&str> = arn.split(':').collect();
    if !matches!(parts.as_slice(), ["arn", _, "sqs", _, _, name] if !name.is_empty()) {
        return Err(invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn"));
    }
    Ok(value.to_string())
}

/// GetSubscriptionAttributes.
pub fn attributes_view(record: &SubscriptionRecord, topic_delivery_policy: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("SubscriptionArn".into(), record.arn.clone());
    out.insert("TopicArn".into(), record.topic_arn.clone());
    out.insert("Owner".into(), record.owner.clone());
    out.insert("Protocol".into(), record.protocol.clone());
    out.insert("Endpoint".into(), record.endpoint.clone());
    out.insert("ConfirmationWasAuthenticated".into(), (!record.pending).to_string());
    out.insert("PendingConfirmation".into(), record.pending.to_string());
    out.insert("RawMessageDelivery".into(), "false".into());
    out.insert("SubscriptionPrincipal".into(), format!("arn:aws:iam::{}:user/eddy", record.owner));
    if matches!(record.protocol.as_str(), "http" | "https") {
        let effective = RetrySchedule::from_policies(
            record.attributes.get("DeliveryPolicy").map(String::as_str),
            topic_delivery_policy,
        );
        out.insert("EffectiveDeliveryPolicy".into(), effective.to_json());
    }
    for (k, v) in &record.attributes {
        if !v.is_empty() {
            out.insert(k.clone(), v.clone());
        }
    }
    if out.contains_key("FilterPolicy") {
        out.entry("FilterPolicyScope".into()).or_insert_with(|| "MessageAttributes".into());
    } else {
        out.remove("FilterPolicyScope");
    }
    out
}

/// An HTTP/S subscription's retries (AWS's "healthyRetryPolicy"). Defaults:
/// 3 retries, 20 s apart.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    pub num_retries: u32,
    pub num_no_delay_retries: u32,
    pub num_min_delay_retries: u32,
    pub num_max_delay_retries: u32,
    pub min_delay_secs: u64,
    pub max_delay_secs: u64,
    pub backoff: String,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule {
            num_retries: 3,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            num_max_delay_retries: 0,
            min_delay_secs: 20,
            max_delay_secs: 20,
            backoff: "linear".into(),
        }
    }
}

impl RetrySchedule {
    /// The subscription's policy wins over the topic's `http.defaultHealthyRetryPolicy`.
    pub fn from_policies(subscription: Option<&str>, topic: Option<&str>) -> RetrySchedule {
        let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
        let from_sub = parse(subscription).and_then(|v| v.get("healthyRetryPolicy").cloned());
        let from_topic = parse(topic).and_then(|v| v.pointer("/http/defaultHealthyRetryPolicy").cloned());
        let Some(p) = from_sub.or(from_topic) else { return RetrySchedule::default() };
        let num = |k: &str, d: u64| p.get(k).and_then(Value::as_u64).unwrap_or(d);
        let d = RetrySchedule::default();
        RetrySchedule {
            num_retries: num("numRetries", d.num_retries.into()).min(100) as u32,
            num_no_delay_retries: num("numNoDelayRetries", 0) as u32,
            num_min_delay_retries: num("numMinDelayRetries", 0) as u32,
            num_max_delay_retries: num("numMaxDelayRetries", 0) as u32,
            min_delay_secs: num("minDelayTarget", d.min_delay_secs).min(3600),
            max_delay_secs: num("maxDelayTarget", d.max_delay_secs).min(3600),
            backoff: p.get("backoffFunction").and_then(Value::as_str).unwrap_or("linear").to_string(),
        }
    }

    /// Delay before retry number `retry` (1-based), following AWS's four
    /// phases: immediate, pre-backoff (min delay), backoff, post-backoff (max delay).
    pub fn delay_secs(&self, retry: u32) -> u64 {
        let min = self.min_delay_secs;
        let max = self.max_delay_secs.max(min);
        if retry <= self.num_no_delay_retries {
            return 0;
        }
        let r = retry - self.num_no_delay_retries;
        if r <= self.num_min_delay_retries {
            return min;
        }
        let backoff_steps = self
            .num_retries
            .saturating_sub(self.num_no_delay_retries + self.num_min_delay_retries + self.num_max_delay_retries);
        let b = r - self.num_min_delay_retries;
        if b > backoff_steps || backoff_steps == 0 {
            return max;
        }
        let frac = if backoff_steps <= 1 { 1.0 } else { (b - 1) as f64 / (backoff_steps - 1) as f64 };
        let span = (max - min) as f64;
        let shaped = match self.backoff.as_str() {
            "arithmetic" => frac * frac,
            "geometric" => frac.powi(3),
            "exponential" => (2f64.powf(frac * 4.0) - 1.0) / 15.0,
            _ => frac,
        };
        min + (span * shaped).round() as u64
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({"healthyRetryPolicy": {
            "minDelayTarget": self.min_delay_secs, "maxDelayTarget": self.max_delay_secs,
            "numRetries": self.num_retries, "numMaxDelayRetries": self.num_max_delay_retries,
            "numNoDelayRetries": self.num_no_delay_retries, "numMinDelayRetries": self.num_min_delay_retries,
            "backoffFunction": self.backoff
        }})
        .to_string()
    }
}

/// A fresh confirmation token (the `Token` of SubscribeURL and of
/// ConfirmSubscription): 64 random bytes in hex.
pub(crate) fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(validate_endpoint("sqs", "arn:aws:sqs:us-east-1:000000000000:q", false).is_ok());
        assert!(validate_endpoint("sqs", "http://x", false).is_err());
        assert!(validate_endpoint("sqs", "arn:aws:sqs:us-east-1:000000000000:q.fifo", false).is_err());
        assert!(validate_endpoint("http", "https://x", false).is_err());
        assert!(validate_endpoint("sms", "+15555550100", false).is_ok());
        assert!(validate_endpoint("pigeon", "x", false).is_err());
        assert!(validate_endpoint("http", "http://x", true).is_err());
    }

    #[test]
    fn retry_delays() {
        let s = RetrySchedule::default();
        assert_eq!((1..=3).map(|r| s.delay_secs(r)).collect::<Vec<_>>(), vec![20, 20, 20]);
        let p = r#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":10,"numRetries":5,"numNoDelayRetries":1,"backoffFunction":"linear"}}"#;
        let s = RetrySchedule::from_policies(Some(p), None);
        assert_eq!((1..=5).map(|r| s.delay_secs(r)).collect::<Vec<_>>(), vec![0, 1, 4, 7, 10]);
    }
}
