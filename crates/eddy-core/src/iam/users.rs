//! IAM users: create, get, list, delete, tags.

use super::error::{no_such, IamError, IamResult};
use super::names::{check_name, check_path, check_path_prefix, iam_arn, under, unique_id};
use super::records::{named_key, UserRecord};
use super::state::{Change, Entity, State};
use super::{tagging, Iam, Page};
use crate::tags::Tags;

pub struct CreateUser {
    pub name: String,
    pub path: Option<String>,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
}

/// What UpdateUser changes: only the members given.
#[derive(Debug, Default, Clone)]
pub struct UserUpdate {
    pub new_name: Option<String>,
    pub new_path: Option<String>,
}

impl UserRecord {
    pub fn arn(&self) -> String {
        iam_arn(&self.account, "user", &self.path, &self.name)
    }
}

impl State {
    pub fn user(&self, account: &str, name: &str) -> IamResult<&UserRecord> {
        self.users
            .get(&named_key(account, name))
            .ok_or_else(|| no_such(format!("The user with name {name} cannot be found.")))
    }
}

impl Iam {
    pub async fn create_user(&self, account: &str, req: CreateUser) -> IamResult<UserRecord> {
        check_name("userName", &req.name, 64)?;
        let path = check_path("path", req.path.as_deref())?;
        tagging::check_new(&req.tags)?;
        let boundary = self.checked_boundary(req.permissions_boundary)?;
        let record = UserRecord {
            account: account.to_string(),
            name: req.name,
            path,
            id: unique_id("AIDA"),
            created_ms: self.now_ms(),
            tags: req.tags,
            permissions_boundary: boundary,
            inline: Default::default(),
            attached: Default::default(),
            groups: Default::default(),
        };
        self.commit(|s| {
            if s.users.contains_key(&named_key(account, &record.name)) {
                return Err(IamError::EntityAlreadyExists(format!("User with name {} already exists.", record.name)));
            }
            Ok((vec![Change::Put(Entity::User(record.clone()))], record))
        })
        .await
    }

    pub fn get_user(&self, account: &str, name: &str) -> IamResult<UserRecord> {
        self.read(|s| s.user(account, name).cloned())
    }

    pub fn list_users(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<UserRecord>> {
        let prefix = check_path_prefix(prefix)?;
        let users = self.read(|s| Ok(in_account(&s.users, account, |u: &UserRecord| under(&u.path, &prefix))))?;
        self.page(&format!("iam-users/{account}"), users, |u| u.name.as_str(), marker, max)
    }

    /// Deletes a user that has nothing left attached, as AWS requires.
    pub async fn delete_user(&self, account: &str, name: &str) -> IamResult<()> {
        self.commit(|s| {
            let user = s.user(account, name)?;
            let conflict =
                |what: &str| Err(IamError::DeleteConflict(format!("Cannot delete entity, must {what} first.")));
            if s.keys.values().any(|k| k.account == account && k.user_name.eq_ignore_ascii_case(name)) {
                return conflict("delete access keys");
            }
            if !user.attached.is_empty() {
                return conflict("detach all policies");
            }
            if !user.inline.is_empty() {
                return conflict("delete policies");
            }
            if !user.groups.is_empty() {
                return conflict("remove users from group");
            }
            Ok((vec![Change::Delete(Entity::User(user.clone()))], ()))
        })
        .await
    }

    /// Renames a user and/or moves it to another path. The user keeps its
    /// id; its groups, policies and access keys follow the new name.
    pub async fn update_user(&self, account: &str, name: &str, update: UserUpdate) -> IamResult<()> {
        if let Some(new_name) = &update.new_name {
            check_name("newUserName", new_name, 64)?;
        }
        let new_path = update.new_path.as_deref().map(|p| check_path("newPath", Some(p))).transpose()?;
        self.commit(|s| {
            let old = s.user(account, name)?;
            let mut user = old.clone();
            if let Some(path) = new_path {
                user.path = path;
            }
            let mut changes = Vec::new();
            if let Some(new_name) = &update.new_name {
                let renamed = named_key(account, new_name) != named_key(account, &old.name);
                if renamed && s.users.contains_key(&named_key(account, new_name)) {
                    return Err(IamError::EntityAlreadyExists(format!("User with name {new_name} already exists.")));
                }
                user.name = new_name.clone();
                if renamed {
                    changes.push(Change::Delete(Entity::User(old.clone())));
                }
                for key in
                    s.keys.values().filter(|k| k.account == account && k.user_name.eq_ignore_ascii_case(&old.name))
                {
                    let mut key = key.clone();
                    key.user_name = new_name.clone();
                    changes.push(Change::Put(Entity::Key(key)));
                }
            }
            tracing::info!(from = %old.arn(), to = %user.arn(), "user updated");
            changes.push(Change::Put(Entity::User(user)));
            Ok((changes, ()))
        })
        .await
    }

    /// A page of the user's tags, in key order.
    pub fn list_user_tags(
        &self,
        account: &str,
        name: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<(String, String)>> {
        let tags = self.read(|s| Ok(s.user(account, name)?.tags.clone()))?;
        self.tag_page(&format!("iam-user-tags/{account}/{}", name.to_lowercase()), tags, marker, max)
    }

    pub async fn tag_user(&self, account: &str, name: &str, tags: Tags) -> IamResult<()> {
        self.commit(|s| {
            let mut user = s.user(account, name)?.clone();
            user.tags = tagging::merged(&user.tags, &tags)?;
            Ok((vec![Change::Put(Entity::User(user))], ()))
        })
        .await
    }

    pub async fn untag_user(&self, account: &str, name: &str, keys: &[String]) -> IamResult<()> {
        self.commit(|s| {
            let mut user = s.user(account, name)?.clone();
            user.tags = crate::tags::without(&user.tags, keys);
            Ok((vec![Change::Put(Entity::User(user))], ()))
        })
        .await
    }
}

/// The records of `account` that pass `keep`, in key order.
pub(crate) fn in_account<T: Clone>(
    map: &std::collections::BTreeMap<String, T>,
    account: &str,
    keep: impl Fn(&T) -> bool,
) -> Vec<T> {
    let start = format!("{account}/");
    map.range(start.clone()..)
        .take_while(|(k, _)| k.starts_with(&start))
        .map(|(_, v)| v)
        .filter(|v| keep(v))
        .cloned()
        .collect()
}
