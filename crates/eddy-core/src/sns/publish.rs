//! Publish and PublishBatch: validation as AWS does it, FIFO deduplication,
//! and the durable job each accepted message becomes.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::dispatch::Work;
use super::error::{invalid, SnsError, SnsResult};
use super::records::{self, DedupRecord, Job, Notice, OutboxEntry};
use super::topic::{Topic, DEDUP_WINDOW_MS};
use super::Sns;
use crate::sqs::{AttributeValue, Attributes};

/// Largest message (body plus attributes) a topic accepts.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
const MAX_ATTRIBUTES: usize = 10;
const MAX_BATCH: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    pub topic_arn: Option<String>,
    pub target_arn: Option<String>,
    pub phone_number: Option<String>,
    pub message: Option<String>,
    pub subject: Option<String>,
    pub message_structure: Option<String>,
    pub attributes: Attributes,
    pub dedup_id: Option<String>,
    pub group_id: Option<String>,
    /// The request's `X-Amzn-Trace-Id` header (X-Ray).
    pub trace_header: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub message_id: String,
    pub sequence_number: Option<String>,
}

/// A validated message ready to become a job.
struct Accepted {
    notice: Notice,
    duplicate: bool,
}

impl Sns {
    pub async fn publish(&self, req: PublishRequest) -> SnsResult<Published> {
        let topic_arn = match (&req.topic_arn, &req.target_arn, &req.phone_number) {
            (Some(t), _, _) | (None, Some(t), _) if t.split(':').nth(2) == Some("sns") && !t.contains(":endpoint/") => {
                t.clone()
            }
            (None, Some(target), _) => {
                let endpoint = self
                    .platform_endpoint(target)
                    .map_err(|_| invalid("TargetArn Reason: No endpoint found for the target arn specified"))?;
                if !endpoint.enabled() {
                    return Err(SnsError::EndpointDisabled("Endpoint is disabled".into()));
                }
                return self.publish_direct("application", target, req.clone()).await;
            }
            (None, None, Some(phone)) => {
                if !super::subscription::valid_phone(phone) {
                    return Err(invalid(format!("PhoneNumber Reason: {phone} is not valid to publish to")));
                }
                return self.publish_direct("sms", phone, req.clone()).await;
            }
            _ => return Err(invalid("TopicArn or TargetArn Reason: no value for required parameter")),
        };
        let topic = self.lookup_topic(&topic_arn)?;
        let accepted = self.accept(&topic, req)?;
        let published = published(&accepted.notice);
        if !accepted.duplicate {
            let (ticket, work) = self.enqueue(&topic, vec![accepted.notice])?;
            self.hand_over(ticket, work).await?;
        }
        Ok(published)
    }

    /// PublishBatch: each entry stands alone; one durable commit covers all.
    pub async fn publish_batch(
        &self,
        topic_arn: &str,
        entries: Vec<(String, PublishRequest)>,
    ) -> SnsResult<Vec<(String, SnsResult<Published>)>> {
        let topic = self.lookup_topic(topic_arn)?;
        validate_batch(&entries)?;
        // AWS fails the whole request when any entry is invalid (recorded
        // for bad attributes and missing FIFO ids), not only that entry.
        let mut results = Vec::with_capacity(entries.len());
        let mut notices = Vec::new();
        for (id, req) in entries {
            let a = self.accept(&topic, req)?;
            results.push((id, Ok(published(&a.notice))));
            if !a.duplicate {
                notices.push(a.notice);
            }
        }
        let (ticket, work) = self.enqueue(&topic, notices)?;
        self.hand_over(ticket, work).await?;
        Ok(results)
    }

