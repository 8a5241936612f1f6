//! Topic and subscription management: create, delete, list, attributes,
//! permissions, tags, data protection policies, and the confirmation handshake.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::error::{arn_elements, invalid, SnsError, SnsResult};
use super::records::{self, SubscriptionRecord, TopicRecord};
use super::subscription::{self, Subscription};
use super::topic::{self, SubscriptionCounts, Topic};
use super::{delivery, Caller, Sns};
use crate::tags::{self, TagRules, TagViolation};

/// Actions AddPermission may grant: SNS's API actions.
const SNS_ACTIONS: &[&str] = &[
    "AddPermission",
    "ConfirmSubscription",
    "CreateTopic",
    "DeleteTopic",
    "GetDataProtectionPolicy",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
    "Publish",
    "PublishBatch",
    "PutDataProtectionPolicy",
    "Receive",
    "RemovePermission",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "Unsubscribe",
    "UntagResource",
];

pub struct SubscribeRequest {
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: String,
    pub attributes: BTreeMap<String, String>,
}

impl Sns {
    pub async fn create_topic(
        &self,
        caller: &Caller,
        name: &str,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
        data_protection_policy: Option<String>,
    ) -> SnsResult<String> {
        let fifo = attributes.get("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        topic::validate_name(name, fifo)?;
        let mut attrs = BTreeMap::new();
        for (k, v) in &attributes {
            attrs.insert(k.clone(), topic::validate_attribute(k, v, fifo, true)?);
        }
        TAG_RULES.check(&tags).map_err(tag_error)?;
        let arn = topic::topic_arn(&caller.region, &caller.account, name);
        if let Ok(existing) = self.lookup_topic(&arn) {
            return same_topic(&existing, &attrs, &tags).map(|_| arn);
        }
        let record = TopicRecord {
            arn: arn.clone(),
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: name.to_string(),
            attributes: attrs,
            tags,
            data_protection_policy,
            created_ms: self.now_ms(),
        };
        self.save_topic(&record).await?;
        self.topics.write().entry(arn.clone()).or_insert_with(|| Arc::new(Topic::new(record)));
        tracing::info!(topic = %arn, "topic created");
        Ok(arn)
    }

    /// Deletes the topic and its subscriptions. A missing topic is not an error.
    pub async fn delete_topic(&self, arn: &str) -> SnsResult<()> {
        let Some(topic) = self.topics.write().remove(arn) else { return Ok(()) };
        let subs = self.subscriptions_of(arn);
        let mut batch = self.sh.store.batch();
        batch.delete(&self.sh.topics, topic.arn.as_bytes().to_vec());
        for s in &subs {
            batch.delete(&self.sh.subscriptions, s.arn.as_bytes().to_vec());
        }
        let dedup: Vec<String> = topic.state.lock().dedup_ids().cloned().collect();
        for id in dedup {
            batch.delete(&self.sh.dedup, records::dedup_key(arn, &id));
        }
        let ticket = batch.commit()?;
        {
            let mut index = self.subscriptions.write();
            for s in &subs {
                index.remove(&s.arn);
            }
        }
        self.sh.store.durable(ticket).await?;
        tracing::info!(topic = %arn, subscriptions = subs.len(), "topic deleted");
        Ok(())
    }

    pub fn topic_attributes(&self, arn: &str) -> SnsResult<BTreeMap<String, String>> {
        let topic = self.lookup_topic(arn)?;
        let mut counts = SubscriptionCounts::default();
        for s in self.subscriptions_of(arn) {
            if s.pending() {
                counts.pending += 1;
            } else {
                counts.confirmed += 1;
            }
        }
        Ok(topic::attributes_view(&topic.record(), counts))
    }

    pub async fn set_topic_attribute(&self, arn: &str, name: &str, value: &str) -> SnsResult<()> {
        let topic = self.lookup_topic(arn)?;
        let value = topic::validate_attribute(name, value, topic.fifo, false)?;
        self.update_topic(&topic, |record| {
            if name == "DataProtectionPolicy" {
                record.data_protection_policy = Some(value).filter(|v| !v.is_empty());
            } else if value.is_empty() && name != "DisplayName" {
                record.attributes.remove(name);
            } else {
                record.attributes.insert(name.to_string(), value);
            }
            Ok(())
        })
        .await
    }

    /// Applies `change` to a copy of the topic's record, saves it, and
    /// swaps it in only once durable: a failed save leaves the topic as it
    /// was, and readers never see a change the store may not keep.
    async fn update_topic(
        &self,
        topic: &Topic,
        change: impl FnOnce(&mut TopicRecord) -> SnsResult<()>,
    ) -> SnsResult<()> {
        let _one_at_a_time = topic.updates.lock().await;
        let mut record = topic.record();
        change(&mut record)?;
        self.save_topic(&record).await?;
        topic.state.lock().record = record;
        Ok(())
    }

    pub fn data_protection_policy(&self, arn: &str) -> SnsResult<String> {
        Ok(self.lookup_topic(arn)?.record().data_protection_policy.unwrap_or_default())
    }

    pub async fn put_data_protection_policy(&self, arn: &str, policy: &str) -> SnsResult<()> {
        match serde_json::from_str::<Value>(policy) {
            Ok(Value::Object(_)) => self.set_topic_attribute(arn, "DataProtectionPolicy", policy).await,
            _ => Err(invalid("DataProtectionPolicy: failed to parse JSON.")),
        }
    }

    pub async fn add_permission(
        &self,
        arn: &str,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> SnsResult<()> {
        let topic = self.lookup_topic(arn)?;
        if label.is_empty() || accounts.is_empty() || actions.is_empty() {
            return Err(invalid("Label, AWSAccountId and ActionName are required"));
        }
        let mut policy = self.policy_json(&topic);
        let statements = statements_mut(&mut policy);
        if statements.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(label)) {
            return Err(invalid("Statement already exists"));
        }
        if actions.iter().any(|a| !SNS_ACTIONS.contains(&a.as_str())) {
            return Err(invalid("Policy statement action out of service scope!"));
        }
        let principals = one_or_many(accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")));
        let actions = one_or_many(actions.iter().map(|a| format!("SNS:{a}")));
        statements.push(json!({
            "Sid": label, "Effect": "Allow", "Principal": {"AWS": principals}, "Action": actions, "Resource": arn
        }));
        self.set_topic_attribute(arn, "Policy", &policy.to_string()).await
    }

    pub async fn remove_permission(&self, arn: &str, label: &str) -> SnsResult<()> {
        let topic = self.lookup_topic(arn)?;
        let mut policy = self.policy_json(&topic);
        let statements = statements_mut(&mut policy);
        let before = statements.len();
        statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
        if statements.len() == before {
            return Err(invalid("Statement does not exist"));
        }
        self.set_topic_attribute(arn, "Policy", &policy.to_string()).await
    }

    fn policy_json(&self, topic: &Topic) -> Value {
        topic.attribute("Policy").and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_else(|| {
            serde_json::from_str(&topic::default_policy(&topic.arn, &topic.account)).unwrap_or_default()
        })
    }

    pub fn tags(&self, arn: &str) -> SnsResult<BTreeMap<String, String>> {
        Ok(self.tagged(arn)?.record().tags)
    }

    pub async fn tag(&self, arn: &str, tags: BTreeMap<String, String>) -> SnsResult<()> {
        let topic = self.tagged(arn)?;
        TAG_RULES.check(&tags).map_err(tag_error)?;
        self.update_topic(&topic, |record| {
            record.tags = TAG_RULES.merged(&record.tags, &tags).map_err(tag_error)?;
            Ok(())
        })
        .await
    }

    pub async fn untag(&self, arn: &str, keys: &[String]) -> SnsResult<()> {
        let topic = self.tagged(arn)?;
        self.update_topic(&topic, |record| {
            record.tags = tags::without(&record.tags, keys);
            Ok(())
        })
        .await
    }

    fn tagged(&self, arn: &str) -> SnsResult<Arc<Topic>> {
        self.lookup_topic(arn).map_err(|_| SnsError::ResourceNotFound("Resource does not exist".into()))
    }

    pub(crate) async fn save_topic(&self, record: &TopicRecord) -> SnsResult<()> {
        self.save(&self.sh.topics, &record.arn, record).await
    }

    /// Subscribe: returns the subscription ARN, and whether it waits for confirmation.
    pub async fn subscribe(&self, caller: &Caller, req: SubscribeRequest) -> SnsResult<(String, bool)> {
        let topic = self.lookup_topic(&req.topic_arn)?;
        subscription::validate_endpoint(&req.protocol, &req.endpoint, topic.fifo)?;
        if req.protocol == "firehose" {
            return Err(invalid(
                "Endpoint Reason: Firehose delivery streams are not available in this eddy yet; subscribe when Firehose arrives",
            ));
        }
        let mut attrs = BTreeMap::new();
        for (k, v) in &req.attributes {
            attrs.insert(k.clone(), subscription::validate_attribute(k, v, &req.protocol, true)?);
        }
        check_fifo_dlq(&topic, &req.endpoint, &attrs, true)?;
        subscription::compile_filter(&attrs, true)?;
        if let Some(existing) = self
            .subscriptions_of(&topic.arn)
            .into_iter()
            .find(|s| s.protocol == req.protocol && s.endpoint == req.endpoint)
        {
            let current = existing.record();
            // Attributes given at their default value match an existing subscription without them.
            let view = subscription::attributes_view(&current, None);
            let differs = attrs.iter().any(|(k, v)| match (view.get(k), k.as_str()) {
                (Some(have), _) => have != v,
                (None, "FilterPolicyScope") => v != "MessageAttributes",
                (None, _) => !v.is_empty(),
            });
            if differs {
                return Err(invalid("Attributes Reason: Subscription already exists with different attributes"));
            }
            return Ok((existing.arn.clone(), current.pending));
        }
        let pending = needs_confirmation(&req.protocol, &req.endpoint, caller);
        let record = SubscriptionRecord {
            arn: format!("{}:{}", topic.arn, uuid::Uuid::new_v4()),
            topic_arn: topic.arn.clone(),
            owner: caller.account.clone(),
            protocol: req.protocol.clone(),
            endpoint: req.endpoint.clone(),
            attributes: attrs,
            pending,
            token: pending.then(subscription::new_token),
            authenticated_unsubscribe: false,
            created_ms: self.now_ms(),
            created_seq: self.sh.next_seq(),
        };
        let arn = record.arn.clone();
        self.save_subscription(&record).await?;
        let sub = Arc::new(Subscription::new(record.clone())?);
        self.subscriptions.write().insert(sub.clone());
        tracing::info!(subscription = %arn, protocol = %req.protocol, endpoint = %req.endpoint, pending, "subscribed");
        if pending {
            delivery::send_confirmation(self.sh.clone(), self.stats.clone(), topic, sub).await;
        }
        Ok((arn, pending))
    }

    /// ConfirmSubscription: the token must be one sent for this topic.
    pub async fn confirm_subscription(&self, topic_arn: &str, token: &str, authenticate: bool) -> SnsResult<String> {
        // AWS's tokens are hex; anything else is not a token at all (recorded).
        if !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SnsError::InvalidParameter("Invalid token".into()));
        }
        // The token names the subscription. Recorded from AWS: with a
        // well-formed ARN of a topic that does not exist, a valid token still
        // confirms its subscription.
        let candidates = match self.lookup_topic(topic_arn) {
            Ok(_) => self.subscriptions_of(topic_arn),
            Err(_) => self.all_subscriptions(),
        };
        let sub = candidates
            .into_iter()
            .find(|s| s.state.read().record.token.as_deref() == Some(token))
            .ok_or_else(|| invalid("Token"))?;
        self.update_subscription(&sub, |record| {
            record.pending = false;
            record.authenticated_unsubscribe |= authenticate;
            Ok(())
        })
        .await?;
        tracing::info!(subscription = %sub.arn, "subscription confirmed");
        Ok(sub.arn.clone())
    }

