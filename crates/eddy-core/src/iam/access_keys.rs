//! IAM users' long-term access keys (`AKIA…`): at most two per user, each
//! Active or Inactive.

use std::collections::HashMap;

use parking_lot::RwLock;

use super::error::{constraint, no_such, IamError, IamResult};
use super::names::{access_key_id, secret_key};
use super::records::AccessKeyRecord;
use super::state::{Change, Entity};
use super::{Iam, Page};
use crate::clock::Millis;

const MAX_KEYS_PER_USER: usize = 2;

/// An access key's most recent use: when, to which service, in which region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUse {
    pub at_ms: Millis,
    pub service: String,
    pub region: String,
}

/// The last use of each IAM user key, by key id (in memory).
#[derive(Default)]
pub(crate) struct KeyUse {
    by_key: RwLock<HashMap<String, LastUse>>,
}

/// What GetAccessKeyLastUsed answers: the key's user and its last use
/// (None: never used since eddy started).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLastUsed {
    pub user_name: String,
    pub last_use: Option<LastUse>,
}

/// AccessKeyId: 16 to 128 word characters, as the model constrains it.
fn check_key_id(id: &str) -> IamResult<()> {
    let len = id.chars().count();
    if len < 16 {
        return Err(constraint("accessKeyId", id, "Member must have length greater than or equal to 16"));
    }
    if len > 128 {
        return Err(constraint("accessKeyId", id, "Member must have length less than or equal to 128"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(constraint("accessKeyId", id, "Member must satisfy regular expression pattern: [\\w]+"));
    }
    Ok(())
}

impl Iam {
    pub async fn create_access_key(&self, account: &str, user: &str) -> IamResult<AccessKeyRecord> {
        let now = self.now_ms();
        self.commit(|s| {
            let user = s.user(account, user)?;
            let owned = s.keys.values().filter(|k| k.account == account && k.user_name == user.name).count();
            if owned >= MAX_KEYS_PER_USER {
                return Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                )));
            }
            let key = AccessKeyRecord {
                id: access_key_id("AKIA"),
                secret: secret_key(),
                account: account.to_string(),
                user_name: user.name.clone(),
                active: true,
                created_ms: now,
            };
            tracing::info!(user = %user.arn(), key = %key.id, "access key created");
            Ok((vec![Change::Put(Entity::Key(key.clone()))], key))
        })
        .await
    }

    /// The user's keys, oldest first; secrets are never listed again.
    pub fn list_access_keys(
        &self,
        account: &str,
        user: &str,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<AccessKeyRecord>> {
        let keys = self.read(|s| {
            let user = s.user(account, user)?;
            let mut keys: Vec<_> =
                s.keys.values().filter(|k| k.account == account && k.user_name == user.name).cloned().collect();
            keys.sort_by_key(|k| k.created_ms);
            Ok(keys)
        })?;
        let listing = format!("iam-keys/{account}/{}", user.to_lowercase());
        self.page(&listing, keys, |k| k.id.as_str(), marker, max)
    }

    /// A key of `user` (the key's own user when None).
    fn owned_key(s: &super::state::State, account: &str, user: Option<&str>, id: &str) -> IamResult<AccessKeyRecord> {
        let missing = || no_such(format!("The Access Key with id {id} cannot be found."));
        let key = s.keys.get(id).filter(|k| k.account == account).ok_or_else(missing)?;
        if let Some(user) = user {
            s.user(account, user)?;
            if !key.user_name.eq_ignore_ascii_case(user) {
                return Err(missing());
            }
        }
        Ok(key.clone())
    }

    pub async fn update_access_key(&self, account: &str, user: Option<&str>, id: &str, active: bool) -> IamResult<()> {
        self.commit(|s| {
            let mut key = Iam::owned_key(s, account, user, id)?;
            key.active = active;
            Ok((vec![Change::Put(Entity::Key(key))], ()))
        })
        .await
    }

    pub async fn delete_access_key(&self, account: &str, user: Option<&str>, id: &str) -> IamResult<()> {
        self.commit(|s| {
            let key = Iam::owned_key(s, account, user, id)?;
            tracing::info!(key = %key.id, user = %key.user_name, "access key deleted");
            Ok((vec![Change::Delete(Entity::Key(key))], ()))
        })
        .await?;
        self.key_use.by_key.write().remove(id);
        Ok(())
    }

    /// Notes that `access_key_id` signed a request to `service` in
    /// `region`, if it is an IAM user's key.
    /// Called for every authenticated request, so a key's use is rewritten
    /// at most once a second per service and region: a busy key costs a
    /// read lock, not a write lock, per request.
    pub fn note_key_use(&self, access_key_id: &str, service: &str, region: &str) {
        if !self.state.read().keys.contains_key(access_key_id) {
            return;
        }
        let now = self.now_ms();
        let fresh = |u: &LastUse| u.service == service && u.region == region && now.saturating_sub(u.at_ms) < 1_000;
        if self.key_use.by_key.read().get(access_key_id).is_some_and(fresh) {
            return;
        }
        let used = LastUse { at_ms: now, service: service.to_string(), region: region.to_string() };
        self.key_use.by_key.write().insert(access_key_id.to_string(), used);
    }

    /// GetAccessKeyLastUsed: the key's user and last use. None for a key
    /// the account does not have (AWS answers it AccessDenied).
    pub fn access_key_last_used(&self, account: &str, id: &str) -> IamResult<Option<KeyLastUsed>> {
        check_key_id(id)?;
        let Some(user_name) =
            self.state.read().keys.get(id).filter(|k| k.account == account).map(|k| k.user_name.clone())
        else {
            return Ok(None);
        };
        let last_use = self.key_use.by_key.read().get(id).cloned();
        Ok(Some(KeyLastUsed { user_name, last_use }))
    }
}
