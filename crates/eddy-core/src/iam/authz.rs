//! What authorization needs from IAM: a caller's policies, compiled and
//! cached until IAM next changes, and a role's trust policy.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::managed;
use super::records::{named_key, Attached, Inline, SessionKind, SessionRecord, UserRecord};
use super::state::State;
use super::Iam;
use crate::authz::{NamedPolicy, PrincipalKind, PrincipalPolicies};
use crate::identity::Identity;
use crate::policy::{PolicyDocument, PolicyKind};

/// Compiled policies per caller. Any IAM change clears it (see
/// [`Iam::commit`]): changes are rare next to calls, and a whole-cache reset
/// cannot miss an indirect change (a group's policy, a managed policy's new
/// default version).
#[derive(Default)]
pub(crate) struct PrincipalCache {
    by_key: RwLock<HashMap<String, Arc<PrincipalPolicies>>>,
}

/// Callers kept before the cache starts over.
const MAX_CALLERS: usize = 10_000;

impl PrincipalCache {
    pub(crate) fn clear(&self) {
        self.by_key.write().clear();
    }
}

impl Iam {
    /// The policies that speak for the caller behind `access_key`.
    pub fn principal_policies(&self, identity: &Identity, access_key: &str) -> Arc<PrincipalPolicies> {
        // Sessions differ by their session policies, everyone else by ARN.
        let key = if access_key.starts_with("ASIA") { access_key } else { identity.arn.as_str() };
        if let Some(p) = self.principals.by_key.read().get(key) {
            return p.clone();
        }
        // Built and cached under the state's read lock: a change clears the
        // cache under the write lock, so no entry outlives the state it read.
        let state = self.state.read();
        let built = Arc::new(build(&state, identity, access_key));
        let mut cache = self.principals.by_key.write();
        if cache.len() >= MAX_CALLERS {
            cache.clear();
        }
        cache.insert(key.to_string(), built.clone());
        built
    }

    /// A role's trust policy, by the role's ARN.
    pub fn trust_policy(&self, role_arn: &str) -> Option<String> {
        let state = self.state.read();
        let (account, name) = account_and_name(role_arn, "role")?;
        state.roles.get(&named_key(account, name)).filter(|r| r.arn() == role_arn).map(|r| r.trust_policy.clone())
    }

    /// Every role's ARN and trust policy (for `eddy doctor`).
    pub fn role_trust_policies(&self) -> Vec<(String, String)> {
        self.state.read().roles.values().map(|r| (r.arn(), r.trust_policy.clone())).collect()
    }

    /// The path of a named user, role, group, policy or instance profile,
    /// so that a call's resource ARN is the entity's real ARN.
    pub fn entity_path(&self, kind: &str, account: &str, name: &str) -> Option<String> {
        let state = self.state.read();
        let key = named_key(account, name);
        match kind {
            "user" => state.users.get(&key).map(|r| r.path.clone()),
            "role" => state.roles.get(&key).map(|r| r.path.clone()),
            "group" => state.groups.get(&key).map(|r| r.path.clone()),
            "instance-profile" => state.profiles.get(&key).map(|r| r.path.clone()),
            _ => None,
        }
    }
}

/// `arn:aws:iam::{account}:{kind}/{path}{name}` → (account, name).
fn account_and_name<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix(kind)?.strip_prefix('/')?;
    Some((account, path_and_name.rsplit('/').next()?))
}

fn build(state: &State, identity: &Identity, access_key: &str) -> PrincipalPolicies {
    let root = || PrincipalPolicies::root(&identity.account);
    match state.sessions.get(access_key) {
        Some(s @ SessionRecord { kind: SessionKind::AssumedRole { role, .. }, .. }) => assumed_role(state, s, role),
        _ if identity.arn.ends_with(":root") => root(),
        _ => match account_and_name(&identity.arn, "user") {
            Some((account, name)) => match state.users.get(&named_key(account, name)) {
                Some(user) => user_policies(state, user),
                // A key whose user is gone: nothing allows it.
                None => nobody(identity, PrincipalKind::User),
            },
            None => root(),
        },
    }
}

