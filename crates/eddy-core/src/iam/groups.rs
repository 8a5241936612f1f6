//! IAM groups and their members.

use super::error::{no_such, IamError, IamResult};
use super::names::{check_name, check_path, check_path_prefix, iam_arn, under, unique_id};
use super::records::{named_key, GroupRecord, UserRecord};
use super::state::{Change, Entity, State};
use super::users::in_account;
use super::{Iam, Page};

impl GroupRecord {
    pub fn arn(&self) -> String {
        iam_arn(&self.account, "group", &self.path, &self.name)
    }
}

impl State {
    pub fn group(&self, account: &str, name: &str) -> IamResult<&GroupRecord> {
        self.groups
            .get(&named_key(account, name))
            .ok_or_else(|| no_such(format!("The group with name {name} cannot be found.")))
    }

    fn members(&self, group: &GroupRecord) -> Vec<UserRecord> {
        let key = group.name.to_lowercase();
        in_account(&self.users, &group.account, |u: &UserRecord| u.groups.contains(&key))
    }
}

impl Iam {
    pub async fn create_group(&self, account: &str, name: &str, path: Option<&str>) -> IamResult<GroupRecord> {
        check_name("groupName", name, 128)?;
        let record = GroupRecord {
            account: account.to_string(),
            name: name.to_string(),
            path: check_path("path", path)?,
            id: unique_id("AGPA"),
            created_ms: self.now_ms(),
            inline: Default::default(),
            attached: Default::default(),
        };
        self.commit(|s| {
            if s.groups.contains_key(&named_key(account, name)) {
                return Err(IamError::EntityAlreadyExists(format!("Group with name {name} already exists.")));
            }
            Ok((vec![Change::Put(Entity::Group(record.clone()))], record))
        })
        .await
    }

    /// The group and a page of its members.
    pub fn get_group(
        &self,
        account: &str,
        name: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<(GroupRecord, Page<UserRecord>)> {
        let (group, members) = self.read(|s| {
            let group = s.group(account, name)?.clone();
            let members = s.members(&group);
            Ok((group, members))
        })?;
        let listing = format!("iam-group-members/{account}/{}", name.to_lowercase());
        let page = self.page(&listing, members, |u| u.name.as_str(), marker, max)?;
        Ok((group, page))
    }

    pub fn list_groups(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<GroupRecord>> {
        let prefix = check_path_prefix(prefix)?;
        let groups = self.read(|s| Ok(in_account(&s.groups, account, |g: &GroupRecord| under(&g.path, &prefix))))?;
        self.page(&format!("iam-groups/{account}"), groups, |g| g.name.as_str(), marker, max)
    }

    pub fn list_groups_for_user(
        &self,
        account: &str,
        user: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<GroupRecord>> {
        let groups = self.read(|s| {
            let user = s.user(account, user)?;
            Ok(user.groups.iter().filter_map(|g| s.groups.get(&named_key(account, g)).cloned()).collect())
        })?;
        let listing = format!("iam-user-groups/{account}/{}", user.to_lowercase());
        self.page(&listing, groups, |g| g.name.as_str(), marker, max)
    }

    pub async fn delete_group(&self, account: &str, name: &str) -> IamResult<()> {
        self.commit(|s| {
            let group = s.group(account, name)?;
            let conflict =
                |what: &str| Err(IamError::DeleteConflict(format!("Cannot delete entity, must {what} first.")));
            if !s.members(group).is_empty() {
                return conflict("remove users from group");
            }
            if !group.attached.is_empty() {
                return conflict("detach all policies");
            }
            if !group.inline.is_empty() {
                return conflict("delete policies");
            }
            Ok((vec![Change::Delete(Entity::Group(group.clone()))], ()))
        })
        .await
    }

    /// Adds a user to a group (again: nothing changes).
    pub async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> IamResult<()> {
        self.commit(|s| {
            let group = s.group(account, group)?;
            let mut user = s.user(account, user)?.clone();
            user.groups.insert(group.name.to_lowercase());
            Ok((vec![Change::Put(Entity::User(user))], ()))
        })
        .await
    }

    pub async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> IamResult<()> {
        self.commit(|s| {
            let group = s.group(account, group)?;
            let mut record = s.user(account, user)?.clone();
            if !record.groups.remove(&group.name.to_lowercase()) {
                return Err(no_such(format!("The user with name {user} cannot be found in group {}.", group.name)));
            }
            Ok((vec![Change::Put(Entity::User(record))], ()))
        })
        .await
    }
}
