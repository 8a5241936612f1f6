//! SNS: topic actions are on the topic's ARN (CreateTopic on the one it
//! would have); subscription actions on the subscription's topic;
//! account-wide ones (listings, SMS settings, platform applications) on `*`.
//! The topic's `Policy` attribute is its resource policy.

use serde_json::Value;

use eddy_wire::error::WireError;

use super::{arn_account, check, member, Call};
use crate::request::RequestCtx;
use crate::server::AppState;

/// Ok, or SNS's `AuthorizationError` (403), whose messages spell the action
/// `SNS:Publish`.
pub fn authorize(state: &AppState, ctx: &RequestCtx, action: &str, input: &Value) -> Result<(), WireError> {
    let Some(call) = call(state, ctx, action, input) else { return Ok(()) };
    check(state, ctx, &call, |a| a.replacen("sns:", "SNS:", 1))
        .map_err(|message| WireError::new("AuthorizationErrorException", "AuthorizationError", 403, message))
}

/// None: the call is not checked (see [`super::checked`]).
fn call(state: &AppState, ctx: &RequestCtx, action: &str, input: &Value) -> Option<Call> {
    // A subscription's own calls answer to its token or its owner, not to
    // the topic's policy: only `--enforce-iam` looks at them.
    if SUBSCRIPTION_CALLS.contains(&action) && !super::enforced(state) {
        return None;
    }
    let iam_action = format!("sns:{action}");
    let caller = &ctx.caller;
    let resource = match action {
        "CreateTopic" => {
            member(input, "Name").map(|name| format!("arn:aws:sns:{}:{}:{name}", caller.region, caller.account))
        }
        "Publish" => member(input, "TopicArn").or_else(|| member(input, "TargetArn")).map(String::from),
        "Unsubscribe" | "GetSubscriptionAttributes" | "SetSubscriptionAttributes" => {
            member(input, "SubscriptionArn").and_then(topic_of_subscription)
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => member(input, "ResourceArn").map(String::from),
        _ => member(input, "TopicArn").map(String::from),
    };
    let Some(arn) = resource else {
        return super::enforced(state).then(|| Call::new(iam_action, "*".into(), &caller.account));
    };
    let owner = arn_account(&arn).unwrap_or(&caller.account).to_string();
    if !super::checked(state, ctx, &owner) {
        return None;
    }
    let mut call = Call::new(iam_action, arn, &owner);
    if let Ok(topic) = state.sns.lookup_topic(&call.resource) {
        call.policy = topic.attribute("Policy").filter(|p| !p.is_empty());
        call.tags = state.sns.tags(&call.resource).map(|t| t.into_iter().collect()).unwrap_or_default();
    }
    Some(call)
}

const SUBSCRIPTION_CALLS: [&str; 4] =
    ["ConfirmSubscription", "Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes"];

/// `arn:aws:sns:{region}:{account}:{topic}:{id}` → the topic's ARN.
fn topic_of_subscription(arn: &str) -> Option<String> {
    let (topic, _id) = arn.rsplit_once(':')?;
    (topic.split(':').count() == 6).then(|| topic.to_string())
}
