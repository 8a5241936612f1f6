//! The credential store: what an access key id eddy issued stands for.

use super::records::{AccessKeyRecord, SessionRecord};
use super::{names, Iam};
use crate::clock::Millis;
use crate::identity::Identity;

/// Everything known about one access key: enough to verify a signature
/// (secret, session token, expiry, status) and to name the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub secret: String,
    pub identity: Identity,
    /// Temporary credentials only: the token requests must carry.
    pub session_token: Option<String>,
    /// An IAM user's key can be made Inactive; temporary keys are active.
    pub active: bool,
}

impl Iam {
    /// The credential behind `access_key_id`, if eddy issued it.
    pub fn credential(&self, access_key_id: &str) -> Option<Credential> {
        let state = self.state.read();
        if let Some(session) = state.sessions.get(access_key_id) {
            return Some(session_credential(session));
        }
        let key = state.keys.get(access_key_id)?;
        let user = state.users.get(&super::records::named_key(&key.account, &key.user_name))?;
        let arn = names::iam_arn(&user.account, "user", &user.path, &user.name);
        Some(key_credential(
            key,
            Identity { account: user.account.clone(), arn, user_id: user.id.clone(), expires_ms: None },
        ))
    }

    /// The principal behind `access_key_id`, if eddy issued it.
    pub fn identity(&self, access_key_id: &str) -> Option<Identity> {
        self.credential(access_key_id).map(|c| c.identity)
    }

    /// The account an access key belongs to (STS GetAccessKeyInfo), if
    /// eddy issued it.
    pub fn key_account(&self, access_key_id: &str) -> Option<String> {
        self.identity(access_key_id).map(|i| i.account)
    }

    /// Whether a temporary key has expired at `now` (None: not a temporary key).
    pub fn session_expired(&self, access_key_id: &str, now: Millis) -> Option<bool> {
        self.state.read().sessions.get(access_key_id).map(|s| s.expires_ms <= now)
    }
}

fn session_credential(s: &SessionRecord) -> Credential {
    Credential {
        access_key_id: s.id.clone(),
        secret: s.secret.clone(),
        identity: Identity {
            account: s.account.clone(),
            arn: s.arn.clone(),
            user_id: s.user_id.clone(),
            expires_ms: Some(s.expires_ms),
        },
        session_token: Some(s.token.clone()),
        active: true,
    }
}

fn key_credential(k: &AccessKeyRecord, identity: Identity) -> Credential {
    Credential {
        access_key_id: k.id.clone(),
        secret: k.secret.clone(),
        identity,
        session_token: None,
        active: k.active,
    }
}
