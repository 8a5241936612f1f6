//! Queue lifecycle and configuration: create, delete, list, attributes,
//! tags, permissions, and which queues use a queue as their DLQ.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::attributes::{self, RedriveAllowPolicy, RedrivePolicy};
use super::error::{invalid_param, SqsError, SqsResult};
use super::queue::{stage_queue_record, Queue};
use super::reaper::{self, ReapJob};
use super::records::QueueRecord;
use super::{Caller, QueueName, Sqs};
use crate::clock::Millis;
use crate::page::{Page, PageRequest};
use crate::tags::{self, TagRules, TagViolation};

/// How long a deleted queue's name cannot be reused (DeleteQueue API reference).
pub(crate) const DELETED_NAME_BLOCK_MS: Millis = 60_000;

impl Sqs {
    pub async fn create_queue(
        &self,
        caller: &Caller,
        name: &str,
        given: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> SqsResult<Arc<Queue>> {
        let fifo = name.ends_with(".fifo");
        validate_queue_name(name, given.get("FifoQueue").map(String::as_str))?;
        validate_tags(&tags)?;
        let key = QueueName { account: caller.account.clone(), region: caller.region.clone(), name: name.to_string() };
        let now = self.now_ms();
        if let Some(existing) = self.existing(&key) {
            return same_attributes(&existing, &given).map(|_| existing);
        }
        let _creating = self.creations.lock().await;
        if let Some(existing) = self.existing(&key) {
            return same_attributes(&existing, &given).map(|_| existing);
        }
        if self.recently_deleted.lock().get(&key).is_some_and(|t| now < t + DELETED_NAME_BLOCK_MS) {
            return Err(SqsError::QueueDeletedRecently);
        }
        let attrs = attributes::apply(&attributes::defaults(fifo), &given, fifo)?;
        self.check_redrive_target(&key.arn(), &attrs)?;
        let record = QueueRecord {
            id: self.sh.next_queue_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            account: key.account.clone(),
            region: key.region.clone(),
            name: name.to_string(),
            attributes: attrs,
            tags,
            created_ms: now,
            modified_ms: now,
            purged_below: 0,
            deleted_ms: None,
            dedup_per_group: None,
        };
        let record = QueueRecord { dedup_per_group: Some(record.config().dedup_per_group), ..record };
        let queue = Arc::new(Queue::new(record, key.arn()));
        // Saved before anyone can see it: a failed save leaves no queue.
        self.save(&queue).await?;
        self.queues.write().insert(key, queue.clone());
        tracing::info!(queue = %name, account = %caller.account, region = %caller.region, fifo, "queue created");
        Ok(queue)
    }

    /// The live queue named `key`. (Never hold the registry lock while
    /// taking a queue's lock.)
    fn existing(&self, key: &QueueName) -> Option<Arc<Queue>> {
        self.queues.read().get(key).cloned()
    }

    /// Writes the queue's record as it is now (under its lock) and waits
    /// until it is durable.
    async fn save(&self, q: &Queue) -> SqsResult<()> {
        let mut batch = self.sh.store.batch();
        let applied = {
            let st = q.state.lock();
            st.stage_record(&self.sh, &mut batch);
            batch.submit()
        };
        self.applied_and_durable(applied).await
    }

    /// DeleteQueue: the queue is gone for every caller once this returns,
    /// and its name is blocked for 60 s; a tombstone record makes that
    /// durable in O(1), and its messages are deleted in the background.
    pub async fn delete_queue(&self, q: &Queue) -> SqsResult<()> {
        let _updating = q.updating.lock().await;
        let key = q.queue_name();
        let now = self.now_ms();
        let mut batch = self.sh.store.batch();
        let applied = {
            let mut st = q.state.lock();
            st.check_live()?;
            // The deleted record is saved from a copy; meanwhile the queue
            // takes no new work, and if the save fails it is live again.
            let mut record = st.record.clone();
            record.deleted_ms = Some(now);
            stage_queue_record(&self.sh, &record, &mut batch);
            st.deleted = true;
            batch.submit()
        };
        if let Err(e) = self.applied_and_durable(applied).await {
            q.state.lock().deleted = false;
            return Err(e);
        }
        let (messages, dedup) = {
            let mut st = q.state.lock();
            st.record.deleted_ms = Some(now);
            st.attempts.clear();
            let dedup: Vec<String> = std::mem::take(&mut st.dedup).into_keys().collect();
            (st.index.take(), dedup)
        };
        self.queues.write().remove(&key);
        self.block_name(key, now);
        q.notify.notify_waiters();
        tracing::info!(queue = %q.name, messages = messages.len(),
            "queue deleted: its messages are deleted in the background");
        let job = ReapJob { queue_id: q.id, queue_name: q.name.clone(), messages, dedup, drop_record: true };
        reaper::spawn(self.sh.clone(), job);
        Ok(())
    }

    /// Blocks a deleted queue's name for 60 s, forgetting names whose 60 s
    /// have passed so the map stays as small as the last minute's deletions.
    pub(crate) fn block_name(&self, key: QueueName, deleted_ms: Millis) {
        let now = self.now_ms();
        let mut names = self.recently_deleted.lock();
        names.retain(|_, t| now < *t + DELETED_NAME_BLOCK_MS);
        if now < deleted_ms + DELETED_NAME_BLOCK_MS {
            names.insert(key, deleted_ms);
        }
    }

    /// Queues of the caller's account and region whose name starts with
    /// `prefix`, sorted by name.
    pub fn list_queues(&self, caller: &Caller, prefix: &str) -> Vec<Arc<Queue>> {
        let mut v: Vec<Arc<Queue>> = self
            .queues
            .read()
            .iter()
            .filter(|(k, _)| k.account == caller.account && k.region == caller.region && k.name.starts_with(prefix))
            .map(|(_, q)| q.clone())
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Every queue of every account, sorted by ARN (for `eddy doctor`).
    pub fn all_queues(&self) -> Vec<Arc<Queue>> {
        let mut v: Vec<Arc<Queue>> = self.queues.read().values().cloned().collect();
        v.sort_by(|a, b| a.arn.cmp(&b.arn));
        v
    }

    /// One stored attribute without the computed ones (cheap: no counting).
    pub fn attribute(&self, q: &Queue, name: &str) -> Option<String> {
        q.state.lock().record.attributes.get(name).cloned()
    }

    /// GetQueueAttributes: the named attributes (or `All`) with computed ones.
    pub fn get_attributes(&self, q: &Queue, names: &[String]) -> SqsResult<BTreeMap<String, String>> {
        for n in names {
            if n != "All" && !attributes::is_known(n) {
                return Err(super::error::unknown_attribute(n));
            }
        }
        let now = self.now_ms();
        let st = q.state.lock();
        st.check_live()?;
        let counts = st.index.counts(now);
        let mut all = st.record.attributes.clone();
        for (k, v) in [
            ("ApproximateNumberOfMessages", counts.visible),
            ("ApproximateNumberOfMessagesNotVisible", counts.in_flight),
            ("ApproximateNumberOfMessagesDelayed", counts.delayed),
            ("CreatedTimestamp", st.record.created_ms / 1000),
            ("LastModifiedTimestamp", st.record.modified_ms / 1000),
        ] {
            all.insert(k.to_string(), v.to_string());
        }
        all.insert("QueueArn".into(), q.arn.clone());
        let want_all = names.iter().any(|n| n == "All");
        Ok(all.into_iter().filter(|(k, _)| want_all || names.contains(k)).collect())
    }

    pub async fn set_attributes(&self, q: &Queue, given: BTreeMap<String, String>) -> SqsResult<()> {
        let fifo = q.is_fifo();
        self.update_record(q, |r| {
            let next = attributes::apply(&r.attributes, &given, fifo)?;
            self.check_redrive_target(&q.arn, &next)?;
            r.attributes = next;
            Ok(())
        })
        .await?;
        // A shorter wait or a new delay may matter to current long polls.
        q.notify.notify_waiters();
        Ok(())
    }

    /// Changes the queue's record on a copy, saves it and only then swaps
    /// it in, so a failed save changes nothing. Changes to one queue's
    /// record run one at a time (`Queue::updating`): each starts from the
    /// last one's result. `change` runs without the queue's lock.
    async fn update_record(&self, q: &Queue, change: impl FnOnce(&mut QueueRecord) -> SqsResult<()>) -> SqsResult<()> {
        let _updating = q.updating.lock().await;
        let mut record = {
            let st = q.state.lock();
            st.check_live()?;
            st.record.clone()
        };
        change(&mut record)?;
        record.modified_ms = self.now_ms();
        let mut batch = self.sh.store.batch();
        stage_queue_record(&self.sh, &record, &mut batch);
        self.applied_and_durable(batch.submit()).await?;
        let mut st = q.state.lock();
        st.config = record.config();
        st.record = record;
        Ok(())
    }

    /// A RedrivePolicy must name an existing queue of the same type whose
    /// RedriveAllowPolicy lets this queue use it.
    fn check_redrive_target(&self, source_arn: &str, attrs: &BTreeMap<String, String>) -> SqsResult<()> {
        let Some(raw) = attrs.get("RedrivePolicy") else { return Ok(()) };
        let policy = RedrivePolicy::parse(raw)?;
        let bad =
            |why: &str| invalid_param(format!("Value {raw} for parameter RedrivePolicy is invalid. Reason: {why}"));
        let dlq =
            self.lookup_arn(&policy.dead_letter_target_arn).ok_or_else(|| bad("Dead letter target does not exist."))?;
        if dlq.arn == source_arn {
            // Accepted, as AWS accepts DLQ cycles; a message is never moved
            // into the queue it is already in, so the policy does nothing.
            tracing::info!(queue = %dlq.name,
                "RedrivePolicy names the queue itself as its dead-letter queue: messages past maxReceiveCount stay where they are");
        }
        let source_fifo = attrs.get("FifoQueue").map(String::as_str) == Some("true");
        if dlq.is_fifo() != source_fifo {
            return Err(bad("Dead-letter queue must be same type of queue as the source."));
        }
        let allow = dlq.state.lock().record.attributes.get("RedriveAllowPolicy").cloned();
        if let Some(allow) = allow {
            if !RedriveAllowPolicy::parse(&allow)?.allows(source_arn) {
                return Err(bad("Dead-letter queue's RedriveAllowPolicy does not allow this queue as a source."));
            }
        }
        Ok(())
    }

    pub fn tags(&self, q: &Queue) -> SqsResult<BTreeMap<String, String>> {
        let st = q.state.lock();
        st.check_live()?;
        Ok(st.record.tags.clone())
    }

    pub async fn tag(&self, q: &Queue, tags: BTreeMap<String, String>) -> SqsResult<()> {
        validate_tags(&tags)?;
        self.update_record(q, |r| {
            r.tags = TAG_RULES.merged(&r.tags, &tags).map_err(tag_error)?;
            Ok(())
        })
        .await
    }

    pub async fn untag(&self, q: &Queue, keys: &[String]) -> SqsResult<()> {
        if keys.is_empty() {
            return Err(SqsError::MissingParameter("TagKeys".into()));
        }
        self.update_record(q, |r| {
            r.tags.retain(|k, _| !keys.contains(k));
            Ok(())
        })
        .await
    }

    /// AddPermission: appends a statement labelled `label` to the queue's Policy.
    pub async fn add_permission(
        &self,
        q: &Queue,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> SqsResult<()> {
        validate_label(label)?;
        if accounts.is_empty() {
            return Err(SqsError::MissingParameter("AWSAccountIds".into()));
        }
        if actions.is_empty() {
            return Err(SqsError::MissingParameter("Actions".into()));
        }
        let principals: Vec<String> = accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
        let actions: Vec<String> =
            actions.iter().map(|a| if a == "*" { "SQS:*".to_string() } else { format!("SQS:{a}") }).collect();
        self.update_record(q, |r| {
            let mut policy = policy_document(&q.arn, r);
            let statements = policy["Statement"].as_array_mut().expect("statement list");
            if statements.iter().any(|s| s["Sid"] == label) {
                return Err(invalid_param(format!(
                    "Value {label} for parameter Label is invalid. Reason: Already exists."
                )));
            }
            statements.push(json!({
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) }},
                "Action": if actions.len() == 1 { json!(actions[0]) } else { json!(actions) },
                "Resource": q.arn,
            }));
            r.attributes.insert("Policy".into(), policy.to_string());
            Ok(())
        })
        .await
    }

