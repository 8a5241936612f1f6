//! Authorization of API calls (`--enforce-iam`): AWS's policy evaluation
//! logic over the caller's identity policies, permission boundary, session
//! policies and the resource's own policy.
//!
//! [`PrincipalPolicies`] (`principal.rs`) is everything about a caller that
//! evaluation needs, compiled once (IAM builds and caches it, see
//! `iam::authz`); a [`Target`] is what one call asks for; [`authorize`]
//! (`evaluate.rs`) decides, and a [`Denial`] says why in AWS's words.
//! `context.rs` fills the request's condition keys; `cache.rs` keeps
//! resource policies compiled by their text.
//!
//! # The rules, from the IAM User Guide's "Policy evaluation logic"
//!
//! 1. An explicit `Deny` in any policy that applies wins (the root too is
//!    bound by a resource policy's explicit deny).
//! 2. The account's root may do anything to its own account's resources.
//! 3. The identity side allows when an identity policy allows, and the
//!    permissions boundary (if set) and the session policies (if any) allow
//!    too: those two only ever limit.
//! 4. Same account: the identity side, or a resource policy naming the
//!    caller itself (its ARN, its role's ARN, or `*`), allows. A resource
//!    policy naming only the caller's account delegates to that account's
//!    identity policies, as AWS documents for account principals.
//! 5. Another account: both the identity side and the resource policy
//!    (naming the caller, its role or its account) must allow.
//! 6. A role's trust policy (`sts:AssumeRole`) must always allow the caller;
//!    when it names only the caller's account, the identity side must too.
//!
//! # Simplifications
//!
//! A same-account resource policy that names the caller directly is not
//! limited by a permissions boundary or session policy (AWS makes finer
//! distinctions between user, role and session ARNs there). No service
//! control or resource control policies exist in eddy.

mod cache;
mod context;
mod evaluate;
mod principal;

#[cfg(test)]
mod tests;

pub use cache::DocCache;
pub use context::{add_resource_tags, RequestFacts};
pub use evaluate::{authorize, authorize_cross_account, Denial, Outcome, PolicyType, Target};
pub use principal::{NamedPolicy, PrincipalKind, PrincipalPolicies};
