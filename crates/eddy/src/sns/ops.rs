//! One function per SNS operation: read the input members, call the core,
//! build the output shape. No HTTP and no topic logic here.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Value};

use eddy_core::sns::{arn_elements, PublishRequest, SnsError, SubscriptionRecord};
use eddy_core::sqs::{AttributeValue, Attributes};
use eddy_wire::error::WireError;

use super::errors::{self, missing, wire};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = Result<Option<Value>, WireError>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, action: &str, input: &Value) -> Output {
    let h = Handler { state, ctx, input };
    match action {
        "CreateTopic" => h.create_topic().await,
        "DeleteTopic" => h.delete_topic().await,
        "ListTopics" => h.list_topics(),
        "GetTopicAttributes" => h.get_topic_attributes(),
        "SetTopicAttributes" => h.set_topic_attributes().await,
        "Subscribe" => h.subscribe().await,
        "ConfirmSubscription" => h.confirm_subscription().await,
        "Unsubscribe" => h.unsubscribe().await,
        "ListSubscriptions" => h.list_subscriptions(None),
        "ListSubscriptionsByTopic" => h.list_subscriptions(Some(h.topic_arn("TopicArn")?)),
        "GetSubscriptionAttributes" => h.get_subscription_attributes(),
        "SetSubscriptionAttributes" => h.set_subscription_attributes().await,
        "Publish" => h.publish().await,
        "PublishBatch" => h.publish_batch().await,
        "AddPermission" => h.add_permission().await,
        "RemovePermission" => h.remove_permission().await,
        "TagResource" => h.tag_resource().await,
        "UntagResource" => h.untag_resource().await,
        "ListTagsForResource" => h.list_tags_for_resource(),
        "GetDataProtectionPolicy" => h.get_data_protection_policy(),
        "PutDataProtectionPolicy" => h.put_data_protection_policy().await,
        "CreatePlatformApplication" => h.create_platform_application().await,
        "GetPlatformApplicationAttributes" => h.get_platform_application_attributes(),
        "SetPlatformApplicationAttributes" => h.set_platform_application_attributes().await,
        "DeletePlatformApplication" => h.delete_platform_application().await,
        "ListPlatformApplications" => h.list_platform_applications(),
        "CreatePlatformEndpoint" => h.create_platform_endpoint().await,
        "GetEndpointAttributes" => h.get_endpoint_attributes(),
        "SetEndpointAttributes" => h.set_endpoint_attributes().await,
        "DeleteEndpoint" => h.delete_endpoint().await,
        "ListEndpointsByPlatformApplication" => h.list_endpoints_by_platform_application(),
        "GetSMSAttributes" => h.get_sms_attributes(),
        "SetSMSAttributes" => h.set_sms_attributes().await,
        "CheckIfPhoneNumberIsOptedOut" => h.check_if_phone_number_is_opted_out(),
        "ListPhoneNumbersOptedOut" => h.list_phone_numbers_opted_out(),
        "OptInPhoneNumber" => h.opt_in_phone_number().await,
        other => Err(errors::invalid_action(other)),
    }
}

struct Handler<'a> {
    state: &'a AppState,
    ctx: &'a RequestCtx,
    input: &'a Value,
}

fn core<T>(r: Result<T, SnsError>) -> Result<T, WireError> {
    r.map_err(|e| wire(&e))
}

