//! Managed policies attached to users, roles and groups: attach, detach,
//! list, and the checks every policy holder shares.

use super::error::{no_such, IamError, IamResult};
use super::names::under;
use super::records::{Attached, GroupRecord, Inline, RoleRecord, UserRecord};
use super::state::{Change, Entity, State};
use super::{managed, Iam, Page};

/// Most managed policies one user, role or group may have attached.
const MAX_ATTACHED: usize = 10;

/// The kinds of entity policies attach to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderKind {
    User,
    Role,
    Group,
}

impl HolderKind {
    /// As AWS names it in messages and quotas.
    pub fn word(self) -> &'static str {
        match self {
            HolderKind::User => "user",
            HolderKind::Role => "role",
            HolderKind::Group => "group",
        }
    }

    fn quota(self) -> &'static str {
        match self {
            HolderKind::User => "PoliciesPerUser",
            HolderKind::Role => "PoliciesPerRole",
            HolderKind::Group => "PoliciesPerGroup",
        }
    }
}

/// A copy of a user, role or group, to change and save.
pub(crate) enum Holder {
    User(UserRecord),
    Role(RoleRecord),
    Group(GroupRecord),
}

impl Holder {
    pub fn attached(&mut self) -> &mut Attached {
        match self {
            Holder::User(r) => &mut r.attached,
            Holder::Role(r) => &mut r.attached,
            Holder::Group(r) => &mut r.attached,
        }
    }

    pub fn inline(&mut self) -> &mut Inline {
        match self {
            Holder::User(r) => &mut r.inline,
            Holder::Role(r) => &mut r.inline,
            Holder::Group(r) => &mut r.inline,
        }
    }

    pub fn save(self) -> Change {
        Change::Put(match self {
            Holder::User(r) => Entity::User(r),
            Holder::Role(r) => Entity::Role(r),
            Holder::Group(r) => Entity::Group(r),
        })
    }
}

impl State {
    pub(crate) fn holder(&self, kind: HolderKind, account: &str, name: &str) -> IamResult<Holder> {
        Ok(match kind {
            HolderKind::User => Holder::User(self.user(account, name)?.clone()),
            HolderKind::Role => Holder::Role(self.role(account, name)?.clone()),
            HolderKind::Group => Holder::Group(self.group(account, name)?.clone()),
        })
    }

    /// A policy that can be attached in `account`: an AWS managed one or
    /// one of the account's own.
    pub(crate) fn attachable(&self, account: &str, arn: &str) -> IamResult<(String, String)> {
        if let Some(p) = managed::find(arn) {
            return Ok((p.name.clone(), p.path.clone()));
        }
        match self.policies.get(arn).filter(|p| p.account == account) {
            Some(p) => Ok((p.name.clone(), p.path.clone())),
            None => Err(no_such(format!("Policy {arn} does not exist or is not attachable."))),
        }
    }

    /// How many users, roles and groups of `account` have `arn` attached.
    pub(crate) fn attachment_count(&self, account: &str, arn: &str) -> usize {
        let users = self.users.values().filter(|u| u.account == account && u.attached.contains(arn)).count();
        let roles = self.roles.values().filter(|r| r.account == account && r.attached.contains(arn)).count();
        let groups = self.groups.values().filter(|g| g.account == account && g.attached.contains(arn)).count();
        users + roles + groups
    }

    /// How many users and roles of `account` have `arn` as their boundary.
    pub(crate) fn boundary_count(&self, account: &str, arn: &str) -> usize {
        let is = |b: &Option<String>| b.as_deref() == Some(arn);
        let users = self.users.values().filter(|u| u.account == account && is(&u.permissions_boundary)).count();
        users + self.roles.values().filter(|r| r.account == account && is(&r.permissions_boundary)).count()
    }
}

/// An attached policy as listed: its name and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

impl Iam {
    pub async fn attach_policy(&self, kind: HolderKind, account: &str, name: &str, arn: &str) -> IamResult<()> {
        self.commit(|s| {
            let mut holder = s.holder(kind, account, name)?;
            s.attachable(account, arn)?;
            let attached = holder.attached();
            if !attached.contains(arn) && attached.len() >= MAX_ATTACHED {
                return Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for {}: {MAX_ATTACHED}",
                    kind.quota()
                )));
            }
            attached.insert(arn.to_string());
            Ok((vec![holder.save()], ()))
        })
        .await
    }

    pub async fn detach_policy(&self, kind: HolderKind, account: &str, name: &str, arn: &str) -> IamResult<()> {
        self.commit(|s| {
            let mut holder = s.holder(kind, account, name)?;
            if !holder.attached().remove(arn) {
                return Err(no_such(format!("Policy {arn} was not found.")));
            }
            Ok((vec![holder.save()], ()))
        })
        .await
    }

    pub fn list_attached(
        &self,
        kind: HolderKind,
        account: &str,
        name: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<AttachedPolicy>> {
        let prefix = super::names::check_path_prefix(prefix)?;
        let policies = self.read(|s| {
            let mut holder = s.holder(kind, account, name)?;
            let mut out = Vec::new();
            for arn in holder.attached().iter() {
                let (policy_name, path) = s.attachable(account, arn).unwrap_or_default();
                if under(&path, &prefix) {
                    out.push(AttachedPolicy { name: policy_name, arn: arn.clone() });
                }
            }
            Ok(out)
        })?;
        let listing = format!("iam-attached-{}/{account}/{}", kind.word(), name.to_lowercase());
        self.page(&listing, policies, |p| p.arn.as_str(), marker, max)
    }
}
