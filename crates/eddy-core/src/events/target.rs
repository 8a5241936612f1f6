//! One target as PutTargets stored it (the API's JSON shape), its checks,
//! and one attempt to deliver an event to it: SQS, SNS, Kinesis, another
//! event bus, or the outbox for services eddy does not run (Lambda, Step
//! Functions, ECS, …), where the invocation is recorded as SNS does for
//! protocols it does not run.

use std::collections::BTreeMap;

use serde_json::Value;

use super::bus::check_pattern;
use super::error::validation;
use super::input::{self, Shape};
use super::records::JobRecord;
use super::{EventsResult, EVENTS_PRINCIPAL};
use crate::identity::Caller;
use crate::policy::ServiceDelivery;
use crate::sns::Enforcement;

/// AWS's default RetryPolicy: 185 attempts over 24 hours.
pub const DEFAULT_MAX_RETRIES: u32 = 185;
pub const DEFAULT_MAX_AGE_SECS: u64 = 86_400;

/// What a target's JSON says, in the form delivery uses.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub id: String,
    pub arn: String,
    pub shape: Shape,
    pub sqs_group: Option<String>,
    pub partition_key_path: Option<String>,
    pub dead_letter_arn: Option<String>,
    pub max_retries: u32,
    pub max_age_secs: u64,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    path.iter().try_fold(v, |at, key| at.get(key)).and_then(Value::as_str).map(str::to_string)
}

impl Target {
    pub fn from_json(v: &Value) -> Target {
        let shape = if let Some(input) = text(v, &["Input"]) {
            Shape::Constant(input)
        } else if let Some(path) = text(v, &["InputPath"]) {
            Shape::Path(path)
        } else if let Some(t) = v.get("InputTransformer") {
            let paths: BTreeMap<String, String> = t
                .get("InputPathsMap")
                .and_then(Value::as_object)
                .map(|m| m.iter().filter_map(|(k, p)| Some((k.clone(), p.as_str()?.to_string()))).collect())
                .unwrap_or_default();
            Shape::Template { paths, template: text(t, &["InputTemplate"]).unwrap_or_default() }
        } else {
            Shape::Event
        };
        let retry = |key: &str| v.get("RetryPolicy").and_then(|r| r.get(key)).and_then(Value::as_u64);
        Target {
            id: text(v, &["Id"]).unwrap_or_default(),
            arn: text(v, &["Arn"]).unwrap_or_default(),
            shape,
            sqs_group: text(v, &["SqsParameters", "MessageGroupId"]),
            partition_key_path: text(v, &["KinesisParameters", "PartitionKeyPath"]),
            dead_letter_arn: text(v, &["DeadLetterConfig", "Arn"]),
            max_retries: retry("MaximumRetryAttempts")
                .map_or(DEFAULT_MAX_RETRIES, |n| n.min(u64::from(u32::MAX)) as u32),
            max_age_secs: retry("MaximumEventAgeInSeconds").unwrap_or(DEFAULT_MAX_AGE_SECS),
        }
    }

    /// The service the target's ARN names (`sqs`, `sns`, `kinesis`, `events`, `lambda`, …).
    pub fn service(&self) -> &str {
        self.arn.split(':').nth(2).unwrap_or_default()
    }
}

/// PutTargets' checks of one target, in the API model's terms.
/// `n`: the target's place in the request, from 1 (AWS names it in messages).
pub(crate) fn validate(v: &Value, n: usize) -> EventsResult<()> {
    let id = text(v, &["Id"]).unwrap_or_default();
    check_pattern(
        &id,
        &format!("targets.{n}.member.id"),
        64,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
        "[\\.\\-_A-Za-z0-9]+",
    )?;
    let arn = text(v, &["Arn"]).unwrap_or_default();
    if arn.is_empty() || arn.len() > 1600 || crate::arn::Arn::parse(&arn).is_err() {
        return Err(validation(format!(
            "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
        )));
    }
    let given =
        ["Input", "InputPath", "InputTransformer"].iter().filter(|k| v.get(**k).is_some_and(|x| !x.is_null())).count();
    if given > 1 {
        return Err(validation(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        )));
    }
    if let Some(input) = text(v, &["Input"]) {
        if serde_json::from_str::<Value>(&input).is_err() {
            return Err(validation(format!("Target {id} has an invalid Input: it is not a valid JSON text.")));
        }
    }
    if let Some(path) = text(v, &["InputPath"]) {
        if !input::valid_path(&path) {
            return Err(validation(format!("Target {id} has an invalid InputPath: {path}")));
        }
    }
    if let Some(t) = v.get("InputTransformer") {
        check_transformer(&id, t)?;
    }
    check_retry_policy(v, n)?;
    let target = Target::from_json(v);
    if target.service() == "sqs" && arn.ends_with(".fifo") && target.sqs_group.is_none() {
        return Err(validation("Parameter(s) SqsParameters must be specified because the target is a FIFO queue."));
    }
    if let Some(path) = &target.partition_key_path {
        if !path.is_empty() && !input::valid_path(path) {
            return Err(validation(format!("Target {id} has an invalid PartitionKeyPath: {path}")));
        }
    }
    Ok(())
}

