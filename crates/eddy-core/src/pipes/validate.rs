//! CreatePipe's and UpdatePipe's checks of each member, from the API
//! model's constraints (lengths, patterns, ranges, enums) and the rules
//! its documentation states (a Kinesis source needs a StartingPosition, an
//! SQS batch above 10 needs a batching window, a FIFO target queue needs a
//! MessageGroupId, a Kinesis target a PartitionKey).

use serde_json::{Map, Value};

use super::error::{constraint, null_member, validation, PipesResult};
use super::source::SourceKind;
use crate::pattern::EventPattern;
use crate::tags::{TagRules, TagViolation, Tags};

pub(crate) const STATES: &[&str] = &[
    "RUNNING",
    "STOPPED",
    "CREATING",
    "UPDATING",
    "DELETING",
    "STARTING",
    "STOPPING",
    "CREATE_FAILED",
    "UPDATE_FAILED",
    "START_FAILED",
    "STOP_FAILED",
    "DELETE_FAILED",
    "CREATE_ROLLBACK_FAILED",
    "DELETE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_FAILED",
];

/// `PipeName`: 1 to 64 of `[\.\-_A-Za-z0-9]`.
pub(crate) fn name(value: &str, member: &str) -> PipesResult<()> {
    if value.is_empty() || value.len() > 64 {
        return Err(constraint(member, value, "Member must have length between 1 and 64"));
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b)) {
        return Err(constraint(member, value, "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"));
    }
    Ok(())
}

pub(crate) fn one_of(value: &str, member: &str, allowed: &[&str]) -> PipesResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(constraint(member, value, &format!("Member must satisfy enum value set: [{}]", allowed.join(", "))))
}

fn length(value: &str, member: &str, min: usize, max: usize) -> PipesResult<()> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(constraint(member, value, &format!("Member must have length between {min} and {max}")));
    }
    Ok(())
}

/// The model's `Arn` pattern:
/// `arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-]+):(region)?:(\d{12})?:(.+)`.
pub(crate) fn is_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [head, partition, service, region, account, resource] = parts.as_slice() else { return false };
    let alnum_dash = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    *head == "arn"
        && partition.starts_with("aws")
        && alnum_dash(partition)
        && !service.is_empty()
        && alnum_dash(service)
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && (account.is_empty() || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && !resource.is_empty()
}

const ARN_PATTERN: &str = "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-]+):([a-z]{2,4}((-gov)|(-de)|(-iso([a-z]?)))?-[a-z]+(-\\d{1})?)?:(\\d{12})?:(.+)";

pub(crate) fn arn(value: &str, member: &str) -> PipesResult<()> {
    length(value, member, 1, 1600)?;
    if !is_arn(value) {
        return Err(constraint(member, value, ARN_PATTERN));
    }
    Ok(())
}

/// `ArnOrUrl`: an ARN, or a self-managed Kafka `smk://host:port`.
pub(crate) fn source(value: &str) -> PipesResult<()> {
    length(value, "Source", 1, 1600)?;
    if is_arn(value) || value.strip_prefix("smk://").is_some_and(|rest| rest.contains(':')) {
        return Ok(());
    }
    Err(constraint("Source", value, ARN_PATTERN))
}

/// `RoleArn`: `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z0-9+=,.@\-_/]+`.
pub(crate) fn role_arn(value: &str) -> PipesResult<()> {
    let ok = value.split_once(":iam::").is_some_and(|(head, rest)| {
        let partition_ok = head.strip_prefix("arn:").is_some_and(|p| {
            p.is_empty() || (p.starts_with("aws") && p.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
        });
        let (account, path) = rest.split_once(':').unwrap_or(("", ""));
        let name = path.strip_prefix("role").map(|n| n.strip_prefix('/').unwrap_or(n)).unwrap_or("");
        partition_ok
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
    });
    length(value, "RoleArn", 1, 1600)?;
    if !ok {
        return Err(constraint(
            "RoleArn",
            value,
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z0-9+=,.@\\-_/]+",
        ));
    }
    Ok(())
}

pub(crate) fn description(value: &str) -> PipesResult<()> {
    length(value, "Description", 0, 512)
}