impl Handler<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        self.input.get(name).and_then(Value::as_str).map(String::from)
    }

    fn required(&self, name: &str) -> Result<String, WireError> {
        self.optional(name).ok_or_else(|| missing(&lower_first(name)))
    }

    /// A topic ARN member: ARNs of fewer than six elements say so; other
    /// malformed ARNs, and topics of another region than the request's, are
    /// "Invalid parameter: {name}" (recorded AWS behaviour).
    fn topic_arn(&self, name: &str) -> Result<String, WireError> {
        let arn = self.required(name)?;
        core(arn_elements(name, &arn))?;
        if !self.local_topic(&arn) {
            return Err(errors::invalid_parameter(format!("Invalid parameter: {name}")));
        }
        Ok(arn)
    }

    /// A well-formed topic ARN of the caller's region.
    fn local_topic(&self, arn: &str) -> bool {
        let parts: Vec<&str> = arn.split(':').collect();
        matches!(parts.as_slice(), ["arn", _, "sns", region, account, topic]
            if *region == self.ctx.caller.region && !account.is_empty() && !topic.is_empty())
    }

    /// An ARN member of a mobile push operation: at least six elements.
    fn push_arn(&self, name: &str) -> Result<String, WireError> {
        let arn = self.required(name)?;
        core(arn_elements(name, &arn))?;
        Ok(arn)
    }

    /// A map member the model requires: an empty map is sent as no member
    /// at all, which AWS reports as null.
    fn required_map(&self, name: &str) -> Result<BTreeMap<String, String>, WireError> {
        match self.input.get(name) {
            Some(Value::Object(_)) => Ok(self.string_map(name)),
            _ => Err(missing(&lower_first(name))),
        }
    }

    fn string_map(&self, name: &str) -> BTreeMap<String, String> {
        match self.input.get(name) {
            Some(Value::Object(m)) => {
                m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
            }
            _ => BTreeMap::new(),
        }
    }

    fn string_list(&self, name: &str) -> Vec<String> {
        match self.input.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
            _ => Vec::new(),
        }
    }

    fn tags(&self) -> Result<BTreeMap<String, String>, WireError> {
        let mut out = BTreeMap::new();
        if let Some(Value::Array(items)) = self.input.get("Tags") {
            for t in items {
                let key = t.get("Key").and_then(Value::as_str).ok_or_else(|| missing("tags.member.key"))?;
                let value = t.get("Value").and_then(Value::as_str).ok_or_else(|| missing("tags.member.value"))?;
                if out.insert(key.to_string(), value.to_string()).is_some() {
                    return Err(errors::invalid_parameter("Invalid parameter: Duplicated keys are not allowed."));
                }
            }
        }
        Ok(out)
    }

    async fn create_topic(&self) -> Output {
        let name = self.required("Name")?;
        let arn = core(
            self.state
                .sns
                .create_topic(
                    &self.ctx.caller,
                    &name,
                    self.string_map("Attributes"),
                    self.tags()?,
                    self.optional("DataProtectionPolicy"),
                )
                .await,
        )?;
        Ok(Some(json!({"TopicArn": arn})))
    }

    async fn delete_topic(&self) -> Output {
        core(self.state.sns.delete_topic(&self.topic_arn("TopicArn")?).await)?;
        Ok(None)
    }

    fn list_topics(&self) -> Output {
        let page = core(self.state.sns.list_topics(&self.ctx.caller, self.optional("NextToken").as_deref()))?;
        let topics: Vec<Value> = page.items.iter().map(|a| json!({"TopicArn": a})).collect();
        Ok(Some(json!({"Topics": topics, "NextToken": page.next_token})))
    }

    fn get_topic_attributes(&self) -> Output {
        let attrs = core(self.state.sns.topic_attributes(&self.topic_arn("TopicArn")?))?;
        Ok(Some(json!({"Attributes": attrs})))
    }

    async fn set_topic_attributes(&self) -> Output {
        let arn = self.topic_arn("TopicArn")?;
        let name = self.required("AttributeName")?;
        let value = self.optional("AttributeValue").unwrap_or_default();
        core(self.state.sns.set_topic_attribute(&arn, &name, &value).await)?;
        Ok(None)
    }

    async fn subscribe(&self) -> Output {
        let req = eddy_core::sns::SubscribeRequest {
            topic_arn: self.topic_arn("TopicArn")?,
            protocol: self.required("Protocol")?,
            endpoint: self.optional("Endpoint").unwrap_or_default(),
            attributes: self.string_map("Attributes"),
        };
        let return_arn = self.optional("ReturnSubscriptionArn").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let (arn, pending) = core(self.state.sns.subscribe(&self.ctx.caller, req).await)?;
        let shown = if pending && !return_arn { "pending confirmation".to_string() } else { arn };
        Ok(Some(json!({"SubscriptionArn": shown})))
    }

    async fn confirm_subscription(&self) -> Output {
        let topic = self.required("TopicArn")?;
        // A malformed topic ARN, or one of another region (recorded).
        if !self.local_topic(&topic) {
            return Err(errors::invalid_parameter("Invalid parameter: Topic"));
        }
        let token = self.required("Token")?;
        let auth = self.optional("AuthenticateOnUnsubscribe").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let arn = core(self.state.sns.confirm_subscription(&topic, &token, auth).await)?;
        Ok(Some(json!({"SubscriptionArn": arn})))
    }

    async fn unsubscribe(&self) -> Output {
        // AWS reports a missing ARN as InvalidParameter, not as null (recorded).
        core(self.state.sns.unsubscribe(&self.optional("SubscriptionArn").unwrap_or_default()).await)?;
        Ok(None)
    }

    fn list_subscriptions(&self, topic: Option<String>) -> Output {
        let token = self.optional("NextToken");
        let page = core(self.state.sns.list_subscriptions(&self.ctx.caller, topic.as_deref(), token.as_deref()))?;
        let subs: Vec<Value> = page.items.iter().map(subscription_summary).collect();
        Ok(Some(json!({"Subscriptions": subs, "NextToken": page.next_token})))
    }

    fn get_subscription_attributes(&self) -> Output {
        let attrs = core(self.state.sns.subscription_attributes(&self.required("SubscriptionArn")?))?;
        Ok(Some(json!({"Attributes": attrs})))
    }

    async fn set_subscription_attributes(&self) -> Output {
        let arn = self.required("SubscriptionArn")?;
        let name = self.required("AttributeName")?;
        let value = self.optional("AttributeValue").unwrap_or_default();
        core(self.state.sns.set_subscription_attribute(&arn, &name, &value).await)?;
        Ok(None)
    }

    fn get_sms_attributes(&self) -> Output {
        let attrs = core(self.state.sns.sms_attributes(&self.ctx.caller, &self.string_list("attributes")))?;
        Ok(Some(json!({"attributes": attrs})))
    }

    async fn set_sms_attributes(&self) -> Output {
        let attrs = self.required_map("attributes")?;
        core(self.state.sns.set_sms_attributes(&self.ctx.caller, attrs).await)?;
        // Its output shape is empty but exists: SDKs expect the Result element.
        Ok(Some(json!({})))
    }

    fn check_if_phone_number_is_opted_out(&self) -> Output {
        let out = core(self.state.sns.is_opted_out(&self.ctx.caller, &self.required("phoneNumber")?))?;
        Ok(Some(json!({"isOptedOut": out})))
    }

    fn list_phone_numbers_opted_out(&self) -> Output {
        let token = self.optional("nextToken");
        let page = core(self.state.sns.opted_out_numbers(&self.ctx.caller, token.as_deref()))?;
        Ok(Some(json!({"phoneNumbers": page.items, "nextToken": page.next_token})))
    }

    async fn opt_in_phone_number(&self) -> Output {
        core(self.state.sns.opt_in(&self.ctx.caller, &self.required("phoneNumber")?).await)?;
        Ok(Some(json!({})))
    }

    async fn publish(&self) -> Output {
        let topic_arn = match self.optional("TopicArn") {
            Some(_) => Some(self.topic_arn("TopicArn")?),
            None => None,
        };
        let req = PublishRequest {
            topic_arn,
            target_arn: self.optional("TargetArn"),
            phone_number: self.optional("PhoneNumber"),
            trace_header: self.ctx.trace_header.clone(),
            ..publish_request(self.input, "messageAttributes")?
        };
        if req.message.is_none() {
            return Err(missing("message"));
        }
        let p = core(self.state.sns.publish(req).await)?;
        Ok(Some(json!({"MessageId": p.message_id, "SequenceNumber": p.sequence_number})))
    }

    async fn publish_batch(&self) -> Output {
        let topic = self.topic_arn("TopicArn")?;
        let mut entries = Vec::new();
        if let Some(Value::Array(items)) = self.input.get("PublishBatchRequestEntries") {
            for (i, item) in items.iter().enumerate() {
                let id = item.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
                let path = format!("publishBatchRequestEntries.{}.member.messageAttributes", i + 1);
                let req =
                    PublishRequest { trace_header: self.ctx.trace_header.clone(), ..publish_request(item, &path)? };
                entries.push((id, req));
            }
        }
        let results = core(self.state.sns.publish_batch(&topic, entries).await)?;
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        for (id, r) in results {
            match r {
                Ok(p) => ok.push(json!({"Id": id, "MessageId": p.message_id, "SequenceNumber": p.sequence_number})),
                Err(e) => {
                    let w = wire(&e);
                    failed.push(json!({"Id": id, "Code": w.code, "Message": w.message, "SenderFault": w.sender}));
                }
            }
        }
        Ok(Some(json!({"Successful": ok, "Failed": failed})))
    }

    async fn add_permission(&self) -> Output {
        let arn = self.topic_arn("TopicArn")?;
        let label = self.required("Label")?;
        let accounts = self.string_list("AWSAccountId");
        let actions = self.string_list("ActionName");
        core(self.state.sns.add_permission(&arn, &label, &accounts, &actions).await)?;
        Ok(None)
    }

    async fn remove_permission(&self) -> Output {
        core(self.state.sns.remove_permission(&self.topic_arn("TopicArn")?, &self.required("Label")?).await)?;
        Ok(None)
    }

    async fn tag_resource(&self) -> Output {
        core(self.state.sns.tag(&self.required("ResourceArn")?, self.tags()?).await)?;
        Ok(Some(json!({})))
    }

    async fn untag_resource(&self) -> Output {
        core(self.state.sns.untag(&self.required("ResourceArn")?, &self.string_list("TagKeys")).await)?;
        Ok(Some(json!({})))
    }

    fn list_tags_for_resource(&self) -> Output {
        let tags = core(self.state.sns.tags(&self.required("ResourceArn")?))?;
        let tags: Vec<Value> = tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        Ok(Some(json!({"Tags": tags})))
    }

    fn get_data_protection_policy(&self) -> Output {
        let policy = core(self.state.sns.data_protection_policy(&self.required("ResourceArn")?))?;
        Ok(Some(json!({"DataProtectionPolicy": policy})))
    }

    async fn put_data_protection_policy(&self) -> Output {
        let arn = self.required("ResourceArn")?;
        let policy = self.required("DataProtectionPolicy")?;
        core(self.state.sns.put_data_protection_policy(&arn, &policy).await)?;
        Ok(None)
    }
}

