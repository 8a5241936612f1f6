//! Managed policies: the account's own (customer managed, with up to five
//! versions) and AWS's (built in, read-only), seen through one view.

use super::document::check_identity;
use super::error::{constraint, no_such, IamError, IamResult};
use super::names::{check_name, check_path, check_path_prefix, iam_arn, under, unique_id};
use super::records::{PolicyRecord, PolicyVersionRecord};
use super::state::{Change, Entity, State};
use super::{managed, tagging, Iam, Page};
use crate::clock::Millis;
use crate::tags::Tags;

/// Most versions a customer managed policy keeps.
const MAX_VERSIONS: usize = 5;
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// A managed policy as GetPolicy and ListPolicies show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyView {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub path: String,
    pub default_version: String,
    pub attachment_count: usize,
    pub boundary_count: usize,
    pub description: Option<String>,
    pub created_ms: Millis,
    pub updated_ms: Millis,
    pub tags: Tags,
}

/// ListPolicies' Scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

/// What ListPolicies asks for.
pub struct PolicyListing<'a> {
    pub scope: PolicyScope,
    pub only_attached: bool,
    pub prefix: Option<&'a str>,
    pub marker: Option<&'a str>,
    pub max: Option<i64>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionView {
    pub id: String,
    pub document: String,
    pub is_default: bool,
    pub created_ms: Millis,
}

fn not_found(arn: &str) -> IamError {
    no_such(format!("Policy {arn} was not found."))
}

fn version_not_found(arn: &str, version: &str) -> IamError {
    no_such(format!("Policy {arn} version {version} does not exist or is not attachable."))
}

impl State {
    fn customer_policy(&self, account: &str, arn: &str) -> IamResult<&PolicyRecord> {
        self.policies.get(arn).filter(|p| p.account == account).ok_or_else(|| not_found(arn))
    }

    fn view(&self, account: &str, arn: &str) -> IamResult<PolicyView> {
        let counts = (self.attachment_count(account, arn), self.boundary_count(account, arn));
        if let Some(p) = managed::find(arn) {
            return Ok(PolicyView {
                name: p.name.clone(),
                id: p.id.clone(),
                arn: p.arn.clone(),
                path: p.path.clone(),
                default_version: p.default_version.clone(),
                attachment_count: counts.0,
                boundary_count: counts.1,
                description: None,
                created_ms: p.created_ms,
                updated_ms: p.updated_ms,
                tags: Tags::new(),
            });
        }
        let p = self.customer_policy(account, arn)?;
        Ok(PolicyView {
            name: p.name.clone(),
            id: p.id.clone(),
            arn: p.arn.clone(),
            path: p.path.clone(),
            default_version: p.default_version.clone(),
            attachment_count: counts.0,
            boundary_count: counts.1,
            description: p.description.clone(),
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
            tags: p.tags.clone(),
        })
    }

    fn versions(&self, account: &str, arn: &str) -> IamResult<Vec<VersionView>> {
        if let Some(p) = managed::find(arn) {
            let only = VersionView {
                id: p.default_version.clone(),
                document: p.document.clone(),
                is_default: true,
                created_ms: p.updated_ms,
            };
            return Ok(vec![only]);
        }
        let p = self.customer_policy(account, arn)?;
        Ok(p.versions
            .iter()
            .map(|v| VersionView {
                id: v.id.clone(),
                document: v.document.clone(),
                is_default: v.id == p.default_version,
                created_ms: v.created_ms,
            })
            .collect())
    }

    /// A copy of one of the account's own policies, to change: AWS's own
    /// cannot be changed.
    fn policy_to_change(&self, account: &str, arn: &str) -> IamResult<PolicyRecord> {
        if managed::find(arn).is_some() {
            return Err(IamError::InvalidInput(format!(
                "Policy {arn} is an AWS managed policy and cannot be changed."
            )));
        }
        Ok(self.customer_policy(account, arn)?.clone())
    }
}

