//! Deciding one call, and saying why it was refused.

use serde_json::{json, Value};

use super::principal::NamedPolicy;
use super::PrincipalPolicies;
use crate::policy::{ConditionContext, Decision, PolicyDocument, Principal, Request};

/// What one call asks for.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The IAM action, e.g. `sqs:SendMessage`.
    pub action: &'a str,
    /// The resource's ARN, or `*` for actions on no resource (ListQueues).
    pub resource: &'a str,
    /// The account owning the resource (the caller's own for `*`).
    pub owner: &'a str,
    /// The resource's policy, if it has one.
    pub policy: Option<&'a PolicyDocument>,
    /// `policy` is a role's trust policy: it must allow the caller.
    pub trust: bool,
}

/// Which kind of policy decided a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Identity,
    Resource,
    Boundary,
    Session,
}

impl PolicyType {
    /// As AWS's denial messages name it.
    fn phrase(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based policy",
            PolicyType::Resource => "resource-based policy",
            PolicyType::Boundary => "permissions boundary",
            PolicyType::Session => "session policy",
        }
    }

    fn article(self) -> &'static str {
        match self {
            PolicyType::Identity => "an",
            _ => "a",
        }
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// An explicit `Deny` (else: nothing allowed it).
    pub explicit: bool,
    pub by: PolicyType,
    /// The denying policy (explicit denies) and statement.
    pub policy: Option<String>,
    pub sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny(Denial),
}

impl Outcome {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Outcome::Allow)
    }
}

/// AWS's evaluation logic (see the module documentation of `authz`).
pub fn authorize(p: &PrincipalPolicies, t: &Target, ctx: &ConditionContext) -> Outcome {
    let resource = match t.policy {
        Some(doc) => ResourceSide::of(doc, p, t, ctx),
        None => ResourceSide::default(),
    };
    if let Some(sid) = resource.denied {
        return deny(true, PolicyType::Resource, None, sid);
    }
    let same_account = t.owner == p.account;
    if p.is_root() && same_account && !t.trust {
        return Outcome::Allow;
    }
    let identity = match identity_side(p, t, ctx) {
        Ok(()) => None,
        Err(Outcome::Deny(d)) if d.explicit => return Outcome::Deny(d),
        Err(refusal) => Some(refusal),
    };
    let identity_ok = identity.is_none();
    let allowed = if t.trust {
        resource.allows && ((same_account && resource.names_caller) || identity_ok)
    } else if same_account {
        identity_ok || resource.names_caller
    } else {
        identity_ok && resource.allows
    };
    match (allowed, identity) {
        (true, _) => Outcome::Allow,
        // A trust policy that does not let the caller in says so first.
        (false, _) if t.trust && !resource.allows => deny(false, PolicyType::Resource, None, None),
        (false, Some(refusal)) => refusal,
        (false, None) => deny(false, PolicyType::Resource, None, None),
    }
}

/// Without `--enforce-iam`: identity policies are not evaluated, but a
/// resource of one account is still reachable from another only if its
/// policy lets the caller in (an explicit deny in it wins), as on AWS. A
/// call within the caller's own account is allowed.
pub fn authorize_cross_account(p: &PrincipalPolicies, t: &Target, ctx: &ConditionContext) -> Outcome {
    if t.owner == p.account {
        return Outcome::Allow;
    }
    let resource = match t.policy {
        Some(doc) => ResourceSide::of(doc, p, t, ctx),
        None => ResourceSide::default(),
    };
    match resource.denied {
        Some(sid) => deny(true, PolicyType::Resource, None, sid),
        None if resource.allows => Outcome::Allow,
        None => deny(false, PolicyType::Resource, None, None),
    }
}

fn deny(explicit: bool, by: PolicyType, policy: Option<String>, sid: Option<String>) -> Outcome {
    Outcome::Deny(Denial { explicit, by, policy, sid })
}

/// What the resource's policy says of the caller.
#[derive(Default)]
struct ResourceSide {
    /// An explicit deny, with its statement's Sid.
    denied: Option<Option<String>>,
    /// Some statement allows the caller, its role or its account.
    allows: bool,
    /// Some statement allows the caller itself (ARN, role ARN or `*`), not
    /// just its account.
    names_caller: bool,
}