    /// Validates `req` for `topic` and, on a FIFO topic, applies deduplication.
    fn accept(&self, topic: &Topic, req: PublishRequest) -> SnsResult<Accepted> {
        let message = req.message.clone().unwrap_or_default();
        validate_message(&message, req.subject.as_deref(), &req.attributes)?;
        let per_protocol = message_structure(req.message_structure.as_deref(), &message)?;
        let now = self.now_ms();
        let mut notice = Notice {
            message_id: uuid::Uuid::new_v4().to_string(),
            topic_arn: topic.arn.clone(),
            message,
            per_protocol,
            subject: req.subject,
            attributes: req.attributes,
            group_id: req.group_id,
            dedup_id: None,
            sequence_number: None,
            timestamp_ms: now,
            trace_header: req.trace_header,
        };
        if !topic.fifo {
            if req.dedup_id.is_some() {
                return Err(invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"));
            }
            return Ok(Accepted { notice, duplicate: false });
        }
        let Some(group) = notice.group_id.as_deref() else {
            return Err(invalid("The MessageGroupId parameter is required for FIFO topics"));
        };
        validate_id("MessageGroupId", group)?;
        let dedup_id = match req.dedup_id {
            Some(id) => {
                validate_id("MessageDeduplicationId", &id)?;
                id
            }
            None if topic.content_based_dedup() => hex::encode(Sha256::digest(notice.message.as_bytes())),
            None => return Err(invalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")),
        };
        let mut st = topic.state.lock();
        if let Some(prev) = st.dedup(&dedup_id, now) {
            tracing::info!(topic = %topic.arn, dedup_id, message_id = %prev.message_id,
                "FIFO publish deduplicated: same MessageDeduplicationId within 5 minutes, not delivered again");
            notice.message_id = prev.message_id.clone();
            notice.sequence_number = Some(prev.sequence_number.clone());
            return Ok(Accepted { notice, duplicate: true });
        }
        let seq = format!("{:020}", self.sh.next_seq());
        st.remember_dedup(
            dedup_id.clone(),
            DedupRecord {
                message_id: notice.message_id.clone(),
                sequence_number: seq.clone(),
                expires_ms: now + DEDUP_WINDOW_MS,
            },
        );
        notice.dedup_id = Some(dedup_id);
        notice.sequence_number = Some(seq);
        Ok(Accepted { notice, duplicate: false })
    }

    /// Writes one job per notice (and FIFO dedup records) in one batch; the
    /// jobs admitted in memory are returned, the others wait on disk.
    fn enqueue(&self, topic: &Arc<Topic>, notices: Vec<Notice>) -> SnsResult<(eddy_store::Ticket, Vec<Work>)> {
        let subscribed = self.subscriptions.read().of_topic(&topic.arn).iter().any(|s| !s.pending());
        let mut batch = self.sh.store.batch();
        let mut jobs = Vec::new();
        // Numbered, written and admitted under one lock, so jobs on disk are in admission order.
        let mut admission = self.admission.lock();
        for notice in notices {
            if let (Some(id), Some(seq)) = (&notice.dedup_id, &notice.sequence_number) {
                let d = DedupRecord {
                    message_id: notice.message_id.clone(),
                    sequence_number: seq.clone(),
                    expires_ms: notice.timestamp_ms + DEDUP_WINDOW_MS,
                };
                batch.put(&self.sh.dedup, records::dedup_key(&topic.arn, id), records::to_json(&d));
            }
            if !subscribed {
                tracing::debug!(topic = %topic.arn, message_id = %notice.message_id, "published to a topic without confirmed subscriptions");
                continue;
            }
            let seq = self.sh.next_seq();
            let job = Job { notice };
            batch.put(&self.sh.jobs, records::seq_key(seq).to_vec(), records::to_json(&job));
            jobs.push((seq, job));
        }
        let ticket = batch.commit()?;
        let work = jobs
            .into_iter()
            .filter(|(seq, _)| admission.admit(*seq))
            .map(|(seq, job)| Work::Job { seq, job })
            .collect();
        Ok((ticket, work))
    }

    /// Waits until the jobs are durable, then hands the admitted ones to the delivery loop.
    async fn hand_over(&self, ticket: eddy_store::Ticket, work: Vec<Work>) -> SnsResult<()> {
        if let Err(e) = self.sh.store.durable(ticket).await {
            for Work::Job { seq, .. } in &work {
                self.admission.release(*seq);
            }
            return Err(e.into());
        }
        for w in work {
            let _ = self.jobs_tx.send(w);
        }
        Ok(())
    }

    /// Publish with PhoneNumber or a platform endpoint's TargetArn: recorded
    /// in the outbox, as nothing is sent anywhere.
    async fn publish_direct(&self, protocol: &str, endpoint: &str, req: PublishRequest) -> SnsResult<Published> {
        let message = req.message.clone().unwrap_or_default();
        validate_message(&message, req.subject.as_deref(), &req.attributes)?;
        let per_protocol = message_structure(req.message_structure.as_deref(), &message)?;
        let key = if protocol == "sms" { "sms" } else { "default" };
        let body =
            per_protocol.as_ref().and_then(|m| m.get(key).or_else(|| m.get("default")).cloned()).unwrap_or(message);
        let message_id = uuid::Uuid::new_v4().to_string();
        let entry = OutboxEntry {
            protocol: protocol.to_string(),
            endpoint: endpoint.to_string(),
            subscription_arn: None,
            topic_arn: None,
            message_id: message_id.clone(),
            message: body,
            subject: req.subject,
            message_attributes: super::envelope::attributes_json(&req.attributes).into_iter().collect(),
            kind: "Notification".into(),
            timestamp_ms: self.now_ms(),
        };
        super::delivery::record_outbox(&self.sh, &entry).await?;
        Ok(Published { message_id, sequence_number: None })
    }
}

fn published(n: &Notice) -> Published {
    Published { message_id: n.message_id.clone(), sequence_number: n.sequence_number.clone() }
}

fn validate_batch(entries: &[(String, PublishRequest)]) -> SnsResult<()> {
    if entries.is_empty() {
        return Err(SnsError::EmptyBatchRequest);
    }
    if entries.len() > MAX_BATCH {
        return Err(SnsError::TooManyEntriesInBatchRequest);
    }
    let mut seen = HashSet::new();
    for (id, _) in entries {
        if id.len() > 80 {
            return Err(SnsError::InvalidBatchEntryId(format!(
                "The Id of a batch entry in the batch request is too long: {id}"
            )));
        }
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(SnsError::InvalidBatchEntryId(format!(
                "The Id of a batch entry in the batch request contains an impermissible character: {id}"
            )));
        }
        if !seen.insert(id.as_str()) {
            return Err(SnsError::BatchEntryIdsNotDistinct);
        }
    }
    let total: usize = entries.iter().map(|(_, r)| size_of(r.message.as_deref().unwrap_or(""), &r.attributes)).sum();
    if total > MAX_MESSAGE_BYTES {
        return Err(SnsError::BatchRequestTooLong);
    }
    Ok(())
}

fn validate_message(message: &str, subject: Option<&str>, attrs: &Attributes) -> SnsResult<()> {
    if message.is_empty() {
        return Err(invalid("Empty message"));
    }
    if size_of(message, attrs) > MAX_MESSAGE_BYTES {
        return Err(invalid("Message too long"));
    }
    if let Some(s) = subject {
        let ok = !s.is_empty() && s.chars().count() < 100 && s.chars().all(|c| !c.is_control());
        if !ok {
            return Err(invalid("Subject"));
        }
    }
    validate_attributes(attrs)
}

fn size_of(message: &str, attrs: &Attributes) -> usize {
    message.len()
        + attrs
            .iter()
            .map(|(k, v)| {
                k.len()
                    + v.data_type.len()
                    + v.string.as_ref().map_or(0, String::len)
                    + v.binary.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>()
}

fn validate_attributes(attrs: &Attributes) -> SnsResult<()> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "MessageAttributes Reason: Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    for (name, v) in attrs {
        validate_attribute(name, v)?;
    }
    Ok(())
}

fn bad_value(msg: String) -> SnsError {
    SnsError::InvalidParameterValue(msg)
}

fn validate_attribute(name: &str, v: &AttributeValue) -> SnsResult<()> {
    validate_attribute_name(name)?;
    let base = base_type(&v.data_type).ok_or_else(|| {
        bad_value(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        ))
    })?;
    let string = v.string.as_deref();
    let empty = |t: &str| {
        bad_value(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{t}'."
        ))
    };
    let wrong_field =
        |field: &str| bad_value(format!("The message attribute '{name}' with type '{base}' must use field '{field}'."));
    match base {
        "String" | "Number" if string.is_none() && v.binary.is_some() => Err(wrong_field("String")),
        "String" | "Number" if string.is_none_or(str::is_empty) => Err(empty(base)),
        "Binary" if v.binary.is_none() && string.is_some() => Err(wrong_field("Binary")),
        "Binary" if v.binary.as_ref().is_none_or(Vec::is_empty) => Err(empty("Binary")),
        "Number" => validate_number(name, string.unwrap_or("")),
        "String" if v.data_type == "String.Array" => validate_array(name, string.unwrap_or("")),
        _ => Ok(()),
    }
}