/// Mobile push: applications and device endpoints (stored, never contacted).
impl Handler<'_> {
    async fn create_platform_application(&self) -> Output {
        let (name, platform) = (self.required("Name")?, self.required("Platform")?);
        let attrs = self.required_map("Attributes")?;
        let arn = core(self.state.sns.create_platform_application(&self.ctx.caller, &name, &platform, attrs).await)?;
        Ok(Some(json!({"PlatformApplicationArn": arn})))
    }

    fn get_platform_application_attributes(&self) -> Output {
        let app = core(self.state.sns.platform_application(&self.push_arn("PlatformApplicationArn")?))?;
        Ok(Some(json!({"Attributes": app.visible_attributes()})))
    }

    async fn set_platform_application_attributes(&self) -> Output {
        let arn = self.push_arn("PlatformApplicationArn")?;
        let attrs = self.required_map("Attributes")?;
        core(self.state.sns.set_platform_application_attributes(&arn, attrs).await)?;
        Ok(None)
    }

    async fn delete_platform_application(&self) -> Output {
        core(self.state.sns.delete_platform_application(&self.required("PlatformApplicationArn")?).await)?;
        Ok(None)
    }

    fn list_platform_applications(&self) -> Output {
        let token = self.optional("NextToken");
        let page = core(self.state.sns.list_platform_applications(&self.ctx.caller, token.as_deref()))?;
        let apps: Vec<Value> = page
            .items
            .iter()
            .map(|a| json!({"PlatformApplicationArn": a.arn, "Attributes": a.visible_attributes()}))
            .collect();
        Ok(Some(json!({"PlatformApplications": apps, "NextToken": page.next_token})))
    }

    async fn create_platform_endpoint(&self) -> Output {
        let app = self.required("PlatformApplicationArn")?;
        let token = self.required("Token")?;
        let data = self.optional("CustomUserData");
        let attrs = self.string_map("Attributes");
        let arn = core(self.state.sns.create_platform_endpoint(&app, &token, data, attrs).await)?;
        Ok(Some(json!({"EndpointArn": arn})))
    }

    fn get_endpoint_attributes(&self) -> Output {
        let endpoint = core(self.state.sns.platform_endpoint(&self.required("EndpointArn")?))?;
        Ok(Some(json!({"Attributes": endpoint.attributes})))
    }

    async fn set_endpoint_attributes(&self) -> Output {
        let arn = self.required("EndpointArn")?;
        let attrs = self.required_map("Attributes")?;
        core(self.state.sns.set_endpoint_attributes(&arn, attrs).await)?;
        Ok(None)
    }

    async fn delete_endpoint(&self) -> Output {
        core(self.state.sns.delete_endpoint(&self.required("EndpointArn")?).await)?;
        Ok(None)
    }

    fn list_endpoints_by_platform_application(&self) -> Output {
        let (app, token) = (self.required("PlatformApplicationArn")?, self.optional("NextToken"));
        let page = core(self.state.sns.list_endpoints(&app, token.as_deref()))?;
        let endpoints: Vec<Value> =
            page.items.iter().map(|e| json!({"EndpointArn": e.arn, "Attributes": e.attributes})).collect();
        Ok(Some(json!({"Endpoints": endpoints, "NextToken": page.next_token})))
    }
}