fn nobody(identity: &Identity, kind: PrincipalKind) -> PrincipalPolicies {
    PrincipalPolicies {
        kind,
        principal_arn: identity.arn.clone(),
        arn: identity.arn.clone(),
        user_id: identity.user_id.clone(),
        identity: Vec::new(),
        ..PrincipalPolicies::root(&identity.account)
    }
}

fn user_policies(state: &State, user: &UserRecord) -> PrincipalPolicies {
    let holder = format!("user/{}", user.name);
    let mut identity = holder_policies(state, &holder, &user.inline, &user.attached);
    for group in &user.groups {
        if let Some(g) = state.groups.get(&named_key(&user.account, group)) {
            identity.extend(holder_policies(state, &format!("group/{}", g.name), &g.inline, &g.attached));
        }
    }
    PrincipalPolicies {
        kind: PrincipalKind::User,
        account: user.account.clone(),
        arn: user.arn(),
        principal_arn: user.arn(),
        user_id: user.id.clone(),
        user_name: Some(user.name.clone()),
        tags: user.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        identity,
        boundary: user.permissions_boundary.as_deref().and_then(|arn| managed_policy(state, arn)),
        session: None,
    }
}

fn assumed_role(state: &State, s: &SessionRecord, role_name: &str) -> PrincipalPolicies {
    let role = state.roles.get(&named_key(&s.account, role_name));
    let session = (s.policy.is_some() || !s.policy_arns.is_empty()).then(|| {
        let inline = s.policy.as_deref().and_then(|text| compile(&format!("session {}", s.arn), text));
        inline.into_iter().chain(s.policy_arns.iter().filter_map(|arn| managed_policy(state, arn))).collect()
    });
    let (identity, boundary, tags, role_arn) = match role {
        Some(r) => (
            holder_policies(state, &format!("role/{}", r.name), &r.inline, &r.attached),
            r.permissions_boundary.as_deref().and_then(|arn| managed_policy(state, arn)),
            r.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            r.arn(),
        ),
        // The role was deleted: its sessions keep no permissions.
        None => (Vec::new(), None, Vec::new(), format!("arn:aws:iam::{}:role/{role_name}", s.account)),
    };
    PrincipalPolicies {
        kind: PrincipalKind::AssumedRole,
        account: s.account.clone(),
        arn: s.arn.clone(),
        principal_arn: role_arn,
        user_id: s.user_id.clone(),
        user_name: None,
        tags,
        identity,
        boundary,
        session,
    }
}

fn holder_policies(state: &State, holder: &str, inline: &Inline, attached: &Attached) -> Vec<NamedPolicy> {
    let inline = inline.iter().filter_map(|(name, text)| compile(&format!("{holder} inline policy {name}"), text));
    inline.chain(attached.iter().filter_map(|arn| managed_policy(state, arn))).collect()
}

/// A managed policy's default version: customer managed, or AWS managed.
fn managed_policy(state: &State, arn: &str) -> Option<NamedPolicy> {
    let text = match state.policies.get(arn) {
        Some(p) => p.versions.iter().find(|v| v.id == p.default_version)?.document.clone(),
        None => managed::find(arn)?.document.clone(),
    };
    compile(arn, &text)
}

/// IAM validated every stored document, so a failure here means a policy
/// eddy cannot read: it is logged and grants nothing.
fn compile(name: &str, text: &str) -> Option<NamedPolicy> {
    match PolicyDocument::parse_kind(text, PolicyKind::Identity) {
        Ok(doc) => Some(NamedPolicy { name: name.to_string(), doc: Arc::new(doc) }),
        Err(e) => {
            tracing::warn!(policy = name, error = %e, "identity policy cannot be evaluated: it grants nothing");
            None
        }
    }
}
