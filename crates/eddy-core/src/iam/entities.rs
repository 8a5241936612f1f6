//! ListEntitiesForPolicy: the users, groups and roles a managed policy is
//! attached to, or is the permissions boundary of.

use super::attach::HolderKind;
use super::error::{constraint, no_such, IamError, IamResult};
use super::names::{check_path, under};
use super::{managed, Iam, Page};

/// EntityFilter: which kind of entity to list; the policy kinds name no
/// entity a policy is attached to, so they list nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityFilter {
    User,
    Role,
    Group,
    LocalManagedPolicy,
    AwsManagedPolicy,
}

impl EntityFilter {
    pub fn parse(value: &str) -> IamResult<EntityFilter> {
        Ok(match value {
            "User" => EntityFilter::User,
            "Role" => EntityFilter::Role,
            "Group" => EntityFilter::Group,
            "LocalManagedPolicy" => EntityFilter::LocalManagedPolicy,
            "AWSManagedPolicy" => EntityFilter::AwsManagedPolicy,
            other => {
                return Err(constraint(
                    "entityFilter",
                    other,
                    "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
                ))
            }
        })
    }

    fn admits(self, kind: HolderKind) -> bool {
        matches!(
            (self, kind),
            (EntityFilter::User, HolderKind::User)
                | (EntityFilter::Role, HolderKind::Role)
                | (EntityFilter::Group, HolderKind::Group)
        )
    }
}

/// PolicyUsageFilter: as a permissions policy (attached), or as a
/// permissions boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyUsage {
    PermissionsPolicy,
    PermissionsBoundary,
}

impl PolicyUsage {
    pub fn parse(value: &str) -> IamResult<PolicyUsage> {
        match value {
            "PermissionsPolicy" => Ok(PolicyUsage::PermissionsPolicy),
            "PermissionsBoundary" => Ok(PolicyUsage::PermissionsBoundary),
            other => Err(constraint(
                "policyUsageFilter",
                other,
                "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]",
            )),
        }
    }
}

/// What ListEntitiesForPolicy asks for.
pub struct EntityListing<'a> {
    pub arn: &'a str,
    pub filter: Option<EntityFilter>,
    pub prefix: Option<&'a str>,
    pub usage: Option<PolicyUsage>,
    pub marker: Option<&'a str>,
    pub max: Option<i64>,
}

/// A user, role or group using a policy: its name and unique id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntity {
    pub kind: HolderKind,
    pub name: String,
    pub id: String,
    /// The page key: the kind, then the name as keyed.
    key: String,
}

impl PolicyEntity {
    fn new(kind: HolderKind, name: &str, id: &str) -> PolicyEntity {
        let key = format!("{}/{}", kind.word(), name.to_lowercase());
        PolicyEntity { kind, name: name.to_string(), id: id.to_string(), key }
    }
}

impl Iam {
    pub fn list_entities_for_policy(&self, account: &str, q: EntityListing<'_>) -> IamResult<Page<PolicyEntity>> {
        let arn = q.arn;
        if crate::arn::Arn::parse(arn).is_err() {
            return Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")));
        }
        // The model types this PathPrefix as a path (`/` or `/…/`).
        let prefix = check_path("pathPrefix", q.prefix)?;
        let entities = self.read(|s| {
            let known = managed::find(arn).is_some() || s.policies.get(arn).is_some_and(|p| p.account == account);
            if !known {
                return Err(no_such(format!("Policy {arn} was not found.")));
            }
            let attached = q.usage != Some(PolicyUsage::PermissionsBoundary);
            let boundary = q.usage != Some(PolicyUsage::PermissionsPolicy);
            let uses = |a: &super::records::Attached, b: Option<&String>| {
                (attached && a.contains(arn)) || (boundary && b.is_some_and(|b| b == arn))
            };
            let wanted = |kind: HolderKind| q.filter.is_none_or(|f| f.admits(kind));
            let mut out = Vec::new();
            let start = format!("{account}/");
            let mine = |k: &String| k.starts_with(&start);
            if wanted(HolderKind::User) {
                for u in s.users.iter().filter(|(k, _)| mine(k)).map(|(_, u)| u) {
                    if under(&u.path, &prefix) && uses(&u.attached, u.permissions_boundary.as_ref()) {
                        out.push(PolicyEntity::new(HolderKind::User, &u.name, &u.id));
                    }
                }
            }
            if wanted(HolderKind::Role) {
                for r in s.roles.iter().filter(|(k, _)| mine(k)).map(|(_, r)| r) {
                    if under(&r.path, &prefix) && uses(&r.attached, r.permissions_boundary.as_ref()) {
                        out.push(PolicyEntity::new(HolderKind::Role, &r.name, &r.id));
                    }
                }
            }
            if wanted(HolderKind::Group) {
                for g in s.groups.iter().filter(|(k, _)| mine(k)).map(|(_, g)| g) {
                    if under(&g.path, &prefix) && uses(&g.attached, None) {
                        out.push(PolicyEntity::new(HolderKind::Group, &g.name, &g.id));
                    }
                }
            }
            Ok(out)
        })?;
        let listing = format!("iam-policy-entities/{account}/{arn}");
        self.page(&listing, entities, |e| e.key.as_str(), q.marker, q.max)
    }
}
