//! Deciding a request, and the two helpers `eddy doctor` and the delivery
//! logs use: the statement a service delivery needs, and the service grants
//! that lack source conditions (gotchas #3 and #6).

use std::fmt;

use serde_json::{json, Value};

use super::condition::{Condition, OperatorKind};
use super::context::Lookup;
use super::document::{Effect, PolicyDocument, PrincipalEntry, Principals, Statement};
use super::pattern::{arn_match, glob};
use super::{Decision, Principal, Request};

impl PolicyDocument {
    /// An explicit `Deny` wins over any `Allow`; with no statement applying,
    /// the request is implicitly denied. The `sid` is the first deciding
    /// statement's.
    pub fn evaluate(&self, req: &Request) -> Decision {
        let lookup = Lookup::new(req.context, req.principal);
        let action = req.action.to_lowercase();
        let applying = |effect: Effect| {
            let applies = |s: &&Statement| s.effect == effect && s.applies(req, &action, &lookup);
            self.statements.iter().find(applies).map(|s| s.sid.clone())
        };
        if let Some(sid) = applying(Effect::Deny) {
            return Decision::ExplicitDeny { sid };
        }
        match applying(Effect::Allow) {
            Some(sid) => Decision::Allow { sid },
            None => Decision::ImplicitDeny,
        }
    }

    /// Statements that let a service principal in without both
    /// `aws:SourceArn` and `aws:SourceAccount` conditions: any rule, topic or
    /// bucket of any account could then make that service write here.
    pub fn unscoped_service_grants(&self) -> Vec<UnscopedGrant> {
        self.statements.iter().enumerate().filter_map(|(i, s)| unscoped(i, s)).collect()
    }
}

impl Statement {
    /// `action` comes lower-cased: actions match ignoring case.
    fn applies(&self, req: &Request, action: &str, lookup: &Lookup) -> bool {
        self.principal_applies(&req.principal)
            && self.action_applies(action)
            && self.resource_applies(req.resource, lookup)
            && self.conditions.iter().all(|c| c.holds(lookup))
    }

    fn principal_applies(&self, p: &Principal) -> bool {
        match (&self.principal, &self.not_principal) {
            (Some(list), _) => list.entries.iter().any(|e| e.matches(p)),
            (None, Some(list)) => !list.entries.iter().any(|e| e.names(p)),
            // Only identity policies (a user's, group's or role's) name no
            // principal: whoever holds the policy is the principal.
            (None, None) => true,
        }
    }

    fn action_applies(&self, action: &str) -> bool {
        let listed = self.action_patterns.iter().any(|p| glob(p, action));
        listed == self.not_actions.is_empty()
    }

    fn resource_applies(&self, resource: &str, lookup: &Lookup) -> bool {
        if self.resources.is_empty() && self.not_resources.is_empty() {
            return true;
        }
        let listed =
            self.resource_patterns.iter().any(|t| t.resolve(lookup, true).is_some_and(|p| arn_match(&p, resource)));
        listed == self.not_resources.is_empty()
    }
}

impl PrincipalEntry {
    /// `Principal` semantics: an account entry delegates to every principal
    /// of that account.
    fn matches(&self, p: &Principal) -> bool {
        match (self, p) {
            (PrincipalEntry::Any, _) => true,
            (PrincipalEntry::Service(s), Principal::Service(name)) => s == name,
            (PrincipalEntry::Account(a), Principal::Account { account, .. }) => a == account,
            (PrincipalEntry::Arn(a), Principal::Account { arn, .. }) => a == arn,
            _ => false,
        }
    }

    /// `NotPrincipal` semantics: only the identity named is exempt, so an
    /// account entry exempts the account's root, not its users and roles.
    fn names(&self, p: &Principal) -> bool {
        match (self, p) {
            (PrincipalEntry::Account(a), Principal::Account { account, arn }) => a == account && arn.ends_with(":root"),
            _ => self.matches(p),
        }
    }
}

/// A statement found by [`PolicyDocument::unscoped_service_grants`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnscopedGrant {
    pub sid: Option<String>,
    /// The statement's position in the policy, from 0.
    pub index: usize,
    pub services: Vec<String>,
    pub missing_source_arn: bool,
    pub missing_source_account: bool,
}

impl UnscopedGrant {
    pub fn missing_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.missing_source_arn {
            keys.push("aws:SourceArn");
        }
        if self.missing_source_account {
            keys.push("aws:SourceAccount");
        }
        keys
    }
}

impl fmt::Display for UnscopedGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = match &self.sid {
            Some(sid) => format!("statement {sid:?}"),
            None => format!("statement #{} (no Sid)", self.index + 1),
        };
        let missing = match self.missing_keys().as_slice() {
            [one] => format!("an {one} condition"),
            keys => format!("{} conditions", keys.join(" and ")),
        };
        write!(
            f,
            "{which} allows {} without {missing}: any resource of that service, in any account, can use this grant \
             (confused deputy)",
            self.services.join(", ")
        )
    }
}

fn unscoped(index: usize, s: &Statement) -> Option<UnscopedGrant> {
    let services: Vec<String> = s.principal.as_ref().map(Principals::services)?.map(str::to_string).collect();
    if s.effect != Effect::Allow || services.is_empty() {
        return None;
    }
    let missing_source_arn = !s.conditions.iter().any(|c| scopes(c, "aws:SourceArn"));
    let missing_source_account = !s.conditions.iter().any(|c| scopes(c, "aws:SourceAccount"));
    (missing_source_arn || missing_source_account).then(|| UnscopedGrant {
        sid: s.sid.clone(),
        index,
        services,
        missing_source_arn,
        missing_source_account,
    })
}

/// Whether `c` pins `key` down: a positive string or ARN comparison that
/// must hold (no `IfExists`, no set qualifier, not just `*`).
fn scopes(c: &Condition, key: &str) -> bool {
    use OperatorKind as K;
    let positive = matches!(
        c.operator.kind,
        K::StringEquals | K::StringEqualsIgnoreCase | K::StringLike | K::ArnEquals | K::ArnLike
    );
    c.key.eq_ignore_ascii_case(key)
        && positive
        && !c.operator.if_exists
        && c.operator.set.is_none()
        && !c.values.is_empty()
        && c.values.iter().all(|v| v != "*")
}

/// The statement a queue or topic policy needs so that `service` may perform
/// `action` on `resource` on behalf of `source_arn` in `source_account`.
/// `ArnLike` replaces `ArnEquals` when the source ARN has wildcards.
pub fn statement_allowing_service(
    service: &str,
    action: &str,
    resource: &str,
    source_arn: &str,
    source_account: &str,
) -> Value {
    let arn_operator = if source_arn.contains(['*', '?']) { "ArnLike" } else { "ArnEquals" };
    json!({
        "Sid": sid_for(service, action),
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
        "Condition": {
            arn_operator: {"aws:SourceArn": source_arn},
            "StringEquals": {"aws:SourceAccount": source_account},
        },
    })
}

/// `sns.amazonaws.com` + `sqs:SendMessage` → `AllowSnsSendMessage`
/// (alphanumeric, as IAM wants Sids).
fn sid_for(service: &str, action: &str) -> String {
    let short = service.split('.').next().unwrap_or(service);
    let op = action.rsplit(':').next().unwrap_or(action);
    let mut sid = String::from("Allow");
    let mut chars = short.chars().filter(char::is_ascii_alphanumeric);
    sid.extend(chars.next().map(|c| c.to_ascii_uppercase()));
    sid.extend(chars);
    sid.extend(op.chars().filter(char::is_ascii_alphanumeric));
    sid
}
