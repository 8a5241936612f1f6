//! The caller as evaluation sees it: who, and every policy that speaks for it.

use std::sync::Arc;

use crate::policy::PolicyDocument;

/// What kind of principal signed the call (`aws:PrincipalType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root: any key eddy did not issue.
    Root,
    User,
    AssumedRole,
}

impl PrincipalKind {
    /// The value of `aws:PrincipalType`.
    pub fn type_name(self) -> &'static str {
        match self {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
        }
    }
}

/// One identity policy, named for the logs.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    /// A managed policy's ARN, or `user/alice inline policy p`.
    pub name: String,
    pub doc: Arc<PolicyDocument>,
}

/// A caller and its compiled policies.
#[derive(Debug, Clone)]
pub struct PrincipalPolicies {
    pub kind: PrincipalKind,
    pub account: String,
    /// The caller's ARN: root, user, or `arn:aws:sts::…:assumed-role/R/s`.
    pub arn: String,
    /// `aws:PrincipalArn`: the role's ARN for an assumed role, else `arn`.
    pub principal_arn: String,
    /// `aws:userid`.
    pub user_id: String,
    /// `aws:username`, for IAM users only.
    pub user_name: Option<String>,
    /// `aws:PrincipalTag/…`: the user's or role's tags.
    pub tags: Vec<(String, String)>,
    /// Inline and attached policies (a user's groups' too).
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
    /// Session policies of an assumed role (inline `Policy` and `PolicyArns`):
    /// `None` when the session was given none, and then nothing limits it.
    pub session: Option<Vec<NamedPolicy>>,
}

impl PrincipalPolicies {
    pub fn root(account: &str) -> PrincipalPolicies {
        PrincipalPolicies {
            kind: PrincipalKind::Root,
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:root"),
            principal_arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
            user_name: None,
            tags: Vec::new(),
            identity: Vec::new(),
            boundary: None,
            session: None,
        }
    }

    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }
}