pub(crate) fn tags(tags: &Tags, member: &str) -> PipesResult<()> {
    if tags.is_empty() {
        return Err(constraint(member, "{}", "Member must have length between 1 and 50"));
    }
    match TagRules::AWS.check(tags) {
        Ok(()) => Ok(()),
        Err(TagViolation::TooMany) => {
            Err(constraint(member, &format!("{} tags", tags.len()), "Member must have length between 1 and 50"))
        }
        Err(TagViolation::Key(k)) => Err(constraint(member, &k, "Member must have length between 1 and 128")),
        Err(TagViolation::Value(k)) => Err(constraint(member, &k, "Member must have length between 0 and 256")),
    }
}

fn int(params: &Map<String, Value>, object: &str, key: &str, min: i64, max: i64) -> PipesResult<Option<i64>> {
    let Some(v) = params.get(key).filter(|v| !v.is_null()) else { return Ok(None) };
    let member = format!("{object}.{key}");
    let Some(n) = v.as_i64() else {
        return Err(validation(format!("The value of {member} must be an integer.")));
    };
    if n < min || n > max {
        let rule = if n < min {
            format!("Member must have value greater than or equal to {min}")
        } else {
            format!("Member must have value less than or equal to {max}")
        };
        return Err(constraint(&member, &n.to_string(), &rule));
    }
    Ok(Some(n))
}

fn text<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}

fn object<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    params.get(key).and_then(Value::as_object)
}

/// SourceParameters, against the kind of source the pipe reads.
pub(crate) fn source_parameters(params: &Map<String, Value>, kind: SourceKind) -> PipesResult<()> {
    if let Some(filters) = object(params, "FilterCriteria") {
        filter_criteria(filters)?;
    }
    if let Some(sqs) = object(params, "SqsQueueParameters") {
        let member = "SourceParameters.SqsQueueParameters";
        let batch = int(sqs, member, "BatchSize", 1, 10_000)?;
        let window = int(sqs, member, "MaximumBatchingWindowInSeconds", 0, 300)?;
        if batch.is_some_and(|b| b > 10) && window.unwrap_or(0) < 1 {
            return Err(validation(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
            ));
        }
    }
    match object(params, "KinesisStreamParameters") {
        Some(k) => kinesis_parameters(k, true)?,
        None if kind == SourceKind::Kinesis => {
            return Err(null_member("SourceParameters.KinesisStreamParameters.StartingPosition"))
        }
        None => {}
    }
    Ok(())
}

/// Kinesis source parameters; `creating`: StartingPosition is required
/// (UpdatePipe cannot change it).
pub(crate) fn kinesis_parameters(k: &Map<String, Value>, creating: bool) -> PipesResult<()> {
    let member = "SourceParameters.KinesisStreamParameters";
    int(k, member, "BatchSize", 1, 10_000)?;
    int(k, member, "MaximumBatchingWindowInSeconds", 0, 300)?;
    int(k, member, "MaximumRetryAttempts", -1, 10_000)?;
    int(k, member, "ParallelizationFactor", 1, 10)?;
    if let Some(age) = int(k, member, "MaximumRecordAgeInSeconds", -1, 604_800)? {
        // As Lambda's event source mappings: -1 (infinite) or at least a minute.
        if (0..60).contains(&age) {
            return Err(constraint(
                &format!("{member}.MaximumRecordAgeInSeconds"),
                &age.to_string(),
                "Member must have value greater than or equal to 60",
            ));
        }
    }
    if let Some(mode) = text(k, "OnPartialBatchItemFailure") {
        one_of(mode, &format!("{member}.OnPartialBatchItemFailure"), &["AUTOMATIC_BISECT"])?;
    }
    if let Some(dlq) = object(k, "DeadLetterConfig").and_then(|d| d.get("Arn")).and_then(Value::as_str) {
        arn(dlq, &format!("{member}.DeadLetterConfig.Arn"))?;
    }
    if creating {
        let Some(position) = text(k, "StartingPosition") else {
            return Err(null_member(&format!("{member}.StartingPosition")));
        };
        one_of(position, &format!("{member}.StartingPosition"), &["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"])?;
        if position == "AT_TIMESTAMP" && k.get("StartingPositionTimestamp").is_none_or(Value::is_null) {
            return Err(validation(
                "StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP.",
            ));
        }
    }
    Ok(())
}

