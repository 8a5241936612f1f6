//! IAM users' long-term access keys (`AKIA…`): at most two per user, each
//! Active or Inactive.

use super::error::{no_such, IamError, IamResult};
use super::names::{access_key_id, secret_key};
use super::records::AccessKeyRecord;
use super::state::{Change, Entity};
use super::{Iam, Page};

const MAX_KEYS_PER_USER: usize = 2;

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
        .await
    }
}
