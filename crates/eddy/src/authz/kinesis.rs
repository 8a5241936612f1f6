//! Kinesis: stream actions are on the stream's ARN
//! (`arn:aws:kinesis:{region}:{account}:stream/{name}`, from StreamARN or
//! StreamName), consumer actions on the consumer's ARN, GetRecords on the
//! stream its iterator reads, account-wide ones on `*`. A stream's or
//! consumer's resource policy (PutResourcePolicy) is evaluated with it.

use serde_json::Value;

use super::{arn_account, check, member, Call};
use crate::kinesis::errors::KinesisWireError;
use crate::request::RequestCtx;
use crate::server::AppState;

/// Ok, or Kinesis's `AccessDeniedException` (400).
pub fn authorize(state: &AppState, ctx: &RequestCtx, op: &str, input: &Value) -> Result<(), KinesisWireError> {
    let Some(call) = call(state, ctx, op, input) else { return Ok(()) };
    check(state, ctx, &call, str::to_string).map_err(|message| KinesisWireError {
        shape: "AccessDeniedException",
        status: 400,
        message,
    })
}

/// None: the call is not checked (see [`super::checked`]).
fn call(state: &AppState, ctx: &RequestCtx, op: &str, input: &Value) -> Option<Call> {
    // A stream named by name alone is the caller's own: nothing to check
    // without `--enforce-iam` (and no ARN to build on the hot path).
    if !super::enforced(state) && !names_by_arn(op, input) {
        return None;
    }
    let action = format!("kinesis:{op}");
    let caller = &ctx.caller;
    let named_stream = || {
        member(input, "StreamARN").map(String::from).or_else(|| {
            member(input, "StreamName").map(|n| eddy_core::kinesis::stream_arn(&caller.region, &caller.account, n))
        })
    };
    let resource = match op {
        "GetRecords" => member(input, "ShardIterator").and_then(|it| state.kinesis.iterator_stream_arn(it)),
        "TagResource"
        | "UntagResource"
        | "ListTagsForResource"
        | "PutResourcePolicy"
        | "GetResourcePolicy"
        | "DeleteResourcePolicy" => member(input, "ResourceARN").map(String::from),
        "DescribeStreamConsumer" | "DeregisterStreamConsumer" | "SubscribeToShard" => {
            member(input, "ConsumerARN").map(String::from).or_else(named_stream)
        }
        "ListStreams" | "DescribeLimits" | "DescribeAccountSettings" | "UpdateAccountSettings" => None,
        _ => named_stream(),
    };
    let Some(arn) = resource else {
        return super::enforced(state).then(|| Call::new(action, "*".into(), &caller.account));
    };
    let owner = arn_account(&arn).unwrap_or(&caller.account).to_string();
    if !super::checked(state, ctx, &owner) {
        return None;
    }
    let mut call = Call::new(action, arn, &owner);
    if let Some(facts) = state.kinesis.resource_facts(&call.resource) {
        call.policy = facts.policy.filter(|p| !p.is_empty() && p != "{}");
        call.tags = facts.tags.into_iter().collect();
    }
    Some(call)
}

/// Whether the request names its resource by an ARN (which may be another
/// account's) or a shard iterator (which may read another account's stream).
fn names_by_arn(op: &str, input: &Value) -> bool {
    op == "GetRecords" || ["StreamARN", "ConsumerARN", "ResourceARN"].iter().any(|m| member(input, m).is_some())
}