/// `String`, `Number` or `Binary`, optionally followed by `.` and a custom label.
fn base_type(data_type: &str) -> Option<&'static str> {
    ["String", "Number", "Binary"].into_iter().find(|base| match data_type.strip_prefix(base) {
        Some("") => true,
        Some(rest) => rest.len() > 1 && rest.starts_with('.'),
        None => false,
    })
}

/// AWS's checks on a message attribute name, each with its own message.
fn validate_attribute_name(name: &str) -> SnsResult<()> {
    if name.len() >= 256 {
        return Err(bad_value("Length of message attribute name must be less than 256 bytes.".into()));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(bad_value(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
            c as u32
        )));
    }
    if name.starts_with('.') {
        return Err(bad_value("Invalid message attribute name starting with character '.' was found.".into()));
    }
    if name.ends_with('.') {
        return Err(bad_value("Invalid message attribute name ending with character '.' was found.".into()));
    }
    if name.contains("..") {
        return Err(bad_value("Message attribute name can not have successive '.' character.".into()));
    }
    let lower = name.to_ascii_lowercase();
    if name.is_empty() || lower.starts_with("aws.") || lower.starts_with("amazon.") {
        return Err(bad_value(format!("The message attribute name '{name}' is invalid.")));
    }
    Ok(())
}

