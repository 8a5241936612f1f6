//! `--enforce-iam`: every API call is authorized before its operation runs.
//! Without it, a call into another account is still checked against the
//! resource's policy alone, as AWS always does.
//! Each service's module names the call's IAM action and resource (as the
//! Service Authorization Reference gives them) and the resource's policy;
//! [`check`] evaluates it with eddy-core's [`authz`] and, on a denial, logs
//! why (with the statement that would allow an implicitly denied call) and
//! returns AWS's message for the service's own AccessDenied shape.

pub mod events;
pub mod iam;
pub mod kinesis;
pub mod pipes;
pub mod scheduler;
pub mod schemas;
pub mod sns;
pub mod sqs;

use std::sync::OnceLock;

use eddy_core::authz::{self, add_resource_tags, DocCache, Outcome, RequestFacts, Target};

use crate::request::RequestCtx;
use crate::server::AppState;

/// One call, as authorization sees it.
pub struct Call {
    /// `sqs:SendMessage`.
    pub action: String,
    /// The resource's ARN, or `*`.
    pub resource: String,
    /// The resource's account; the caller's own for `*`.
    pub owner: String,
    /// The resource's policy text, if it has one.
    pub policy: Option<String>,
    pub tags: Vec<(String, String)>,
    /// `policy` is a role trust policy (sts:AssumeRole).
    pub trust: bool,
    /// Service condition keys (`sts:ExternalId`).
    pub keys: Vec<(&'static str, String)>,
}

impl Call {
    /// A call on no particular resource, or on one without a policy.
    pub fn new(action: String, resource: String, owner: &str) -> Call {
        Call {
            action,
            resource,
            owner: owner.to_string(),
            policy: None,
            tags: Vec::new(),
            trust: false,
            keys: Vec::new(),
        }
    }
}

pub fn enforced(state: &AppState) -> bool {
    state.config.enforce_iam
}

/// Whether a call on a resource of `owner` is checked at all: every call
/// under `--enforce-iam`; otherwise only one into another account, which
/// AWS refuses unless the resource's policy lets the caller in.
pub fn checked(state: &AppState, ctx: &RequestCtx, owner: &str) -> bool {
    enforced(state) || owner != ctx.caller.account
}

/// Resource policies compiled by text, shared by every service.
fn documents() -> &'static DocCache {
    static DOCS: OnceLock<DocCache> = OnceLock::new();
    DOCS.get_or_init(DocCache::default)
}

/// Ok, or AWS's denial message with the action written as `shown` spells it
/// (services differ: `sqs:sendmessage`, `SNS:Publish`).
pub fn check(state: &AppState, ctx: &RequestCtx, call: &Call, shown: impl Fn(&str) -> String) -> Result<(), String> {
    let p = state.iam.principal_policies(&ctx.identity, &ctx.caller.access_key);
    // The common case of a local run: the root, at home, no policy to read.
    if p.is_root() && call.owner == p.account && call.policy.is_none() && !call.trust {
        return Ok(());
    }
    let doc = call.policy.as_deref().and_then(|text| documents().get(text));
    let facts = RequestFacts {
        source_ip: ctx.source_ip,
        secure: false,
        region: &ctx.caller.region,
        now_ms: state.iam.now_ms(),
    };
    let mut keys = p.context(&facts);
    add_resource_tags(&mut keys, call.tags.iter().map(|(k, v)| (k, v)));
    for (k, v) in &call.keys {
        keys.insert(k, v.as_str());
    }
    let target = Target {
        action: &call.action,
        resource: &call.resource,
        owner: &call.owner,
        policy: doc.as_deref(),
        trust: call.trust,
    };
    let outcome = if enforced(state) {
        authz::authorize(&p, &target, &keys)
    } else {
        authz::authorize_cross_account(&p, &target, &keys)
    };
    let Outcome::Deny(denial) = outcome else { return Ok(()) };
    let message = denial.message(&p.arn, &shown(&call.action), &call.resource);
    match denial.would_allow(&p, &call.action, &call.resource) {
        Some((place, statement)) => {
            tracing::info!(request_id = %ctx.request_id, caller = %p.arn, action = %call.action,
                resource = %call.resource, reason = %message, would_allow = %statement, add_to = place,
                "access denied")
        }
        None => tracing::info!(request_id = %ctx.request_id, caller = %p.arn, action = %call.action,
            resource = %call.resource, reason = %message, policy = ?denial.policy, sid = ?denial.sid,
            "access denied by an explicit deny"),
    }
    Err(message)
}

/// A string member of a request's JSON input.
fn member<'a>(input: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty())
}

/// The account of a well-formed ARN. A malformed one names no other
/// account: the operation's own validation answers it, as AWS does
/// ("An ARN must have at least 6 elements") before any authorization.
fn arn_account(arn: &str) -> Option<&str> {
    eddy_core::arn::Arn::parse(arn).ok().map(|a| a.account).filter(|a| eddy_core::arn::is_account_id(a))
}
