//! The persisted records of IAM and STS. All live in the `iam` partition,
//! each kind under a stable type byte; changing a byte or a layout means a
//! migration.
//!
//! | type byte | key after the type byte               | value                 |
//! |-----------|---------------------------------------|-----------------------|
//! | `U`       | account, `/`, lower-cased user name   | [`UserRecord`] JSON   |
//! | `R`       | account, `/`, lower-cased role name   | [`RoleRecord`] JSON   |
//! | `G`       | account, `/`, lower-cased group name  | [`GroupRecord`] JSON  |
//! | `P`       | policy ARN                            | [`PolicyRecord`] JSON |
//! | `I`       | account, `/`, lower-cased profile name| [`ProfileRecord`] JSON|
//! | `K`       | access key id (`AKIA…`)               | [`AccessKeyRecord`] JSON |
//! | `S`       | temporary access key id (`ASIA…`)     | [`SessionRecord`] JSON |
//!
//! IAM names are unique without regard to case ("Role names are not
//! distinguished by case"), hence the lower-cased keys; records keep the
//! name as written.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::tags::Tags;

pub const PARTITION: &str = "iam";

/// Inline policies by name: the document as the caller wrote it.
pub type Inline = BTreeMap<String, String>;
/// Attached managed policies by ARN.
pub type Attached = BTreeSet<String>;

/// The key of an entity named within an account.
pub fn named_key(account: &str, name: &str) -> String {
    format!("{account}/{}", name.to_lowercase())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created_ms: Millis,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub inline: Inline,
    #[serde(default)]
    pub attached: Attached,
    /// Names of the groups the user belongs to, as keyed ([`named_key`]'s name part).
    #[serde(default)]
    pub groups: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoleRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created_ms: Millis,
    pub trust_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_secs: u32,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub inline: Inline,
    #[serde(default)]
    pub attached: Attached,
    /// When the role was last assumed, and in which region.
    #[serde(default)]
    pub last_used: Option<(Millis, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created_ms: Millis,
    #[serde(default)]
    pub inline: Inline,
    #[serde(default)]
    pub attached: Attached,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PolicyVersionRecord {
    /// `v1`, `v2`, … never reused within a policy.
    pub id: String,
    pub document: String,
    pub created_ms: Millis,
}

/// A customer managed policy (AWS managed ones are built in, see `managed.rs`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PolicyRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_ms: Millis,
    pub updated_ms: Millis,
    pub default_version: String,
    /// Oldest first.
    pub versions: Vec<PolicyVersionRecord>,
    /// The number the next version takes.
    pub next_version: u32,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created_ms: Millis,
    /// Names of its roles (at most one, as on AWS).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessKeyRecord {
    pub id: String,
    pub secret: String,
    pub account: String,
    pub user_name: String,
    pub active: bool,
    pub created_ms: Millis,
}

/// How a temporary credential came about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum SessionKind {
    /// AssumeRole: the role's name and the session's name.
    AssumedRole { role: String, session: String },
    /// GetSessionToken: the same principal as the long-term key it came from.
    SessionToken,
}

/// STS temporary credentials (`ASIA…`), kept past their expiry so that a
/// request signed with them can be told apart from an unknown key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub secret: String,
    pub token: String,
    pub account: String,
    /// The principal's ARN and `aws:userid` (see [`crate::identity::Identity`]).
    pub arn: String,
    pub user_id: String,
    pub kind: SessionKind,
    pub created_ms: Millis,
    pub expires_ms: Millis,
    /// The session policy passed to AssumeRole, if any.
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub policy_arns: Vec<String>,
}
