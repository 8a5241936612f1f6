//! Paginated listings (ListTopics, ListSubscriptions, ListSubscriptionsByTopic,
//! ListPlatformApplications, ListEndpointsByPlatformApplication): pages of
//! 100, as AWS documents for each of them, continued by a token eddy issued.
//!
//! A token names its listing and the last ARN it returned, and carries a
//! MAC under a key kept in the store: a token eddy did not issue (garbage,
//! a crafted number, another listing's token) is `InvalidParameter`, never a
//! silent restart from the first page. Keyed on the last ARN, a page does
//! not repeat or skip items when others are created or deleted in between.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::{invalid, SnsResult};
use super::records;
use super::{Caller, PlatformApplication, PlatformEndpoint, Sns};
use eddy_store::{Partition, Store};

/// Page size of every SNS listing.
pub const PAGE: usize = 100;
const MAC_BYTES: usize = 16;

/// One page of a listing and the token of the next.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// The MAC key tokens are signed with: made once, then kept in the store,
/// so tokens stay valid across restarts.
pub(crate) fn token_key(store: &Store, keys: &Partition) -> SnsResult<[u8; 32]> {
    if let Some(bytes) = keys.get(records::PAGINATION_KEY)? {
        if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(key);
        }
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
    let mut batch = store.batch();
    batch.put(keys, records::PAGINATION_KEY.to_vec(), key.to_vec());
    store.make_durable_soon(batch.commit()?)?;
    Ok(key)
}

impl Sns {
    fn mac(&self, listing: &str, last: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.sh.token_key);
        h.update(listing.as_bytes());
        h.update([0]);
        h.update(last.as_bytes());
        hex::encode(&h.finalize()[..MAC_BYTES])
    }

    /// Standard base64, as AWS's SNS tokens are (recorded: clients decode them).
    fn issue_token(&self, listing: &str, last: &str) -> String {
        STANDARD.encode(format!("{}.{}", hex::encode(last.as_bytes()), self.mac(listing, last)))
    }

    /// The ARN a token continues after; None for the first page.
    fn read_token(&self, listing: &str, token: Option<&str>) -> SnsResult<Option<String>> {
        let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(None) };
        let bad = || {
            tracing::info!(listing, token = %token.chars().take(64).collect::<String>(), "NextToken not issued by eddy for this listing: refused");
            invalid("NextToken")
        };
        let token = STANDARD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
        let (last, mac) = token.split_once('.').ok_or_else(bad)?;
        let last = hex::decode(last).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
        if mac != self.mac(listing, &last) {
            return Err(bad());
        }
        Ok(Some(last))
    }

    /// The page of `items` (sorted by `key`) that `token` points at.
    pub(super) fn page<T>(
        &self,
        items: Vec<T>,
        key: fn(&T) -> &str,
        listing: &str,
        token: Option<&str>,
    ) -> SnsResult<Page<T>> {
        let after = self.read_token(listing, token)?;
        let mut rest = items.into_iter().filter(|i| after.as_deref().is_none_or(|a| key(i) > a));
        let items: Vec<T> = rest.by_ref().take(PAGE).collect();
        let more = rest.next().is_some();
        let next_token = items.last().filter(|_| more).map(|last| self.issue_token(listing, key(last)));
        Ok(Page { items, next_token })
    }

    pub fn list_topics(&self, caller: &Caller, token: Option<&str>) -> SnsResult<Page<String>> {
        let prefix = format!("arn:aws:sns:{}:{}:", caller.region, caller.account);
        let mut arns: Vec<String> = self.topics.read().keys().filter(|a| a.starts_with(&prefix)).cloned().collect();
        arns.sort();
        self.page(arns, String::as_str, &format!("topics {prefix}"), token)
    }

    pub fn list_subscriptions(
        &self,
        caller: &Caller,
        topic_arn: Option<&str>,
        token: Option<&str>,
    ) -> SnsResult<Page<records::SubscriptionRecord>> {
        let prefix = format!("arn:aws:sns:{}:{}:", caller.region, caller.account);
        let (subs, listing): (Vec<_>, String) = match topic_arn {
            Some(t) => {
                self.lookup_topic(t)?;
                (self.subscriptions_of(t).iter().map(|s| s.record()).collect(), format!("subscriptions of {t}"))
            }
            None => {
                let all = self.all_subscriptions();
                let mine = all.iter().map(|s| s.record()).filter(|r| r.arn.starts_with(&prefix)).collect();
                (mine, format!("subscriptions {prefix}"))
            }
        };
        self.page(subs, |r| r.arn.as_str(), &listing, token)
    }

    pub fn list_platform_applications(
        &self,
        caller: &Caller,
        token: Option<&str>,
    ) -> SnsResult<Page<PlatformApplication>> {
        let prefix = format!("arn:aws:sns:{}:{}:app/", caller.region, caller.account);
        let mut apps: Vec<_> =
            self.applications.read().values().filter(|a| a.arn.starts_with(&prefix)).cloned().collect();
        apps.sort_by(|a, b| a.arn.cmp(&b.arn));
        self.page(apps, |a| a.arn.as_str(), &format!("applications {prefix}"), token)
    }

    pub fn list_endpoints(&self, application_arn: &str, token: Option<&str>) -> SnsResult<Page<PlatformEndpoint>> {
        self.platform_application(application_arn)?;
        let mut e: Vec<_> =
            self.endpoints.read().values().filter(|e| e.application_arn == application_arn).cloned().collect();
        e.sort_by(|a, b| a.arn.cmp(&b.arn));
        self.page(e, |e| e.arn.as_str(), &format!("endpoints of {application_arn}"), token)
    }
}