    pub async fn unsubscribe(&self, arn: &str) -> SnsResult<()> {
        if arn.is_empty() {
            return Err(invalid("SubscriptionArn Reason: no value for required parameter"));
        }
        let Some(sub) = self.subscriptions.write().remove(arn) else {
            // AWS answers success for an ARN it no longer knows; a topic's
            // ARN (six elements) lacks the subscription id (recorded).
            return match arn_elements("SubscriptionArn", arn)?.len() {
                7 => Ok(()),
                6 => Err(invalid("SubscriptionId")),
                _ => Err(invalid("SubscriptionArn")),
            };
        };
        let mut batch = self.sh.store.batch();
        batch.delete(&self.sh.subscriptions, sub.arn.as_bytes().to_vec());
        let ticket = batch.commit()?;
        self.sh.store.durable(ticket).await?;
        tracing::info!(subscription = %arn, "unsubscribed");
        if matches!(sub.protocol.as_str(), "http" | "https") {
            if let Ok(topic) = self.lookup_topic(&sub.topic_arn) {
                delivery::send_unsubscribe_confirmation(self.sh.clone(), topic, sub);
            }
        }
        Ok(())
    }

    pub fn subscription_attributes(&self, arn: &str) -> SnsResult<BTreeMap<String, String>> {
        let sub = self.lookup_subscription(arn)?;
        let topic_policy = self.lookup_topic(&sub.topic_arn).ok().and_then(|t| t.attribute("DeliveryPolicy"));
        Ok(subscription::attributes_view(&sub.record(), topic_policy.as_deref()))
    }

