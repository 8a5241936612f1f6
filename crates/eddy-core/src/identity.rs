//! Who is calling, shared by every service: the account and region a
//! request's resources live in, and the access key that signed it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub region: String,
    pub access_key: String,
}

/// The principal behind a request's access key: what GetCallerIdentity
/// answers and what policies will be evaluated for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    /// `arn:aws:iam::{account}:root`, `…:user/{path}{name}`, or
    /// `arn:aws:sts::{account}:assumed-role/{role}/{session}`.
    pub arn: String,
    /// AWS's `aws:userid`: the account id for the root, the user's id, or
    /// `{RoleId}:{session}` for an assumed role.
    pub user_id: String,
    /// When the key is temporary (STS), when it expires. A key past it still
    /// works while signatures are not verified; verification answers
    /// ExpiredToken from it.
    pub expires_ms: Option<crate::clock::Millis>,
}

impl Identity {
    /// The account's root: who any key eddy does not know stands for.
    pub fn root(account: &str) -> Identity {
        Identity {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
            expires_ms: None,
        }
    }

    pub fn is_expired(&self, now: crate::clock::Millis) -> bool {
        self.expires_ms.is_some_and(|e| e <= now)
    }
}