    pub async fn remove_permission(&self, q: &Queue, label: &str) -> SqsResult<()> {
        self.update_record(q, |r| {
            let mut policy = policy_document(&q.arn, r);
            let statements = policy["Statement"].as_array_mut().expect("statement list");
            let before = statements.len();
            statements.retain(|s| s["Sid"] != label);
            if statements.len() == before {
                // AWS's recorded text when the queue has no policy at all.
                let reason = if before == 0 { "can't find label." } else { "can't find label on existing policy." };
                return Err(invalid_param(format!("Value {label} for parameter Label is invalid. Reason: {reason}")));
            }
            if statements.is_empty() {
                r.attributes.remove("Policy");
            } else {
                r.attributes.insert("Policy".into(), policy.to_string());
            }
            Ok(())
        })
        .await
    }

    /// Queues whose RedrivePolicy targets `dlq`.
    /// ListQueues: one page of the caller's queues whose names start with
    /// `prefix`, in name order.
    pub fn list_queues_page(
        &self,
        caller: &Caller,
        prefix: &str,
        max: Option<i64>,
        token: Option<&str>,
    ) -> SqsResult<Page<Arc<Queue>>> {
        let listing = format!("queues {}/{}", caller.account, caller.region);
        self.page(self.list_queues(caller, prefix), |q| q.name.as_str(), &listing, max, token)
    }

