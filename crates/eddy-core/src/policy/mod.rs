//! One IAM resource-policy evaluator for every resource policy (SQS queue,
//! SNS topic, event bus, stream) and every service-principal delivery.
//!
//! [`PolicyDocument::parse`] reads and validates a policy (`document.rs`),
//! compiling its condition operators (`condition.rs`, typed values in
//! `values.rs`), wildcards, ARN patterns and policy variables (`pattern.rs`)
//! once, so that [`PolicyDocument::evaluate`] (`evaluate.rs`) only matches.
//! A caller builds a
//! [`Request`] (who, which action, which resource ARN, and a
//! [`ConditionContext`] of condition keys) and gets a [`Decision`]: an
//! explicit `Deny` wins over any `Allow`; with neither, the request is
//! implicitly denied.
//!
//! # Semantics, from the AWS IAM reference
//!
//! - `Statement` may be one object or an array; `Action`, `Resource` and
//!   principal lists may be one string or an array. Actions match
//!   case-insensitively with `*` and `?`; resources match case-sensitively,
//!   segment by segment between the ARN's colons (the last segment of the
//!   pattern takes the rest of the ARN, colons included).
//! - `"Principal": "*"` and `{"AWS": "*"}` match everyone, service principals
//!   and anonymous callers included. `{"AWS": "123456789012"}` and
//!   `arn:aws:iam::123456789012:root` match every principal of that account;
//!   any other ARN matches only that exact principal; `{"Service": "…"}`
//!   matches only that service.
//! - `NotPrincipal` exempts exactly the principals it names: an account entry
//!   there names only the account's root identity, as in the AWS example
//!   where listing an account and one user of it still denies every other
//!   user of that account.
//! - Conditions: operators AND together, keys within an operator AND
//!   together, values of one key OR together, and for a negated operator
//!   (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, …) the values NOR
//!   together. A key absent from the request makes a condition false, except
//!   that negated operators are then true, `…IfExists` is true, `Null` tests
//!   presence, `ForAllValues:` is true and `ForAnyValue:` false.
//! - Condition keys are case-insensitive; values follow the operator.
//! - Policy variables (`${aws:SourceAccount}`, `${key, 'default'}`, `${*}`,
//!   `${?}`, `${$}`) are honoured in `Resource` and in string, ARN and `Bool`
//!   condition values when `Version` is `2012-10-17`; with `2008-10-17` or no
//!   `Version` they are literal text, as AWS does.
//!
//! # Choices where AWS leaves room
//!
//! - Keys eddy supplies when the request context lacks them:
//!   `aws:CurrentTime` and `aws:EpochTime` (the system clock; callers that
//!   own a `Clock` call [`ConditionContext::set_time`]), `aws:PrincipalArn`
//!   and `aws:PrincipalAccount` for an account caller, and
//!   `aws:PrincipalServiceName` for a service principal.
//! - A condition whose policy variable has no value in the request (and no
//!   default) is false, whatever its operator: AWS calls such a statement
//!   invalid.
//! - An operator without `ForAllValues:`/`ForAnyValue:` applied to a key with
//!   several values holds when any value matches (negated: when none does).
//! - A statement without `Resource`/`NotResource` covers any resource (the
//!   policy is attached to one resource anyway; SNS examples omit it).
//! - Unknown elements, operators, effects, versions and malformed principals
//!   are refused at parse, as SQS `SetQueueAttributes` refuses them.

mod condition;
mod context;
mod delivery;
mod document;
mod evaluate;
mod pattern;
mod values;

#[cfg(test)]
mod tests;

pub use condition::{Condition, Operator, OperatorKind, SetQualifier};
pub use context::ConditionContext;
pub use delivery::{PolicyCache, Refusal, ServiceDelivery};
pub use document::{Effect, PolicyDocument, PolicyKind, PolicyVersion, PrincipalEntry, Principals, Statement};
pub use evaluate::{statement_allowing_service, UnscopedGrant};

/// A policy that cannot be used; the text says why, in AWS's manner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Malformed(String),
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    /// An AWS service acting on a resource's behalf, e.g. `sns.amazonaws.com`.
    Service(&'a str),
    /// A signed caller: its 12-digit account and its ARN (for eddy's
    /// access-key callers usually `arn:aws:iam::<account>:root`).
    Account { account: &'a str, arn: &'a str },
    /// An unsigned request.
    Anonymous,
}

/// What is being asked, of which resource, in which context.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: Principal<'a>,
    /// `service:Operation`, e.g. `sqs:SendMessage`.
    pub action: &'a str,
    /// The ARN of the resource the policy is attached to.
    pub resource: &'a str,
    pub context: &'a ConditionContext,
}

/// The outcome of one policy for one request; `sid` names the deciding
/// statement (the first that applies) so logs can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow { sid: Option<String> },
    ExplicitDeny { sid: Option<String> },
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

fn malformed(msg: impl Into<String>) -> PolicyError {
    PolicyError::Malformed(msg.into())
}
