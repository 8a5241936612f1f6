//! Instance profiles: containers for (at most) one role, as EC2 uses them.

use super::error::{no_such, IamError, IamResult};
use super::names::{check_name, check_path, check_path_prefix, iam_arn, under, unique_id};
use super::records::{named_key, ProfileRecord, RoleRecord};
use super::state::{Change, Entity, State};
use super::users::in_account;
use super::{tagging, Iam, Page};
use crate::tags::Tags;

const MAX_ROLES: usize = 1;

/// An instance profile with its roles' records, as AWS shows it.
#[derive(Debug, Clone)]
pub struct ProfileView {
    pub record: ProfileRecord,
    pub roles: Vec<RoleRecord>,
}

impl ProfileRecord {
    pub fn arn(&self) -> String {
        iam_arn(&self.account, "instance-profile", &self.path, &self.name)
    }
}

impl State {
    fn profile(&self, account: &str, name: &str) -> IamResult<&ProfileRecord> {
        self.profiles
            .get(&named_key(account, name))
            .ok_or_else(|| no_such(format!("Instance Profile {name} cannot be found.")))
    }

    fn profile_view(&self, p: &ProfileRecord) -> ProfileView {
        let roles = p.roles.iter().filter_map(|r| self.roles.get(&named_key(&p.account, r)).cloned()).collect();
        ProfileView { record: p.clone(), roles }
    }
}

impl Iam {
    pub async fn create_instance_profile(
        &self,
        account: &str,
        name: &str,
        path: Option<&str>,
        tags: Tags,
    ) -> IamResult<ProfileView> {
        check_name("instanceProfileName", name, 128)?;
        tagging::check_new(&tags)?;
        let record = ProfileRecord {
            account: account.to_string(),
            name: name.to_string(),
            path: check_path("path", path)?,
            id: unique_id("AIPA"),
            created_ms: self.now_ms(),
            roles: Vec::new(),
            tags,
        };
        self.commit(|s| {
            if s.profiles.contains_key(&named_key(account, name)) {
                return Err(IamError::EntityAlreadyExists(format!("Instance Profile {name} already exists.")));
            }
            let view = ProfileView { record: record.clone(), roles: Vec::new() };
            Ok((vec![Change::Put(Entity::Profile(record))], view))
        })
        .await
    }

    pub fn get_instance_profile(&self, account: &str, name: &str) -> IamResult<ProfileView> {
        self.read(|s| Ok(s.profile_view(s.profile(account, name)?)))
    }

    pub fn list_instance_profiles(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<ProfileView>> {
        let prefix = check_path_prefix(prefix)?;
        let views = self.read(|s| {
            let records = in_account(&s.profiles, account, |p: &ProfileRecord| under(&p.path, &prefix));
            Ok(records.iter().map(|p| s.profile_view(p)).collect())
        })?;
        self.page(&format!("iam-profiles/{account}"), views, |v| v.record.name.as_str(), marker, max)
    }

    pub fn list_instance_profiles_for_role(
        &self,
        account: &str,
        role: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<ProfileView>> {
        let views = self.read(|s| {
            let key = s.role(account, role)?.name.to_lowercase();
            let records =
                in_account(&s.profiles, account, |p: &ProfileRecord| p.roles.iter().any(|r| r.to_lowercase() == key));
            Ok(records.iter().map(|p| s.profile_view(p)).collect())
        })?;
        let listing = format!("iam-role-profiles/{account}/{}", role.to_lowercase());
        self.page(&listing, views, |v| v.record.name.as_str(), marker, max)
    }

    /// A page of the instance profile's tags, in key order.
    pub fn list_instance_profile_tags(
        &self,
        account: &str,
        name: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<(String, String)>> {
        let tags = self.read(|s| Ok(s.profile(account, name)?.tags.clone()))?;
        self.tag_page(&format!("iam-profile-tags/{account}/{}", name.to_lowercase()), tags, marker, max)
    }

    pub async fn tag_instance_profile(&self, account: &str, name: &str, tags: Tags) -> IamResult<()> {
        self.commit(|s| {
            let mut profile = s.profile(account, name)?.clone();
            profile.tags = tagging::merged(&profile.tags, &tags)?;
            Ok((vec![Change::Put(Entity::Profile(profile))], ()))
        })
        .await
    }

    pub async fn untag_instance_profile(&self, account: &str, name: &str, keys: &[String]) -> IamResult<()> {
        self.commit(|s| {
            let mut profile = s.profile(account, name)?.clone();
            profile.tags = crate::tags::without(&profile.tags, keys);
            Ok((vec![Change::Put(Entity::Profile(profile))], ()))
        })
        .await
    }

    pub async fn delete_instance_profile(&self, account: &str, name: &str) -> IamResult<()> {
        self.commit(|s| {
            let profile = s.profile(account, name)?;
            if !profile.roles.is_empty() {
                return Err(IamError::DeleteConflict(
                    "Cannot delete entity, must remove roles from instance profile first.".into(),
                ));
            }
            Ok((vec![Change::Delete(Entity::Profile(profile.clone()))], ()))
        })
        .await
    }

    pub async fn add_role_to_instance_profile(&self, account: &str, name: &str, role: &str) -> IamResult<()> {
        self.commit(|s| {
            let mut profile = s.profile(account, name)?.clone();
            let role = s.role(account, role)?;
            if profile.roles.len() >= MAX_ROLES {
                return Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES}"
                )));
            }
            profile.roles.push(role.name.clone());
            Ok((vec![Change::Put(Entity::Profile(profile))], ()))
        })
        .await
    }

    pub async fn remove_role_from_instance_profile(&self, account: &str, name: &str, role: &str) -> IamResult<()> {
        self.commit(|s| {
            let mut profile = s.profile(account, name)?.clone();
            let before = profile.roles.len();
            profile.roles.retain(|r| !r.eq_ignore_ascii_case(role));
            if profile.roles.len() == before {
                return Err(no_such(format!("The role with name {role} cannot be found.")));
            }
            Ok((vec![Change::Put(Entity::Profile(profile))], ()))
        })
        .await
    }
}