    pub async fn set_subscription_attribute(&self, arn: &str, name: &str, value: &str) -> SnsResult<()> {
        let sub = self.lookup_subscription(arn)?;
        let value = subscription::validate_attribute(name, value, &sub.protocol, false)?;
        let topic = self.lookup_topic(&sub.topic_arn).ok();
        self.update_subscription(&sub, |record| {
            let attrs = &mut record.attributes;
            if value.is_empty() {
                attrs.remove(name);
            } else {
                attrs.insert(name.to_string(), value);
            }
            if let Some(topic) = &topic {
                check_fifo_dlq(topic, &sub.endpoint, attrs, false)?;
            }
            Ok(())
        })
        .await
    }

    /// Applies `change` to a copy of the subscription's record, saves it,
    /// and swaps it in (with its recompiled filter policy) only once
    /// durable: a failed save or an invalid filter leaves it as it was.
    async fn update_subscription(
        &self,
        sub: &Subscription,
        change: impl FnOnce(&mut SubscriptionRecord) -> SnsResult<()>,
    ) -> SnsResult<()> {
        let _one_at_a_time = sub.updates.lock().await;
        let mut record = sub.record();
        change(&mut record)?;
        let filter = subscription::compile_filter(&record.attributes, false)?;
        self.save_subscription(&record).await?;
        let mut st = sub.state.write();
        st.record = record;
        st.filter = filter;
        Ok(())
    }

