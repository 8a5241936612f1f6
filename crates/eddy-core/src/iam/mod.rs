//! AWS Identity and Access Management and the Security Token Service:
//! users, groups, roles, managed and inline policies, access keys, instance
//! profiles, and STS temporary credentials, stored durably.
//!
//! IAM is global: an entity belongs to an account, not a region. Every
//! change is built against the current state as a list of [`Change`]s,
//! saved durably, and only then applied to memory ([`Iam::commit`]); changes
//! are made one at a time, so the state a change was built on is the state
//! it lands on.
//!
//! The credential store ([`Iam::credential`]) answers, for any access key id
//! eddy issued (an IAM user's `AKIA…` key or STS's `ASIA…` temporary key),
//! its secret, account, principal, session token and expiry: what request
//! identity resolution uses today and signature verification will.

mod access_keys;
mod attach;
mod authz;
mod credentials;
mod document;
mod entities;
mod error;
mod groups;
mod inline;
mod managed;
mod names;
mod policies;
mod profiles;
mod records;
mod roles;
mod state;
mod sts;
mod tagging;
mod users;

use std::sync::Arc;

use eddy_store::{Partition, Store};
use parking_lot::RwLock;

pub use access_keys::{KeyLastUsed, LastUse};
pub use attach::{AttachedPolicy, HolderKind};
pub use credentials::Credential;
pub use document::url_encode;
pub use entities::{EntityFilter, EntityListing, PolicyEntity, PolicyUsage};
pub use error::{constraint, IamError, IamResult};
pub use managed::AwsManagedPolicy;
pub use policies::{PolicyListing, PolicyScope, PolicyView, VersionView};
pub use profiles::ProfileView;
pub use records::{
    AccessKeyRecord, GroupRecord, PolicyRecord, PolicyVersionRecord, ProfileRecord, RoleRecord, SessionKind,
    SessionRecord, UserRecord,
};
pub use roles::{CreateRole, RoleUpdate};
pub use sts::{AssumeRole, Issued};
pub use users::{CreateUser, UserUpdate};

use crate::clock::{Clock, Millis};
use crate::page::{PageRequest, PageTokens, TokenError};
use state::{Change, State};

/// IAM listings return 100 items unless MaxItems says otherwise.
const DEFAULT_MAX_ITEMS: i64 = 100;

pub struct Iam {
    store: Store,
    part: Partition,
    state: RwLock<State>,
    /// Held from building a change to applying it: changes one at a time.
    writes: tokio::sync::Mutex<()>,
    clock: Arc<dyn Clock>,
    tokens: PageTokens,
    /// Callers' compiled policies, for `--enforce-iam`.
    principals: authz::PrincipalCache,
    /// When each access key last signed a request, where, to which service
    /// (GetAccessKeyLastUsed). In memory only: a restart forgets it.
    key_use: access_keys::KeyUse,
}

/// One page of an IAM listing: `Marker` and `IsTruncated` on the wire.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

impl Iam {
    /// Opens IAM's state in `store`.
    pub fn open(store: Store, clock: Arc<dyn Clock>) -> IamResult<Arc<Iam>> {
        let part = store.partition(records::PARTITION)?;
        let state = State::load(&part)?;
        let tokens = PageTokens::open(&store)?;
        tracing::debug!(
            users = state.users.len(),
            roles = state.roles.len(),
            sessions = state.sessions.len(),
            "IAM state loaded"
        );
        Ok(Arc::new(Iam {
            store,
            part,
            state: RwLock::new(state),
            writes: tokio::sync::Mutex::new(()),
            clock,
            tokens,
            principals: authz::PrincipalCache::default(),
            key_use: Default::default(),
        }))
    }

    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    pub fn role_count(&self) -> usize {
        self.state.read().roles.len()
    }

    /// Builds a change against the current state with `build`, saves it
    /// durably, then applies it to memory. Nothing changes if `build` fails
    /// or the save does.
    async fn commit<T>(&self, build: impl FnOnce(&State) -> IamResult<(Vec<Change>, T)>) -> IamResult<T> {
        let _one_at_a_time = self.writes.lock().await;
        let (changes, out) = build(&self.state.read())?;
        let mut batch = self.store.batch();
        for c in &changes {
            c.write(&mut batch, &self.part);
        }
        let ticket = batch.commit()?;
        self.store.durable(ticket).await?;
        let mut state = self.state.write();
        for c in changes {
            state.apply(c);
        }
        self.principals.clear();
        Ok(out)
    }

    /// A read of the current state.
    fn read<T>(&self, f: impl FnOnce(&State) -> IamResult<T>) -> IamResult<T> {
        f(&self.state.read())
    }

    /// The page of `items` (in key order) that `marker` points at, at most
    /// `max_items` (1..=1000, default 100) long.
    /// A page of a resource's tags, in key order (`listing` names the
    /// resource, so a marker only continues its own listing).
    fn tag_page(
        &self,
        listing: &str,
        tags: crate::tags::Tags,
        marker: Option<&str>,
        max: Option<i64>,
    ) -> IamResult<Page<(String, String)>> {
        self.page(listing, tags.into_iter().collect(), |(k, _)| k.as_str(), marker, max)
    }

    fn page<T>(
        &self,
        listing: &str,
        mut items: Vec<T>,
        key: impl Fn(&T) -> &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> IamResult<Page<T>> {
        let max = max_items.unwrap_or(DEFAULT_MAX_ITEMS);
        if !(1..=1000).contains(&max) {
            let bound = if max < 1 { "greater than or equal to 1" } else { "less than or equal to 1000" };
            return Err(constraint("maxItems", &max.to_string(), &format!("Member must have value {bound}")));
        }
        // Pages continue after their last key, so they walk the items in key order.
        items.sort_by(|a, b| key(a).cmp(key(b)));
        let req = PageRequest::new(listing, marker, max as usize, self.now_ms());
        let page = self.tokens.page(items, key, &req).map_err(|e| match e {
            TokenError::Invalid | TokenError::Expired => IamError::Validation("Invalid Marker.".into()),
        })?;
        Ok(Page { items: page.items, marker: page.next_token })
    }
}

#[cfg(test)]
mod tests;
