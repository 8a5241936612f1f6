//! SQS: every action is on a queue (`arn:aws:sqs:{region}:{account}:{name}`)
//! but ListQueues; batch actions authorize as their single-message action,
//! as the SQS Developer Guide documents.

use serde_json::Value;

use eddy_core::sqs::QueueName;
use eddy_wire::error::WireError;

use super::{check, member, Call};
use crate::request::RequestCtx;
use crate::server::AppState;

/// Ok, or the AccessDenied to answer (403; awsJson's `__type` is coral's
/// AccessDeniedException, see `sqs::json_error`).
pub fn authorize(state: &AppState, ctx: &RequestCtx, op: &str, input: &Value) -> Result<(), WireError> {
    let Some(call) = call(state, ctx, op, input) else { return Ok(()) };
    check(state, ctx, &call, |a| a.to_lowercase())
        .map_err(|message| WireError::new("AccessDeniedException", "AccessDenied", 403, message))
}

fn action(op: &str) -> &str {
    match op {
        "SendMessageBatch" => "SendMessage",
        "DeleteMessageBatch" => "DeleteMessage",
        "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
        other => other,
    }
}

/// None: the request names no queue it could act on; the operation answers it.
fn call(state: &AppState, ctx: &RequestCtx, op: &str, input: &Value) -> Option<Call> {
    let action = format!("sqs:{}", action(op));
    let caller = &ctx.caller;
    let name = match op {
        "ListQueues" => return super::enforced(state).then(|| Call::new(action, "*".into(), &caller.account)),
        "CreateQueue" | "GetQueueUrl" => {
            let account = member(input, "QueueOwnerAWSAccountId").unwrap_or(&caller.account);
            let name = member(input, "QueueName")?;
            QueueName { account: account.to_string(), region: caller.region.clone(), name: name.to_string() }
        }
        _ => crate::sqs::queue_name_from_url(member(input, "QueueUrl")?, caller).ok()?,
    };
    if !super::checked(state, ctx, &name.account) {
        return None;
    }
    let arn = format!("arn:aws:sqs:{}:{}:{}", name.region, name.account, name.name);
    let mut call = Call::new(action, arn, &name.account);
    if let Ok(q) = state.sqs.lookup(&name) {
        call.policy = state.sqs.attribute(&q, "Policy").filter(|p| !p.is_empty());
        // aws:ResourceTag/…, read only when more than the root's fast path may look.
        if call.policy.is_some() || !ctx.identity.arn.ends_with(":root") {
            call.tags = state.sqs.tags(&q).map(|t| t.into_iter().collect()).unwrap_or_default();
        }
    }
    Some(call)
}