    pub(crate) async fn save_subscription(&self, record: &SubscriptionRecord) -> SnsResult<()> {
        self.save(&self.sh.subscriptions, &record.arn, record).await
    }

    /// Writes one record under its ARN and waits until it is durable.
    pub(crate) async fn save<T: serde::Serialize>(
        &self,
        family: &eddy_store::Partition,
        arn: &str,
        value: &T,
    ) -> SnsResult<()> {
        let mut batch = self.sh.store.batch();
        batch.put(family, arn.as_bytes().to_vec(), records::to_json(value));
        let ticket = batch.commit()?;
        Ok(self.sh.store.durable(ticket).await?)
    }
}

/// HTTP/S and email endpoints must confirm; a queue of another account too
/// (the queue's owner confirms with the token SNS sends into the queue).
fn needs_confirmation(protocol: &str, endpoint: &str, caller: &Caller) -> bool {
    match protocol {
        "http" | "https" | "email" | "email-json" => true,
        "sqs" => endpoint.split(':').nth(4).is_some_and(|account| account != caller.account),
        _ => false,
    }
}

fn same_topic(existing: &Topic, attrs: &BTreeMap<String, String>, tags: &BTreeMap<String, String>) -> SnsResult<()> {
    let record = existing.record();
    // Attributes given at their default value (FifoTopic=false on a standard
    // topic) match a topic created without them.
    let view = topic::attributes_view(&record, SubscriptionCounts::default());
    let differs = attrs.iter().any(|(k, v)| match (view.get(k), k.as_str()) {
        (Some(have), _) => have != v,
        (None, "FifoTopic") => v != "false",
        (None, _) => !v.is_empty(),
    });
    if differs {
        return Err(invalid("Attributes Reason: Topic already exists with different attributes"));
    }
    if !tags.is_empty() && tags.iter().any(|(k, v)| record.tags.get(k) != Some(v)) {
        return Err(invalid("Tags Reason: Topic already exists with different tags"));
    }
    Ok(())
}

