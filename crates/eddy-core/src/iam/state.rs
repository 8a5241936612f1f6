//! IAM's state in memory, and the one way it changes: a list of
//! [`Change`]s built against the current state, saved durably, then applied
//! (see [`super::Iam::commit`]).

use std::collections::{BTreeMap, HashMap};

use eddy_store::{Partition, WriteBatch};
use serde::de::DeserializeOwned;

use super::error::{IamError, IamResult};
use super::records::*;

#[derive(Default)]
pub(crate) struct State {
    /// Keyed by [`named_key`]; policies by ARN; keys and sessions by key id.
    pub users: BTreeMap<String, UserRecord>,
    pub roles: BTreeMap<String, RoleRecord>,
    pub groups: BTreeMap<String, GroupRecord>,
    pub policies: BTreeMap<String, PolicyRecord>,
    pub profiles: BTreeMap<String, ProfileRecord>,
    pub keys: HashMap<String, AccessKeyRecord>,
    pub sessions: HashMap<String, SessionRecord>,
}

/// Any persisted record.
#[derive(Debug, Clone)]
pub(crate) enum Entity {
    User(UserRecord),
    Role(RoleRecord),
    Group(GroupRecord),
    Policy(PolicyRecord),
    Profile(ProfileRecord),
    Key(AccessKeyRecord),
    Session(SessionRecord),
}

#[derive(Debug, Clone)]
pub(crate) enum Change {
    Put(Entity),
    Delete(Entity),
}

pub(crate) const USERS: u8 = b'U';
pub(crate) const ROLES: u8 = b'R';
pub(crate) const GROUPS: u8 = b'G';
pub(crate) const POLICIES: u8 = b'P';
pub(crate) const PROFILES: u8 = b'I';
pub(crate) const KEYS: u8 = b'K';
pub(crate) const SESSIONS: u8 = b'S';

impl Entity {
    fn family(&self) -> u8 {
        match self {
            Entity::User(_) => USERS,
            Entity::Role(_) => ROLES,
            Entity::Group(_) => GROUPS,
            Entity::Policy(_) => POLICIES,
            Entity::Profile(_) => PROFILES,
            Entity::Key(_) => KEYS,
            Entity::Session(_) => SESSIONS,
        }
    }

    fn key(&self) -> String {
        match self {
            Entity::User(r) => named_key(&r.account, &r.name),
            Entity::Role(r) => named_key(&r.account, &r.name),
            Entity::Group(r) => named_key(&r.account, &r.name),
            Entity::Policy(r) => r.arn.clone(),
            Entity::Profile(r) => named_key(&r.account, &r.name),
            Entity::Key(r) => r.id.clone(),
            Entity::Session(r) => r.id.clone(),
        }
    }

    fn to_json(&self) -> Vec<u8> {
        let json = match self {
            Entity::User(r) => serde_json::to_vec(r),
            Entity::Role(r) => serde_json::to_vec(r),
            Entity::Group(r) => serde_json::to_vec(r),
            Entity::Policy(r) => serde_json::to_vec(r),
            Entity::Profile(r) => serde_json::to_vec(r),
            Entity::Key(r) => serde_json::to_vec(r),
            Entity::Session(r) => serde_json::to_vec(r),
        };
        json.expect("records serialize")
    }
}

impl Change {
    /// Adds the change to `batch`, in the family of its kind.
    pub fn write(&self, batch: &mut WriteBatch, part: &Partition) {
        match self {
            Change::Put(e) => batch.put(&part.family(e.family()), e.key().into_bytes(), e.to_json()),
            Change::Delete(e) => batch.delete(&part.family(e.family()), e.key().into_bytes()),
        }
    }
}

impl State {
    pub fn apply(&mut self, change: Change) {
        let (entity, put) = match change {
            Change::Put(e) => (e, true),
            Change::Delete(e) => (e, false),
        };
        let key = entity.key();
        match entity {
            Entity::User(r) => place(&mut self.users, key, r, put),
            Entity::Role(r) => place(&mut self.roles, key, r, put),
            Entity::Group(r) => place(&mut self.groups, key, r, put),
            Entity::Policy(r) => place(&mut self.policies, key, r, put),
            Entity::Profile(r) => place(&mut self.profiles, key, r, put),
            Entity::Key(r) => {
                if put {
                    self.keys.insert(key, r);
                } else {
                    self.keys.remove(&key);
                }
            }
            Entity::Session(r) => {
                if put {
                    self.sessions.insert(key, r);
                } else {
                    self.sessions.remove(&key);
                }
            }
        }
    }

    /// Reads every record back from the store (start-up).
    pub fn load(part: &Partition) -> IamResult<State> {
        let mut s = State::default();
        for r in read::<UserRecord>(part, USERS)? {
            s.apply(Change::Put(Entity::User(r)));
        }
        for r in read::<RoleRecord>(part, ROLES)? {
            s.apply(Change::Put(Entity::Role(r)));
        }
        for r in read::<GroupRecord>(part, GROUPS)? {
            s.apply(Change::Put(Entity::Group(r)));
        }
        for r in read::<PolicyRecord>(part, POLICIES)? {
            s.apply(Change::Put(Entity::Policy(r)));
        }
        for r in read::<ProfileRecord>(part, PROFILES)? {
            s.apply(Change::Put(Entity::Profile(r)));
        }
        for r in read::<AccessKeyRecord>(part, KEYS)? {
            s.apply(Change::Put(Entity::Key(r)));
        }
        for r in read::<SessionRecord>(part, SESSIONS)? {
            s.apply(Change::Put(Entity::Session(r)));
        }
        Ok(s)
    }
}

fn place<T>(map: &mut BTreeMap<String, T>, key: String, record: T, put: bool) {
    if put {
        map.insert(key, record);
    } else {
        map.remove(&key);
    }
}

fn read<T: DeserializeOwned>(part: &Partition, family: u8) -> IamResult<Vec<T>> {
    let mut out = Vec::new();
    for kv in part.family(family).scan_prefix(b"") {
        let (key, value) = kv?;
        let record = serde_json::from_slice(&value)
            .map_err(|e| IamError::Internal(format!("corrupt IAM record {}: {e}", String::from_utf8_lossy(&key))))?;
        out.push(record);
    }
    Ok(out)
}