fn validate_number(name: &str, s: &str) -> SnsResult<()> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n.abs() <= 1e9 => Ok(()),
        Ok(_) => Err(bad_value(format!(
            "The message attribute '{name}' with type 'Number' must be between -1000000000 and 1000000000."
        ))),
        Err(_) => Err(bad_value(format!("Could not cast message attribute '{name}' value to number."))),
    }
}

/// String.Array values are JSON arrays of strings, numbers, booleans or nulls.
fn validate_array(name: &str, s: &str) -> SnsResult<()> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Array(items)) if items.iter().all(|i| !i.is_object() && !i.is_array()) => Ok(()),
        _ => Err(bad_value(format!("The message attribute '{name}' with type 'String.Array' must be a JSON array of strings, numbers, booleans or nulls."))),
    }
}

/// FIFO ids: 1–128 characters of `[A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]`.
fn validate_id(what: &str, id: &str) -> SnsResult<()> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(format!(
            "{what} Reason: {what} can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )));
    }
    Ok(())
}

/// `MessageStructure=json`: a JSON object of per-protocol strings with a `default`.
fn message_structure(structure: Option<&str>, message: &str) -> SnsResult<Option<BTreeMap<String, String>>> {
    match structure {
        None | Some("") => Ok(None),
        Some("json") => {
            let v: serde_json::Value = serde_json::from_str(message)
                .map_err(|_| invalid("Message Structure - JSON message body failed to parse"))?;
            let obj = v.as_object().ok_or_else(|| invalid("Message Structure - JSON message body failed to parse"))?;
            if !obj.get("default").is_some_and(serde_json::Value::is_string) {
                return Err(invalid("Message Structure - No default entry in JSON message body"));
            }
            // A protocol whose value is not a string is ignored: its
            // subscribers get `default` (recorded from AWS).
            let out = obj.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
            Ok(Some(out))
        }
        Some(_) => Err(invalid("MessageStructure")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures() {
        assert!(message_structure(Some("json"), "{\"sqs\":\"x\"}").is_err());
        assert!(message_structure(Some("json"), "nope").is_err());
        let m = message_structure(Some("json"), "{\"default\":\"d\",\"sqs\":\"q\"}").unwrap().unwrap();
        assert_eq!(m["sqs"], "q");
    }

    #[test]
    fn attributes() {
        let a = |t: &str, s: &str| AttributeValue { data_type: t.into(), string: Some(s.into()), binary: None };
        assert!(validate_attribute("n", &a("Number", "12.5")).is_ok());
        assert!(validate_attribute("n", &a("Number", "x")).is_err());
        assert!(validate_attribute("l", &a("String.Array", "[\"a\", 1]")).is_ok());
        assert!(validate_attribute("l", &a("String.Array", "a")).is_err());
        assert!(validate_attribute("AWS.x", &a("String", "a")).is_err());
        assert!(validate_attribute("x", &a("Blob", "a")).is_err());
        assert!(validate_attribute("x", &a("String.", "a")).is_err());
        assert!(validate_attribute("x", &a("String.custom type", "a")).is_ok());
        assert_eq!(base_type("Stringprefixed"), None);
    }
}