impl Iam {
    pub async fn create_policy(
        &self,
        account: &str,
        name: &str,
        path: Option<&str>,
        document: String,
        description: Option<String>,
        tags: Tags,
    ) -> IamResult<PolicyView> {
        check_name("policyName", name, 128)?;
        let path = check_path("path", path)?;
        check_identity("policyDocument", &document)?;
        if let Some(d) = description.as_ref().filter(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(constraint("description", d, "Member must have length less than or equal to 1000"));
        }
        tagging::check_new(&tags)?;
        let now = self.now_ms();
        let record = PolicyRecord {
            account: account.to_string(),
            arn: iam_arn(account, "policy", &path, name),
            name: name.to_string(),
            path,
            id: unique_id("ANPA"),
            description,
            created_ms: now,
            updated_ms: now,
            default_version: "v1".into(),
            versions: vec![PolicyVersionRecord { id: "v1".into(), document, created_ms: now }],
            next_version: 2,
            tags,
        };
        self.commit(|s| {
            let lower = name.to_lowercase();
            if s.policies.values().any(|p| p.account == account && p.name.to_lowercase() == lower) {
                return Err(IamError::EntityAlreadyExists(format!(
                    "A policy called {name} already exists. Duplicate names are not allowed."
                )));
            }
            let arn = record.arn.clone();
            let mut staged = State::default();
            staged.apply(Change::Put(Entity::Policy(record.clone())));
            let view = staged.view(account, &arn)?;
            Ok((vec![Change::Put(Entity::Policy(record))], view))
        })
        .await
    }

    pub fn get_policy(&self, account: &str, arn: &str) -> IamResult<PolicyView> {
        self.read(|s| s.view(account, arn))
    }

    pub fn list_policies(&self, account: &str, q: PolicyListing<'_>) -> IamResult<Page<PolicyView>> {
        let prefix = check_path_prefix(q.prefix)?;
        let views = self.read(|s| {
            let aws = managed::all().iter().map(|p| p.arn.as_str());
            let local = s.policies.values().filter(|p| p.account == account).map(|p| p.arn.as_str());
            let arns: Vec<&str> = match q.scope {
                PolicyScope::All => aws.chain(local).collect(),
                PolicyScope::Aws => aws.collect(),
                PolicyScope::Local => local.collect(),
            };
            let mut out = Vec::new();
            for arn in arns {
                let v = s.view(account, arn)?;
                if under(&v.path, &prefix) && (!q.only_attached || v.attachment_count > 0) {
                    out.push(v);
                }
            }
            Ok(out)
        })?;
        self.page(&format!("iam-policies/{account}"), views, |v| v.arn.as_str(), q.marker, q.max)
    }

