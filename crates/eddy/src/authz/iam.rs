//! IAM and STS. IAM actions are on the entity the request names (a user,
//! role, group, instance profile or managed policy ARN, with the entity's
//! path); listings on `*`. STS AssumeRole is on the role, whose trust policy
//! is its resource policy (with `sts:ExternalId`); GetCallerIdentity needs no
//! permission, as on AWS.

use serde_json::Value;

use eddy_core::iam::IamError;
use eddy_wire::error::WireError;

use super::{arn_account, check, member, Call};
use crate::iam::errors::wire;
use crate::request::RequestCtx;
use crate::server::AppState;

/// Ok, or IAM's `AccessDenied` (403).
pub fn authorize_iam(state: &AppState, ctx: &RequestCtx, action: &str, input: &Value) -> Result<(), WireError> {
    let account = &ctx.caller.account;
    let resource = iam_resource(state, ctx, input).unwrap_or_else(|| "*".into());
    deny_as_iam(check(state, ctx, &Call::new(format!("iam:{action}"), resource, account), str::to_string))
}

/// Ok, or STS's `AccessDenied` (403).
pub fn authorize_sts(state: &AppState, ctx: &RequestCtx, action: &str, input: &Value) -> Result<(), WireError> {
    let sts_action = format!("sts:{action}");
    let call = match (action, member(input, "RoleArn")) {
        ("GetCallerIdentity", _) => return Ok(()),
        ("AssumeRole", Some(role)) => {
            // A role that does not exist is the operation's own AccessDenied.
            let Some(trust) = state.iam.trust_policy(role) else { return Ok(()) };
            let owner = arn_account(role).unwrap_or(&ctx.caller.account).to_string();
            let mut call = Call::new(sts_action, role.to_string(), &owner);
            call.policy = Some(trust);
            call.trust = true;
            if let Some(id) = member(input, "ExternalId") {
                call.keys.push(("sts:ExternalId", id.to_string()));
            }
            call
        }
        _ => Call::new(sts_action, "*".into(), &ctx.caller.account),
    };
    deny_as_iam(check(state, ctx, &call, str::to_string))
}

fn deny_as_iam(checked: Result<(), String>) -> Result<(), WireError> {
    checked.map_err(|message| wire(&IamError::AccessDenied(message)))
}

/// The ARN of the entity an IAM request acts on: the most specific member
/// first (AddUserToGroup is on the group, AttachRolePolicy on the role).
fn iam_resource(state: &AppState, ctx: &RequestCtx, input: &Value) -> Option<String> {
    let account = &ctx.caller.account;
    for (member_name, kind) in [
        ("InstanceProfileName", "instance-profile"),
        ("GroupName", "group"),
        ("RoleName", "role"),
        ("UserName", "user"),
    ] {
        if let Some(name) = member(input, member_name) {
            let path = state
                .iam
                .entity_path(kind, account, name)
                .or_else(|| member(input, "Path").map(String::from))
                .unwrap_or_else(|| "/".into());
            return Some(format!("arn:aws:iam::{account}:{kind}{path}{name}"));
        }
    }
    if let Some(arn) = member(input, "PolicyArn") {
        return Some(arn.to_string());
    }
    if let Some(name) = member(input, "PolicyName") {
        let path = member(input, "Path").unwrap_or("/");
        return Some(format!("arn:aws:iam::{account}:policy{path}{name}"));
    }
    // Access key actions without UserName act on the caller's own user.
    ctx.identity.arn.contains(":user/").then(|| ctx.identity.arn.clone())
}