/// A FIFO topic's subscriptions of FIFO queues need a FIFO dead-letter
/// queue; a standard queue subscribed to a FIFO topic may have a standard one
/// (recorded from AWS).
fn check_fifo_dlq(topic: &Topic, endpoint: &str, attrs: &BTreeMap<String, String>, subscribing: bool) -> SnsResult<()> {
    let Some(policy) = attrs.get("RedrivePolicy").filter(|p| !p.is_empty()) else { return Ok(()) };
    let target =
        serde_json::from_str::<Value>(policy).ok().and_then(|v| v["deadLetterTargetArn"].as_str().map(String::from));
    if topic.fifo && endpoint.ends_with(".fifo") && !target.is_some_and(|t| t.ends_with(".fifo")) {
        let prefix = if subscribing { "Attributes Reason: " } else { "" };
        return Err(invalid(format!(
            "{prefix}RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
        )));
    }
    Ok(())
}

/// SNS's tag rules: AWS's common limits, `aws:` keys reserved.
const TAG_RULES: TagRules = TagRules::AWS;

/// SNS's wording of a tag violation (recorded).
fn tag_error(v: TagViolation) -> SnsError {
    match v {
        TagViolation::TooMany => {
            SnsError::TagLimitExceeded("Could not complete request: tag quota of per resource exceeded".into())
        }
        TagViolation::Key(_) => invalid("TagKey"),
        TagViolation::Value(_) => invalid("TagValue"),
    }
}

/// A policy value as AWS writes AddPermission's: a plain string when there
/// is one, an array when there are several (recorded).
fn one_or_many(items: impl Iterator<Item = String>) -> Value {
    let mut items: Vec<Value> = items.map(Value::String).collect();
    match items.len() {
        1 => items.pop().expect("one item"),
        _ => Value::Array(items),
    }
}

fn statements_mut(policy: &mut Value) -> &mut Vec<Value> {
    if !policy.is_object() {
        *policy = json!({"Version": "2008-10-17", "Statement": []});
    }
    let st = &mut policy["Statement"];
    if !st.is_array() {
        *st = match st.take() {
            Value::Null => json!([]),
            single => json!([single]),
        };
    }
    st.as_array_mut().expect("made an array above")
}