    /// Deletes a policy attached to nothing and with only its default version left.
    pub async fn delete_policy(&self, account: &str, arn: &str) -> IamResult<()> {
        self.commit(|s| {
            let policy = s.policy_to_change(account, arn)?;
            if s.attachment_count(account, arn) > 0 {
                return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
            }
            if policy.versions.len() > 1 {
                return Err(IamError::DeleteConflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
                ));
            }
            Ok((vec![Change::Delete(Entity::Policy(policy))], ()))
        })
        .await
    }

    pub async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: String,
        set_default: bool,
    ) -> IamResult<VersionView> {
        check_identity("policyDocument", &document)?;
        let now = self.now_ms();
        self.commit(|s| {
            let mut policy = s.policy_to_change(account, arn)?;
            if policy.versions.len() >= MAX_VERSIONS {
                return Err(IamError::LimitExceeded(format!(
                    "A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version."
                )));
            }
            let id = format!("v{}", policy.next_version);
            policy.next_version += 1;
            policy.versions.push(PolicyVersionRecord { id: id.clone(), document: document.clone(), created_ms: now });
            if set_default {
                policy.default_version = id.clone();
                policy.updated_ms = now;
            }
            let view = VersionView { id, document, is_default: set_default, created_ms: now };
            Ok((vec![Change::Put(Entity::Policy(policy))], view))
        })
        .await
    }

    pub fn get_policy_version(&self, account: &str, arn: &str, version: &str) -> IamResult<VersionView> {
        self.read(|s| {
            let versions = s.versions(account, arn)?;
            versions.into_iter().find(|v| v.id == version).ok_or_else(|| version_not_found(arn, version))
        })
    }

    pub fn list_policy_versions(
        &self,
        account: &str,
        arn: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<VersionView>> {
        let mut versions = self.read(|s| s.versions(account, arn))?;
        // Newest first, as AWS lists them; the page key keeps that order.
        versions.reverse();
        let keyed: Vec<(String, VersionView)> =
            versions.into_iter().map(|v| (format!("{:010}", u32::MAX - version_number(&v.id)), v)).collect();
        let page = self.page(&format!("iam-versions/{arn}"), keyed, |(k, _)| k.as_str(), marker, max)?;
        Ok(Page { items: page.items.into_iter().map(|(_, v)| v).collect(), marker: page.marker })
    }

    pub async fn delete_policy_version(&self, account: &str, arn: &str, version: &str) -> IamResult<()> {
        self.commit(|s| {
            let mut policy = s.policy_to_change(account, arn)?;
            if policy.default_version == version {
                return Err(IamError::DeleteConflict("Cannot delete the default version of a policy.".into()));
            }
            let before = policy.versions.len();
            policy.versions.retain(|v| v.id != version);
            if policy.versions.len() == before {
                return Err(version_not_found(arn, version));
            }
            Ok((vec![Change::Put(Entity::Policy(policy))], ()))
        })
        .await
    }

    pub async fn set_default_policy_version(&self, account: &str, arn: &str, version: &str) -> IamResult<()> {
        let now = self.now_ms();
        self.commit(|s| {
            let mut policy = s.policy_to_change(account, arn)?;
            if !policy.versions.iter().any(|v| v.id == version) {
                return Err(version_not_found(arn, version));
            }
            policy.default_version = version.to_string();
            policy.updated_ms = now;
            Ok((vec![Change::Put(Entity::Policy(policy))], ()))
        })
        .await
    }

    /// A page of a managed policy's tags, in key order (AWS's own have none).
    pub fn list_policy_tags(
        &self,
        account: &str,
        arn: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<(String, String)>> {
        let tags = self.read(|s| s.view(account, arn).map(|v| v.tags))?;
        self.tag_page(&format!("iam-policy-tags/{arn}"), tags, marker, max)
    }

    pub async fn tag_policy(&self, account: &str, arn: &str, tags: Tags) -> IamResult<()> {
        self.commit(|s| {
            let mut policy = s.policy_to_change(account, arn)?;
            policy.tags = tagging::merged(&policy.tags, &tags)?;
            Ok((vec![Change::Put(Entity::Policy(policy))], ()))
        })
        .await
    }

    pub async fn untag_policy(&self, account: &str, arn: &str, keys: &[String]) -> IamResult<()> {
        self.commit(|s| {
            let mut policy = s.policy_to_change(account, arn)?;
            policy.tags = crate::tags::without(&policy.tags, keys);
            Ok((vec![Change::Put(Entity::Policy(policy))], ()))
        })
        .await
    }

    /// A PermissionsBoundary member: the ARN of a policy that exists.
    pub(crate) fn checked_boundary(&self, arn: Option<String>) -> IamResult<Option<String>> {
        let Some(arn) = arn else { return Ok(None) };
        let account = crate::arn::Arn::parse(&arn).map(|a| a.account.to_string()).unwrap_or_default();
        self.read(|s| s.attachable(&account, &arn).map(|_| ()))
            .map_err(|_| IamError::InvalidInput(format!("ARN {arn} is not valid.")))?;
        Ok(Some(arn))
    }
}

fn version_number(id: &str) -> u32 {
    id.trim_start_matches('v').split('.').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}
