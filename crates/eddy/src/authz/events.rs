//! EventBridge under `--enforce-iam`: rule actions are on the rule's ARN,
//! bus actions (and PutEvents, for each bus its entries name) on the bus's
//! ARN, tagging on `ResourceARN`, listings on `*`. Without the flag nothing
//! is checked here: a PutEvents into another account's bus is checked
//! against the bus's policy by the service itself.

use serde_json::Value;

use eddy_core::events::{bus_arn, rule_arn, DEFAULT_BUS};

use super::{arn_account, check, member, Call};
use crate::events::errors::EventsWireError;
use crate::request::RequestCtx;
use crate::server::AppState;

/// Ok, or EventBridge's `AccessDeniedException` (400).
pub fn authorize(state: &AppState, ctx: &RequestCtx, op: &str, input: &Value) -> Result<(), EventsWireError> {
    if !super::enforced(state) {
        return Ok(());
    }
    for call in calls(ctx, op, input) {
        check(state, ctx, &call, str::to_string).map_err(|message| EventsWireError {
            shape: "AccessDeniedException",
            status: 400,
            message,
        })?;
    }
    Ok(())
}

fn calls(ctx: &RequestCtx, op: &str, input: &Value) -> Vec<Call> {
    let caller = &ctx.caller;
    let action = format!("events:{op}");
    let bus_of = |name: Option<&str>| match name.filter(|n| !n.is_empty()) {
        Some(arn) if arn.starts_with("arn:") => arn.to_string(),
        name => bus_arn(&caller.region, &caller.account, name.unwrap_or(DEFAULT_BUS)),
    };
    let bus_name = |name: Option<&str>| match name.filter(|n| !n.is_empty()) {
        Some(arn) if arn.starts_with("arn:") => arn.rsplit('/').next().unwrap_or(DEFAULT_BUS).to_string(),
        name => name.unwrap_or(DEFAULT_BUS).to_string(),
    };
    let resources: Vec<String> = match op {
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            member(input, "ResourceARN").map(String::from).into_iter().collect()
        }
        "PutRule" | "DescribeRule" | "EnableRule" | "DisableRule" | "DeleteRule" => member(input, "Name")
            .map(|n| rule_arn(&caller.region, &caller.account, &bus_name(member(input, "EventBusName")), n))
            .into_iter()
            .collect(),
        "PutTargets" | "RemoveTargets" | "ListTargetsByRule" => member(input, "Rule")
            .map(|n| rule_arn(&caller.region, &caller.account, &bus_name(member(input, "EventBusName")), n))
            .into_iter()
            .collect(),
        "CreateEventBus" | "DescribeEventBus" | "UpdateEventBus" | "DeleteEventBus" => {
            vec![bus_of(member(input, "Name"))]
        }
        "PutPermission" | "RemovePermission" => vec![bus_of(member(input, "EventBusName"))],
        "PutEvents" => {
            let mut buses: Vec<String> = input["Entries"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| bus_of(e.get("EventBusName").and_then(Value::as_str)))
                .collect();
            buses.sort();
            buses.dedup();
            buses
        }
        _ => Vec::new(),
    };
    if resources.is_empty() {
        return vec![Call::new(action, "*".into(), &caller.account)];
    }
    resources
        .into_iter()
        .map(|arn| {
            let owner = arn_account(&arn).unwrap_or(&caller.account).to_string();
            Call::new(action.clone(), arn, &owner)
        })
        .collect()
}
