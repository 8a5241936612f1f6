//! One function per SNS operation: decode its typed input
//! ([`eddy_wire::sns`]) once, check it, call the core, build the output
//! shape. No HTTP and no topic logic here. Topics, subscriptions, tags and
//! permissions here; [`publish`], [`sms`] and mobile push ([`platform`]) in
//! their own modules.

mod platform;
mod publish;
mod sms;

use serde_json::{json, Value};

use eddy_core::sns::{arn_elements, check_confirmation_topic, check_topic_arn, Sns, SnsError, SubscriptionRecord};
use eddy_wire::error::WireError;
use eddy_wire::sns::{self as s, required};

use super::errors::{self, wire};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = Result<Option<Value>, WireError>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, action: &str, input: &Value) -> Output {
    crate::authz::sns::authorize(state, ctx, action, input)?;
    let h = Handler { state, ctx };
    macro_rules! run {
        ($method:ident) => {
            h.$method(s::decode(input)?).await
        };
    }
    match action {
        "CreateTopic" => run!(create_topic),
        "DeleteTopic" => run!(delete_topic),
        "ListTopics" => run!(list_topics),
        "GetTopicAttributes" => run!(get_topic_attributes),
        "SetTopicAttributes" => run!(set_topic_attributes),
        "Subscribe" => run!(subscribe),
        "ConfirmSubscription" => run!(confirm_subscription),
        "Unsubscribe" => run!(unsubscribe),
        "ListSubscriptions" => run!(list_subscriptions),
        "ListSubscriptionsByTopic" => run!(list_subscriptions_by_topic),
        "GetSubscriptionAttributes" => run!(get_subscription_attributes),
        "SetSubscriptionAttributes" => run!(set_subscription_attributes),
        "Publish" => run!(publish),
        "PublishBatch" => run!(publish_batch),
        "AddPermission" => run!(add_permission),
        "RemovePermission" => run!(remove_permission),
        "TagResource" => run!(tag_resource),
        "UntagResource" => run!(untag_resource),
        "ListTagsForResource" => run!(list_tags_for_resource),
        "GetDataProtectionPolicy" => run!(get_data_protection_policy),
        "PutDataProtectionPolicy" => run!(put_data_protection_policy),
        "CreatePlatformApplication" => run!(create_platform_application),
        "GetPlatformApplicationAttributes" => run!(get_platform_application_attributes),
        "SetPlatformApplicationAttributes" => run!(set_platform_application_attributes),
        "DeletePlatformApplication" => run!(delete_platform_application),
        "ListPlatformApplications" => run!(list_platform_applications),
        "CreatePlatformEndpoint" => run!(create_platform_endpoint),
        "GetEndpointAttributes" => run!(get_endpoint_attributes),
        "SetEndpointAttributes" => run!(set_endpoint_attributes),
        "DeleteEndpoint" => run!(delete_endpoint),
        "ListEndpointsByPlatformApplication" => run!(list_endpoints_by_platform_application),
        "GetSMSAttributes" => run!(get_sms_attributes),
        "SetSMSAttributes" => run!(set_sms_attributes),
        "CheckIfPhoneNumberIsOptedOut" => run!(check_if_phone_number_is_opted_out),
        "ListPhoneNumbersOptedOut" => run!(list_phone_numbers_opted_out),
        "OptInPhoneNumber" => run!(opt_in_phone_number),
        other => Err(errors::invalid_action(other)),
    }
}

struct Handler<'a> {
    state: &'a AppState,
    ctx: &'a RequestCtx,
}

fn core<T>(r: Result<T, SnsError>) -> Result<T, WireError> {
    r.map_err(|e| wire(&e))
}

