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
