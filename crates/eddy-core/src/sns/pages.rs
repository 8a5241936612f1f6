//! Paginated listings (ListTopics, ListSubscriptions, ListSubscriptionsByTopic,
//! ListPlatformApplications, ListEndpointsByPlatformApplication, the SMS
//! opt-out list): pages of 100, as AWS documents for each of them, continued
//! by a token eddy issued ([`crate::page`]): a token eddy did not issue for
//! this listing is `InvalidParameter`, never a silent restart.

use super::error::{invalid, SnsResult};
use super::records;
use super::{Caller, PlatformApplication, PlatformEndpoint, Sns};
pub use crate::page::Page;
use crate::page::PageRequest;

/// Page size of every SNS listing.
pub const PAGE: usize = 100;

impl Sns {
    /// The page of `items` (sorted by `key`) that `token` points at.
    pub(super) fn page<T>(
        &self,
        items: Vec<T>,
        key: fn(&T) -> &str,
        listing: &str,
        token: Option<&str>,
    ) -> SnsResult<Page<T>> {
        let req = PageRequest::new(listing, token, PAGE, self.sh.clock.now_ms());
        self.sh.tokens.page(items, key, &req).map_err(|_| {
            let shown: String = token.unwrap_or_default().chars().take(64).collect();
            tracing::info!(listing, token = %shown, "NextToken not issued by eddy for this listing: refused");
            invalid("NextToken")
        })
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