fn subscription_summary(r: &SubscriptionRecord) -> Value {
    let arn = if r.pending { "PendingConfirmation".to_string() } else { r.arn.clone() };
    json!({"SubscriptionArn": arn, "Owner": r.owner, "Protocol": r.protocol, "Endpoint": r.endpoint, "TopicArn": r.topic_arn})
}

/// The members Publish and a PublishBatch entry share; `attributes_path`
/// names the entry's MessageAttributes in validation messages.
fn publish_request(v: &Value, attributes_path: &str) -> Result<PublishRequest, WireError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Ok(PublishRequest {
        message: s("Message"),
        subject: s("Subject"),
        message_structure: s("MessageStructure"),
        attributes: message_attributes(v.get("MessageAttributes"), attributes_path)?,
        dedup_id: s("MessageDeduplicationId"),
        group_id: s("MessageGroupId"),
        ..PublishRequest::default()
    })
}

fn message_attributes(v: Option<&Value>, path: &str) -> Result<Attributes, WireError> {
    let mut out = Attributes::new();
    let Some(Value::Object(m)) = v else { return Ok(out) };
    for (name, a) in m {
        out.insert(name.clone(), attribute_value(name, a, path)?);
    }
    Ok(out)
}

fn attribute_value(name: &str, a: &Value, path: &str) -> Result<AttributeValue, WireError> {
    let field = |k: &str| a.get(k).and_then(Value::as_str).map(String::from);
    // DataType is a required member of the model: a null (recorded).
    let data_type = field("DataType").ok_or_else(|| missing(&format!("{path}.{name}.member.dataType")))?;
    let binary = match field("BinaryValue") {
        Some(b) => Some(base64::engine::general_purpose::STANDARD.decode(b.trim()).map_err(|_| {
            errors::invalid_parameter(format!("The message attribute '{name}' has an invalid base64 binary value."))
        })?),
        None => None,
    };
    Ok(AttributeValue { data_type, string: field("StringValue"), binary })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}