impl Handler<'_> {
    fn sns(&self) -> &Sns {
        &self.state.sns
    }

    /// A required topic ARN member, of the caller's region.
    fn topic_arn(&self, arn: Option<String>, name: &str) -> Result<String, WireError> {
        let arn = required(arn, name)?;
        core(check_topic_arn(name, &arn, &self.ctx.caller.region))?;
        Ok(arn)
    }

    /// A required ARN member of a mobile push operation: at least six elements.
    fn push_arn(arn: Option<String>, name: &str) -> Result<String, WireError> {
        let arn = required(arn, name)?;
        core(arn_elements(name, &arn))?;
        Ok(arn)
    }

    async fn create_topic(&self, i: s::CreateTopicInput) -> Output {
        let name = required(i.name, "Name")?;
        let (attrs, tags) = (i.attributes.unwrap_or_default(), s::tag_map(i.tags)?);
        let arn = core(self.sns().create_topic(&self.ctx.caller, &name, attrs, tags, i.data_protection_policy).await)?;
        Ok(Some(json!({"TopicArn": arn})))
    }

    async fn delete_topic(&self, i: s::DeleteTopicInput) -> Output {
        core(self.sns().delete_topic(&self.topic_arn(i.topic_arn, "TopicArn")?).await)?;
        Ok(None)
    }

    async fn list_topics(&self, i: s::ListTopicsInput) -> Output {
        let page = core(self.sns().list_topics(&self.ctx.caller, i.next_token.as_deref()))?;
        let topics: Vec<Value> = page.items.iter().map(|a| json!({"TopicArn": a})).collect();
        Ok(Some(json!({"Topics": topics, "NextToken": page.next_token})))
    }

    async fn get_topic_attributes(&self, i: s::GetTopicAttributesInput) -> Output {
        let attrs = core(self.sns().topic_attributes(&self.topic_arn(i.topic_arn, "TopicArn")?))?;
        Ok(Some(json!({"Attributes": attrs})))
    }

    async fn set_topic_attributes(&self, i: s::SetTopicAttributesInput) -> Output {
        let arn = self.topic_arn(i.topic_arn, "TopicArn")?;
        let name = required(i.attribute_name, "AttributeName")?;
        let value = i.attribute_value.unwrap_or_default();
        core(self.sns().set_topic_attribute(&arn, &name, &value).await)?;
        Ok(None)
    }

    async fn subscribe(&self, i: s::SubscribeInput) -> Output {
        let req = eddy_core::sns::SubscribeRequest {
            topic_arn: self.topic_arn(i.topic_arn, "TopicArn")?,
            protocol: required(i.protocol, "Protocol")?,
            endpoint: i.endpoint.unwrap_or_default(),
            attributes: i.attributes.unwrap_or_default(),
        };
        let (arn, pending) = core(self.sns().subscribe(&self.ctx.caller, req).await)?;
        let shown = if pending && !i.return_subscription_arn { "pending confirmation".to_string() } else { arn };
        Ok(Some(json!({"SubscriptionArn": shown})))
    }

    async fn confirm_subscription(&self, i: s::ConfirmSubscriptionInput) -> Output {
        let topic = required(i.topic_arn, "TopicArn")?;
        core(check_confirmation_topic(&topic, &self.ctx.caller.region))?;
        let token = required(i.token, "Token")?;
        let arn = core(self.sns().confirm_subscription(&topic, &token, i.authenticate_on_unsubscribe).await)?;
        Ok(Some(json!({"SubscriptionArn": arn})))
    }

    async fn unsubscribe(&self, i: s::UnsubscribeInput) -> Output {
        // AWS reports a missing ARN as InvalidParameter, not as null (recorded).
        core(self.sns().unsubscribe(&i.subscription_arn.unwrap_or_default()).await)?;
        Ok(None)
    }

    async fn list_subscriptions(&self, i: s::ListSubscriptionsInput) -> Output {
        self.subscriptions(None, i.next_token)
    }

    async fn list_subscriptions_by_topic(&self, i: s::ListSubscriptionsByTopicInput) -> Output {
        self.subscriptions(Some(self.topic_arn(i.topic_arn, "TopicArn")?), i.next_token)
    }

    fn subscriptions(&self, topic: Option<String>, token: Option<String>) -> Output {
        let page = core(self.sns().list_subscriptions(&self.ctx.caller, topic.as_deref(), token.as_deref()))?;
        let subs: Vec<Value> = page.items.iter().map(subscription_summary).collect();
        Ok(Some(json!({"Subscriptions": subs, "NextToken": page.next_token})))
    }

    async fn get_subscription_attributes(&self, i: s::GetSubscriptionAttributesInput) -> Output {
        let attrs = core(self.sns().subscription_attributes(&required(i.subscription_arn, "SubscriptionArn")?))?;
        Ok(Some(json!({"Attributes": attrs})))
    }

    async fn set_subscription_attributes(&self, i: s::SetSubscriptionAttributesInput) -> Output {
        let arn = required(i.subscription_arn, "SubscriptionArn")?;
        let name = required(i.attribute_name, "AttributeName")?;
        let value = i.attribute_value.unwrap_or_default();
        core(self.sns().set_subscription_attribute(&arn, &name, &value).await)?;
        Ok(None)
    }

    async fn add_permission(&self, i: s::AddPermissionInput) -> Output {
        let arn = self.topic_arn(i.topic_arn, "TopicArn")?;
        let label = required(i.label, "Label")?;
        core(self.sns().add_permission(&arn, &label, &i.aws_account_id, &i.action_name).await)?;
        Ok(None)
    }

    async fn remove_permission(&self, i: s::RemovePermissionInput) -> Output {
        let arn = self.topic_arn(i.topic_arn, "TopicArn")?;
        core(self.sns().remove_permission(&arn, &required(i.label, "Label")?).await)?;
        Ok(None)
    }

    async fn tag_resource(&self, i: s::TagResourceRequest) -> Output {
        let arn = required(i.resource_arn, "ResourceArn")?;
        core(self.sns().tag(&arn, s::tag_map(i.tags)?).await)?;
        Ok(Some(json!({})))
    }

    async fn untag_resource(&self, i: s::UntagResourceRequest) -> Output {
        core(self.sns().untag(&required(i.resource_arn, "ResourceArn")?, &i.tag_keys).await)?;
        Ok(Some(json!({})))
    }

    async fn list_tags_for_resource(&self, i: s::ListTagsForResourceRequest) -> Output {
        let tags = core(self.sns().tags(&required(i.resource_arn, "ResourceArn")?))?;
        let tags: Vec<Value> = tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        Ok(Some(json!({"Tags": tags})))
    }

    async fn get_data_protection_policy(&self, i: s::GetDataProtectionPolicyInput) -> Output {
        let policy = core(self.sns().data_protection_policy(&required(i.resource_arn, "ResourceArn")?))?;
        Ok(Some(json!({"DataProtectionPolicy": policy})))
    }

    async fn put_data_protection_policy(&self, i: s::PutDataProtectionPolicyInput) -> Output {
        let arn = required(i.resource_arn, "ResourceArn")?;
        let policy = required(i.data_protection_policy, "DataProtectionPolicy")?;
        core(self.sns().put_data_protection_policy(&arn, &policy).await)?;
        Ok(None)
    }
}

fn subscription_summary(r: &SubscriptionRecord) -> Value {
    let arn = if r.pending { "PendingConfirmation".to_string() } else { r.arn.clone() };
    json!({"SubscriptionArn": arn, "Owner": r.owner, "Protocol": r.protocol, "Endpoint": r.endpoint, "TopicArn": r.topic_arn})
}