fn check_transformer(id: &str, t: &Value) -> EventsResult<()> {
    let template = text(t, &["InputTemplate"]).unwrap_or_default();
    if template.is_empty() || template.chars().count() > 8192 {
        return Err(validation(format!(
            "Target {id} has an invalid InputTemplate: it must have 1 to 8192 characters."
        )));
    }
    let paths = t.get("InputPathsMap").and_then(Value::as_object);
    if paths.is_some_and(|m| m.len() > 100) {
        return Err(validation("InputPathsMap has more than 100 entries."));
    }
    for name in input::placeholders(&template) {
        if !input::predefined(name) && !paths.is_some_and(|m| m.contains_key(name)) {
            return Err(validation(format!("InputTemplate for target {id} contains invalid placeholder {name}.")));
        }
    }
    for (key, path) in paths.into_iter().flatten() {
        if key.is_empty()
            || key.len() > 256
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || key.starts_with("AWS.")
        {
            return Err(validation(format!("Target {id} has an invalid InputPathsMap key: {key}")));
        }
        let path = path.as_str().unwrap_or_default();
        if !input::valid_path(path) {
            return Err(validation(format!("Target {id} has an invalid InputPathsMap value: {path}")));
        }
    }
    Ok(())
}

fn check_retry_policy(v: &Value, n: usize) -> EventsResult<()> {
    let Some(r) = v.get("RetryPolicy") else { return Ok(()) };
    let check = |key: &str, field: &str, low: i64, high: i64| -> EventsResult<()> {
        match r.get(key).and_then(Value::as_i64) {
            Some(value) if value < low || value > high => Err(validation(format!(
                "1 validation error detected: Value '{value}' at 'targets.{n}.member.retryPolicy.{field}' failed to satisfy constraint: Member must have value {}",
                if value < low { format!("greater than or equal to {low}") } else { format!("less than or equal to {high}") }
            ))),
            _ => Ok(()),
        }
    };
    check("MaximumRetryAttempts", "maximumRetryAttempts", 0, 185)?;
    check("MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", 60, 86_400)
}

/// Why an attempt failed: `code` is the `ERROR_CODE` a dead-letter queue
/// shows (AWS's list: NO_RESOURCE, NO_PERMISSIONS, THROTTLING, …).
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
    pub denied_by_policy: bool,
}

impl Failure {
    /// AWS does not retry a missing resource or a missing permission: it
    /// goes to the dead-letter queue at once.
    pub fn permanent(code: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), retryable: false, denied_by_policy: false }
    }

    pub fn retryable(code: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), retryable: true, denied_by_policy: false }
    }
}

/// Who a delivery acts for: the rule's account and region.
pub(crate) fn rule_caller(rule_arn: &str) -> Caller {
    let mut parts = rule_arn.split(':');
    let region = parts.nth(3).unwrap_or_default().to_string();
    let account = parts.next().unwrap_or_default().to_string();
    Caller { account, region, access_key: "events".into() }
}

/// The rule's name, from its ARN.
pub(crate) fn rule_name(rule_arn: &str) -> &str {
    rule_arn.rsplit('/').next().unwrap_or_default()
}

/// The resource policy check of a delivery as `events.amazonaws.com`.
pub(crate) fn check_policy(
    enforcement: Enforcement,
    cache: &crate::policy::PolicyCache,
    policy_text: Option<&str>,
    action: &str,
    resource: &str,
    job: &JobRecord,
    role: &str,
) -> Result<(), Failure> {
    if enforcement == Enforcement::Off {
        return Ok(());
    }
    let caller = rule_caller(&job.rule_arn);
    let delivery = ServiceDelivery {
        service: EVENTS_PRINCIPAL,
        action,
        resource,
        source_arn: &job.rule_arn,
        source_account: &caller.account,
    };
    let Err(refusal) = delivery.check(policy_text, cache) else { return Ok(()) };
    let (why, needed) = (refusal.why, refusal.needed);
    if enforcement == Enforcement::Warn {
        tracing::warn!(resource, rule = %job.rule_arn, role, needed = %needed,
            "policy would drop this EventBridge delivery ({why}); delivering anyway because --policy-enforcement=warn");
        return Ok(());
    }
    Err(Failure {
        code: "NO_PERMISSIONS",
        message: format!(
            "the policy of {resource} does not allow events.amazonaws.com to {action} from rule {} ({why}); add this statement: {needed}",
            job.rule_arn
        ),
        retryable: false,
        denied_by_policy: true,
    })
}