/// FilterCriteria: at most 5 filters, each an event pattern of at most 4096 characters.
pub(crate) fn filter_criteria(criteria: &Map<String, Value>) -> PipesResult<()> {
    let filters = criteria.get("Filters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if filters.len() > 5 {
        return Err(constraint(
            "SourceParameters.FilterCriteria.Filters",
            &format!("{} filters", filters.len()),
            "Member must have length less than or equal to 5",
        ));
    }
    for f in filters {
        let Some(pattern) = f.get("Pattern").and_then(Value::as_str) else { continue };
        length(pattern, "SourceParameters.FilterCriteria.Filters.member.Pattern", 0, 4096)?;
        if let Err(e) = EventPattern::parse(pattern) {
            return Err(validation(format!("Invalid filter pattern definition: {}", e.message())));
        }
    }
    Ok(())
}

pub(crate) fn enrichment_parameters(params: &Map<String, Value>) -> PipesResult<()> {
    if let Some(t) = text(params, "InputTemplate") {
        length(t, "EnrichmentParameters.InputTemplate", 0, 8192)?;
    }
    Ok(())
}

/// TargetParameters, against the target's ARN.
pub(crate) fn target_parameters(params: &Map<String, Value>, target: &str) -> PipesResult<()> {
    if let Some(t) = text(params, "InputTemplate") {
        length(t, "TargetParameters.InputTemplate", 0, 8192)?;
    }
    let service = target.split(':').nth(2).unwrap_or_default();
    let sqs = object(params, "SqsQueueParameters");
    if let Some(sqs) = sqs {
        for key in ["MessageGroupId", "MessageDeduplicationId"] {
            if let Some(v) = text(sqs, key) {
                length(v, &format!("TargetParameters.SqsQueueParameters.{key}"), 0, 100)?;
            }
        }
    }
    if service == "sqs" && target.ends_with(".fifo") && sqs.and_then(|s| text(s, "MessageGroupId")).is_none() {
        return Err(validation(
            "MessageGroupId is required for a FIFO queue target (TargetParameters.SqsQueueParameters).",
        ));
    }
    let kinesis = object(params, "KinesisStreamParameters");
    if service == "kinesis" || kinesis.is_some() {
        match kinesis.and_then(|k| text(k, "PartitionKey")) {
            Some(key) => length(key, "TargetParameters.KinesisStreamParameters.PartitionKey", 0, 256)?,
            None if service == "kinesis" => {
                return Err(null_member("TargetParameters.KinesisStreamParameters.PartitionKey"))
            }
            None => {}
        }
    }
    if let Some(bus) = object(params, "EventBridgeEventBusParameters") {
        bus_parameters(bus)?;
    }
    Ok(())
}

fn bus_parameters(bus: &Map<String, Value>) -> PipesResult<()> {
    let member = "TargetParameters.EventBridgeEventBusParameters";
    if let Some(v) = text(bus, "DetailType") {
        length(v, &format!("{member}.DetailType"), 1, 128)?;
    }
    if let Some(v) = text(bus, "Source") {
        length(v, &format!("{member}.Source"), 1, 256)?;
        if v.starts_with("aws.") {
            return Err(constraint(&format!("{member}.Source"), v, "Member must not start with 'aws.'"));
        }
    }
    if let Some(list) = bus.get("Resources").and_then(Value::as_array) {
        if list.len() > 10 {
            return Err(constraint(
                &format!("{member}.Resources"),
                &format!("{} resources", list.len()),
                "Member must have length less than or equal to 10",
            ));
        }
    }
    if let Some(v) = text(bus, "Time") {
        length(v, &format!("{member}.Time"), 1, 256)?;
        if !crate::events::valid_json_path(v) {
            return Err(constraint(
                &format!("{member}.Time"),
                v,
                "Member must satisfy regular expression pattern: \\$(\\.[\\w/_-]+(\\[(\\d+|\\*)\\])*)*",
            ));
        }
    }
    Ok(())
}