    /// ListDeadLetterSourceQueues: one page of the queues whose redrive
    /// policy names `dlq`, in ARN order.
    pub fn dead_letter_sources_page(
        &self,
        dlq: &Queue,
        max: Option<i64>,
        token: Option<&str>,
    ) -> SqsResult<Page<Arc<Queue>>> {
        let mut sources = self.dead_letter_sources(dlq);
        sources.sort_by(|a, b| a.arn.cmp(&b.arn));
        self.page(sources, |q| q.arn.as_str(), &format!("sources of {}", dlq.arn), max, token)
    }

    /// SQS's paging: everything (up to 1,000, and no token) when MaxResults
    /// is absent; otherwise pages of MaxResults (1–1000) continued by a
    /// token eddy issued for this listing.
    fn page(
        &self,
        items: Vec<Arc<Queue>>,
        key: fn(&Arc<Queue>) -> &str,
        listing: &str,
        max: Option<i64>,
        token: Option<&str>,
    ) -> SqsResult<Page<Arc<Queue>>> {
        let limit = match max {
            None => 1000,
            Some(m) if (1..=1000).contains(&m) => m as usize,
            Some(m) => {
                return Err(invalid_param(format!(
                    "Value {m} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
                )))
            }
        };
        let req = PageRequest::new(listing, token, limit, self.sh.clock.now_ms());
        let mut page = self
            .sh
            .tokens
            .page(items, key, &req)
            .map_err(|_| SqsError::InvalidParameterValue("Invalid NextToken value.".into()))?;
        if max.is_none() {
            page.next_token = None;
        }
        Ok(page)
    }