impl ResourceSide {
    fn of(doc: &PolicyDocument, p: &PrincipalPolicies, t: &Target, ctx: &ConditionContext) -> ResourceSide {
        let mut side = ResourceSide::default();
        // A statement naming an assumed role's role ARN applies to its sessions.
        let arns: &[&str] =
            if p.arn == p.principal_arn { &[&p.arn] } else { &[p.arn.as_str(), p.principal_arn.as_str()] };
        for arn in arns {
            let decide = |account: &str| {
                let principal = Principal::Account { account, arn };
                doc.evaluate(&Request { principal, action: t.action, resource: t.resource, context: ctx })
            };
            match decide(&p.account) {
                Decision::ExplicitDeny { sid } => {
                    side.denied = Some(sid);
                    return side;
                }
                Decision::Allow { .. } => side.allows = true,
                Decision::ImplicitDeny => {}
            }
            // Without its account, only statements naming the caller itself match.
            if side.allows && !side.names_caller {
                side.names_caller = decide("").is_allowed();
            }
        }
        side
    }
}

/// The identity side: Ok when identity policies allow and the boundary and
/// session policies do not limit; else the denial to report.
fn identity_side(p: &PrincipalPolicies, t: &Target, ctx: &ConditionContext) -> Result<(), Outcome> {
    if p.is_root() {
        return Ok(());
    }
    let identity = decide_all(&p.identity, p, t, ctx);
    let boundary = p.boundary.as_ref().map(|b| decide_all(std::slice::from_ref(b), p, t, ctx));
    let session = p.session.as_ref().map(|s| decide_all(s, p, t, ctx));
    let sides =
        [(Some(identity), PolicyType::Identity), (boundary, PolicyType::Boundary), (session, PolicyType::Session)];
    for (decision, by) in &sides {
        if let Some(Verdict::Deny { policy, sid }) = decision {
            return Err(deny(true, *by, Some(policy.clone()), sid.clone()));
        }
    }
    for (decision, by) in sides {
        if let Some(Verdict::None) = decision {
            return Err(deny(false, by, None, None));
        }
    }
    Ok(())
}

/// Several policies of one kind together: any explicit deny, else any allow.
enum Verdict {
    Allow,
    Deny { policy: String, sid: Option<String> },
    None,
}

fn decide_all(policies: &[NamedPolicy], p: &PrincipalPolicies, t: &Target, ctx: &ConditionContext) -> Verdict {
    let principal = Principal::Account { account: &p.account, arn: &p.arn };
    let req = Request { principal, action: t.action, resource: t.resource, context: ctx };
    let mut verdict = Verdict::None;
    for named in policies {
        match named.doc.evaluate(&req) {
            Decision::ExplicitDeny { sid } => return Verdict::Deny { policy: named.name.clone(), sid },
            Decision::Allow { .. } => verdict = Verdict::Allow,
            Decision::ImplicitDeny => {}
        }
    }
    verdict
}

impl Denial {
    /// AWS's message, with the action spelled as the service spells it
    /// (`sqs:sendmessage`, `SNS:Publish`, `kinesis:PutRecord`).
    pub fn message(&self, caller_arn: &str, shown_action: &str, resource: &str) -> String {
        let on = if resource == "*" { String::new() } else { format!(" on resource: {resource}") };
        let why = if self.explicit {
            format!("with an explicit deny in {} {}", self.by.article(), self.by.phrase())
        } else {
            format!("because no {} allows the {shown_action} action", self.by.phrase())
        };
        format!("User: {caller_arn} is not authorized to perform: {shown_action}{on} {why}")
    }

    /// For an implicit deny, the statement that would allow the call, and
    /// where it belongs (for the log line).
    pub fn would_allow(&self, p: &PrincipalPolicies, action: &str, resource: &str) -> Option<(&'static str, Value)> {
        if self.explicit {
            return None;
        }
        let mut statement = json!({"Effect": "Allow", "Action": action, "Resource": resource});
        let place = match self.by {
            PolicyType::Resource => {
                statement["Principal"] = json!({"AWS": p.principal_arn});
                "the resource's policy"
            }
            PolicyType::Identity => "an identity policy of the caller",
            PolicyType::Boundary => "the caller's permissions boundary",
            PolicyType::Session => "the session policy",
        };
        Some((place, statement))
    }
}