    pub fn dead_letter_sources(&self, dlq: &Queue) -> Vec<Arc<Queue>> {
        let all: Vec<Arc<Queue>> = self.queues.read().values().cloned().collect();
        let mut v: Vec<Arc<Queue>> = all
            .into_iter()
            .filter(|q| q.config().redrive.is_some_and(|p| p.dead_letter_target_arn == dlq.arn))
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

fn same_attributes(existing: &Queue, given: &BTreeMap<String, String>) -> SqsResult<()> {
    let st = existing.state.lock();
    for (k, v) in given {
        let current = st.record.attributes.get(k).map(String::as_str).unwrap_or("");
        let same = current == v
            || (k == "RedrivePolicy" && RedrivePolicy::parse(v).ok().map(|p| p.to_json()).as_deref() == Some(current));
        if !same {
            return Err(SqsError::QueueNameExists(k.clone()));
        }
    }
    Ok(())
}

/// 1–80 characters of `[A-Za-z0-9_-]`; FIFO names end in `.fifo` (counted),
/// and only FIFO names may.
fn validate_queue_name(name: &str, fifo_attr: Option<&str>) -> SqsResult<()> {
    let fifo_name = name.ends_with(".fifo");
    let stem = if fifo_name { &name[..name.len() - 5] } else { name };
    let chars_ok = !stem.is_empty() && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.len() > 80 || !chars_ok {
        return Err(invalid_param(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    let fifo_attr = fifo_attr.map(|v| v.eq_ignore_ascii_case("true"));
    match (fifo_name, fifo_attr) {
        (true, Some(true)) | (false, None) | (false, Some(false)) => Ok(()),
        (true, _) | (false, Some(true)) => Err(invalid_param(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
        )),
    }
}

/// SQS's tag rules: AWS's common limits; `aws:` keys are not refused.
const TAG_RULES: TagRules = TagRules { max_tags: tags::MAX_TAGS, reserve_aws_prefix: false };

/// Each tag first, then the count, as SQS reports them.
fn validate_tags(tags: &BTreeMap<String, String>) -> SqsResult<()> {
    TAG_RULES.check_each(tags).map_err(tag_error)?;
    if tags.len() > TAG_RULES.max_tags {
        return Err(tag_error(TagViolation::TooMany));
    }
    Ok(())
}

fn tag_error(v: TagViolation) -> SqsError {
    match v {
        TagViolation::TooMany => invalid_param("Too many tags added for queue. A queue can have at most 50 tags."),
        TagViolation::Key(k) | TagViolation::Value(k) => {
            invalid_param(format!("Tag {k} is invalid: keys are 1-128 and values 0-256 characters."))
        }
    }
}

fn validate_label(label: &str) -> SqsResult<()> {
    if label.is_empty() || label.len() > 80 || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid_param(format!("Value {label} for parameter Label is invalid.")));
    }
    Ok(())
}

/// The queue's Policy as a document with a statement list, or a new one.
fn policy_document(arn: &str, record: &QueueRecord) -> Value {
    let existing = record.attributes.get("Policy").and_then(|p| serde_json::from_str::<Value>(p).ok());
    // AddPermission's policies carry the 2008 policy language version (recorded from AWS).
    let mut doc = existing.unwrap_or_else(|| json!({"Version": "2008-10-17", "Id": format!("{arn}/SQSDefaultPolicy")}));
    if !doc["Statement"].is_array() {
        let one = doc.get("Statement").cloned().filter(|s| s.is_object());
        doc["Statement"] = Value::Array(one.into_iter().collect());
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert!(validate_queue_name("ok_name-1", None).is_ok());
        assert!(validate_queue_name("q.fifo", Some("true")).is_ok());
        assert!(validate_queue_name("q.fifo", None).is_err());
        assert!(validate_queue_name("q", Some("true")).is_err());
        assert!(validate_queue_name(&"a".repeat(81), None).is_err());
        assert!(validate_queue_name(&"a".repeat(80), None).is_ok());
        assert!(validate_queue_name("bad name", None).is_err());
        assert!(validate_queue_name(".fifo", Some("true")).is_err());
    }
}
